import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { accessTokenHash } from './access-token-hash.js';
import { jwkThumbprint } from './jwk-thumbprint.js';
import { normalizeHtu } from './htu.js';

/** Asymmetric JWS algorithms a DPoP proof may be signed with: `none` and HS* are not among them, by construction. */
export type DpopAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA';
export const DPOP_ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
/** What m2m-auth accepts unless told otherwise: the algorithms the issue names, and the server's discovery lists. */
export const DEFAULT_DPOP_ALGORITHMS: readonly DpopAlgorithm[] = ['ES256', 'RS256', 'PS256', 'EdDSA'];

/** The request a proof must be for. */
export interface DpopRequest {
  /** The HTTP method, as the request line has it (`POST`). */
  readonly method: string;
  /** The request's absolute URL as the client addressed it (query and fragment are ignored). */
  readonly url: string;
  /** At a resource: the access token presented with the proof; its hash must be the proof's `ath`. */
  readonly accessToken?: string | undefined;
}

export interface DpopPolicy {
  readonly algorithms: ReadonlySet<string>;
  /** How far `iat` may be from now, either way, in seconds. */
  readonly windowSeconds: number;
  readonly nowSeconds: number;
}

/** A proof that passed every check a single request can make; the caller still owns `jti` replay, the nonce and the key binding. */
export interface CheckedDpopProof {
  /** RFC 7638 thumbprint of the proof's key: what `cnf.jkt` names. */
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
  readonly nonce: string | undefined;
  readonly alg: DpopAlgorithm;
}

/** Why a proof was refused, for logs and metrics; the description is what the caller is told. */
export type DpopFailureReason =
  | 'malformed'
  | 'wrong_type'
  | 'algorithm_not_allowed'
  | 'bad_key'
  | 'private_key'
  | 'bad_signature'
  | 'missing_claim'
  | 'wrong_method'
  | 'wrong_url'
  | 'outside_window'
  | 'wrong_token_hash';

export type DpopProofCheck =
  { readonly ok: true; readonly proof: CheckedDpopProof } | { readonly ok: false; readonly reason: DpopFailureReason; readonly description: string };

/** A proof is a few hundred bytes (a 4096-bit RSA key makes it ~1.5 KiB); anything far larger is refused unread. */
export const MAX_DPOP_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const TYP = /^(application\/)?dpop\+jwt$/i;
const SEGMENT = /^[A-Za-z0-9_-]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** JWK members that only a private (or symmetric) key has: a proof carrying any of them is refused (RFC 9449 §4.3 check 7). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * RFC 9449 §4.3 checks 1–9, 11 (iat) and 12.1 (ath), for the authorization server and a resource
 * server alike: one JWS in compact form with `typ` dpop+jwt, an allowed asymmetric `alg`, a public
 * `jwk` of a type that fits the algorithm (RSA keys of 2048 bits or more), a signature that
 * verifies with that key, `jti`, `htm` equal to the method, `htu` equal to the URL once both are
 * normalised (query and fragment ignored), `iat` within the window, and `ath` when a token comes
 * with it. Synchronous (node:crypto), so a resource server's fast path stays free of promises.
 * Left to the caller, which alone knows them: `jti` replay, the server nonce, `cnf.jkt`.
 */
export function checkDpopProof(proof: string, request: DpopRequest, policy: DpopPolicy): DpopProofCheck {
  if (proof.length > MAX_DPOP_PROOF_LENGTH) return fail('malformed', 'The DPoP proof is too large.');
  if (proof.includes(',')) return fail('malformed', 'The request must carry exactly one DPoP header.');
  const parts = proof.split('.');
  // The signature may be empty here: `alg: none` is then refused as an algorithm, which says why.
  if (parts.length !== 3 || !parts.every((part, at) => (at === 2 || part !== '') && SEGMENT.test(part) && part.length % 4 !== 1)) {
    return fail('malformed', 'The DPoP proof is not a well-formed JWT.');
  }
  const header = proofHeaderOf(parts[0]!, policy);
  if (!header.ok) return header;
  const { alg, key, jkt } = header;
  if (!policy.algorithms.has(alg)) return algorithmNotAllowed(policy);
  if (!verifySignature(alg, key, `${parts[0]}.${parts[1]}`, Buffer.from(parts[2]!, 'base64url'))) {
    return fail('bad_signature', 'The DPoP proof’s signature does not verify with its jwk.');
  }
  const payload = parseJsonObject(parts[1]!);
  if (!payload) return fail('malformed', 'The DPoP proof is not a well-formed JWT.');

  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
    return fail('missing_claim', 'The DPoP proof must have a jti (a unique identifier).');
  if (typeof htm !== 'string') return fail('missing_claim', 'The DPoP proof must have htm (the request method).');
  if (typeof htu !== 'string') return fail('missing_claim', 'The DPoP proof must have htu (the request URL).');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return fail('missing_claim', 'The DPoP proof must have iat (when it was made).');
  if (htm !== request.method) return fail('wrong_method', `The DPoP proof is for another method (this request is ${request.method}).`);
  const expectedUrl = normalizeHtu(request.url);
  if (expectedUrl === undefined || normalizeHtu(htu) !== expectedUrl) return fail('wrong_url', 'The DPoP proof is for another URL (htu).');
  if (Math.abs(policy.nowSeconds - iat) > policy.windowSeconds) {
    return fail('outside_window', `The DPoP proof was not made within ${policy.windowSeconds} seconds of now (iat).`);
  }
  if (request.accessToken !== undefined) {
    if (typeof ath !== 'string') return fail('missing_claim', 'The DPoP proof must have ath (the access token’s hash) when a token comes with it.');
    if (ath !== accessTokenHash(request.accessToken)) return fail('wrong_token_hash', 'The DPoP proof is for another access token (ath).');
  }
  if (nonce !== undefined && typeof nonce !== 'string') return fail('malformed', 'The DPoP proof’s nonce must be a string.');
  return { ok: true, proof: { jkt, jti, iat, nonce, alg } };
}

