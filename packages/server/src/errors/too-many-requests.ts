import { OAuthError } from './oauth-error.js';

/**
 * Which limit refused a request: failed-authentication back-off, a per-client / per-address rate
 * limit, a client's allowance of unexpired revocations / used assertions / opaque tokens in the
 * shared state, or its token quota for the hour or day.
 */
export type ThrottleLimit = 'failures' | 'client' | 'address' | 'revocations' | 'assertions' | 'opaque_tokens' | 'quota';

/**
 * 429 with Retry-After and an RFC 6749 §5.2-shaped body. The error code is
 * `temporarily_unavailable` (RFC 6749 §4.1.2.1), the closest registered code: clients that know
 * it back off, the others see a 429 and a description.
 */
export function tooManyRequests(limit: ThrottleLimit, retryAfterMs: number, description: string): OAuthError {
  return new OAuthError('temporarily_unavailable', description, {
    status: 429,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
    detail: `throttled: ${limit}`,
  });
}

export function throttleLimitOf(error: unknown): ThrottleLimit | undefined {
  if (!(error instanceof OAuthError) || error.status !== 429) return undefined;
  return error.detail?.startsWith('throttled: ') ? (error.detail.slice(11) as ThrottleLimit) : undefined;
}
