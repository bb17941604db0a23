import { validationFailed } from '../errors/admin-error.js';
import type { PageOptions } from '../storage/types.js';
import { isStorableText } from '../protocol/storable-text.js';

export interface ListOptions {
  /** 1–1000; default 100. */
  limit?: number;
  /** The `next_cursor` of the previous page, as given. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/**
 * Cursors are opaque to callers (base64url JSON of the last record's sort position), so the
 * ordering can change later without breaking scripts that only pass them back.
 */
export function encodeCursor(position: [number, string]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): [number, string] | undefined {
  if (cursor === undefined) return undefined;
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(position) &&
      position.length === 2 &&
      Number.isSafeInteger(position[0]) &&
      typeof position[1] === 'string' &&
      isStorableText(position[1])
    ) {
      return position as [number, string];
    }
  } catch {
    // falls through to the validation error
  }
  throw validationFailed('cursor', 'cursor is not one this server returned; pass next_cursor exactly as given');
}

export function validateLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
    throw validationFailed('limit', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  return limit;
}

/**
 * One page of a list ordered by (createdAt, key): asks storage for one record more than the
 * page holds, to know whether a next page exists without a second query.
 */
export async function pageOf<T extends { createdAt: number }>(
  options: ListOptions,
  keyOf: (record: T) => string,
  load: (page: PageOptions) => Promise<T[]>,
): Promise<Page<T>> {
  const limit = validateLimit(options.limit);
  const after = decodeCursor(options.cursor);
  const records = await load({ limit: limit + 1, ...(after ? { after: { createdAt: after[0], key: after[1] } } : {}) });
  const items = records.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: records.length > limit && last ? encodeCursor([last.createdAt, keyOf(last)]) : null };
}

/** Every item of a paged list, for front ends that show all (the CLI's `list`). */
export async function allPages<T>(list: (options: ListOptions) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ limit: MAX_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}
