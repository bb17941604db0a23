import { AuthError, invalidToken, isAuthError, type RejectionReason } from './errors.js';
import { decodeCompactJws, type DecodedJws, isJwsAlgorithm, verifySignature, type JwsAlgorithm, type VerificationKey } from './jws.js';
import { createJwksCache, type JwksCache } from './jwks-cache.js';
import { createMetadataResolver, metadataMember } from './discovery.js';
import { createIntrospector, type Introspector } from './introspection.js';
import { buildPrincipal, type Principal } from './principal.js';
import { createVerifiedTokenCache, type VerifiedTokenCache } from './token-cache.js';
import type { ReplayStore } from './replay-store.js';
import { extractBearerToken, type BearerSources } from './bearer-token.js';
import { resolveVerifierOptions, type VerifierOptions } from './verifier-options.js';

export type { VerifierOptions };

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

const TYP = /^(application\/)?at\+jwt$/i;

/**
 * The realm of the verifier that accepted each principal, so a scope check after `requireAuth`
 * answers with that verifier's realm. Set once per verified token (a cached principal is the same
 * object), so a cache hit costs nothing.
 */
const realms = new WeakMap<Principal, string>();

/** The realm of the verifier that accepted this principal, when one of ours did. */
export function realmOf(principal: Principal): string | undefined {
  return realms.get(principal);
}

