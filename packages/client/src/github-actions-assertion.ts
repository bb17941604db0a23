import { describeValue } from '@m2m-auth/sdk-core';
import { decodeJwt } from 'jose';
import { optionChecks } from './option-checks.js';
import type { ClientAssertionSource } from './token-client-options.js';

export interface GitHubActionsAssertionOptions {
  /** The `aud` the authorization server expects of this token (its trusted issuer says which). */
  audience: string;
  /**
   * Reuse a token until a minute before its exp, so each token request does not ask the token
   * service. Default false: a GitHub token is minted per request and an authorization server that
   * checks jti (m2m-auth does for oidc issuers) refuses one it has seen. The access tokens it buys
   * are cached anyway, so the token service is asked only when one is due.
   */
  reuse?: boolean;
  /** Per request to the token service. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  clock?: () => number;
}

const OPTION_NAMES = ['audience', 'reuse', 'timeoutMs', 'fetch', 'clock'] as const satisfies ReadonlyArray<keyof GitHubActionsAssertionOptions>;
/** A reused token still has this long to live when sent: transit and clock skew. */
const REUSE_MARGIN_MS = 60_000;

/**
 * The GitHub Actions OIDC token of the running job, from the runner's token service: a GET of
 * ACTIONS_ID_TOKEN_REQUEST_URL with `audience=`, authorized by ACTIONS_ID_TOKEN_REQUEST_TOKEN. Both
 * exist only when the job has `permissions: id-token: write`, so their absence fails here, at
 * set-up. Neither the request token nor a JWT appears in an error.
 */
export function githubActionsAssertion(input: GitHubActionsAssertionOptions): ClientAssertionSource {
  const check = optionChecks('githubActionsAssertion');
  if (input === null || typeof input !== 'object') check.fail(`needs an options object (got ${describeValue(input)}).`);
  const options = check.object(input, 'options', OPTION_NAMES)!;
  const audience = check.required(check.string(options.audience, 'audience'), 'audience', 'the aud the authorization server expects');
  const reuse = check.boolean(options.reuse, 'reuse') ?? false;
  const timeoutMs = check.number(options.timeoutMs, 'timeoutMs', { above: 0 }) ?? 10_000;
  const fetchImpl = check.function<typeof fetch>(options.fetch, 'fetch') ?? globalThis.fetch;
  const now = check.function<() => number>(options.clock, 'clock') ?? Date.now;
  const { ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken } = process.env;
  if (!requestUrl || !requestToken)
    check.fail('ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: run in a GitHub Actions job with `permissions: id-token: write`.');
  if (!URL.canParse(requestUrl!)) check.fail('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL.');
  const url = `${requestUrl}${requestUrl!.includes('?') ? '&' : '?'}audience=${encodeURIComponent(audience)}`;
  const requestIdToken = () => fetchIdToken(fetchImpl, url, requestToken!, timeoutMs);

  let cached: { token: string; reusableUntil: number } | undefined;
  let pending: Promise<string> | undefined;
  return {
    read() {
      if (!reuse) return requestIdToken();
      if (cached && now() < cached.reusableUntil) return cached.token;
      if (!pending) {
        // One request in flight, shared by every token request that needs the job's token meanwhile.
        const fetching = requestIdToken().then((token) => {
          cached = { token, reusableUntil: expiresAt(token) - REUSE_MARGIN_MS };
          return token;
        });
        pending = fetching;
        const settle = () => void (pending === fetching && (pending = undefined));
        fetching.then(settle, settle);
      }
      return pending;
    },
    forget() {
      cached = undefined;
    },
  };
}

async function fetchIdToken(fetchImpl: typeof fetch, url: string, requestToken: string, timeoutMs: number): Promise<string> {
  let response: Response;
  let body: unknown;
  try {
    // redirect: 'error' — the request token goes to the runner's service and nowhere else.
    response = await fetchImpl(url, {
      headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    body = await response.json().catch(() => undefined);
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (error as Error).message;
    throw new Error(`the GitHub Actions token service is unreachable: ${reason}`);
  }
  // Its body is not quoted: it could echo what was sent.
  if (!response.ok) throw new Error(`the GitHub Actions token service answered ${response.status}`);
  const value = body && typeof body === 'object' ? (body as { value?: unknown }).value : undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new Error('the GitHub Actions token service answered without a token');
  return value.trim();
}

/** The token's exp in milliseconds, read without verifying (the authorization server verifies); 0 when it has none. */
function expiresAt(token: string): number {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}
