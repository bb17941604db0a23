import type { AdminClient, Query } from '../api/admin-client.ts';
import type { Page } from '../api/types.ts';

/** The most a page lists, in one request (the admin API allows up to 1,000 a page); beyond it the page says so. */
export const LIST_LIMIT = 500;

/** A list's first LIST_LIMIT items in one round trip, and whether there are more. */
export async function listAll<T>(api: AdminClient, path: string, query: Query = {}): Promise<{ items: T[]; isTruncated: boolean }> {
  const page = await api.get<Page<T>>(path, { ...query, limit: LIST_LIMIT });
  return { items: page.items, isTruncated: Boolean(page.next_cursor) };
}
