import { TokenClientError } from './errors.js';
import type { ClientAuthenticator } from './client-authentication.js';
import type { AttemptOutcome } from './retry.js';
import type { DpopProver } from './dpop.js';

export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  expiresInSeconds: number;
  scope: string | undefined;
}

export interface TokenRequestDeps {
  fetch: typeof fetch;
  now: () => number;
  timeoutMs: number;
  /** DPoP: a proof on each request, the server's nonce kept. */
  dpop?: DpopProver | undefined;
}

/** OAuth errors that a retry cannot fix: they surface at once. */
const FINAL_OAUTH_ERRORS = new Set([
  'invalid_client',
  'invalid_scope',
  'unauthorized_client',
  'invalid_request',
  'invalid_grant',
  'unsupported_grant_type',
  'invalid_target',
  'access_denied',
]);

/**
 * Step 3 (request): one client-credentials token request, classified: a token, or an error that
 * says whether a retry could help (network errors, 5xx, 429) or not (everything else). The errors
 * never contain the secret or the assertion. Retries are withRetry's (retry.ts). With DPoP, an
 * answer `use_dpop_nonce` is followed at once by the same request with the server's nonce (RFC
 * 9449 §8): the nonce dance is part of one attempt, not a retry.
 */
export async function attemptTokenRequest(
  deps: TokenRequestDeps,
  tokenEndpoint: string,
  authenticator: ClientAuthenticator,
  params: Record<string, string>,
  attempt: number,
): Promise<AttemptOutcome<TokenResponse>> {
  let sent = await sendTokenRequest(deps, tokenEndpoint, authenticator, params, attempt);
  if ('response' in sent && deps.dpop && isNonceChallenge(sent.response, sent.payload)) {
    sent = await sendTokenRequest(deps, tokenEndpoint, authenticator, params, attempt);
  }
  if (!('response' in sent)) return sent;
  const { response, payload } = sent;
  const redact = await authenticator.secretsToRedact();
  const clean = (text: unknown) =>
    typeof text === 'string' ? redact.reduce((t, secret) => t.split(secret).join('[redacted]'), text).slice(0, 500) : undefined;

  if (response.ok) {
    const token = parseTokenResponse(payload);
    if (!token)
      return {
        ok: false,
        retryable: false,
        error: new TokenClientError('invalid_response', 'token endpoint answered without a usable access_token', {
          status: response.status,
          attempts: attempt,
        }),
      };
    return { ok: true, value: token };
  }
  const oauth = payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {};
  const oauthError = typeof oauth.error === 'string' ? oauth.error.slice(0, 100) : undefined;
  const description = clean(oauth.error_description);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), deps.now());
  if (response.status === 429 || response.status >= 500) {
    return {
      ok: false,
      retryable: !(oauthError && FINAL_OAUTH_ERRORS.has(oauthError)),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      error: new TokenClientError('provider_unavailable', `token endpoint answered ${response.status}${oauthError ? ` ${oauthError}` : ''}`, {
        status: response.status,
        attempts: attempt,
        ...(oauthError ? { error: oauthError } : {}),
        ...(description ? { errorDescription: description } : {}),
      }),
    };
  }
  return {
    ok: false,
    retryable: false,
    error: new TokenClientError('oauth_error', `token request refused: ${oauthError ?? `HTTP ${response.status}`}${description ? ` (${description})` : ''}`, {
      status: response.status,
      attempts: attempt,
      error: oauthError ?? 'invalid_request',
      ...(description ? { errorDescription: description } : {}),
    }),
  };
}

/** One POST to the token endpoint, credentials (and a DPoP proof) made for it; the answer, or an outcome when none came. */
async function sendTokenRequest(
  deps: TokenRequestDeps,
  tokenEndpoint: string,
  authenticator: ClientAuthenticator,
  params: Record<string, string>,
  attempt: number,
): Promise<{ response: Response; payload: unknown } | AttemptOutcome<TokenResponse>> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...params });
  try {
    await authenticator.apply(headers, body, tokenEndpoint, deps.now());
    if (deps.dpop) headers.dpop = await deps.dpop.proof({ method: 'POST', url: tokenEndpoint });
  } catch (error) {
    return {
      ok: false,
      retryable: false,
      error: new TokenClientError('configuration_error', `client authentication could not be prepared: ${(error as Error).message}`, { attempts: attempt }),
    };
  }
  try {
    const response = await deps.fetch(tokenEndpoint, {
      method: 'POST',
      headers,
      body: body.toString(),
      signal: AbortSignal.timeout(deps.timeoutMs),
      redirect: 'error',
    });
    deps.dpop?.rememberNonce(tokenEndpoint, response.headers.get('dpop-nonce'));
    return { response, payload: await response.json().catch(() => undefined) };
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${deps.timeoutMs} ms` : (error as Error).message;
    return { ok: false, retryable: true, error: new TokenClientError('provider_unavailable', `token endpoint unreachable: ${reason}`, { attempts: attempt }) };
  }
}

/** RFC 9449 §8: the server wants its nonce in the proof, and handed one out with this answer. */
function isNonceChallenge(response: Response, payload: unknown): boolean {
  return response.status === 400 && (payload as { error?: unknown } | undefined)?.error === 'use_dpop_nonce' && response.headers.has('dpop-nonce');
}

function parseTokenResponse(payload: unknown): TokenResponse | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  const body = payload as Record<string, unknown>;
  if (typeof body.access_token !== 'string' || body.access_token === '') return undefined;
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' ? Number(body.expires_in) : NaN;
  return {
    accessToken: body.access_token,
    tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
    // A response without expires_in (RFC 6749 makes it optional): assume a short life, 5 minutes.
    expiresInSeconds: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  };
}

/** Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
