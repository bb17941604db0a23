import type {
  ApiRecord,
  ApiScope,
  ClientAuthMethod,
  ClientGrantRecord,
  ClientRecord,
  SigningAlgorithm,
  SigningKeyRecord,
  Storage,
} from '../storage/types.js';
import { StorageConflictError } from '../storage/types.js';
import { AdminError, notFound, validationFailed } from '../errors/admin-error.js';
import { generateClientSecret, hashClientSecret, secretHint } from '../secrets/client-secret.js';
import { generateClientId, generateRecordId } from '../secrets/identifiers.js';
import { ensureSigningKey, rotateSigningKey } from '../keys/key-rotation.js';
import {
  DEFAULT_TOKEN_TTL_SECONDS,
  validateApiIdentifier,
  validateAuthMethods,
  validateJwks,
  validateName,
  validateScopes,
  validateSigningAlg,
  validateTokenTtl,
} from './validation.js';
import { validateIntrospectApis } from './introspection-permission.js';
import { addClientSecret, listClientSecrets, revokeClientSecret } from './client-secrets.js';
import { retireSigningKey, revokeSigningKey } from './signing-key-lifecycle.js';

export interface AdminDeps {
  storage: Storage;
  kek: Buffer;
  secretPepper: Buffer;
  now: () => number;
  /** Recorded in the audit log: `cli`, `admin-api`, … */
  actor: string;
  /** Called after every successful write, so in-process caches drop stale entries at once. */
  onChange?: () => void;
}

export interface CreateApiInput {
  identifier: string;
  name?: string;
  scopes?: (string | ApiScope)[];
  signingAlg?: SigningAlgorithm;
  tokenTtlSeconds?: number;
}

export interface CreateClientInput {
  name: string;
  description?: string;
  defaultApi?: string | null;
  tokenEndpointAuthMethods?: ClientAuthMethod[];
  jwks?: { keys: Record<string, unknown>[] } | null;
  /** API identifiers (or `*`) whose tokens this client may introspect; [] = none. */
  introspectApis?: string[];
}

export interface CreateGrantInput {
  clientId: string;
  apiIdentifier: string;
  scopes: string[];
  tokenTtlSeconds?: number | null;
}

/** A key as operators see it: never the private part. */
export interface SigningKeySummary {
  kid: string;
  alg: SigningAlgorithm;
  status: SigningKeyRecord['status'];
  apiIdentifier: string | null;
  createdAt: number;
  rotatedAt: number | null;
}

export interface ClientSecretSummary {
  id: string;
  hint: string;
  createdAt: number;
  expiresAt: number | null;
}

export type Admin = ReturnType<typeof createAdmin>;

/**
 * Every management operation, used alike by the CLI, the programmatic API and (later) the admin
 * HTTP API. Inputs are validated here, so every front end rejects the same bad input the same way.
 */
