import { createHash } from 'node:crypto';
import { AccessToken } from './access-token.js';
import { ClientAuthenticator, type PrivateKeySource, type SecretSource } from './client-authentication.js';
import { checkEndpointUrl, discoverProvider } from './discovery.js';
import { checkTokenClientOptions, checkTokenRequest } from './client-options.js';
import { isOAuthError, isTokenClientError, TokenClientError } from './errors.js';
import { memoizeSuccess, safeListener } from '@m2m-auth/sdk-core';
import type { TokenClientEvent, TokenClientListener } from './events.js';
import { audienceParameters, type AudienceStyle, type AuthMethod, type ClientPreset } from './presets.js';
import { requestToken, type RetryPolicy } from './token-request.js';

export interface TokenClientOptions {
  /** Issuer URL: the token endpoint and auth methods come from its metadata (fetched once). */
  issuer?: string;
  /** Or the token endpoint itself. */
  tokenEndpoint?: string;
  /** Provider conventions (`presets.auth0({ domain })` …); explicit options win. */
  preset?: ClientPreset;
  clientId: string;
  /** The secret, or an async function that reads it (re-read once after invalid_client). */
  clientSecret?: SecretSource;
  /** For private_key_jwt (RFC 7523): a JWK, a PKCS#8 PEM, a key object, or a function returning one. */
  privateKey?: PrivateKeySource;
  assertionAlg?: string;
  assertionKid?: string;
  /** Default: private_key_jwt with a privateKey, else the preset's, else client_secret_basic when offered. */
  authMethod?: AuthMethod;
  /** Defaults for getToken(): the API to call and the scopes wanted. */
  audience?: string;
  resource?: string;
  scope?: string | readonly string[];
  extraParams?: Readonly<Record<string, string>>;
  /** Refresh when max(minSeconds, fraction × lifetime) remain, minus up to jitterFraction of that. Defaults 60 s, 0.2, 0.1. */
  refreshAhead?: { minSeconds?: number; fraction?: number; jitterFraction?: number };
  /** A token is not handed out in its last seconds (it could expire in transit). Default 5 s. */
  expiryMarginSeconds?: number;
  /** Refresh on a timer too, not only when a caller asks after the refresh point. Default true. */
  backgroundRefresh?: boolean;
  retry?: RetryPolicy;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Allow http: off loopback (never in production). Default false. */
  allowInsecureHttp?: boolean;
  onEvent?: TokenClientListener;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  clock?: () => number;
  /** How to wait between retries; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface TokenRequestOptions {
  scope?: string | readonly string[];
  audience?: string;
  resource?: string;
  extraParams?: Readonly<Record<string, string>>;
}

/** Something that hands out tokens for one audience and scope set. */
export interface TokenSource {
  getToken(): Promise<AccessToken>;
  /** Drops this token if it is still the cached one; true when it was. */
  invalidate(accessToken: string): boolean;
}

export interface TokenClient {
  getToken(request?: TokenRequestOptions): Promise<AccessToken>;
  /** A handle with its own cache entry: one per downstream API (the "service token manager"). */
  for(request: TokenRequestOptions): TokenSource;
  /** Drops this token from whichever cache entry holds it, if it is still current there. */
  invalidate(accessToken: string): boolean;
  /** Stops background refresh timers; pending and later calls fail with code `closed`. */
  close(): void;
}

interface CacheEntry {
  readonly key: string;
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

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

export function createTokenClient(input: TokenClientOptions): TokenClient {
  const options = checkTokenClientOptions(input);
  const preset = options.preset;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.clock ?? Date.now;
  const emit = safeListener<TokenClientEvent>(options.onEvent);
  const random = options.random ?? Math.random;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  const audienceStyle: AudienceStyle = preset?.audience ?? 'audience';
  const marginMs = (options.expiryMarginSeconds ?? 5) * 1000;
  const ahead = { minSeconds: 60, fraction: 0.2, jitterFraction: 0.1, ...options.refreshAhead };
  const backgroundRefresh = options.backgroundRefresh ?? true;
  const retry = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000, maxElapsedMs: 30_000, ...options.retry };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  const issuer = options.issuer ?? preset?.issuer;
  const configuredEndpoint = options.tokenEndpoint ?? preset?.tokenEndpoint;
  if (!issuer && !configuredEndpoint) throw new TokenClientError('configuration_error', 'createTokenClient: issuer, tokenEndpoint or a preset is required.');
  if (configuredEndpoint) checkEndpointUrl(configuredEndpoint, allowInsecureHttp);
  if (issuer) checkEndpointUrl(issuer, allowInsecureHttp);

