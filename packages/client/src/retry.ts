import type { TokenClientError } from './errors.js';

export interface RetryPolicy {
  /** Total attempts, the first included. Default 4. */
  maxAttempts?: number;
  /** Backoff base and cap (full jitter: a random delay in [0, min(cap, base × 2^n)]). Default 200 ms, 10 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** No new attempt starts after this long. Default 30 s. */
  maxElapsedMs?: number;
}

export const DEFAULT_RETRY: Required<RetryPolicy> = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000, maxElapsedMs: 30_000 };

/** One attempt's outcome: a value, or an error that says whether trying again could help. */
export type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; error: TokenClientError; retryable: boolean; retryAfterMs?: number };

export interface RetryDeps {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  retry: Required<RetryPolicy>;
  onRetry: (attempt: number, delayMs: number, reason: string) => void;
}

/**
 * Step 4 (retry): attempts until one succeeds, one fails for good, or the budget (attempts,
 * elapsed time) is spent. Exponential backoff with full jitter; a Retry-After longer than the
 * backoff is honoured, up to three times the delay cap.
 */
export async function withRetry<T>(attemptOnce: (attempt: number) => Promise<AttemptOutcome<T>>, deps: RetryDeps): Promise<T & { attempts: number }> {
  const started = deps.now();
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const outcome = await attemptOnce(attempt);
    if (outcome.ok) return { ...outcome.value, attempts: attempt };
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
