import type { ApiRecord, ClientGrantRecord, RegistryStores } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { generateRecordId } from '../secrets/identifiers.js';
import { grantView } from './views.js';
import { pageOf, type ListOptions, type Page } from './paging.js';
import { asAdminErrors, changedFields, requireApi, requireClient, type AdminContext } from './admin-context.js';
import { validateTokenTtl } from './validation.js';
import { echo } from '../errors/echo.js';

export interface CreateGrantInput {
  clientId: string;
  apiIdentifier: string;
  scopes: string[];
  tokenTtlSeconds?: number | null;
}

export interface UpdateGrantInput {
  scopes?: string[];
  tokenTtlSeconds?: number | null;
}

export interface GrantFilter {
  clientId?: string;
  apiIdentifier?: string;
}

export interface GrantOperations {
  createGrant(input: CreateGrantInput): Promise<ClientGrantRecord>;
  getGrant(id: string): Promise<ClientGrantRecord>;
  listGrants(filter?: GrantFilter & ListOptions): Promise<Page<ClientGrantRecord>>;
  updateGrant(id: string, patch: UpdateGrantInput): Promise<ClientGrantRecord>;
  deleteGrant(id: string): Promise<void>;
}

export interface GrantWrites {
  insertGrant(tx: RegistryStores, input: CreateGrantInput): Promise<ClientGrantRecord>;
}

export function createGrantWrites({ deps }: AdminContext): GrantWrites {
  return {
    async insertGrant(tx, input) {
      await requireClient(tx, input.clientId);
      const api = await requireApi(tx, input.apiIdentifier);
      const at = deps.now();
      const grant: ClientGrantRecord = {
        id: generateRecordId('cgr'),
        clientId: input.clientId,
        apiIdentifier: api.identifier,
        scopes: validateGrantScopes(api, input.scopes),
        tokenTtlSeconds: input.tokenTtlSeconds == null ? null : validateTokenTtl(input.tokenTtlSeconds),
        createdAt: at,
        updatedAt: at,
      };
      await asAdminErrors(() => tx.createGrant(grant), `Client ${input.clientId} already has a grant on ${api.identifier}; update it instead`);
      return grant;
    },
  };
}

export function createGrantOperations(context: AdminContext, writes: GrantWrites): GrantOperations {
  const { deps, write } = context;
  const { storage, now } = deps;

  async function requireGrant(store: Pick<RegistryStores, 'getGrant'>, id: string) {
    const grant = await store.getGrant(id);
    if (!grant) throw notFound(`No grant with id ${echo(id)}`);
    return grant;
  }

  return {
    createGrant: (input) =>
      write(async (tx, audit) => {
        const grant = await writes.insertGrant(tx, input);
        await audit('grant.created', { grantId: grant.id, after: grantView(grant) });
        return grant;
      }),

    getGrant: (id) => requireGrant(storage, id),

    listGrants: (options = {}) =>
      pageOf(options, (grant) => grant.id, (page) =>
        storage.listGrants({ ...(options.clientId !== undefined ? { clientId: options.clientId } : {}), ...(options.apiIdentifier !== undefined ? { apiIdentifier: options.apiIdentifier } : {}), ...page }),
      ),

    updateGrant: (id, patch) =>
      write(async (tx, audit) => {
        const before = await requireGrant(tx, id);
        const api = await requireApi(tx, before.apiIdentifier);
        const validated = {
          ...(patch.scopes !== undefined ? { scopes: validateGrantScopes(api, patch.scopes) } : {}),
          ...(patch.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: patch.tokenTtlSeconds === null ? null : validateTokenTtl(patch.tokenTtlSeconds) } : {}),
        };
        const grant = (await tx.updateGrant(id, validated, now()))!;
        await audit('grant.updated', { grantId: id, clientId: grant.clientId, api: grant.apiIdentifier, changes: changedFields(grantView(before), grantView(grant)) });
        return grant;
      }),

    deleteGrant: (id) =>
      write(async (tx, audit) => {
        const before = await requireGrant(tx, id);
        await tx.deleteGrant(id);
        await audit('grant.deleted', { grantId: id, before: grantView(before) });
      }),
  };
}

export function validateGrantScopes(api: ApiRecord, scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw validationFailed('scopes', 'scopes must be a list');
  const defined = new Set(api.scopes.map((scope) => scope.value));
  for (const scope of scopes) {
    if (!defined.has(scope)) {
      throw validationFailed('scopes', `scope ${JSON.stringify(scope)} is not defined on ${api.identifier} (defined: ${[...defined].join(', ') || 'none'})`);
    }
  }
  return [...new Set(scopes as string[])];
}