  let closed = false;
  const entries = new Map<string, CacheEntry>();

  // A failed discovery is retried by the next call.
  const resolveSetup = memoizeSuccess(async (): Promise<{ tokenEndpoint: string; authenticator: ClientAuthenticator }> => {
      let tokenEndpoint = configuredEndpoint;
      let offered: readonly string[] | undefined;
      if (!tokenEndpoint) {
        const metadata = await discoverProvider(issuer!, fetchImpl, timeoutMs);
        checkEndpointUrl(metadata.tokenEndpoint, allowInsecureHttp);
        tokenEndpoint = metadata.tokenEndpoint;
        offered = metadata.authMethods;
      }
      const method: AuthMethod =
        options.authMethod ??
        (options.privateKey !== undefined ? 'private_key_jwt' : preset?.authMethod) ??
        (offered && !offered.includes('client_secret_basic') && offered.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic');
    return { tokenEndpoint, authenticator: new ClientAuthenticator(options, method) };
  });

  function cacheKey(request: TokenRequestOptions): string {
    const scopes = scopeList(request.scope ?? options.scope);
    const extra = { ...options.extraParams, ...request.extraParams };
    return JSON.stringify([
      configuredEndpoint ?? issuer,
      options.clientId,
      scopes,
      request.audience ?? options.audience ?? null,
      request.resource ?? options.resource ?? null,
      Object.keys(extra).sort().map((name) => [name, extra[name]]),
    ]);
  }

  function entryFor(request: TokenRequestOptions): CacheEntry {
    const key = cacheKey(request);
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
  }

  function tokenOf(entry: CacheEntry): Promise<AccessToken> {
    if (entry.resolved !== undefined) {
      const t = now();
      if (t < entry.usableUntil) {
        if (t >= entry.refreshAt && entry.inFlight === undefined) refresh(entry, true);
        return entry.resolved;
      }
    }
    if (closed) return Promise.reject(new TokenClientError('closed', 'the token client was closed'));
    return entry.inFlight ?? refresh(entry, false);
  }

  /** One request for the entry, shared by every caller (single flight). */
  function refresh(entry: CacheEntry, background: boolean): Promise<AccessToken> {
    const pending = fetchToken(entry).then(
      (token) => {
        store(entry, token);
        return token;
      },
      (error: unknown) => {
        const err = isTokenClientError(error) ? error : new TokenClientError('provider_unavailable', String(error));
        const t = now();
        const current = entry.token;
        if (current && t < current.expiresAt && err.code !== 'closed') {
          // Stale-if-error: the provider is failing but the token we hold is still valid.
          emit({ type: 'token.refresh_failed', cacheKeyHash: entry.hash, code: err.code, error: err.error, message: err.message });
          entry.refreshAt = t + Math.min(10_000, Math.max(1000, (current.expiresAt - t) / 4));
          if (!background) emit({ type: 'token.stale_served', cacheKeyHash: entry.hash, expiresAt: current.expiresAt });
          return current;
        }
        if (background) emit({ type: 'token.refresh_failed', cacheKeyHash: entry.hash, code: err.code, error: err.error, message: err.message });
        throw err;
      },
    );
    entry.inFlight = pending;
    const clear = () => {
      if (entry.inFlight === pending) entry.inFlight = undefined;
    };
    pending.then(clear, clear);
    if (background) pending.catch(() => undefined);
    return pending;
  }

  async function fetchToken(entry: CacheEntry): Promise<AccessToken> {
    const { tokenEndpoint, authenticator } = await resolveSetup();
    const params = requestParameters(entry.request);
    const started = now();
    const deps = {
      fetch: fetchImpl,
      now,
      sleep,
      random,
      retry,
      timeoutMs,
      onRetry: (attempt: number, delayMs: number, reason: string) => emit({ type: 'token.retry', cacheKeyHash: entry.hash, attempt, delayMs, reason }),
    };
    let response;
    try {
      response = await requestToken(deps, tokenEndpoint, authenticator, params);
    } catch (error) {
      // A rotated secret: read it once more from its source and try again, once.
      if (isOAuthError(error, 'invalid_client') && authenticator.forgetSecret()) {
        response = await requestToken(deps, tokenEndpoint, authenticator, params);
      } else {
        throw error;
      }
    }
    if (closed) throw new TokenClientError('closed', 'the token client was closed');
    const receivedAt = now();
    const token = new AccessToken(response.accessToken, response.tokenType, receivedAt + response.expiresInSeconds * 1000, response.scope ?? (scopeList(entry.request.scope ?? options.scope).join(' ') || undefined));
    emit({ type: 'token.fetched', cacheKeyHash: entry.hash, latencyMs: receivedAt - started, expiresAt: token.expiresAt, attempts: response.attempts });
    return token;
  }

  function store(entry: CacheEntry, token: AccessToken): void {
    const t = now();
    const lifetime = Math.max(0, token.expiresAt - t);
    const window = Math.min(lifetime / 2, Math.max(ahead.minSeconds * 1000, ahead.fraction * lifetime));
    entry.token = token;
    entry.resolved = Promise.resolve(token);
    entry.usableUntil = token.expiresAt - Math.min(marginMs, lifetime / 10);
    // Jitter spreads the refreshes of many instances that started together.
    entry.refreshAt = token.expiresAt - window - random() * ahead.jitterFraction * window;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    if (backgroundRefresh && !closed) {
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        if (!closed && entry.token === token && entry.inFlight === undefined) refresh(entry, true);
      }, Math.max(0, entry.refreshAt - t));
      entry.timer.unref?.();
    }
  }

