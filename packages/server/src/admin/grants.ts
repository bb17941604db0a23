import type { ApiRecord, ClientGrantRecord, RegistryStores } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { generateRecordId } from '../secrets/identifiers.js';
import { grantResource } from './resources/grant.js';
import { pageOf, type ListOptions, type Page } from './paging.js';
import { asAdminErrors, changedFields, requireApi, requireClient, type AdminContext, type RecordAudit } from './admin-context.js';
import { validateTokenTtl } from './validation.js';
import { echo } from '../errors/echo.js';
import { grantChangeNeeds, requireCallerScopes } from './admin-authority.js';
import { ADMIN_API_IDENTIFIER, ADMIN_TOKEN_TTL_SECONDS } from './built-in-admin-api.js';

import type { CreateGrantInput, GrantFilter, UpdateGrantInput } from './resources/grant.js';

export type { CreateGrantInput, GrantFilter, UpdateGrantInput } from './resources/grant.js';

export interface GrantOperations {
  createGrant(input: CreateGrantInput): Promise<ClientGrantRecord>;
  getGrant(id: string): Promise<ClientGrantRecord>;
  listGrants(filter?: GrantFilter & ListOptions): Promise<Page<ClientGrantRecord>>;
  updateGrant(id: string, patch: UpdateGrantInput): Promise<ClientGrantRecord>;
  deleteGrant(id: string): Promise<void>;
}

/**
 * The writes behind the operations, for a caller that already holds a transaction (the operations
 * below, bootstrap and apply). `insertGrant` records no audit event (its caller does); the others
 * record the same event as the operation.
 */
export interface GrantWrites {
  insertGrant(tx: RegistryStores, input: CreateGrantInput): Promise<ClientGrantRecord>;
  createGrant(tx: RegistryStores, audit: RecordAudit, input: CreateGrantInput): Promise<ClientGrantRecord>;
  updateGrant(tx: RegistryStores, audit: RecordAudit, id: string, patch: UpdateGrantInput): Promise<ClientGrantRecord>;
  deleteGrant(tx: RegistryStores, audit: RecordAudit, id: string): Promise<void>;
}

export function createGrantWrites({ deps }: AdminContext): GrantWrites {
  const { now } = deps;
  const maxAdminTtl = deps.adminTokenMaxTtlSeconds ?? ADMIN_TOKEN_TTL_SECONDS;

  /** A grant's own token lifetime; on the admin API no longer than the admin token maximum. */
  function validateGrantTtl(api: ApiRecord, value: number): number {
    const ttl = validateTokenTtl(value);
    if (api.identifier === ADMIN_API_IDENTIFIER && ttl > maxAdminTtl) {
      throw validationFailed('tokenTtlSeconds', `admin tokens live at most ${maxAdminTtl} seconds: a grant on ${ADMIN_API_IDENTIFIER} cannot give them longer`);
    }
    return ttl;
  }

  async function insertGrant(tx: RegistryStores, input: CreateGrantInput): Promise<ClientGrantRecord> {
    await requireClient(tx, input.clientId);
    const api = await requireApi(tx, input.apiIdentifier);
    const at = now();
    const grant: ClientGrantRecord = {
      id: generateRecordId('cgr'),
      clientId: input.clientId,
      apiIdentifier: api.identifier,
      scopes: validateGrantScopes(api, input.scopes),
      tokenTtlSeconds: input.tokenTtlSeconds == null ? null : validateGrantTtl(api, input.tokenTtlSeconds),
      createdAt: at,
      updatedAt: at,
    };
    requireCallerScopes(deps.caller, grantChangeNeeds(grant), `A grant on ${ADMIN_API_IDENTIFIER}`);
    await asAdminErrors(() => tx.createGrant(grant), `Client ${input.clientId} already has a grant on ${api.identifier}; update it instead`);
    return grant;
  }

  return {
    insertGrant,

    async createGrant(tx, audit, input) {
      const grant = await insertGrant(tx, input);
      await audit('grant.created', { grantId: grant.id, after: grantResource.toWire(grant) });
      return grant;
    },

    async updateGrant(tx, audit, id, patch) {
      const before = await requireGrant(tx, id);
      const api = await requireApi(tx, before.apiIdentifier);
      const validated = {
        ...(patch.scopes !== undefined ? { scopes: validateGrantScopes(api, patch.scopes) } : {}),
        ...(patch.tokenTtlSeconds !== undefined
          ? { tokenTtlSeconds: patch.tokenTtlSeconds === null ? null : validateGrantTtl(api, patch.tokenTtlSeconds) }
          : {}),
      };
      requireCallerScopes(deps.caller, grantChangeNeeds(before, { ...before, ...validated }), `Changing a grant on ${ADMIN_API_IDENTIFIER}`);
      const grant = (await tx.updateGrant(id, validated, now()))!;
      await audit('grant.updated', {
        grantId: id,
        clientId: grant.clientId,
        api: grant.apiIdentifier,
        changes: changedFields(grantResource.toWire(before), grantResource.toWire(grant)),
      });
      return grant;
    },

    async deleteGrant(tx, audit, id) {
      const before = await requireGrant(tx, id);
      requireCallerScopes(deps.caller, grantChangeNeeds(before), `Deleting a grant on ${ADMIN_API_IDENTIFIER}`);
      await tx.deleteGrant(id);
      await audit('grant.deleted', { grantId: id, before: grantResource.toWire(before) });
    },
  };
}

export function createGrantOperations(context: AdminContext, writes: GrantWrites): GrantOperations {
  const { deps, write } = context;
  const { storage } = deps;

  return {
    createGrant: (input) => write((tx, audit) => writes.createGrant(tx, audit, input)),
    getGrant: (id) => requireGrant(storage, id),

    listGrants: (options = {}) =>
      pageOf(
        options,
        (grant) => grant.id,
        (page) =>
          storage.listGrants({
            ...(options.clientId !== undefined ? { clientId: options.clientId } : {}),
            ...(options.apiIdentifier !== undefined ? { apiIdentifier: options.apiIdentifier } : {}),
            ...page,
          }),
      ),

    updateGrant: (id, patch) => write((tx, audit) => writes.updateGrant(tx, audit, id, patch)),
    deleteGrant: (id) => write((tx, audit) => writes.deleteGrant(tx, audit, id)),
  };
}

async function requireGrant(store: Pick<RegistryStores, 'getGrant'>, id: string) {
  const grant = await store.getGrant(id);
  if (!grant) throw notFound(`No grant with id ${echo(id)}`);
  return grant;
}

export function validateGrantScopes(api: Pick<ApiRecord, 'identifier' | 'scopes'>, scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw validationFailed('scopes', 'scopes must be a list');
  const defined = new Set(api.scopes.map((scope) => scope.value));
  for (const scope of scopes) {
    if (!defined.has(scope)) {
      throw validationFailed('scopes', `scope ${JSON.stringify(scope)} is not defined on ${api.identifier} (defined: ${[...defined].join(', ') || 'none'})`);
    }
  }
  return [...new Set(scopes as string[])];
}
