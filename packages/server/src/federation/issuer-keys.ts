import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { TrustedIssuerRecord } from '../storage/types.js';
import { DependencyUnavailableError } from '../errors/dependency-unavailable.js';
import { fetchableUrlProblem } from './federation-rules.js';

/**
 * The verification keys of each trusted issuer, cached per issuer.
 *
 * - Inline keys (a cluster's JWKS file, a SPIFFE bundle) are used as stored: nothing is fetched.
 * - Otherwise the JWKS comes from `jwks_uri`, or from the issuer's discovery document (which must
 *   name that issuer) when none is configured. Keys are kept for `maxAgeMs` and refreshed in the
 *   background past it, so a token never waits for a routine refresh and an issuer outage never
 *   refuses a token signed by a key already held.
 * - A token with a `kid` we do not hold (the issuer rotated) refetches at most once per
 *   `cooldownMs`, all callers sharing that one fetch: a flood of made-up kids costs the issuer one
 *   request per cooldown, and the request path waits for at most that one.
 * - When the keys cannot be obtained and the token's key is not one we hold, the caller gets a
 *   503-class error (its token was not judged), never invalid_client.
 */
export interface IssuerKeyCacheOptions {
  fetchJson: (url: string) => Promise<unknown>;
  now: () => number;
  cooldownMs?: number;
  maxAgeMs?: number;
  /** Told of every fetch (for logs and metrics); `error` is set when it failed. */
  onFetch?: (issuer: string, error: unknown) => void;
}

export interface IssuerKeyCache {
  /** The key lookup for tokens of this issuer (the record as now stored: a changed record starts afresh). */
  keysFor(issuer: TrustedIssuerRecord): JWTVerifyGetKey;
}

export class IssuerKeysUnavailableError extends DependencyUnavailableError {
  override readonly name = 'IssuerKeysUnavailableError';
  constructor(issuer: string, cause: unknown) {
    super(`the keys of trusted issuer ${issuer} cannot be obtained`, 'The keys of the assertion issuer cannot be obtained right now; retry shortly.', {
      cause,
    });
  }
}

/** More keys than any issuer publishes; a document with more is cut, not trusted wholesale. */
const MAX_KEYS = 100;

/**
 * Public signing keys only. SPIFFE bundles mark JWT-SVID keys `use: "jwt-svid"` (and carry X.509
 * ones beside them), which a JWKS library would skip as not `sig`: those become plain keys, the
 * X.509 ones are dropped. A key with a private part is never used.
 */
export function signingKeysOf(document: unknown): JSONWebKeySet {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('JWKS document has no keys array');
  const usable = keys
    .filter((key): key is Record<string, unknown> => key !== null && typeof key === 'object' && !Array.isArray(key))
    .filter((key) => key.kty !== 'oct' && !('d' in key) && (key.use === undefined || key.use === 'sig' || key.use === 'jwt-svid'))
    .slice(0, MAX_KEYS)
    .map((key) => {
      if (key.use !== 'jwt-svid') return key;
      const { use: _use, ...rest } = key;
      return rest;
    });
  return { keys: usable as JSONWebKeySet['keys'] };
}

export function createIssuerKeyCache(options: IssuerKeyCacheOptions): IssuerKeyCache {
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
  const sources = new Map<string, { version: string; getKey: JWTVerifyGetKey }>();

  function remoteKeys(record: TrustedIssuerRecord): JWTVerifyGetKey {
    let local: JWTVerifyGetKey | undefined;
    let fetchedAt = -Infinity;
    let lastAttemptAt = -Infinity;
    let lastAttemptFailed = false;
    let inFlight: Promise<void> | undefined;

    async function jwksUri(): Promise<string> {
      if (record.jwksUri) return record.jwksUri;
      const base = record.issuer.replace(/\/+$/, '');
      const metadata = (await options.fetchJson(`${base}/.well-known/openid-configuration`)) as Record<string, unknown> | null;
      if (metadata?.issuer !== record.issuer) throw new Error(`the discovery document of ${record.issuer} names another issuer`);
      const uri = metadata.jwks_uri;
      if (typeof uri !== 'string' || fetchableUrlProblem(uri)) throw new Error(`the discovery document of ${record.issuer} has no usable jwks_uri`);
      return uri;
    }

    async function load(): Promise<void> {
      lastAttemptAt = options.now();
      try {
        const keys = signingKeysOf(await options.fetchJson(await jwksUri()));
        local = createLocalJWKSet(keys);
        fetchedAt = options.now();
        lastAttemptFailed = false;
        options.onFetch?.(record.issuer, undefined);
      } catch (error) {
        lastAttemptFailed = true;
        options.onFetch?.(record.issuer, error);
        throw error;
      }
    }

    const refresh = () => (inFlight ??= load().finally(() => (inFlight = undefined)));

    return async (header, token) => {
      const now = options.now();
      if (!local) {
        // Never loaded: one shared load; a failed issuer is not asked again within a second.
        if (!inFlight && now - lastAttemptAt < 1000) throw new IssuerKeysUnavailableError(record.issuer, undefined);
        await refresh().catch((error: unknown) => {
          throw new IssuerKeysUnavailableError(record.issuer, error);
        });
      } else if (now - fetchedAt >= maxAgeMs && !inFlight && now - lastAttemptAt >= 1000) {
        void refresh().catch(() => undefined); // stale: refreshed in the background, still served
      }
      try {
        return await local!(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
        if (!inFlight && options.now() - lastAttemptAt < cooldownMs) {
          if (lastAttemptFailed) throw new IssuerKeysUnavailableError(record.issuer, error);
          throw error;
        }
        // A kid we do not hold may be a freshly rotated key: one refetch, shared by every caller.
        await refresh().catch((refreshError: unknown) => {
          throw new IssuerKeysUnavailableError(record.issuer, refreshError);
        });
        return local!(header, token);
      }
    };
  }

  return {
    keysFor(record) {
      const version = `${record.updatedAt}\n${record.jwksUri ?? ''}`;
      const known = sources.get(record.issuer);
      if (known && known.version === version) return known.getKey;
      const getKey = record.jwks ? createLocalJWKSet(signingKeysOf(record.jwks)) : remoteKeys(record);
      sources.set(record.issuer, { version, getKey });
      return getKey;
    },
  };
}
