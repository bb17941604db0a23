import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { readOwnToken, type OwnTokenReadDeps } from './read-own-token.js';
import { revokedTokenKey, verifyOwnToken } from './verify-own-token.js';
import { tokenStillStands, type TokenStandingDeps } from './token-standing.js';
import { hasOpaqueTokenPrefix, isWellFormedOpaqueToken } from './opaque-token-format.js';

/**
 * What only this server can say about a pasted token: whether it issued it (its keys, its opaque
 * store), whether it still stands (revoked, expired, its client and grant), and why not. The
 * header and claims are the token's own, decoded; the console shows them.
 */
export interface TokenInspection {
  format: 'jwt' | 'opaque' | 'unknown';
  signature: 'valid' | 'invalid' | 'unknown_key' | 'not_applicable';
  issuedHere: boolean;
  active: boolean;
  revoked: boolean;
  expired: boolean;
  /** Why the token is not active; null when it is. */
  reason: string | null;
  header: Record<string, unknown> | null;
  claims: Record<string, unknown> | null;
}

export type TokenInspectionDeps = OwnTokenReadDeps & TokenStandingDeps;

const NOT_A_TOKEN: TokenInspection = {
  format: 'unknown',
  signature: 'not_applicable',
  issuedHere: false,
  active: false,
  revoked: false,
  expired: false,
  reason: 'Neither a JWT nor an opaque token of this server',
  header: null,
  claims: null,
};

/**
 * The same reads introspection makes (readOwnToken, the revocation list, tokenStillStands), and
 * for a token they refuse, which check refused it. Any string is an answer, never an error: a
 * malformed token is `format: unknown`.
 */
export async function inspectToken(deps: TokenInspectionDeps, token: string): Promise<TokenInspection> {
  if (hasOpaqueTokenPrefix(token)) return inspectOpaque(deps, token);
  const decoded = decode(token);
  if (!decoded) return NOT_A_TOKEN;
  const { header, claims } = decoded;
  const shown = { format: 'jwt' as const, header: { ...header }, claims: { ...claims } };
  const own = await readOwnToken(deps, token);
  if (own) return { ...shown, signature: 'valid', issuedHere: true, expired: false, ...(await standing(deps, own.claims)) };

  const signature = await signatureOf(deps, header, token);
  const refused = { ...shown, signature, issuedHere: false, active: false, revoked: false, expired: isPast(deps, claims.exp) };
  if (signature === 'unknown_key') return { ...refused, reason: 'Signed with a key this server does not publish (or no longer does)' };
  if (signature === 'invalid') return { ...refused, reason: 'The signature does not verify with this server’s key of that kid and alg' };
  // Ours and signed by our key: expired, or not one of our access tokens at all (an introspection answer, a foreign issuer).
  if (refused.expired && (await verifyOwnToken({ ...deps, now: () => (claims.exp as number) * 1000 - 1000 }, token))) {
    return { ...refused, issuedHere: true, revoked: await deps.revoked.isTokenRevoked(revokedTokenKey(String(claims.jti))), reason: 'Expired' };
  }
  if (typeof claims.nbf === 'number' && claims.nbf * 1000 > deps.now()) return { ...refused, reason: 'Not valid yet (nbf is in the future)' };
  return { ...refused, reason: 'Signed by this server’s key but not one of its access tokens (issuer, typ, audience or required claims)' };
}

async function inspectOpaque(deps: TokenInspectionDeps, token: string): Promise<TokenInspection> {
  // Prefix, length and checksum first: a typo costs no read of the shared state.
  if (!isWellFormedOpaqueToken(token)) return { ...NOT_A_TOKEN, reason: 'Malformed: its length or checksum is not that of an opaque token' };
  const own = await readOwnToken(deps, token);
  const shown = { format: 'opaque' as const, signature: 'not_applicable' as const, header: null };
  if (!own) {
    // A revoked opaque token is deleted, and the store forgets one at its expiry: the three look alike.
    return {
      ...shown,
      issuedHere: false,
      active: false,
      revoked: false,
      expired: false,
      reason: 'Not known here: expired, revoked, or never issued here',
      claims: null,
    };
  }
  return { ...shown, issuedHere: true, expired: false, claims: { ...own.claims }, ...(await standing(deps, own.claims)) };
}

/** For a token of ours that has not expired: revoked, or no longer backed by its client and grant. */
async function standing(deps: TokenInspectionDeps, claims: JWTPayload): Promise<Pick<TokenInspection, 'active' | 'revoked' | 'reason'>> {
  if (await deps.revoked.isTokenRevoked(revokedTokenKey(String(claims.jti)))) return { active: false, revoked: true, reason: 'Revoked' };
  if (await tokenStillStands(deps, claims)) return { active: true, revoked: false, reason: null };
  return { active: false, revoked: false, reason: 'Its client is disabled or deleted, or its grant no longer covers its scopes' };
}

async function signatureOf(deps: TokenInspectionDeps, header: ProtectedHeaderParameters, token: string): Promise<TokenInspection['signature']> {
  const key = header.kid === undefined ? undefined : (await deps.keyRing()).verificationKey(header.kid);
  if (!key) return 'unknown_key';
  // The key's own algorithm only: a header naming another (HS256 with an RSA key's bytes, none) is invalid.
  if (header.alg !== key.alg) return 'invalid';
  try {
    await compactVerify(token, key.key, { algorithms: [key.alg] });
    return 'valid';
  } catch {
    return 'invalid';
  }
}

function decode(token: string): { header: ProtectedHeaderParameters; claims: JWTPayload } | undefined {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return undefined;
  }
}

const isPast = (deps: TokenInspectionDeps, exp: unknown) => typeof exp === 'number' && exp * 1000 <= deps.now();
