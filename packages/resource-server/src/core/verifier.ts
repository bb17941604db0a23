import type { RejectionReason } from './errors.js';
import type { BearerSources } from './bearer-token.js';
import { createMetadataResolver, metadataMember } from './discovery.js';
import { createIntrospector, type Introspector } from './introspection.js';
import { createJwksCache, type JwksCache } from './jwks-cache.js';
import type { Principal } from './principal.js';
import { createVerifiedTokenCache } from './token-cache.js';
import { resolveVerifierOptions, type ResolvedVerifierOptions, type VerifierOptions } from './verifier-options.js';
import { createAuthenticate, type Authenticate } from './verify/authenticate.js';
import { createRejectionReporter, withOutcomeEvents } from './verify/outcome-events.js';
import { createTokenVerification, type VerifyToken } from './verify/verify-token.js';
import { withHeaderCache } from './verify/with-header-cache.js';
import { withTokenCache } from './verify/with-token-cache.js';

export type { VerifierOptions };
export { realmOf } from './verify/realm.js';

export interface Verifier {
  /** Verifies a token and returns who called; throws AuthError. */
  verify(token: string): Promise<Principal>;
  /** Finds the bearer token of a request and verifies it; throws AuthError (missing_token when none). */
  authenticate(sources: BearerSources): Promise<Principal>;
  /**
   * `authenticate` for adapters: returns the principal directly when no I/O or threadpool hop is
   * needed (a cached header, a known key and an inline signature check), a promise otherwise; may
   * throw AuthError synchronously. Saves the promise round-trips on the hot path.
   */
  check(sources: BearerSources): Principal | Promise<Principal>;
  /** Loads the signing keys now instead of on the first request. */
  prefetch(): Promise<void>;
  readonly realm: string;
  /** Whether form-body and query tokens are accepted (adapters read those only when they are). */
  readonly acceptsBodyToken: boolean;
  readonly acceptsQueryToken: boolean;
}

/**
 * A verifier: the pipeline (verify/verify-token.ts: decode → header policy → key → signature →
 * claims → replay), wrapped in what is not verification — events and realm, then the
 * verified-token cache around the token, then bearer extraction, then the header cache around the
 * request. Each layer stays synchronous when the one inside it is, so a cached request is
 * answered without a promise.
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const config = resolveVerifierOptions(options);
  const { now, emit, realm, bearer } = config;
  const tolerance = config.toleranceSeconds;
  const { keySets, introspector } = connectIssuers(config);
  const report = createRejectionReporter(emit);

  let verify: VerifyToken = createTokenVerification({
    maxTokenLength: bearer.maxLength,
    header: { algorithms: config.algorithms, requireTyp: config.requireTyp },
    keys: { keySets, sharedKey: config.sharedKey },
    verifyOn: config.verifyOn,
    claims: {
      issuers: keySets,
      toleranceSeconds: tolerance,
      audiences: config.audiences,
      allowedClientIds: config.allowedClientIds,
      requiredClaims: config.requiredClaims,
    },
    principal: { principalClaim: config.principalClaim, authorities: config.authorities },
    introspection: introspector ? { introspector, always: config.introspection?.mode === 'always' } : undefined,
    replayStore: config.replayStore,
    now,
  });
  verify = withOutcomeEvents(verify, emit, realm, report);
  // Keyed by the token, and by the raw Authorization header: a repeat caller costs one map lookup.
  if (config.cacheEntries !== undefined) verify = withTokenCache(verify, createVerifiedTokenCache(config.cacheEntries), now, tolerance);
  let check: Authenticate = createAuthenticate(verify, bearer, report, { dpop: config.dpop, mtls: config.mtls }, now);
  if (config.cacheEntries !== undefined) check = withHeaderCache(check, createVerifiedTokenCache(config.cacheEntries), bearer, now, tolerance);

  const verifier: Verifier = {
    verify: async (token) => verify(token),
    authenticate: async (sources) => check(sources),
    check,
    async prefetch() {
      await Promise.all([...keySets.values()].map((jwks) => jwks.prefetch()));
    },
    realm,
    acceptsBodyToken: bearer.allowBody ?? false,
    acceptsQueryToken: bearer.allowQuery ?? false,
  };
  if (config.jwks.prefetch) verifier.prefetch().catch(() => undefined);
  return verifier;
}

/**
 * The I/O side, set up once: each trusted issuer's JWKS cache and the introspector, sharing one
 * metadata document per issuer (fetched on first use, unless the endpoints are configured).
 */
function connectIssuers(config: ResolvedVerifierOptions): { keySets: ReadonlyMap<string, JwksCache>; introspector: Introspector | undefined } {
  const { issuers, now, emit } = config;
  const fetchImpl = config.fetch;
  const timeoutMs = config.jwks.timeoutMs;
  const metadataOf = new Map(issuers.map((issuer) => [issuer, createMetadataResolver(issuer, fetchImpl, timeoutMs)]));
  const keySets = new Map<string, JwksCache>(
    issuers.map((issuer) => [
      issuer,
      createJwksCache({
        jwksUri: config.jwksUri ? async () => config.jwksUri! : metadataMember(metadataOf.get(issuer)!, issuer, 'jwks_uri'),
        fetch: fetchImpl,
        now,
        emit,
        cooldownMs: config.jwks.cooldownMs,
        timeoutMs,
      }),
    ]),
  );
  const introspection = config.introspection;
  if (!introspection) return { keySets, introspector: undefined };
  const endpoint = introspection.endpoint;
  const introspector = createIntrospector(
    { ...introspection, endpointUri: endpoint ? async () => endpoint : metadataMember(metadataOf.get(issuers[0]!)!, issuers[0]!, 'introspection_endpoint') },
    { fetch: fetchImpl, now, emit },
  );
  return { keySets, introspector };
}

/**
 * What an adapter's requireAuth was given: a verifier to share, or options to make one from.
 * Anything else fails at set-up with a message, not with "Cannot use 'in' operator".
 */
export function verifierFrom(value: VerifierOptions | Verifier, name: string): Verifier {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `${name} needs verifier options or a verifier from createVerifier() (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}).`,
    );
  }
  if ('verify' in value || 'check' in value) {
    if (typeof (value as Verifier).check !== 'function' || typeof (value as Verifier).verify !== 'function')
      throw new TypeError(`${name} was given something that is not a verifier from createVerifier().`);
    return value as Verifier;
  }
  return createVerifier(value);
}

/**
 * For callback-style adapters: `accepted` runs synchronously when `check()` needed nothing to
 * wait for, otherwise when it settles; `refused` gets whatever it threw or rejected with.
 */
export function checkThen(verifier: Verifier, sources: BearerSources, accepted: (principal: Principal) => void, refused: (error: unknown) => void): void {
  let outcome: Principal | Promise<Principal>;
  try {
    outcome = verifier.check(sources);
  } catch (error) {
    return refused(error);
  }
  if (outcome instanceof Promise) outcome.then(accepted, refused);
  else accepted(outcome);
}

export type { RejectionReason };
