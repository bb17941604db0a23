import { AuthError, invalidToken } from './errors.js';
import { importJwk, type JwsAlgorithm, type VerificationKey } from './jws.js';
import type { EmitEvent } from './events.js';

export interface JwksCacheOptions {
  /** Where the keys are; resolved lazily (e.g. from discovery) on first use. */
  jwksUri: () => Promise<string>;
  fetch: typeof fetch;
  now: () => number;
  emit: EmitEvent;
  /** Minimum time between two fetches caused by unknown `kid`s (a flood must not hammer the issuer). Default 30 s. */
  cooldownMs?: number;
  /** Per-request timeout. Default 5 s. */
  timeoutMs?: number;
  /** Freshness when the JWKS response has no usable Cache-Control max-age. Default 10 min. */
  defaultMaxAgeMs?: number;
  /** Bounds on the issuer's max-age. Default 30 s … 24 h. */
  minMaxAgeMs?: number;
  maxMaxAgeMs?: number;
}

export interface JwksCache {
  /** The key for a token's header; fetches when needed, within the cooldown. */
  keyFor(kid: string | undefined, alg: JwsAlgorithm): Promise<VerificationKey>;
  /** The key when it is already in memory, without a promise (the per-request fast path); else undefined. */
  knownKey(kid: string | undefined, alg: JwsAlgorithm): VerificationKey | undefined;
  /** Loads the keys now (at start-up, so the first request does not wait). */
  prefetch(): Promise<void>;
}

/**
 * Remote JWKS with rotation safety:
 * - fresh keys are served from memory; past their max-age they are still served while one
 *   background refresh runs (stale-while-revalidate), so an issuer outage never rejects tokens
 *   signed by keys we already know (stale-if-error);
 * - an unknown `kid` triggers a refetch at most once per cooldown, and all callers share it;
 * - when the issuer cannot be reached and the token's key is not one we hold (none loaded yet, or
 *   an unknown `kid` while the last fetch failed), callers get a 503-class error (their token was
 *   not judged), never a 401.
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const defaultMaxAgeMs = options.defaultMaxAgeMs ?? 600_000;
  const minMaxAgeMs = options.minMaxAgeMs ?? 30_000;
  const maxMaxAgeMs = options.maxMaxAgeMs ?? 86_400_000;

  let keys: Map<string | undefined, VerificationKey> | undefined;
  let keyList: VerificationKey[] = [];
  let freshUntil = 0;
  let lastAttemptAt = -Infinity;
  /** Whether the last fetch failed: then an unknown kid may be a key we could not load, not a forgery. */
  let lastAttemptFailed = false;
  let inFlight: Promise<void> | undefined;

  function refresh(): Promise<void> {
    inFlight ??= load().finally(() => (inFlight = undefined));
    return inFlight;
  }

  async function load(): Promise<void> {
    lastAttemptAt = options.now();
    let uri: string | undefined;
    try {
      uri = await options.jwksUri();
      const response = await options.fetch(uri, { headers: { accept: 'application/jwk-set+json, application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`JWKS endpoint answered ${response.status}`);
      const document = (await response.json()) as { keys?: unknown };
      if (!Array.isArray(document.keys)) throw new Error('JWKS document has no keys array');
      const imported = document.keys
        .flatMap((jwk) => (jwk && typeof jwk === 'object' ? [importJwk(jwk as Record<string, unknown>)] : []))
        .filter((k) => k !== undefined);
      keys = new Map(imported.map((key) => [key.kid, key]));
      keyList = imported;
      freshUntil = options.now() + maxAge(response.headers.get('cache-control'));
      lastAttemptFailed = false;
      options.emit({ type: 'jwks.refreshed', jwksUri: uri, keyCount: imported.length });
    } catch (error) {
      lastAttemptFailed = true;
      options.emit({ type: 'jwks.refresh_failed', jwksUri: uri, message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  function maxAge(cacheControl: string | null): number {
    const match = cacheControl ? /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl) : null;
    const ms = match ? Number(match[1]) * 1000 : defaultMaxAgeMs;
    return Math.min(Math.max(ms, minMaxAgeMs), maxMaxAgeMs);
  }

  function find(kid: string | undefined, alg: JwsAlgorithm): VerificationKey | undefined {
    if (!keys) return undefined;
    if (kid !== undefined) return keys.get(kid);
    // No kid: acceptable only when exactly one key can verify this algorithm.
    const candidates = keyList.filter((key) => key.algorithms.has(alg) && (key.alg === undefined || key.alg === alg));
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  const unavailable = (cause: unknown) =>
    new AuthError('temporarily_unavailable', 'The signing keys of the token issuer cannot be obtained right now.', 'keys_unavailable', [], { cause });

  function revalidateIfStale(now: number): void {
    if (now >= freshUntil && !inFlight && now - lastAttemptAt >= 1000) {
      refresh().catch(() => undefined); // stale: revalidate in the background, keep serving
    }
  }

  return {
    knownKey(kid, alg) {
      if (!keys) return undefined;
      revalidateIfStale(options.now());
      return find(kid, alg);
    },
    async keyFor(kid, alg) {
      const now = options.now();
      if (!keys) {
        // Never loaded: load (shared), but do not retry a failed issuer more than once a second.
        if (!inFlight && now - lastAttemptAt < 1000) throw unavailable(undefined);
        try {
          await refresh();
        } catch (error) {
          throw unavailable(error);
        }
      } else {
        revalidateIfStale(now);
      }
      let key = find(kid, alg);
      if (!key && (inFlight || options.now() - lastAttemptAt >= cooldownMs)) {
        // An unknown kid may be a freshly rotated key: one refetch shared by every caller (joining
        // one already under way), then at most one per cooldown.
        await refresh().catch(() => undefined);
        key = find(kid, alg);
      }
      // With the issuer unreachable we cannot tell a new key from a forged kid: the caller is not
      // at fault, so 503 (retry later), not 401. Once a fetch succeeds, an unknown kid is a 401.
      if (!key && lastAttemptFailed) throw unavailable(undefined);
      if (!key) throw invalidToken('The access token is signed with an unknown key.', 'unknown_key');
      return key;
    },
    prefetch: () => refresh(),
  };
}
