import { ensureSigningKey } from '../keys/key-rotation.js';
import { clientView } from './views.js';
import type { AdminContext } from './admin-context.js';
import type { ClientWrites } from './clients.js';
import type { GrantWrites } from './grants.js';
import { ADMIN_API_IDENTIFIER, ADMIN_SCOPES, builtInAdminApi } from './built-in-admin-api.js';

export interface BootstrapInput {
  /** Supplied by the deployment (M2M_AUTH_BOOTSTRAP_ADMIN_SECRET); generated when absent. */
  clientSecret?: string;
  name?: string;
}

export interface BootstrappedAdmin {
  clientId: string;
  /** Shown once: absent from every later answer. */
  clientSecret: string;
  scopes: string[];
}

export interface BootstrapOperations {
  /** Creates the built-in admin API if missing, then an admin client granted every admin scope. */
  bootstrapAdminClient(input?: BootstrapInput): Promise<BootstrappedAdmin>;
  /** True when nothing was ever registered: the first start of a new deployment. */
  isRegistryEmpty(): Promise<boolean>;
}

export function createBootstrapOperations({ deps, write }: AdminContext, clients: ClientWrites, grants: GrantWrites): BootstrapOperations {
  const { storage, now } = deps;
  return {
    bootstrapAdminClient: (input = {}) =>
      write(async (tx, audit) => {
        await ensureAdminApi(tx, now());
        await ensureSigningKey({ keys: tx, kek: deps.kek, now }, 'RS256', null);
        const scopes = ADMIN_SCOPES.map((scope) => scope.value);
        const created = await clients.insertClient(tx, { name: input.name ?? 'm2m-auth-admin', description: 'Admin client created by bootstrap', defaultApi: ADMIN_API_IDENTIFIER }, input.clientSecret ? { clientSecret: input.clientSecret } : {});
        const grant = await grants.insertGrant(tx, { clientId: created.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
        await audit('admin.bootstrapped', { clientId: created.clientId, after: clientView(created.client), grantId: grant.id, scopes, secretSupplied: Boolean(input.clientSecret) });
        return { clientId: created.clientId, clientSecret: created.clientSecret!, scopes };
      }),

    async isRegistryEmpty() {
      const [apis, clients] = await Promise.all([storage.listApis({ limit: 1 }), storage.listClients({ limit: 1 })]);
      return apis.length === 0 && clients.length === 0;
    },
  };
}

/** The built-in API, created on first use and given any admin scope a newer version added. */
async function ensureAdminApi(tx: Parameters<Parameters<AdminContext['write']>[0]>[0], at: number): Promise<void> {
  const existing = await tx.getApi(ADMIN_API_IDENTIFIER);
  if (!existing) {
    await tx.createApi(builtInAdminApi(at));
    return;
  }
  const missing = ADMIN_SCOPES.filter((scope) => !existing.scopes.some((have) => have.value === scope.value));
  if (missing.length > 0) await tx.updateApi(ADMIN_API_IDENTIFIER, { scopes: [...existing.scopes, ...missing] }, at);
}
