import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { SigningAlgorithm } from '../storage/types.js';

/** What checking one of our own tokens needs of the keys (keys/key-ring.ts provides it). */
export interface VerificationKeys {
  verificationKey(kid: string): { alg: SigningAlgorithm; key: KeyObject; apiIdentifier: string | null } | undefined;
}

export interface OwnTokenDeps {
  issuer: string;
  keyRing: () => Promise<VerificationKeys>;
  now: () => number;
}

/**
 * The claims of an unexpired access token we issued, signed by a key still published; undefined
 * for anything else (introspection and revocation treat every other string alike, RFC 7662 §2.2,
 * RFC 7009 §2.2).
 */
export async function verifyOwnToken(deps: OwnTokenDeps, token: string): Promise<JWTPayload | undefined> {
  try {
    const { kid } = decodeProtectedHeader(token);
    const key = kid ? (await deps.keyRing()).verificationKey(kid) : undefined;
    if (!key) return undefined;
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: deps.issuer,
      typ: 'at+jwt',
      currentDate: new Date(deps.now()),
      requiredClaims: ['jti', 'exp', 'client_id', 'aud'],
      ...(key.apiIdentifier ? { audience: key.apiIdentifier } : {}),
    });
    return payload;
  } catch {
    return undefined;
  }
}

/** The key under which a revoked token id is kept in the shared state. */
export const revokedTokenKey = (jti: string) => `rt:${jti}`;
