import { constants, createPublicKey, createSecretKey, timingSafeEqual, createHmac, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { invalidToken } from './errors.js';

/** The JWS algorithms this SDK can check. `none` is not one of them, by construction. */
export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'HS256' | 'HS384' | 'HS512';

export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const ALL = new Set<string>([...ASYMMETRIC_ALGORITHMS, 'HS256', 'HS384', 'HS512']);

export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && ALL.has(value);
}

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `base64url(header).base64url(payload)`, the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;
/**
 * UTF-8 as RFC 8259 §8.1 and jose read it: invalid sequences are an error (Buffer#toString would
 * turn them into U+FFFD and let a signed-but-garbled token through), a leading BOM is dropped.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Splits and decodes a compact JWS; anything that is not exactly three base64url JSON parts is refused. */
export function decodeCompactJws(token: string): DecodedJws {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || second === token.length - 1 || token.indexOf('.', second + 1) !== -1) throw malformed();
  const encodedHeader = token.slice(0, first);
  const encodedPayload = token.slice(first + 1, second);
  const encodedSignature = token.slice(second + 1);
  if (!isBase64url(encodedHeader) || !isBase64url(encodedPayload) || !isBase64url(encodedSignature)) throw malformed();
  const header = parseJsonObject(encodedHeader);
  const payload = parseJsonObject(encodedPayload);
  return { header, payload, signingInput: token.slice(0, second), signature: Buffer.from(encodedSignature, 'base64url') };
}

/**
 * The base64url alphabet without padding (RFC 7515 §2), and a length a base64 encoding can have:
 * one character past a whole quantum carries no full byte, and Buffer would silently drop it.
 */
function isBase64url(segment: string): boolean {
  return segment.length % 4 !== 1 && SEGMENT.test(segment);
}

function parseJsonObject(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    throw malformed();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed();
  return value as Record<string, unknown>;
}

const malformed = () => invalidToken('The access token is not a well-formed JWT.', 'malformed_token');

/** A verification key, imported once, with what it may be used for. */
export interface VerificationKey {
  readonly kid: string | undefined;
  /** The JWK's `alg`, when the key names one: then only that algorithm is accepted with it. */
  readonly alg: JwsAlgorithm | undefined;
  readonly key: KeyObject;
  /** The algorithms this key's type can verify at all (kty/crv), to stop algorithm confusion. */
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  /** An RSA key under 2048 bits: published, but never used to accept a token. */
  readonly tooWeak?: true;
}

/** Imports a public JWK. Private members are ignored (createPublicKey derives the public half). */
export function importJwk(jwk: Record<string, unknown>): VerificationKey | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return undefined;
  const algorithms = algorithmsForKeyType(jwk);
  if (algorithms.size === 0) return undefined;
  const alg = isJwsAlgorithm(jwk.alg) ? jwk.alg : undefined;
  if (jwk.alg !== undefined && (!alg || !algorithms.has(alg))) return undefined;
  try {
    const { kty, n, e, crv, x, y } = jwk as Record<string, string>;
    const publicJwk: JsonWebKey = kty === 'RSA' ? { kty, n, e } : kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
    const key = createPublicKey({ key: publicJwk, format: 'jwk' });
    // RFC 7518 §3.3 and §3.5: RSA keys of 2048 bits or more. A shorter key stays in the set (it
    // still makes a kid-less token ambiguous, as in jose) but verifies nothing; the differential
    // test found the SDK accepting tokens signed with a 1024-bit key.
    const tooWeak = kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048;
    return { kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg, key, algorithms, ...(tooWeak ? { tooWeak } : {}) };
  } catch {
    return undefined;
  }
}

/** A shared secret for the HS* algorithms of the allowlist, only when the application configures one explicitly. */
export function importSharedSecret(secret: string | Uint8Array, algorithms: readonly JwsAlgorithm[] = ['HS256']): VerificationKey {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length < 32) throw new TypeError('An HMAC secret must be at least 32 bytes.');
  return { kid: undefined, alg: undefined, key: createSecretKey(bytes), algorithms: new Set(algorithms.filter((alg) => alg.startsWith('HS'))) };
}

function algorithmsForKeyType(jwk: Record<string, unknown>): Set<JwsAlgorithm> {
  if (jwk.kty === 'RSA') return new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return new Set(['ES256']);
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return new Set(['ES384']);
  if (jwk.kty === 'EC' && jwk.crv === 'P-521') return new Set(['ES512']);
  if (jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448')) return new Set(['EdDSA']);
  // `oct` keys from a JWKS are never used: an HMAC secret must not come from a public document.
  return new Set();
}

const HASH: Record<JwsAlgorithm, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
  HS256: 'sha256',
  HS384: 'sha384',
  HS512: 'sha512',
};
const PSS_SALT: Partial<Record<JwsAlgorithm, number>> = { PS256: 32, PS384: 48, PS512: 64 };

export type VerifyOn = 'auto' | 'threadpool' | 'event-loop';

/**
 * `auto`: the threadpool when the machine has more than one core, else the event loop. On the
 * threadpool (node:crypto's callback form) a second core verifies while the event loop parses the
 * next request; the hop costs ~7 µs of CPU, so it pays wherever a core would otherwise wait, and
 * not on one core. Measured on 2 cores (docs/benchmarks.md), cache off, against a bare inline
 * verify: RS256 Fastify 1.06×, Express 1.08× on the threadpool, 0.93× and 0.96× inline; ES256
 * (~44 µs a verify) gains more. A cluster with a worker per core should pass `'event-loop'`.
 */
export function resolveVerifyOn(on: VerifyOn, cores: number = availableParallelism()): 'threadpool' | 'event-loop' {
  if (on !== 'auto') return on;
  return cores > 1 ? 'threadpool' : 'event-loop';
}

/** Checks a signature, asymmetric ones where `on` says; HMAC is a few microseconds and always runs inline. */
export function verifySignature(
  alg: JwsAlgorithm,
  key: KeyObject,
  signingInput: string,
  signature: Buffer,
  on: 'threadpool' | 'event-loop',
): boolean | Promise<boolean> {
  if (alg.startsWith('HS')) {
    const expected = createHmac(HASH[alg]!, key).update(signingInput).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  const input = Buffer.from(signingInput);
  const saltLength = PSS_SALT[alg];
  const keyInput = alg.startsWith('ES')
    ? { key, dsaEncoding: 'ieee-p1363' as const }
    : saltLength
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }
      : key;
  if (on === 'event-loop') {
    try {
      return verify(HASH[alg], input, keyInput, signature);
    } catch {
      return false;
    }
  }
  return new Promise((resolve) => {
    try {
      verify(HASH[alg], input, keyInput, signature, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });
}
