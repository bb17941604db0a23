import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { AdminClient } from './api/admin-client.ts';
import type { Permissions } from './auth/permissions.ts';

/** What every page uses: the admin API, the token's permissions, and the status line. */
export interface ConsoleContext {
  api: AdminClient;
  can: Permissions;
  /** Announced politely in the live region (a change done, a secret copied). */
  announce(message: string): void;
}

export const Console = createContext<ConsoleContext | undefined>(undefined);

export function useConsole(): ConsoleContext {
  const context = useContext(Console);
  if (!context) throw new Error('useConsole outside the signed-in console');
  return context;
}