  function requestParameters(request: TokenRequestOptions): Record<string, string> {
    const scopes = scopeList(request.scope ?? options.scope);
    const resource = request.resource ?? options.resource;
    const { scope, extra } = audienceParameters(audienceStyle, request.audience ?? options.audience, scopes);
    return {
      ...options.extraParams,
      ...request.extraParams,
      ...extra,
      ...(resource ? { resource } : {}),
      ...(scope.length ? { scope: scope.join(' ') } : {}),
    };
  }

  function invalidateEntry(entry: CacheEntry, accessToken: string): boolean {
    if (entry.token?.accessToken !== accessToken) return false;
    entry.token = undefined;
    entry.resolved = undefined;
    entry.usableUntil = 0;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    emit({ type: 'token.invalidated', cacheKeyHash: entry.hash });
    return true;
  }

  const defaultEntry = entryFor({});
  const describe = () => ({ tokenEndpoint: configuredEndpoint, issuer, clientId: options.clientId, cachedEntries: entries.size });

  const client: TokenClient = {
    getToken(request) {
      if (request === undefined) return tokenOf(defaultEntry);
      try {
        return tokenOf(entryFor(checkTokenRequest('getToken', request)));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    for(request) {
      const entry = entryFor(checkTokenRequest('for', request));
      return {
        getToken: () => tokenOf(entry),
        invalidate: (accessToken) => invalidateEntry(entry, accessToken),
      };
    },
    invalidate(accessToken) {
      let dropped = false;
      for (const entry of entries.values()) dropped = invalidateEntry(entry, accessToken) || dropped;
      return dropped;
    },
    close() {
      closed = true;
      for (const entry of entries.values()) {
        if (entry.timer) clearTimeout(entry.timer);
        entry.timer = undefined;
      }
    },
  };
  Object.defineProperties(client, {
    toJSON: { value: describe, enumerable: false },
    [INSPECT]: { value: () => `TokenClient ${JSON.stringify(describe())}`, enumerable: false },
  });
  return client;
}

/** Scopes as a sorted, de-duplicated list (so `a b` and `b a` share a cache entry). */
function scopeList(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return [];
  const list = typeof scope === 'string' ? scope.split(' ') : scope;
  return [...new Set(list.filter(Boolean))].sort();
}
