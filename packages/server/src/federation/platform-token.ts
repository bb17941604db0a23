import { generateKeyPair as generateKeyPairCallback, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { RegisteredFederatedCredential, TrustedIssuerRecord } from '../storage/types.js';
import { FEDERATED_ASSERTION_ALGORITHMS, spiffeTrustDomain, subjectMatches } from './federation-rules.js';
import type { IssuerKeyCache } from './issuer-keys.js';
import type { VerifiedTokenCache } from './verified-token-cache.js';

/**
 * A workload's platform token (a Kubernetes service-account token, a CI provider's OIDC token, a
 * SPIFFE JWT-SVID), checked against the trusted issuers and matched to a federated credential.
 * One implementation for every use of an external assertion: client authentication today, the
 * JWT bearer grant and token exchange next.
 */

const generateKeyPair = promisify(generateKeyPairCallback) as unknown as (
  type: 'rsa' | 'ec' | 'ed25519',
  options?: { modulusLength?: number; namedCurve?: string },
) => Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;

/** The reads federation needs (the registry cache provides them). */
export interface FederationDirectory {
  trustedIssuer(issuer: string): Promise<TrustedIssuerRecord | undefined>;
  federatedCredentials(issuer: string, subject: string): Promise<readonly RegisteredFederatedCredential[]>;
}

/** RFC 7523 (`jwt-bearer`: the issuer is `iss`) or draft-ietf-oauth-spiffe-client-auth (`jwt-spiffe`: the trust domain of `sub`). */
export type AssertionProfile = 'jwt-bearer' | 'jwt-spiffe';

/** Why a platform token was refused: a metric label and a log field, never sent to the caller. */
export type PlatformTokenFailure =
  | 'malformed'
  | 'unknown_issuer'
  | 'bad_signature'
  | 'expired'
  | 'invalid_claims'
  | 'lifetime_too_long'
  | 'no_matching_credential'
  | 'ambiguous_client'
  | 'client_disabled'
  | 'replayed';

export class PlatformTokenRejected extends Error {
  override readonly name = 'PlatformTokenRejected';
  constructor(
    readonly reason: PlatformTokenFailure,
    /** For the log: what exactly failed (never the token). */
    readonly detail: string,
    /** The trusted issuer the token named, when it named one. */
    readonly issuer?: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export interface PlatformTokenDeps {
  directory: FederationDirectory;
  keys: IssuerKeyCache;
  now: () => number;
  /** Seconds of clock difference tolerated on exp, nbf and iat. */
  clockToleranceSeconds?: number;
  /** Tokens of issuers that allow reuse, verified before (verified-token-cache.ts). */
  verified?: VerifiedTokenCache;
}

export interface VerifiedPlatformToken {
  issuer: TrustedIssuerRecord;
  subject: string;
  payload: JWTPayload;
}

/** What the token claims to be, read without trusting it: which issuer to ask, which subject. */
export function claimedIdentity(token: string, profile: AssertionProfile): { issuer: string; subject: string } | undefined {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    return undefined;
  }
  if (typeof payload.sub !== 'string') return undefined;
  if (profile === 'jwt-spiffe') {
    const domain = spiffeTrustDomain(payload.sub);
    return domain === undefined ? undefined : { issuer: `spiffe://${domain}`, subject: payload.sub };
  }
  return typeof payload.iss === 'string' ? { issuer: payload.iss, subject: payload.sub } : undefined;
}

/**
 * Signature (an allowed asymmetric algorithm, a key of that issuer), `iss`, `exp` (required),
 * `nbf`, `iat` and the issuer's lifetime limit. Unknown issuer, bad signature and (later) unknown
 * subject each cost one signature verification, so the answer's timing does not tell them apart.
 */
export async function verifyPlatformToken(deps: PlatformTokenDeps, token: string, profile: AssertionProfile): Promise<VerifiedPlatformToken> {
  const claimed = claimedIdentity(token, profile);
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new PlatformTokenRejected('malformed', 'the assertion is not a JWS');
  }
  if (!claimed) throw new PlatformTokenRejected('malformed', profile === 'jwt-spiffe' ? 'sub is not a SPIFFE ID' : 'iss or sub is missing');
  const issuer = await deps.directory.trustedIssuer(claimed.issuer);
  // A JWT-SVID's trust domain names only a SPIFFE issuer; a jwt-bearer token names any issuer by its iss.
  const usable = issuer && (profile !== 'jwt-spiffe' || issuer.kind === 'spiffe');
  if (!issuer || !usable) {
    await spendOneVerification(token, alg);
    throw new PlatformTokenRejected('unknown_issuer', 'the assertion names an issuer that is not trusted');
  }
  const tolerance = deps.clockToleranceSeconds ?? 30;
  const nowS = Math.floor(deps.now() / 1000);
  const reusable = issuer.tokenReuse === 'allow' ? deps.verified : undefined;
  const known = reusable?.get(token, issuer, nowS);
  if (known) return { issuer, subject: known.sub!, payload: known };
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, deps.keys.keysFor(issuer), {
      algorithms: FEDERATED_ASSERTION_ALGORITHMS,
      ...(profile === 'jwt-bearer' ? { issuer: issuer.issuer } : {}),
      requiredClaims: ['exp', 'sub'],
      currentDate: new Date(deps.now()),
      clockTolerance: tolerance,
    }));
  } catch (error) {
    throw rejection(error, issuer.issuer);
  }
  if (payload.iat !== undefined && payload.iat > nowS + tolerance) {
    throw new PlatformTokenRejected('invalid_claims', 'iat is in the future', issuer.issuer);
  }
  const lifetime = payload.exp! - Math.min(payload.iat ?? nowS, nowS);
  if (lifetime > issuer.maxTokenLifetimeSeconds) {
    throw new PlatformTokenRejected(
      'lifetime_too_long',
      `lives ${lifetime} s, more than the ${issuer.maxTokenLifetimeSeconds} s this issuer is allowed`,
      issuer.issuer,
    );
  }
  reusable?.set(token, issuer, payload);
  return { issuer, subject: payload.sub!, payload };
}

