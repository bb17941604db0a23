import { safeListener } from '@m2m-auth/sdk-core';
import type { AccessToken } from './access-token.js';
import { checkExchangeRequest, checkTokenClientOptions, checkTokenRequest } from './client-options.js';
import { TokenClientError } from './errors.js';
import type { TokenClientEvent } from './events.js';
import { createTokenFetcher } from './fetch-token.js';
import { createProviderSetup } from './provider-setup.js';
import { createRefreshAhead } from './refresh-ahead.js';
import { DEFAULT_RETRY } from './retry.js';
import { startFlight } from './single-flight.js';
import { cancelTimer, createTokenCache, invalidateEntry, usableToken, type CacheEntry } from './token-cache.js';
import type { ExchangeTokenOptions, TokenClientOptions, TokenRequestOptions } from './token-client-options.js';
import { createDpopProver, type DpopProver } from './dpop.js';
import { createClientCertificateTransport, type ClientCertificateTransport } from './mtls.js';
import { checkCertificateEndpoint, checkEndpointUrl } from './discovery.js';

/** Something that hands out tokens for one audience and scope set. */
export interface TokenSource {
  getToken(): Promise<AccessToken>;
  /** Drops this token if it is still the cached one; true when it was. */
  invalidate(accessToken: string): boolean;
  /** The client's DPoP key, when its tokens are DPoP-bound: auth fetch signs a proof per request with it. */
  readonly dpop?: DpopProver | undefined;
  /** The client's certificate, with `mtls`: auth fetch and the axios adapter present it to the APIs. */
  readonly mtls?: ClientCertificateTransport | undefined;
}

