import type { RegistryChange } from './types.js';

export type ChangeRow = { revision: number | string; entity: RegistryChange['entity']; key: string };

/**
 * `changesSince` for the SQL adapters, from the history rows after `since`. Revisions are
 * consecutive (one per record touched), so a history that does not start right after `since`
 * lost entries to trimming: the reader must reload everything.
 */
export function changesAfter(since: number, current: number, rows: ChangeRow[]): { revision: number; changes: RegistryChange[] } | undefined {
  if (since === current) return { revision: current, changes: [] };
  if (rows.length === 0 || Number(rows[0]!.revision) !== since + 1) return undefined;
  return { revision: Number(rows.at(-1)!.revision), changes: rows.map(({ entity, key }) => ({ entity, key }) as RegistryChange) };
}
