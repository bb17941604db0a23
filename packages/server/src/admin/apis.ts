import type { ApiRecord, RegistryStores } from '../storage/types.js';
import { AdminError, validationFailed } from '../errors/admin-error.js';
import { ensureSigningKey } from '../keys/key-rotation.js';
import { apiResource } from './resources/api.js';
import { pageOf, type ListOptions, type Page } from './paging.js';
import { asAdminErrors, changedFields, requireApi, type AdminContext, type RecordAudit } from './admin-context.js';
import { ADMIN_API_IDENTIFIER, RESERVED_IDENTIFIER_PREFIX, isReservedIdentifier } from './built-in-admin-api.js';
import {
  validateApiIdentifier,
  validateBoolean,
  validateName,
  validateScopes,
  validateSigningAlg,
  validateTokenFormat,
  validateTokenTtl,
} from './validation.js';
import { DEFAULT_TOKEN_TTL_SECONDS } from '../protocol/limits.js';

import type { CreateApiInput, UpdateApiInput } from './resources/api.js';

export type { CreateApiInput, UpdateApiInput } from './resources/api.js';

/** An HS256 API's shared secret is returned once, by the operation that created its key. */
export interface ApiResult {
  api: ApiRecord;
  sharedSecret?: string;
}

export interface ApiOperations {
  createApi(input: CreateApiInput): Promise<ApiResult>;
  listApis(options?: ListOptions): Promise<Page<ApiRecord>>;
  getApi(identifier: string): Promise<ApiRecord>;
  updateApi(identifier: string, patch: UpdateApiInput): Promise<ApiResult>;
  /** Deletes the API with every grant on it, atomically. */
  deleteApi(identifier: string): Promise<void>;
}

/**
 * The writes behind the operations, each with its audit event, for a caller that already holds a
 * transaction (the operations below, and apply, which makes many changes in one).
 */
export interface ApiWrites {
  createApi(tx: RegistryStores, audit: RecordAudit, input: CreateApiInput): Promise<ApiResult>;
  updateApi(tx: RegistryStores, audit: RecordAudit, identifier: string, patch: UpdateApiInput): Promise<ApiResult>;
  deleteApi(tx: RegistryStores, audit: RecordAudit, identifier: string): Promise<void>;
}

export function createApiWrites({ deps }: AdminContext): ApiWrites {
  const { now } = deps;
  const keyDepsFor = (keys: RegistryStores) => ({ keys, kek: deps.kek, now });

  return {
    async createApi(tx, audit, input) {
      const identifier = validateApiIdentifier(input.identifier);
      if (isReservedIdentifier(identifier))
        throw validationFailed('identifier', `identifiers starting with ${RESERVED_IDENTIFIER_PREFIX} are reserved for m2m-auth`);
      const at = now();
      const api: ApiRecord = {
        identifier,
        name: input.name === undefined ? identifier : validateName(input.name),
        scopes: validateScopes(input.scopes ?? []),
        signingAlg: validateSigningAlg(input.signingAlg ?? 'RS256'),
        tokenTtlSeconds: validateTokenTtl(input.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS),
        tokenFormat: validateTokenFormat(input.tokenFormat ?? 'jwt'),
        ...(input.requireSenderConstrained !== undefined && validateBoolean(input.requireSenderConstrained, 'require_sender_constrained')
          ? { requireSenderConstrained: true }
          : {}),
        createdAt: at,
        updatedAt: at,
      };
      await asAdminErrors(() => tx.createApi(api), `An API with identifier ${identifier} already exists`);
      const { sharedSecret } = await ensureSigningKey(keyDepsFor(tx), api.signingAlg, identifier);
      await audit('api.created', { identifier, after: apiResource.toWire(api) });
      return { api, ...(sharedSecret ? { sharedSecret } : {}) };
    },

    async updateApi(tx, audit, identifier, patch) {
      const before = await requireApi(tx, identifier);
      refuseBuiltIn(identifier, 'changed');
      const validated = {
        ...(patch.name !== undefined ? { name: validateName(patch.name) } : {}),
        ...(patch.scopes !== undefined ? { scopes: validateScopes(patch.scopes) } : {}),
        ...(patch.signingAlg !== undefined ? { signingAlg: validateSigningAlg(patch.signingAlg) } : {}),
        ...(patch.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: validateTokenTtl(patch.tokenTtlSeconds) } : {}),
        ...(patch.tokenFormat !== undefined ? { tokenFormat: validateTokenFormat(patch.tokenFormat) } : {}),
        ...(patch.requireSenderConstrained !== undefined
          ? { requireSenderConstrained: validateBoolean(patch.requireSenderConstrained, 'require_sender_constrained') }
          : {}),
      };
      const api = (await tx.updateApi(identifier, validated, now()))!;
      const { sharedSecret } = await ensureSigningKey(keyDepsFor(tx), api.signingAlg, identifier);
      await audit('api.updated', { identifier, changes: changedFields(apiResource.toWire(before), apiResource.toWire(api)) });
      return { api, ...(sharedSecret ? { sharedSecret } : {}) };
    },

    async deleteApi(tx, audit, identifier) {
      const before = await requireApi(tx, identifier);
      refuseBuiltIn(identifier, 'deleted');
      const grants = await tx.listGrants({ apiIdentifier: identifier });
      const policies = await tx.listExchangePolicies({ apiIdentifier: identifier });
      await tx.deleteApi(identifier);
      await audit('api.deleted', {
        identifier,
        before: apiResource.toWire(before),
        deletedGrants: grants.map((grant) => grant.id),
        ...(policies.length > 0 ? { deletedExchangePolicies: policies.map((policy) => policy.id) } : {}),
      });
    },
  };
}

export function createApiOperations({ deps, write }: AdminContext, writes: ApiWrites): ApiOperations {
  const { storage } = deps;
  return {
    createApi: (input) => write((tx, audit) => writes.createApi(tx, audit, input)),
    listApis: (options = {}) =>
      pageOf(
        options,
        (api) => api.identifier,
        (page) => storage.listApis(page),
      ),
    getApi: (identifier) => requireApi(storage, identifier),
    updateApi: (identifier, patch) => write((tx, audit) => writes.updateApi(tx, audit, identifier, patch)),
    deleteApi: (identifier) => write((tx, audit) => writes.deleteApi(tx, audit, identifier)),
  };
}

function refuseBuiltIn(identifier: string, what: string) {
  if (identifier === ADMIN_API_IDENTIFIER) throw new AdminError('forbidden', `${ADMIN_API_IDENTIFIER} is m2m-auth's own admin API and cannot be ${what}`);
}
