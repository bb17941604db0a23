import type { UsageGranularity } from '../state/types.js';

/**
 * The hours and days usage is counted in, and how long each is kept. UTC: an hour or a day is the
 * same bucket on every instance whatever its time zone.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const GRANULARITY_MS: Record<UsageGranularity, number> = { hour: HOUR_MS, day: DAY_MS };

/** How long a bucket is kept once it has ended. */
export interface UsageRetention {
  hourMs: number;
  dayMs: number;
}

export const DEFAULT_USAGE_RETENTION_DAYS = 35;
/** Hourly buckets: two days, enough to compare this hour with the same hour yesterday. */
export const HOURLY_RETENTION_MS = 48 * HOUR_MS;
export const MAX_USAGE_RETENTION_DAYS = 400;

/** `--usage-retention-days N`: daily buckets for N days; hourly ones for 48 h, or N days when shorter. */
export function usageRetention(days = DEFAULT_USAGE_RETENTION_DAYS): UsageRetention {
  if (!Number.isInteger(days) || days < 1 || days > MAX_USAGE_RETENTION_DAYS) {
    throw new RangeError(`usage retention must be a whole number of days from 1 to ${MAX_USAGE_RETENTION_DAYS}`);
  }
  return { hourMs: Math.min(HOURLY_RETENTION_MS, days * DAY_MS), dayMs: days * DAY_MS };
}

export function bucketStart(at: number, granularity: UsageGranularity): number {
  const size = GRANULARITY_MS[granularity];
  return Math.floor(at / size) * size;
}

export function bucketEnd(at: number, granularity: UsageGranularity): number {
  return bucketStart(at, granularity) + GRANULARITY_MS[granularity];
}

/** When the bucket holding `at` may be dropped: its end plus its granularity's retention. */
export function bucketExpiry(at: number, granularity: UsageGranularity, retention: UsageRetention): number {
  return bucketEnd(at, granularity) + (granularity === 'hour' ? retention.hourMs : retention.dayMs);
}

/** The earliest start still kept at `at`: a read never asks for buckets that cannot exist. */
export function oldestKept(at: number, granularity: UsageGranularity, retention: UsageRetention): number {
  return bucketStart(at - (granularity === 'hour' ? retention.hourMs : retention.dayMs), granularity);
}
