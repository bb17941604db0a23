import type { AdminClient, Query } from '../api/admin-client.ts';
import type { Page } from '../api/types.ts';

/** The most a page lists; beyond it the console says so rather than loading thousands. */
export const LIST_LIMIT = 500;

/** Every item of a list, page by page (the admin API pages at 100 by default), up to LIST_LIMIT. */
export async function listAll<T>(api: AdminClient, path: string, query: Query = {}): Promise<{ items: T[]; isTruncated: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Page<T>>(path, { ...query, limit: 100, cursor });
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < LIST_LIMIT);
  return { items, isTruncated: cursor !== undefined };
}
