import { createAdminContext, type AdminDeps } from './admin-context.js';
import { createApiOperations, type ApiOperations } from './apis.js';
import { createClientOperations, createClientWrites, type ClientOperations } from './clients.js';
import { createGrantOperations, createGrantWrites, type GrantOperations } from './grants.js';
import { createKeyOperations, type KeyOperations } from './keys.js';
import { createAuditOperations, type AuditOperations } from './audit.js';
import { createBootstrapOperations, type BootstrapOperations } from './bootstrap.js';

export type { AdminDeps } from './admin-context.js';
export type { CreateApiInput, UpdateApiInput, ApiResult } from './apis.js';
export type { CreateClientInput, UpdateClientInput, CreatedClient, RotatedSecret, ClientSecretSummary } from './clients.js';
export type { CreateGrantInput, UpdateGrantInput, GrantFilter } from './grants.js';
export type { SigningKeySummary, RotatedKey } from './keys.js';
export type { AuditEventFilter } from './audit.js';
export type { BootstrapInput, BootstrappedAdmin } from './bootstrap.js';
export type { ListOptions, Page } from './paging.js';

/**
 * Every management operation, one implementation behind the CLI, the admin HTTP API and the
 * programmatic API. Inputs are validated here, so every front end rejects the same bad input the
 * same way; every write runs in one storage transaction with its audit event.
 */
export interface Admin extends ApiOperations, ClientOperations, GrantOperations, KeyOperations, AuditOperations, BootstrapOperations {
  /** Who the audit log names for writes made through this handle. */
  readonly actor: string;
  /** The same operations, recorded in the audit log as done by `actor`. */
  withActor(actor: string): Admin;
}

export function createAdmin(deps: AdminDeps): Admin {
  const context = createAdminContext(deps);
  const clientWrites = createClientWrites(context);
  const grantWrites = createGrantWrites(context);
  return {
    actor: deps.actor,
    withActor: (actor) => createAdmin({ ...deps, actor }),
    ...createApiOperations(context),
    ...createClientOperations(context, clientWrites),
    ...createGrantOperations(context, grantWrites),
    ...createKeyOperations(context),
    ...createAuditOperations(context),
    ...createBootstrapOperations(context, clientWrites, grantWrites),
  };
}
