import type { Session } from './session.ts';

/**
 * What a token may do, by its admin scopes (the token answer's `scope`). The console hides what
 * the token cannot do; the server still checks every request, so hiding is for clarity, not safety.
 */
export type Permissions = (scope: string) => boolean;

export const permissionsOf =
  (session: Session | undefined): Permissions =>
  (scope) =>
    session?.scopes.has(scope) ?? false;

export const hasAll = (can: Permissions, scopes: readonly string[]) => scopes.every(can);
export const hasAny = (can: Permissions, scopes: readonly string[]) => scopes.some(can);

/** The export needs all three reads, the apply all three writes (docs/admin-api.md). */
export const CONFIG_READ_SCOPES = ['apis:read', 'clients:read', 'grants:read'] as const;
export const CONFIG_WRITE_SCOPES = ['apis:write', 'clients:write', 'grants:write'] as const;
