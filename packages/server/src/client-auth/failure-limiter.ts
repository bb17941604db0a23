import { OAuthError } from '../errors/oauth-error.js';

/**
 * Throttles credential guessing: after `maxFailures` failed authentications for one
 * (address, client id) pair within `windowMs`, further attempts are refused with 429 until the
 * window passes. Keyed by the pair, so an attacker elsewhere cannot lock a real service out.
 * Per instance and in memory: a limit on guessing, not an accounting system.
 */
export interface FailureLimiter {
  assertAllowed(key: string): void;
  recordFailure(key: string): void;
  recordSuccess(key: string): void;
}

export function createFailureLimiter(options: { now: () => number; maxFailures?: number; windowMs?: number; maxKeys?: number }): FailureLimiter {
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const maxKeys = options.maxKeys ?? 100_000;
  const failures = new Map<string, { count: number; windowStart: number }>();

  return {
    assertAllowed(key) {
      const entry = failures.get(key);
      if (!entry || entry.count < maxFailures) return;
      const retryAfterMs = entry.windowStart + windowMs - options.now();
      if (retryAfterMs <= 0) {
        failures.delete(key);
        return;
      }
      throw new OAuthError('temporarily_unavailable', 'Too many failed authentication attempts; retry later.', {
        status: 429,
        headers: { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) },
      });
    },
    recordFailure(key) {
      const at = options.now();
      const entry = failures.get(key);
      if (entry && at - entry.windowStart < windowMs) {
        entry.count++;
        return;
      }
      if (failures.size >= maxKeys) failures.clear();
      failures.set(key, { count: 1, windowStart: at });
    },
    recordSuccess(key) {
      if (failures.size > 0) failures.delete(key);
    },
  };
}
