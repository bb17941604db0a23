import { checkTokenRequest } from './client-options.js';
import { optionChecks } from './option-checks.js';
import { describeValue } from '@m2m-auth/sdk-core';
import type { TokenClient, TokenSource } from './token-client.js';
import type { TokenRequestOptions } from './token-client-options.js';

export interface AuthFetchOptions extends TokenRequestOptions {
  /** The fetch to wrap. Default globalThis.fetch. */
  fetch?: typeof fetch;
}

/**
 * A fetch that sends `Authorization: Bearer <token>`. On a 401 whose WWW-Authenticate says
 * `invalid_token` (or names no error), the token is dropped and the request retried exactly once
 * with a fresh one — not on 403 insufficient_scope (a new token would not have more scopes), and
 * not when the body cannot be sent twice (a stream).
 */
export function createAuthFetch(source: TokenClient | TokenSource, options: AuthFetchOptions = {}): typeof fetch {
  checkTokenSource('createAuthFetch', source);
  const { fetch: wrapped, ...request } = checkTokenRequest('createAuthFetch', options, ['fetch']) as AuthFetchOptions;
  const fetchImpl = optionChecks('createAuthFetch').function<typeof fetch>(wrapped, 'fetch') ?? globalThis.fetch;
  const tokens: TokenSource = 'for' in source ? source.for(request) : source;

  return async function authFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const replayable = isReplayable(input, init);
    const firstInput = input instanceof Request && replayable ? input.clone() : input;
    const token = await tokens.getToken();
    const response = await fetchImpl(firstInput, withBearer(input, init, token.accessToken));
    if (response.status !== 401 || !replayable || !tokenWasRejected(response.headers.get('www-authenticate'))) return response;
    tokens.invalidate(token.accessToken);
    const fresh = await tokens.getToken();
    await response.body?.cancel().catch(() => undefined);
    return fetchImpl(input, withBearer(input, init, fresh.accessToken));
  };
}

/** A token client or a handle from `client.for()`; anything else fails at set-up. */
export function checkTokenSource(where: string, source: unknown): asserts source is TokenClient | TokenSource {
  const candidate = source as Partial<TokenClient> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.getToken !== 'function' || typeof candidate.invalidate !== 'function') {
    optionChecks(where).fail(`needs a token client from createTokenClient() or a handle from client.for() (got ${describeValue(source)}).`);
  }
}

function withBearer(input: string | URL | Request, init: RequestInit | undefined, accessToken: string): RequestInit {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', `Bearer ${accessToken}`);
  return { ...init, headers };
}

function isReplayable(input: string | URL | Request, init: RequestInit | undefined): boolean {
  const body = init?.body;
  if (body === undefined || body === null) return !(input instanceof Request) || input.body === null || !input.bodyUsed;
  return !(body instanceof ReadableStream) && !isAsyncIterable(body);
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** RFC 6750 §3: retry when the token itself was refused, or when the challenge names no error. */
export function tokenWasRejected(challenge: string | null): boolean {
  if (!challenge || !/^\s*bearer\b/i.test(challenge)) return challenge === null;
  const error = /error\s*=\s*"?([A-Za-z_]+)"?/i.exec(challenge)?.[1];
  return error === undefined || error === 'invalid_token';
}