function rejection(error: unknown, issuer: string): unknown {
  if (error instanceof errors.JWTExpired) return new PlatformTokenRejected('expired', error.message, issuer);
  if (error instanceof errors.JWTClaimValidationFailed) return new PlatformTokenRejected('invalid_claims', error.message, issuer);
  if (error instanceof errors.JOSEError) return new PlatformTokenRejected('bad_signature', `${error.code}: ${error.message}`, issuer);
  if (error instanceof TypeError) return new PlatformTokenRejected('malformed', error.message, issuer);
  return error; // the issuer's keys cannot be obtained (503), or a fault
}

/**
 * The federated credential a verified token authenticates with: subject rule, audience (the
 * credential's, or by default this server's issuer identifier as RFC 7523bis narrows it) and claim
 * conditions all hold. With `clientId` only that client's credentials count; without it, the
 * token must match exactly one client.
 */
export async function matchFederatedCredential(
  directory: FederationDirectory,
  verified: VerifiedPlatformToken,
  options: { clientId: string | undefined; serverIssuer: string },
): Promise<RegisteredFederatedCredential> {
  const audiences = new Set(typeof verified.payload.aud === 'string' ? [verified.payload.aud] : (verified.payload.aud ?? []));
  const matching = (await directory.federatedCredentials(verified.issuer.issuer, verified.subject)).filter(
    (credential) =>
      credential.issuer === verified.issuer.issuer &&
      subjectMatches(credential, verified.subject) &&
      (options.clientId === undefined || credential.clientId === options.clientId) &&
      (credential.audiences.length > 0 ? credential.audiences : [options.serverIssuer]).some((audience) => audiences.has(audience)) &&
      Object.entries(credential.claims).every(([name, value]) => claimValue(verified.payload, name) === value),
  );
  if (matching.length === 0) {
    throw new PlatformTokenRejected('no_matching_credential', 'no federated credential matches its subject, audience and claims', verified.issuer.issuer);
  }
  if (new Set(matching.map((credential) => credential.clientId)).size > 1) {
    throw new PlatformTokenRejected('ambiguous_client', 'credentials of several clients match; the request must name client_id', verified.issuer.issuer);
  }
  return matching[0]!;
}

/**
 * A claim condition's value: a top-level claim by its name, else a path through nested objects
 * (`kubernetes.io/namespace` reads `{"kubernetes.io": {"namespace": …}}`). Strings compare as
 * they are; numbers and booleans by their JSON text, so `repository_owner_id=123` works.
 */
export function claimValue(payload: JWTPayload, name: string): string | undefined {
  let value: unknown = payload[name];
  if (value === undefined && name.includes('/')) {
    value = name
      .split('/')
      .reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), payload);
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return undefined;
}

/** Keys of each family, made once, that verify nothing: an unknown issuer costs what a known one does. */
const decoyKeys = new Map<string, Promise<KeyObject>>();

function decoyKeyFor(alg: string): Promise<KeyObject> {
  const family = alg.startsWith('ES') ? alg : alg === 'EdDSA' ? 'ed25519' : 'rsa';
  let key = decoyKeys.get(family);
  if (!key) {
    const curve = ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[family] ?? 'P-256';
    const made =
      family === 'rsa'
        ? generateKeyPair('rsa', { modulusLength: 2048 })
        : family === 'ed25519'
          ? generateKeyPair('ed25519')
          : generateKeyPair('ec', { namedCurve: curve });
    key = made.then((pair) => pair.publicKey);
    decoyKeys.set(family, key);
  }
  return key;
}

/** Makes the decoys ahead of the first unknown issuer (an RSA key pair takes a moment). */
export function prepareDecoyKeys(): Promise<void> {
  return Promise.all(['RS256', 'ES256', 'EdDSA'].map(decoyKeyFor)).then(() => undefined);
}

async function spendOneVerification(token: string, alg: unknown): Promise<void> {
  if (typeof alg !== 'string' || !FEDERATED_ASSERTION_ALGORITHMS.includes(alg)) return;
  await jwtVerify(token, await decoyKeyFor(alg), { algorithms: [alg] }).catch(() => undefined);
}