export function createAdmin(deps: AdminDeps) {
  const { storage, now } = deps;

  async function changed(type: string, data: Record<string, unknown>) {
    await storage.appendAuditEvent({ id: generateRecordId('evt'), at: now(), type, actor: deps.actor, data });
    deps.onChange?.();
  }

  async function requireApi(identifier: string): Promise<ApiRecord> {
    const api = await storage.getApi(identifier);
    if (!api) throw notFound(`No API with identifier ${identifier}`);
    return api;
  }

  async function requireClient(clientId: string): Promise<ClientRecord> {
    const client = await storage.getClient(clientId);
    if (!client) throw notFound(`No client with id ${clientId}`);
    return client;
  }

  async function issueSecret(clientId: string) {
    const clientSecret = generateClientSecret();
    const record = {
      id: generateRecordId('sec'),
      clientId,
      hash: hashClientSecret(deps.secretPepper, clientSecret),
      hint: secretHint(clientSecret),
      createdAt: now(),
      expiresAt: null,
    };
    await storage.addClientSecret(record);
    return { clientSecret, secret: summarizeSecret(record) };
  }

  const keyDeps = { keys: storage, kek: deps.kek, now };
  const secretsDeps = { storage, secretPepper: deps.secretPepper, now, changed };
  const keyLifecycleDeps = { storage, kek: deps.kek, now, changed };

  return {
    // ---- APIs ------------------------------------------------------------------------------
    async createApi(input: CreateApiInput): Promise<{ api: ApiRecord; sharedSecret?: string }> {
      const identifier = validateApiIdentifier(input.identifier);
      const at = now();
      const api: ApiRecord = {
        identifier,
        name: input.name === undefined ? identifier : validateName(input.name),
        scopes: validateScopes(input.scopes ?? []),
        signingAlg: validateSigningAlg(input.signingAlg ?? 'RS256'),
        tokenTtlSeconds: validateTokenTtl(input.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS),
        createdAt: at,
        updatedAt: at,
      };
      await conflictAsAdminError(() => storage.createApi(api), `An API with identifier ${identifier} already exists`);
      const { sharedSecret } = await ensureSigningKey(keyDeps, api.signingAlg, identifier);
      await changed('api.created', { identifier, signingAlg: api.signingAlg });
      return { api, ...(sharedSecret ? { sharedSecret } : {}) };
    },
    listApis: () => storage.listApis(),
    getApi: requireApi,
    async updateApi(identifier: string, patch: Omit<CreateApiInput, 'identifier'>) {
      await requireApi(identifier);
      const validated = {
        ...(patch.name !== undefined ? { name: validateName(patch.name) } : {}),
        ...(patch.scopes !== undefined ? { scopes: validateScopes(patch.scopes) } : {}),
        ...(patch.signingAlg !== undefined ? { signingAlg: validateSigningAlg(patch.signingAlg) } : {}),
        ...(patch.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: validateTokenTtl(patch.tokenTtlSeconds) } : {}),
      };
      const api = (await storage.updateApi(identifier, validated, now()))!;
      const { sharedSecret } = await ensureSigningKey(keyDeps, api.signingAlg, identifier);
      await changed('api.updated', { identifier, fields: Object.keys(validated) });
      return { api, ...(sharedSecret ? { sharedSecret } : {}) };
    },
    async deleteApi(identifier: string) {
      if (!(await storage.deleteApi(identifier))) throw notFound(`No API with identifier ${identifier}`);
      await changed('api.deleted', { identifier });
    },

    // ---- Clients ---------------------------------------------------------------------------
    async createClient(input: CreateClientInput): Promise<{ client: ClientRecord; clientId: string; clientSecret?: string; secret?: ClientSecretSummary }> {
      const methods = validateAuthMethods(input.tokenEndpointAuthMethods ?? (input.jwks ? ['private_key_jwt'] : ['client_secret_basic', 'client_secret_post']));
      const jwks = input.jwks ? validateJwks(input.jwks) : null;
      if (methods.includes('private_key_jwt') && !jwks) throw validationFailed('jwks', 'private_key_jwt needs the client public keys (jwks)');
      if (input.defaultApi) await requireApi(input.defaultApi);
      const at = now();
      const client: ClientRecord = {
        clientId: generateClientId(),
        name: validateName(input.name),
        description: input.description ?? '',
        defaultApi: input.defaultApi ?? null,
        isEnabled: true,
        grantTypes: ['client_credentials'],
        tokenEndpointAuthMethods: methods,
        jwks,
        ...(input.introspectApis?.length ? { introspectApis: await validateIntrospectApis(storage, input.introspectApis) } : {}),
        createdAt: at,
        updatedAt: at,
      };
      await storage.createClient(client);
      const usesSecret = methods.some((method) => method !== 'private_key_jwt');
      const issued = usesSecret ? await issueSecret(client.clientId) : undefined;
      await changed('client.created', { clientId: client.clientId, name: client.name });
      return { client, clientId: client.clientId, ...(issued ?? {}) };
    },
    listClients: () => storage.listClients(),
    async getClient(clientId: string) {
      const client = await requireClient(clientId);
      const secrets = (await storage.listClientSecrets(clientId)).map(summarizeSecret);
      return { client, secrets };
    },
    async updateClient(clientId: string, patch: Partial<Omit<CreateClientInput, 'name'>> & { name?: string; isEnabled?: boolean }) {
      await requireClient(clientId);
      if (patch.defaultApi) await requireApi(patch.defaultApi);
      const validated = {
        ...(patch.name !== undefined ? { name: validateName(patch.name) } : {}),
        ...(patch.description !== undefined ? { description: String(patch.description) } : {}),
        ...(patch.defaultApi !== undefined ? { defaultApi: patch.defaultApi } : {}),
        ...(patch.isEnabled !== undefined ? { isEnabled: Boolean(patch.isEnabled) } : {}),
        ...(patch.tokenEndpointAuthMethods !== undefined ? { tokenEndpointAuthMethods: validateAuthMethods(patch.tokenEndpointAuthMethods) } : {}),
        ...(patch.jwks !== undefined ? { jwks: patch.jwks === null ? null : validateJwks(patch.jwks) } : {}),
        ...(patch.introspectApis !== undefined ? { introspectApis: await validateIntrospectApis(storage, patch.introspectApis) } : {}),
      };
      const client = (await storage.updateClient(clientId, validated, now()))!;
      await changed(patch.isEnabled === false ? 'client.disabled' : 'client.updated', { clientId, fields: Object.keys(validated) });
      return client;
    },
    async deleteClient(clientId: string) {
      if (!(await storage.deleteClient(clientId))) throw notFound(`No client with id ${clientId}`);
      await changed('client.deleted', { clientId });
    },
    /**
     * Adds a new secret and lets the current ones expire after `graceSeconds`, so a service can
     * be redeployed with the new secret while the old one still works.
     */
    async rotateClientSecret(clientId: string, options: { graceSeconds?: number } = {}) {
      await requireClient(clientId);
      const graceSeconds = options.graceSeconds ?? 3600;
      if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 30 * 86_400) {
        throw validationFailed('graceSeconds', 'grace period must be a whole number of seconds from 0 to 2592000 (30 days)');
      }
      const expiresAt = now() + graceSeconds * 1000;
      const previous = await storage.listClientSecrets(clientId);
      const issued = await issueSecret(clientId);
      for (const secret of previous) {
        if (secret.expiresAt === null || secret.expiresAt > expiresAt) await storage.expireClientSecret(clientId, secret.id, expiresAt);
      }
      await changed('client.secret_rotated', { clientId, graceSeconds });
      return { clientId, ...issued, previousSecretsExpireAt: expiresAt };
    },

    addClientSecret: (clientId: string, options?: { expiresInSeconds?: number }) => addClientSecret(secretsDeps, clientId, options),
    listClientSecrets: (clientId: string) => listClientSecrets(secretsDeps, clientId),
    revokeClientSecret: (clientId: string, secretId: string) => revokeClientSecret(secretsDeps, clientId, secretId),

    // ---- Client grants ---------------------------------------------------------------------
    async createGrant(input: CreateGrantInput): Promise<ClientGrantRecord> {
      await requireClient(input.clientId);
      const api = await requireApi(input.apiIdentifier);
      const at = now();
      const grant: ClientGrantRecord = {
        id: generateRecordId('cgr'),
        clientId: input.clientId,
        apiIdentifier: api.identifier,
        scopes: validateGrantScopes(api, input.scopes),
        tokenTtlSeconds: input.tokenTtlSeconds == null ? null : validateTokenTtl(input.tokenTtlSeconds),
        createdAt: at,
        updatedAt: at,
      };
      await conflictAsAdminError(() => storage.createGrant(grant), `Client ${input.clientId} already has a grant on ${api.identifier}; update it instead`);
      await changed('grant.created', { grantId: grant.id, clientId: grant.clientId, apiIdentifier: grant.apiIdentifier, scopes: grant.scopes });
      return grant;
    },
    listGrants: (filter?: { clientId?: string; apiIdentifier?: string }) => storage.listGrants(filter),
    async updateGrant(id: string, patch: { scopes?: string[]; tokenTtlSeconds?: number | null }) {
      const existing = await storage.getGrant(id);
      if (!existing) throw notFound(`No grant with id ${id}`);
      const api = await requireApi(existing.apiIdentifier);
      const validated = {
        ...(patch.scopes !== undefined ? { scopes: validateGrantScopes(api, patch.scopes) } : {}),
        ...(patch.tokenTtlSeconds !== undefined ? { tokenTtlSeconds: patch.tokenTtlSeconds === null ? null : validateTokenTtl(patch.tokenTtlSeconds) } : {}),
      };
      const grant = (await storage.updateGrant(id, validated, now()))!;
      await changed('grant.updated', { grantId: id, fields: Object.keys(validated) });
      return grant;
    },
    async deleteGrant(id: string) {
      if (!(await storage.deleteGrant(id))) throw notFound(`No grant with id ${id}`);
      await changed('grant.deleted', { grantId: id });
    },

    // ---- Signing keys ----------------------------------------------------------------------
    async listKeys(): Promise<SigningKeySummary[]> {
      return (await storage.listKeys()).map(summarizeKey);
    },
    /** Ensures the default RS256 key and a key for every algorithm an API uses (first start). */
    async ensureSigningKeys(): Promise<SigningKeySummary[]> {
      const created: SigningKeySummary[] = [];
      const wanted = new Map<string, [SigningAlgorithm, string | null]>([['RS256', ['RS256', null]]]);
      for (const api of await storage.listApis()) {
        if (api.signingAlg !== 'HS256') wanted.set(api.signingAlg, [api.signingAlg, null]);
      }
      for (const [alg, owner] of wanted.values()) {
        const result = await ensureSigningKey(keyDeps, alg, owner);
        if (result.created) created.push(summarizeKey(result.created));
      }
      if (created.length > 0) await changed('key.created', { kids: created.map((key) => key.kid) });
      return created;
    },
    async rotateSigningKey(alg: SigningAlgorithm = 'RS256', apiIdentifier?: string) {
      const algorithm = validateSigningAlg(alg);
      if (algorithm === 'HS256') {
        if (!apiIdentifier) throw validationFailed('api', 'rotating an HS256 key needs the API it belongs to');
        if ((await requireApi(apiIdentifier)).signingAlg !== 'HS256') throw validationFailed('api', `${apiIdentifier} does not use HS256`);
      }
      const { created, demoted, sharedSecret } = await rotateSigningKey(keyDeps, algorithm, apiIdentifier ?? null);
      await changed('key.rotated', { alg: algorithm, kid: created.kid, previous: demoted.map((key) => key.kid) });
      return { key: summarizeKey(created), previous: demoted.map(summarizeKey), ...(sharedSecret ? { sharedSecret } : {}) };
    },
    retireSigningKey: (kid: string, options?: { force?: boolean }) => retireSigningKey(keyLifecycleDeps, kid, options),
    revokeSigningKey: (kid: string) => revokeSigningKey(keyLifecycleDeps, kid),

    listAuditEvents: (options?: { limit?: number; type?: string; actor?: string }) => storage.listAuditEvents(options),
  };
}

