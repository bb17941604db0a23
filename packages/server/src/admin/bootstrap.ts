import { ensureSigningKey } from '../keys/key-rotation.js';
import { clientResource } from './resources/client.js';
import type { AdminContext, RecordAudit } from './admin-context.js';
import type { ApiRecord, RegistryStores } from '../storage/types.js';
import { requireFreeClientName, type ClientWrites } from './clients.js';
import { validateName } from './validation.js';
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
  /**
   * Gives an existing built-in admin API the admin scopes a newer version added, and gives them to
   * the full admins (grants holding every scope the API had). Run at every start; writes only when
   * something is missing. Returns the scopes added.
   */
  upgradeBuiltInAdminApi(): Promise<string[]>;
}

export function createBootstrapOperations({ deps, write }: AdminContext, clients: ClientWrites, grants: GrantWrites): BootstrapOperations {
  const { storage, now } = deps;
  return {
    bootstrapAdminClient: (input = {}) =>
      write(async (tx, audit) => {
        await ensureAdminApi(tx, audit, now());
        await ensureSigningKey({ keys: tx, kek: deps.kek, now }, 'RS256', null);
        const scopes = ADMIN_SCOPES.map((scope) => scope.value);
        const name = input.name === undefined ? await freeDefaultName(tx) : validateName(input.name);
        await requireFreeClientName(tx, name);
        const created = await clients.insertClient(
          tx,
          { name, description: 'Admin client created by bootstrap', defaultApi: ADMIN_API_IDENTIFIER },
          input.clientSecret ? { clientSecret: input.clientSecret } : {},
        );
        const grant = await grants.insertGrant(tx, { clientId: created.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
        await audit('admin.bootstrapped', {
          clientId: created.clientId,
          after: clientResource.toWire(created.client),
          grantId: grant.id,
          scopes,
          secretSupplied: Boolean(input.clientSecret),
        });
        return { clientId: created.clientId, clientSecret: created.clientSecret!, scopes };
      }),

    async isRegistryEmpty() {
      const [apis, clients] = await Promise.all([storage.listApis({ limit: 1 }), storage.listClients({ limit: 1 })]);
      return apis.length === 0 && clients.length === 0;
    },

    async upgradeBuiltInAdminApi() {
      // Read first, outside a transaction: on every start but the first after an upgrade there is nothing to do.
      const existing = await storage.getApi(ADMIN_API_IDENTIFIER);
      if (!existing || missingScopes(existing).length === 0) return [];
      return write((tx, audit) => ensureAdminApi(tx, audit, now()));
    },
  };
}

/**
 * `m2m-auth-admin`, or `m2m-auth-admin-2`, … when an earlier bootstrap took it (an operator who
 * lost the first admin's secret bootstraps again): client names are unique, and a name nobody
 * chose should not stand in the way. A name given explicitly is refused when taken.
 */
async function freeDefaultName(tx: Pick<RegistryStores, 'listClients'>): Promise<string> {
  const taken = new Set((await tx.listClients()).map((client) => client.name));
  let name = DEFAULT_ADMIN_NAME;
  for (let n = 2; taken.has(name); n++) name = `${DEFAULT_ADMIN_NAME}-${n}`;
  return name;
}

const DEFAULT_ADMIN_NAME = 'm2m-auth-admin';

const missingScopes = (api: ApiRecord) => ADMIN_SCOPES.filter((scope) => !api.scopes.some((have) => have.value === scope.value));

/**
 * The built-in API, created on first use and given any admin scope a newer version added. A grant
 * that held every scope the API had (a full admin, as bootstrap makes) gets the new ones too: it
 * could do what they now guard before they existed. Narrower admins are left as they are.
 */
async function ensureAdminApi(tx: RegistryStores, audit: RecordAudit, at: number): Promise<string[]> {
  const existing = await tx.getApi(ADMIN_API_IDENTIFIER);
  if (!existing) {
    await tx.createApi(builtInAdminApi(at));
    return [];
  }
  const missing = missingScopes(existing);
  if (missing.length === 0) return [];
  const added = missing.map((scope) => scope.value);
  await tx.updateApi(ADMIN_API_IDENTIFIER, { scopes: [...existing.scopes, ...missing] }, at);
  const widened: string[] = [];
  for (const grant of await tx.listGrants({ apiIdentifier: ADMIN_API_IDENTIFIER })) {
    if (!existing.scopes.every((scope) => grant.scopes.includes(scope.value))) continue;
    await tx.updateGrant(grant.id, { scopes: [...new Set([...grant.scopes, ...added])] }, at);
    widened.push(grant.id);
  }
  await audit('admin.upgraded', { identifier: ADMIN_API_IDENTIFIER, addedScopes: added, widenedGrants: widened });
  return added;
}
