import { TokenClientError } from './errors.js';
import type { ClientAuthenticator } from './client-authentication.js';

export interface RetryPolicy {
  /** Total attempts, the first included. Default 4. */
  maxAttempts?: number;
  /** Backoff base and cap (full jitter: a random delay in [0, min(cap, base × 2^n)]). Default 200 ms, 10 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** No new attempt starts after this long. Default 30 s. */
  maxElapsedMs?: number;
}

export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  expiresInSeconds: number;
  scope: string | undefined;
}

export interface TokenRequestDeps {
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  retry: Required<RetryPolicy>;
  timeoutMs: number;
  onRetry: (attempt: number, delayMs: number, reason: string) => void;
}

/** OAuth errors that a retry cannot fix: they surface at once. */
const FINAL_OAUTH_ERRORS = new Set(['invalid_client', 'invalid_scope', 'unauthorized_client', 'invalid_request', 'invalid_grant', 'unsupported_grant_type', 'invalid_target', 'access_denied']);

/**
 * One client-credentials token request, with retries for what is transient (network errors, 5xx,
 * 429) and none for what is not. The returned errors never contain the secret or the assertion.
 */
export async function requestToken(
  deps: TokenRequestDeps,
  tokenEndpoint: string,
  authenticator: ClientAuthenticator,
  params: Record<string, string>,
): Promise<TokenResponse & { attempts: number }> {
  const started = deps.now();
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const outcome = await attemptOnce(deps, tokenEndpoint, authenticator, params, attempt);
    if (outcome.ok) return { ...outcome.token, attempts: attempt };
    const error = outcome.error;
    const elapsed = deps.now() - started;
    if (!outcome.retryable || attempt >= deps.retry.maxAttempts) throw error;
    const backoff = deps.random() * Math.min(deps.retry.maxDelayMs, deps.retry.baseDelayMs * 2 ** (attempt - 1));
    const delay = Math.min(Math.max(backoff, outcome.retryAfterMs ?? 0), deps.retry.maxDelayMs * 3);
    if (elapsed + delay > deps.retry.maxElapsedMs) throw error;
    deps.onRetry(attempt, Math.round(delay), error.status ? `HTTP ${error.status}` : error.code);
    await deps.sleep(delay);
  }
}

type Attempt =
  | { ok: true; token: TokenResponse }
  | { ok: false; error: TokenClientError; retryable: boolean; retryAfterMs?: number };

async function attemptOnce(
  deps: TokenRequestDeps,
  tokenEndpoint: string,
  authenticator: ClientAuthenticator,
  params: Record<string, string>,
  attempt: number,
): Promise<Attempt> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...params });
  let response: Response;
  let payload: unknown;
  try {
    await authenticator.apply(headers, body, tokenEndpoint, deps.now());
  } catch (error) {
    return { ok: false, retryable: false, error: new TokenClientError('configuration_error', `client authentication could not be prepared: ${(error as Error).message}`, { attempts: attempt }) };
  }
  try {
    response = await deps.fetch(tokenEndpoint, { method: 'POST', headers, body: body.toString(), signal: AbortSignal.timeout(deps.timeoutMs), redirect: 'error' });
    payload = await response.json().catch(() => undefined);
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${deps.timeoutMs} ms` : (error as Error).message;
    return { ok: false, retryable: true, error: new TokenClientError('provider_unavailable', `token endpoint unreachable: ${reason}`, { attempts: attempt }) };
  }
  const redact = await authenticator.secretsToRedact();
  const clean = (text: unknown) => (typeof text === 'string' ? redact.reduce((t, secret) => t.split(secret).join('[redacted]'), text).slice(0, 500) : undefined);

  if (response.ok) {
    const token = parseTokenResponse(payload);
    if (!token) return { ok: false, retryable: false, error: new TokenClientError('invalid_response', 'token endpoint answered without a usable access_token', { status: response.status, attempts: attempt }) };
    return { ok: true, token };
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