const fail = (reason: DpopFailureReason, description: string): DpopProofCheck & { ok: false } => ({ ok: false, reason, description });
const algorithmNotAllowed = (policy: DpopPolicy) =>
  fail('algorithm_not_allowed', `The DPoP proof must be signed with one of ${[...policy.algorithms].join(', ')}.`);

interface ProofHeader {
  readonly ok: true;
  readonly alg: DpopAlgorithm;
  readonly key: KeyObject;
  readonly jkt: string;
}

/**
 * Headers already checked, by their encoded form: a client signs every proof with the same key,
 * so its header repeats byte for byte, and importing the key and hashing its thumbprint once is
 * most of what a proof costs. Only what the header alone decides is kept (never a result that
 * depends on the request or the clock); bounded, the oldest forgotten first.
 */
const CHECKED_HEADERS = new Map<string, ProofHeader>();
const MAX_CHECKED_HEADERS = 1024;

/** Checks 4, 5 (before the policy's list), 7 and the key of a proof's header. */
function proofHeaderOf(segment: string, policy: DpopPolicy): ProofHeader | (DpopProofCheck & { ok: false }) {
  const known = CHECKED_HEADERS.get(segment);
  if (known) return known;
  const header = parseJsonObject(segment);
  if (!header) return fail('malformed', 'The DPoP proof is not a well-formed JWT.');
  if (typeof header.typ !== 'string' || !TYP.test(header.typ)) return fail('wrong_type', 'The DPoP proof must have typ dpop+jwt.');
  if (header.crit !== undefined) return fail('malformed', 'The DPoP proof uses critical header parameters this server does not understand.');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(DPOP_ALGORITHMS as readonly string[]).includes(alg)) return algorithmNotAllowed(policy);
  const jwk = header.jwk;
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) return fail('bad_key', 'The DPoP proof must carry its public key as jwk.');
  const keyMembers = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => keyMembers[member] !== undefined)) return fail('private_key', 'The DPoP proof’s jwk must be a public key.');
  const key = importProofKey(keyMembers, alg as DpopAlgorithm);
  const jkt = key && jwkThumbprint(keyMembers);
  if (!key || !jkt) return fail('bad_key', `The DPoP proof’s jwk is not a public key usable with ${alg}.`);
  const checked: ProofHeader = { ok: true, alg: alg as DpopAlgorithm, key, jkt };
  if (CHECKED_HEADERS.size >= MAX_CHECKED_HEADERS) CHECKED_HEADERS.delete(CHECKED_HEADERS.keys().next().value!);
  CHECKED_HEADERS.set(segment, checked);
  return checked;
}

function parseJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(UTF8.decode(Buffer.from(segment, 'base64url')));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The curve or key type each algorithm needs: a proof's key must fit its `alg` (no algorithm confusion). */
const KEY_FOR: Record<DpopAlgorithm, (jwk: Record<string, unknown>) => boolean> = {
  ES256: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256',
  ES384: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-384',
  ES512: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-521',
  RS256: (jwk) => jwk.kty === 'RSA',
  RS384: (jwk) => jwk.kty === 'RSA',
  RS512: (jwk) => jwk.kty === 'RSA',
  PS256: (jwk) => jwk.kty === 'RSA',
  PS384: (jwk) => jwk.kty === 'RSA',
  PS512: (jwk) => jwk.kty === 'RSA',
  EdDSA: (jwk) => jwk.kty === 'OKP' && (jwk.crv === 'Ed25519' || jwk.crv === 'Ed448'),
};

function importProofKey(jwk: Record<string, unknown>, alg: DpopAlgorithm): KeyObject | undefined {
  if (!KEY_FOR[alg](jwk) || (jwk.alg !== undefined && jwk.alg !== alg)) return undefined;
  const { kty, crv, x, y, n, e } = jwk as Record<string, string>;
  const members: JsonWebKey = kty === 'RSA' ? { kty, n, e } : kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
  try {
    const key = createPublicKey({ key: members, format: 'jwk' });
    // RFC 7518 §3.3: RSA keys of 2048 bits or more.
    if (kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
    return key;
  } catch {
    return undefined;
  }
}

const HASH: Record<DpopAlgorithm, string | null> = {
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  EdDSA: null,
};

function verifySignature(alg: DpopAlgorithm, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  const keyInput = alg.startsWith('ES')
    ? { key, dsaEncoding: 'ieee-p1363' as const }
    : alg.startsWith('PS')
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }
      : key;
  try {
    return verify(HASH[alg], Buffer.from(signingInput), keyInput, signature);
  } catch {
    return false;
  }
}