function validateGrantScopes(api: ApiRecord, scopes: unknown): string[] {
  if (!Array.isArray(scopes)) throw validationFailed('scopes', 'scopes must be a list');
  const defined = new Set(api.scopes.map((scope) => scope.value));
  for (const scope of scopes) {
    if (!defined.has(scope)) {
      throw validationFailed('scopes', `scope ${JSON.stringify(scope)} is not defined on ${api.identifier} (defined: ${[...defined].join(', ') || 'none'})`);
    }
  }
  return [...new Set(scopes as string[])];
}

function summarizeKey(key: SigningKeyRecord): SigningKeySummary {
  return { kid: key.kid, alg: key.alg, status: key.status, apiIdentifier: key.apiIdentifier, createdAt: key.createdAt, rotatedAt: key.rotatedAt };
}

function summarizeSecret(secret: { id: string; hint: string; createdAt: number; expiresAt: number | null }): ClientSecretSummary {
  return { id: secret.id, hint: secret.hint, createdAt: secret.createdAt, expiresAt: secret.expiresAt };
}

async function conflictAsAdminError(write: () => Promise<void>, message: string) {
  try {
    await write();
  } catch (error) {
    if (error instanceof StorageConflictError) throw new AdminError('conflict', message);
    throw error;
  }
}