export function createVerifier(options: VerifierOptions): Verifier {
  const config = resolveVerifierOptions(options);
  const { now, emit, realm, audiences, allowedClientIds, algorithms, sharedKey, requireTyp, principalClaim, authorities, requiredClaims, replayStore } = config;
  const fetchImpl = config.fetch;
  const tolerance = config.toleranceSeconds;
  const issuers = config.issuers;
  const maxTokenLength = config.bearer.maxLength;
  const bearerOptions = config.bearer;
  const verifyOn = config.verifyOn;
  // Keyed by the token, and by the raw Authorization header: a repeat caller costs one map lookup.
  const cache: VerifiedTokenCache | undefined = config.cacheEntries === undefined ? undefined : createVerifiedTokenCache(config.cacheEntries);
  const headerCache: VerifiedTokenCache | undefined = config.cacheEntries === undefined ? undefined : createVerifiedTokenCache(config.cacheEntries);

  const timeoutMs = config.jwks.timeoutMs;
  const metadataOf = new Map(issuers.map((issuer) => [issuer, createMetadataResolver(issuer, fetchImpl, timeoutMs)]));
  const jwksByIssuer = new Map<string, JwksCache>(
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

  let introspector: Introspector | undefined;
  if (config.introspection) {
    const introspection = config.introspection;
    const endpoint = introspection.endpoint;
    introspector = createIntrospector(
      { ...introspection, endpointUri: endpoint ? async () => endpoint : metadataMember(metadataOf.get(issuers[0]!)!, issuers[0]!, 'introspection_endpoint') },
      { fetch: fetchImpl, now, emit },
    );
  }

  /**
   * The verification pipeline. Each step returns its result directly when it has it and a promise
   * only when it must wait (JWKS fetch, threadpool signature, introspection, replay store): most
   * requests need none of those, and every avoided await is a microtask and an allocation saved.
   */
  function verifyUncached(token: string): Principal | Promise<Principal> {
    if (token.length > maxTokenLength) throw invalidToken('The access token is too large.', 'token_too_large');
    if (introspector && (!looksLikeJwt(token) || config.introspection?.mode === 'always')) {
      return introspector.introspect(token).then((claims) => {
        checkClaims(claims, now() / 1000, true);
        return buildPrincipal(claims, { principalClaim, authorities, source: 'introspection' });
      });
    }
    const jws = decodeCompactJws(token);
    const { header, payload } = jws;
    if (header.crit !== undefined) throw invalidToken('The access token uses unsupported critical header parameters.', 'malformed_token');
    const alg = header.alg;
    if (!isJwsAlgorithm(alg) || !algorithms.has(alg)) throw invalidToken('The access token is signed with an algorithm this API does not accept.', 'algorithm_not_allowed');
    if (requireTyp && (typeof header.typ !== 'string' || !TYP.test(header.typ))) {
      throw invalidToken('The access token is not an RFC 9068 access token (typ must be at+jwt).', 'wrong_type');
    }
    // The issuer is checked before any key is fetched, so a forged iss never makes us call out.
    const issuer = payload.iss;
    if (typeof issuer !== 'string' || !jwksByIssuer.has(issuer)) throw invalidToken('The access token was issued by an untrusted issuer.', 'wrong_issuer');
    if (alg.startsWith('HS')) return checkSignature(token, jws, alg, sharedKey!);
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const jwks = jwksByIssuer.get(issuer)!;
    const known = jwks.knownKey(kid, alg);
    if (known) return checkSignature(token, jws, alg, known);
    return jwks.keyFor(kid, alg).then((key) => checkSignature(token, jws, alg, key));
  }

  function checkSignature(token: string, jws: DecodedJws, alg: JwsAlgorithm, key: VerificationKey): Principal | Promise<Principal> {
    if (!keyAccepts(key, alg)) throw invalidToken('The access token is signed with an algorithm its key does not allow.', 'algorithm_not_allowed');
    if (key.tooWeak) throw invalidToken('The access token is signed with a key that is too short (RSA keys need 2048 bits).', 'weak_key');
    const checked = verifySignature(alg, key.key, jws.signingInput, jws.signature, verifyOn);
    if (typeof checked === 'boolean') return afterSignature(token, jws.payload, checked);
    return checked.then((valid) => afterSignature(token, jws.payload, valid));
  }

  function afterSignature(token: string, payload: Record<string, unknown>, valid: boolean): Principal | Promise<Principal> {
    if (!valid) throw invalidToken('The access token signature is invalid.', 'bad_signature');
    checkClaims(payload, now() / 1000, false);
    if (introspector && config.introspection?.mode === 'always') {
      return introspector.introspect(token).then(() => buildPrincipal(payload, { principalClaim, authorities, source: 'jwt' }));
    }
    return buildPrincipal(payload, { principalClaim, authorities, source: 'jwt' });
  }

  function checkClaims(claims: Record<string, unknown>, nowSeconds: number, introspected: boolean): void {
    if (!introspected || claims.iss !== undefined) {
      if (typeof claims.iss !== 'string' || !jwksByIssuer.has(claims.iss)) throw invalidToken('The access token was issued by an untrusted issuer.', 'wrong_issuer');
    }
    if (typeof claims.exp !== 'number') {
      if (!introspected) throw invalidToken('The access token has no expiry.', 'missing_claim');
    } else if (nowSeconds - tolerance >= claims.exp) {
      throw invalidToken('The access token expired.', 'expired');
    }
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowSeconds + tolerance)) {
      throw invalidToken('The access token is not valid yet.', 'not_yet_valid');
    }
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > nowSeconds + tolerance)) {
      throw invalidToken('The access token was issued in the future.', 'issued_in_future');
    }
    if (audiences.length > 0) {
      const aud = claims.aud;
      const tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (!tokenAudiences.some((value) => audiences.includes(value as string))) throw invalidToken('The access token is not meant for this API.', 'wrong_audience');
    }
    if (allowedClientIds?.length) {
      const clientId = claims.client_id ?? claims.azp ?? claims.appid ?? claims.cid;
      if (typeof clientId !== 'string' || !allowedClientIds.includes(clientId)) throw invalidToken('The access token was issued to a client this API does not accept.', 'wrong_audience');
    }
    for (const [name, expected] of requiredClaims) {
      const value = claims[name];
      if (value === undefined) throw invalidToken(`The access token has no ${name} claim.`, 'missing_claim');
      if (expected !== undefined && value !== expected) {
        throw invalidToken(`The access token's ${name} claim is not accepted here.`, name === 'token_use' ? 'wrong_token_use' : 'missing_claim');
      }
    }
  }

  /**
   * Offline-verified JWTs are cached until they expire. Introspection answers are not: the
   * introspector keeps its own cache with its shorter TTL, so a revocation is seen in time.
   */
  function cacheable(principal: Principal): boolean {
    return principal.expiresAt !== undefined && principal.source === 'jwt' && config.introspection?.mode !== 'always';
  }

  function report(error: unknown, token: string | undefined): never {
    if (isAuthError(error)) {
      const claims = token ? peekClaims(token) : undefined;
      emit({ type: 'token.rejected', reason: error.reason, code: error.code, issuer: claims?.iss, clientId: claims?.clientId });
    }
    throw error;
  }

  /** verify(), maybe synchronous: throws or rejects with AuthError, reported once. */
  function verifyNow(token: string): Principal | Promise<Principal> {
    if (cache) {
      const hit = cache.get(token, now() / 1000);
      if (hit) return hit;
    }
    let result: Principal | Promise<Principal>;
    try {
      result = verifyUncached(token);
    } catch (error) {
      return report(error, token);
    }
    if (result instanceof Promise) return result.then((principal) => accepted(token, principal), (error: unknown) => report(error, token));
    return accepted(token, result);
  }

  function accepted(token: string, principal: Principal): Principal | Promise<Principal> {
    if (replayStore) {
      return checkReplay(replayStore, principal).then(
        () => remember(token, principal),
        (error: unknown) => report(error, token),
      );
    }
    return remember(token, principal);
  }

  /**
   * The store remembers the jti for as long as the token is accepted here (exp + clock tolerance).
   * Fails closed: a store that cannot answer refuses the request with 503 — accepting it would let
   * a one-time token be used twice.
   */
  async function checkReplay(store: ReplayStore, principal: Principal): Promise<void> {
    if (!principal.tokenId) throw invalidToken('The access token has no jti, so it cannot be checked for replay.', 'missing_claim');
    const acceptedUntil = (principal.expiresAt ?? now() / 1000 + 3600) + tolerance;
    let fresh: boolean;
    try {
      fresh = await store.checkAndRemember(principal.tokenId, acceptedUntil);
    } catch (error) {
      if (isAuthError(error)) throw error;
      throw new AuthError('temporarily_unavailable', 'The token cannot be checked right now.', 'replay_store_unavailable', [], { cause: error });
    }
    if (!fresh) throw invalidToken('The access token was already used.', 'replayed');
  }

  function remember(token: string, principal: Principal): Principal {
    realms.set(principal, realm);
    if (cache && cacheable(principal)) cache.set(token, principal, principal.expiresAt! + tolerance);
    emit({ type: 'token.accepted', issuer: principal.issuer, clientId: principal.clientId, cached: false });
    return principal;
  }

  /** A request whose exact Authorization header was verified before and has not expired: one map lookup. */
  function cachedHeader(sources: BearerSources): Principal | undefined {
    if (!headerCache || typeof sources.authorization !== 'string') return undefined;
    // With body or query tokens allowed, "a token in two places" must be checked every time.
    if ((bearerOptions.allowBody && sources.bodyToken !== undefined) || (bearerOptions.allowQuery && sources.queryToken !== undefined)) return undefined;
    return headerCache.get(sources.authorization, now() / 1000);
  }

  function check(sources: BearerSources): Principal | Promise<Principal> {
    const known = cachedHeader(sources);
    if (known) return known;
    let token: string | undefined;
    try {
      token = extractBearerToken(sources, bearerOptions);
    } catch (error) {
      return report(error, undefined);
    }
    if (token === undefined) return report(new AuthError('missing_token', 'A bearer token is required.', 'missing'), undefined);
    const result = verifyNow(token);
    if (result instanceof Promise) return result.then((principal) => rememberHeader(sources, principal));
    return rememberHeader(sources, result);
  }

  /** Remembers the whole header too, so the next request with it skips even the extraction. */
  function rememberHeader(sources: BearerSources, principal: Principal): Principal {
    if (headerCache && typeof sources.authorization === 'string' && cacheable(principal)) {
      headerCache.set(sources.authorization, principal, principal.expiresAt! + tolerance);
    }
    return principal;
  }

  const verifier: Verifier = {
    verify: async (token) => verifyNow(token),
    authenticate: async (sources) => check(sources),
    check,
    async prefetch() {
      await Promise.all([...jwksByIssuer.values()].map((jwks) => jwks.prefetch()));
    },
    realm,
    acceptsBodyToken: bearerOptions.allowBody ?? false,
    acceptsQueryToken: bearerOptions.allowQuery ?? false,
  };
  if (config.jwks.prefetch) verifier.prefetch().catch(() => undefined);
  return verifier;
}

/**
 * What an adapter's requireAuth was given: a verifier to share, or options to make one from.
 * Anything else fails at set-up with a message, not with "Cannot use 'in' operator".
 */
export function verifierFrom(value: VerifierOptions | Verifier, name: string): Verifier {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} needs verifier options or a verifier from createVerifier() (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}).`);
  }
  if ('verify' in value || 'check' in value) {
    if (typeof (value as Verifier).check !== 'function' || typeof (value as Verifier).verify !== 'function') throw new TypeError(`${name} was given something that is not a verifier from createVerifier().`);
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

function keyAccepts(key: VerificationKey, alg: JwsAlgorithm): boolean {
  return key.algorithms.has(alg) && (key.alg === undefined || key.alg === alg);
}

/** Three dot-separated parts, without allocating them. */
function looksLikeJwt(token: string): boolean {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}

/** Issuer and client of a rejected token, for the rejection event — parsed, never trusted. */
function peekClaims(token: string): { iss: string | undefined; clientId: string | undefined } | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : undefined);
    return { iss: str(payload.iss), clientId: str(payload.client_id ?? payload.azp ?? payload.appid ?? payload.cid) };
  } catch {
    return undefined;
  }
}

export type { RejectionReason };
