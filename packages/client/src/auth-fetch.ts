import { checkTokenRequest } from './client-options.js';
import { optionChecks } from './option-checks.js';
import { describeValue } from '@m2m-auth/sdk-core';
import type { TokenClient, TokenSource } from './token-client.js';
import type { TokenRequestOptions } from './token-client-options.js';
import type { AccessToken } from './access-token.js';
import type { DpopProver } from './dpop.js';

export interface AuthFetchOptions extends TokenRequestOptions {
  /**
   * The fetch to wrap. Default globalThis.fetch. With a client's `mtls`, it is called with the
   * certificate's undici `dispatcher` in its init (default: undici's own fetch).
   */
  fetch?: typeof fetch;
}

/**
 * A fetch that sends `Authorization: Bearer <token>` — or, for a DPoP-bound token (RFC 9449),
 * `Authorization: DPoP <token>` with a proof for this method and URL carrying the token's hash.
 * On a 401 whose WWW-Authenticate says `invalid_token` (or names no error), the token is dropped
 * and the request retried exactly once with a fresh one; on a 401 `use_dpop_nonce` with a
 * DPoP-Nonce, once with a proof carrying that nonce — not on 403 insufficient_scope (a new token
 * would not have more scopes), and not when the body cannot be sent twice (a stream). With the
 * client's `mtls`, every call presents its certificate (a certificate-bound token stays `Bearer`).
 */
export function createAuthFetch(source: TokenClient | TokenSource, options: AuthFetchOptions = {}): typeof fetch {
  checkTokenSource('createAuthFetch', source);
  const { fetch: wrapped, ...request } = checkTokenRequest('createAuthFetch', options, ['fetch']) as AuthFetchOptions;
  const base = optionChecks('createAuthFetch').function<typeof fetch>(wrapped, 'fetch');
  const tokens: TokenSource = 'for' in source ? source.for(request) : source;
  // A certificate-bound token (RFC 8705) is good only over a connection that presents its certificate.
  const fetchImpl = tokens.mtls ? tokens.mtls.fetchWith(base) : (base ?? globalThis.fetch);

  const dpop = tokens.dpop;
  return async function authFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const replayable = isReplayable(input, init);
    const firstInput = input instanceof Request && replayable ? input.clone() : input;
    const target = targetOf(input, init);
    const token = await tokens.getToken();
    const response = await fetchImpl(firstInput, await withToken(input, init, token, target, dpop));
    if (dpop) dpop.rememberNonce(target.url, response.headers.get('dpop-nonce'));
    if (response.status !== 401 || !replayable) return response;
    const challenge = response.headers.get('www-authenticate');
    let next = token;
    if (!(dpop && isDpopBound(token) && isNonceChallenge(challenge) && response.headers.has('dpop-nonce'))) {
      if (!tokenWasRejected(challenge)) return response;
      tokens.invalidate(token.accessToken);
      next = await tokens.getToken();
    }
    await response.body?.cancel().catch(() => undefined);
    return fetchImpl(input, await withToken(input, init, next, target, dpop));
  };
}

/** What a DPoP proof names: the method (as fetch normalises it) and the URL. */
function targetOf(input: string | URL | Request, init: RequestInit | undefined): { method: string; url: string } {
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input;
  return { method: NORMALISED_METHODS.has(method.toUpperCase()) ? method.toUpperCase() : method, url };
}

/** Fetch upper-cases these method names and sends any other as given (Fetch standard, "normalize a method"). */
const NORMALISED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

/** A token the server bound to the key (`token_type: DPoP`, whatever its case), when this client holds the key. */
export function isDpopBound(token: AccessToken): boolean {
  return token.tokenType.toLowerCase() === 'dpop';
}

async function withToken(
  input: string | URL | Request,
  init: RequestInit | undefined,
  token: AccessToken,
  target: { method: string; url: string },
  dpop: DpopProver | undefined,
): Promise<RequestInit> {
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  if (dpop && isDpopBound(token)) {
    headers.set('authorization', `DPoP ${token.accessToken}`);
    headers.set('dpop', await dpop.proof({ ...target, accessToken: token.accessToken }));
  } else {
    headers.set('authorization', `Bearer ${token.accessToken}`);
  }
  return { ...init, headers };
}

/** A token client or a handle from `client.for()`; anything else fails at set-up. */
export function checkTokenSource(where: string, source: unknown): asserts source is TokenClient | TokenSource {
  const candidate = source as Partial<TokenClient> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.getToken !== 'function' || typeof candidate.invalidate !== 'function') {
    optionChecks(where).fail(`needs a token client from createTokenClient() or a handle from client.for() (got ${describeValue(source)}).`);
  }
}

function isReplayable(input: string | URL | Request, init: RequestInit | undefined): boolean {
  const body = init?.body;
  if (body === undefined || body === null) return !(input instanceof Request) || input.body === null || !input.bodyUsed;
  return !(body instanceof ReadableStream) && !isAsyncIterable(body);
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** RFC 6750 §3 (and RFC 9449 §7.1): retry when the token itself was refused, or when the challenge names no error. */
export function tokenWasRejected(challenge: string | null): boolean {
  if (!challenge || !/^\s*(bearer|dpop)\b/i.test(challenge)) return challenge === null;
  const error = challengeError(challenge);
  return error === undefined || error === 'invalid_token';
}

/** RFC 9449 §9: the resource server wants its nonce in the proof (the scheme's case does not matter). */
export function isNonceChallenge(challenge: string | null): boolean {
  return challenge !== null && /^\s*dpop\b/i.test(challenge) && challengeError(challenge) === 'use_dpop_nonce';
}

const challengeError = (challenge: string) => /error\s*=\s*"?([A-Za-z_]+)"?/i.exec(challenge)?.[1];
