import { createHash } from 'node:crypto';
import type { AccessToken } from './access-token.js';
import type { TokenClientListener } from './events.js';
import type { TokenRequestOptions } from './token-client-options.js';

/** One audience and scope set: its token, when it may be served, and the request for it in flight. */
export interface CacheEntry {
  readonly key: string;
  /** A short hash of the key: events name the entry by it, never by its scopes or audience. */
  readonly hash: string;
  readonly request: TokenRequestOptions;
  token: AccessToken | undefined;
  /** The same settled promise for every cached hit: no allocation per call. */
  resolved: Promise<AccessToken> | undefined;
  usableUntil: number;
  refreshAt: number;
  inFlight: Promise<AccessToken> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface TokenCache {
  /** The entry for this request, made on first use. */
  entryFor(request: TokenRequestOptions): CacheEntry;
  entries(): IterableIterator<CacheEntry>;
  /** Forgets an entry (its timer stopped); for caches that must stay bounded. */
  delete(entry: CacheEntry): void;
  readonly size: number;
}

/** What a cache key is made of besides the request: who asks where, and the defaults a request overrides. */
export interface CacheKeyDefaults {
  readonly endpoint: string | undefined;
  readonly clientId: string | undefined;
  readonly scope: string | readonly string[] | undefined;
  readonly audience: string | undefined;
  readonly resource: string | undefined;
  readonly extraParams: Readonly<Record<string, string>> | undefined;
}

/** Step 1 (cache): entries keyed by endpoint, client, scopes, audience, resource and extra parameters. */
export function createTokenCache(defaults: CacheKeyDefaults): TokenCache {
  const entries = new Map<string, CacheEntry>();
  return {
    entryFor(request) {
      const key = cacheKey(defaults, request);
      let entry = entries.get(key);
      if (!entry) {
        entry = {
          key,
          hash: createHash('sha256').update(key).digest('hex').slice(0, 12),
          request,
          token: undefined,
          resolved: undefined,
          usableUntil: 0,
          refreshAt: 0,
          inFlight: undefined,
          timer: undefined,
        };
        entries.set(key, entry);
      }
      return entry;
    },
    entries: () => entries.values(),
    delete(entry) {
      cancelTimer(entry);
      if (entries.get(entry.key) === entry) entries.delete(entry.key);
    },
    get size() {
      return entries.size;
    },
  };
}

/** The cached token while it may be handed out (not in its last seconds), else undefined. */
export function usableToken(entry: CacheEntry, now: number): Promise<AccessToken> | undefined {
  return entry.resolved !== undefined && now < entry.usableUntil ? entry.resolved : undefined;
}

/** Drops the entry's token if it is this one (a 401 said it is no good); true when it was. */
export function invalidateEntry(entry: CacheEntry, accessToken: string, emit: TokenClientListener): boolean {
  if (entry.token?.accessToken !== accessToken) return false;
  entry.token = undefined;
  entry.resolved = undefined;
  entry.usableUntil = 0;
  cancelTimer(entry);
  emit({ type: 'token.invalidated', cacheKeyHash: entry.hash });
  return true;
}

export function cancelTimer(entry: CacheEntry): void {
  if (entry.timer) clearTimeout(entry.timer);
  entry.timer = undefined;
}

function cacheKey(defaults: CacheKeyDefaults, request: TokenRequestOptions): string {
  const extra = { ...defaults.extraParams, ...request.extraParams };
  return JSON.stringify([
    defaults.endpoint,
    defaults.clientId,
    scopeList(request.scope ?? defaults.scope),
    request.audience ?? defaults.audience ?? null,
    request.resource ?? defaults.resource ?? null,
    Object.keys(extra)
      .sort()
      .map((name) => [name, extra[name]]),
  ]);
}

/** Scopes as a sorted, de-duplicated list (so `a b` and `b a` share a cache entry). */
export function scopeList(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return [];
  const list = typeof scope === 'string' ? scope.split(' ') : scope;
  return [...new Set(list.filter(Boolean))].sort();
}
