import { AccessToken } from './access-token.js';
import { isOAuthError, TokenClientError } from './errors.js';
import type { TokenClientListener } from './events.js';
import { audienceParameters } from './presets.js';
import type { ProviderSetup } from './provider-setup.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { scopeList, type CacheEntry } from './token-cache.js';
import type { AudienceStyle, TokenRequestOptions } from './token-client-options.js';
import { attemptTokenRequest } from './token-request.js';

export interface TokenFetchDeps {
  readonly setup: () => Promise<ProviderSetup>;
  /** The client's defaults, which a request's own options override. */
  readonly defaults: TokenRequestOptions;
  readonly audienceStyle: AudienceStyle;
  readonly fetch: typeof fetch;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly retry: Required<RetryPolicy>;
  readonly timeoutMs: number;
  readonly emit: TokenClientListener;
  readonly isClosed: () => boolean;
}

/**
 * A new token for a cache entry: the request (token-request.ts) with retries (retry.ts), and once
 * more after `invalid_client` when the secret, key or platform token comes from a source that may
 * have rotated it.
 */
export function createTokenFetcher(deps: TokenFetchDeps): (entry: CacheEntry) => Promise<AccessToken> {
  return async (entry) => {
    const { tokenEndpoint, authenticator } = await deps.setup();
    const params = requestParameters(deps.defaults, entry.request, deps.audienceStyle);
    const started = deps.now();
    const retryDeps = {
      now: deps.now,
      sleep: deps.sleep,
      random: deps.random,
      retry: deps.retry,
      onRetry: (attempt: number, delayMs: number, reason: string) => deps.emit({ type: 'token.retry', cacheKeyHash: entry.hash, attempt, delayMs, reason }),
    };
    const request = () => withRetry((attempt) => attemptTokenRequest(deps, tokenEndpoint, authenticator, params, attempt), retryDeps);
    let response;
    try {
      response = await request();
    } catch (error) {
      // A rotated secret or platform token: read it once more from its source and try again, once.
      if (isOAuthError(error, 'invalid_client') && authenticator.forgetCredentials()) {
        response = await request();
      } else {
        throw error;
      }
    }
    if (deps.isClosed()) throw new TokenClientError('closed', 'the token client was closed');
    const receivedAt = deps.now();
    const scope = response.scope ?? (scopeList(entry.request.scope ?? deps.defaults.scope).join(' ') || undefined);
    const token = new AccessToken(response.accessToken, response.tokenType, receivedAt + response.expiresInSeconds * 1000, scope);
    deps.emit({ type: 'token.fetched', cacheKeyHash: entry.hash, latencyMs: receivedAt - started, expiresAt: token.expiresAt, attempts: response.attempts });
    return token;
  };
}

/** The token request's parameters: the defaults, the request's own, and the audience in the provider's dialect. */
function requestParameters(defaults: TokenRequestOptions, request: TokenRequestOptions, audienceStyle: AudienceStyle): Record<string, string> {
  const scopes = scopeList(request.scope ?? defaults.scope);
  const resource = request.resource ?? defaults.resource;
  const { scope, extra } = audienceParameters(audienceStyle, request.audience ?? defaults.audience, scopes);
  return {
    ...defaults.extraParams,
    ...request.extraParams,
    ...extra,
    ...(resource ? { resource } : {}),
    ...(scope.length ? { scope: scope.join(' ') } : {}),
  };
}
