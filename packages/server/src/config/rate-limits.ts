import type { TokenBucketLimit } from '../state/types.js';

/** Optional token-request rate limits; each is a token bucket shared by every worker. */
export interface RateLimits {
  perClient?: TokenBucketLimit;
  perAddress?: TokenBucketLimit;
}

const PER: Record<string, number> = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hour: 3600 };

/**
 * `100/s`, `600/min`, `10000/h`, optionally with a burst: `100/s,burst=300` (default burst: the
 * rate's count). Returns the limit, or a problem description.
 */
export function parseRateLimit(value: string): TokenBucketLimit | string {
  const match = /^\s*(\d+)\s*\/\s*([a-z]+)\s*(?:,\s*burst\s*=\s*(\d+)\s*)?$/i.exec(value);
  const seconds = match ? PER[match[2]!.toLowerCase()] : undefined;
  if (!match || seconds === undefined) return `must look like 100/s, 600/min or 100/s,burst=300 (got ${JSON.stringify(value)})`;
  const count = Number(match[1]);
  const capacity = match[3] === undefined ? count : Number(match[3]);
  if (count < 1 || capacity < 1) return 'a rate limit must allow at least one request';
  return { capacity, refillPerSecond: count / seconds };
}