export interface TokenClient {
  getToken(request?: TokenRequestOptions): Promise<AccessToken>;
  /**
   * Token exchange (RFC 8693): a token for `audience` on behalf of the subject token's principal.
   * Cached like any token, keyed by the subject token as well as audience and scopes, so the
   * same incoming token is exchanged once; at most `maxExchangeEntries` are kept (expired ones go first).
   */
  exchangeToken(request: ExchangeTokenOptions): Promise<AccessToken>;
  /** A handle with its own cache entry: one per downstream API (the "service token manager"). */
  for(request: TokenRequestOptions): TokenSource;
  /** Drops this token from whichever cache entry holds it, if it is still current there. */
  invalidate(accessToken: string): boolean;
  /** Stops background refresh timers; pending and later calls fail with code `closed`. */
  close(): void;
  /** Set with the `dpop` option: proofs of this client's key, for its calls to APIs. */
  readonly dpop: DpopProver | undefined;
  /** Set with the `mtls` option: the certificate, to present on calls of your own (`client.mtls.fetchWith()`, `httpsAgent`). */
  readonly mtls: ClientCertificateTransport | undefined;
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** Exchanged tokens kept: one per incoming token, so a busy service sees many; the oldest beyond this go. */
const MAX_EXCHANGE_ENTRIES = 1_000;

/**
 * The token client, composed of one module per concern: the cache (token-cache.ts) answers from
 * memory; on a miss, one request per entry runs (single-flight.ts) — the request
 * (token-request.ts) with retries (retry.ts) — and its token is kept and refreshed before it
 * expires (refresh-ahead.ts), which also serves a still-valid token when a refresh fails.
 */
export function createTokenClient(input: TokenClientOptions): TokenClient {
  const options = checkTokenClientOptions(input);
  const preset = options.preset;
  const mtls = options.mtls ? createClientCertificateTransport(options.mtls) : undefined;
  // With mtls every request presents the certificate and trusts mtls.ca: discovery too, on the same pool.
  const fetchImpl = mtls ? mtls.fetchWith(options.fetch) : (options.fetch ?? globalThis.fetch);
  const now = options.clock ?? Date.now;
  const emit = safeListener<TokenClientEvent>(options.onEvent);
  const random = options.random ?? Math.random;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  const issuer = options.issuer ?? preset?.issuer;
  const configuredEndpoint = options.tokenEndpoint ?? preset?.tokenEndpoint;
  if (!issuer && !configuredEndpoint) throw new TokenClientError('configuration_error', 'createTokenClient: issuer, tokenEndpoint or a preset is required.');
  if (configuredEndpoint) checkEndpointUrl(configuredEndpoint, allowInsecureHttp);
  if (configuredEndpoint && mtls) checkCertificateEndpoint(configuredEndpoint);
  if (issuer) checkEndpointUrl(issuer, allowInsecureHttp);

  let closed = false;
  const isClosed = () => closed;
  const dpop = options.dpop ? createDpopProver(options.dpop, now) : undefined;
  const cache = createTokenCache({
    endpoint: configuredEndpoint ?? issuer,
    clientId: options.clientId,
    scope: options.scope,
    audience: options.audience,
    resource: options.resource,
    extraParams: options.extraParams,
  });
  const fetchToken = createTokenFetcher({
    setup: createProviderSetup(options, { issuer, tokenEndpoint: configuredEndpoint, preset, fetch: fetchImpl, timeoutMs, allowInsecureHttp }),
    defaults: options,
    audienceStyle: preset?.audience ?? 'audience',
    fetch: fetchImpl,
    now,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    random,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    timeoutMs,
    emit,
    isClosed,
    dpop,
  });
  const ahead = createRefreshAhead({
    minSeconds: 60,
    fraction: 0.2,
    jitterFraction: 0.1,
    ...options.refreshAhead,
    marginMs: (options.expiryMarginSeconds ?? 5) * 1000,
    background: options.backgroundRefresh ?? true,
    now,
    random,
    emit,
    isClosed,
    refresh: (entry) => void refresh(entry, true),
  });

  /** A cached token when usable (starting a refresh when due), else the one request in flight. */
  function tokenOf(entry: CacheEntry): Promise<AccessToken> {
    const t = now();
    const cached = usableToken(entry, t);
    if (cached) {
      if (ahead.isDue(entry, t)) refresh(entry, true);
      return cached;
    }
    if (closed) return Promise.reject(new TokenClientError('closed', 'the token client was closed'));
    return entry.inFlight ?? refresh(entry, false);
  }

  function refresh(entry: CacheEntry, background: boolean): Promise<AccessToken> {
    const pending = startFlight(entry, () =>
      fetchToken(entry).then(
        (token) => {
          ahead.store(entry, token);
          return token;
        },
        (error: unknown) => ahead.recover(entry, error, background),
      ),
    );
    if (background) pending.catch(() => undefined);
    return pending;
  }

  // Exchanged tokens live beside the client's own, bounded, and are never refreshed in the
  // background: each belongs to one incoming token, which the next request may not bring again.
  const exchanges = createTokenCache({
    endpoint: configuredEndpoint ?? issuer,
    clientId: options.clientId,
    scope: undefined,
    audience: undefined,
    resource: undefined,
    extraParams: undefined,
  });
  const exchangeAhead = createRefreshAhead({
    minSeconds: 0,
    fraction: 0,
    jitterFraction: 0,
    marginMs: (options.expiryMarginSeconds ?? 5) * 1000,
    background: false,
    now,
    random,
    emit,
    isClosed,
    refresh: () => undefined,
  });

  function exchangeEntry(request: ExchangeTokenOptions): CacheEntry {
    const { subjectToken, subjectTokenType, actorToken, actorTokenType, ...target } = checkExchangeRequest(request);
    const extraParams = {
      grant_type: TOKEN_EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: subjectTokenType ?? ACCESS_TOKEN_TYPE,
      ...(actorToken ? { actor_token: actorToken, actor_token_type: actorTokenType ?? ACCESS_TOKEN_TYPE } : {}),
    };
    const { audience, scope, resource } = target;
    const exchangeRequest: TokenRequestOptions = {
      ...(audience ? { audience } : {}),
      ...(scope ? { scope } : {}),
      ...(resource ? { resource } : {}),
      extraParams,
    };
    if (exchanges.size >= MAX_EXCHANGE_ENTRIES) {
      const t = now();
      for (const entry of exchanges.entries()) if (!entry.inFlight && t >= entry.usableUntil) exchanges.delete(entry);
      for (const entry of exchanges.entries()) if (exchanges.size >= MAX_EXCHANGE_ENTRIES && !entry.inFlight) exchanges.delete(entry);
    }
    return exchanges.entryFor(exchangeRequest);
  }

  function exchangedTokenOf(entry: CacheEntry): Promise<AccessToken> {
    const cached = usableToken(entry, now());
    if (cached) return cached;
    if (closed) return Promise.reject(new TokenClientError('closed', 'the token client was closed'));
    return (
      entry.inFlight ??
      startFlight(entry, () =>
        fetchToken(entry).then((token) => {
          exchangeAhead.store(entry, token);
          return token;
        }),
      )
    );
  }

  const defaultEntry = cache.entryFor({});
  const describe = () => ({
    tokenEndpoint: configuredEndpoint,
    issuer,
    clientId: options.clientId,
    cachedEntries: cache.size,
    exchangedEntries: exchanges.size,
  });

  const client: TokenClient = {
    getToken(request) {
      if (request === undefined) return tokenOf(defaultEntry);
      try {
        return tokenOf(cache.entryFor(checkTokenRequest('getToken', request)));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    exchangeToken(request) {
      try {
        return exchangedTokenOf(exchangeEntry(request));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    for(request) {
      const entry = cache.entryFor(checkTokenRequest('for', request));
      return {
        getToken: () => tokenOf(entry),
        invalidate: (accessToken) => invalidateEntry(entry, accessToken, emit),
        dpop,
        mtls,
      };
    },
    invalidate(accessToken) {
      let dropped = false;
      for (const entry of cache.entries()) dropped = invalidateEntry(entry, accessToken, emit) || dropped;
      for (const entry of exchanges.entries()) dropped = invalidateEntry(entry, accessToken, emit) || dropped;
      return dropped;
    },
    dpop,
    mtls,
    close() {
      closed = true;
      void mtls?.close();
      for (const entry of cache.entries()) cancelTimer(entry);
      for (const entry of exchanges.entries()) cancelTimer(entry);
    },
  };
  Object.defineProperties(client, {
    toJSON: { value: describe, enumerable: false },
    [INSPECT]: { value: () => `TokenClient ${JSON.stringify(describe())}`, enumerable: false },
  });
  return client;
}
