import type { ClientRecord, ClientSecretRecord, RegistryStores } from '../storage/types.js';
import { AdminError, validationFailed } from '../errors/admin-error.js';
import { echo } from '../errors/echo.js';
import { generateClientSecret, hashClientSecret, secretHint } from '../secrets/client-secret.js';
import { generateClientId, generateRecordId } from '../secrets/identifiers.js';
import { clientResource } from './resources/client.js';
import { pageOf, type ListOptions, type Page } from './paging.js';
import { asAdminErrors, changedFields, requireApi, requireClient, type AdminContext, type RecordAudit } from './admin-context.js';
import { resolveQuota, validateAuthMethods, validateBoolean, validateClientId, validateDescription, validateJwks, validateName } from './validation.js';
import { validateIntrospectApis } from './introspection-permission.js';
import { clientUpdateNeeds, credentialChangeNeeds, findAdminGrant, grantChangeNeeds, requireCallerScopes } from './admin-authority.js';
import { INTROSPECTION_WRITE_SCOPE } from './built-in-admin-api.js';
import { checkTlsRegistration, validateSanDns, validateSubjectDn } from './tls-client-registration.js';

import type { CreateClientInput, UpdateClientInput } from './resources/client.js';
import type { ClientSecretSummary, RotatedSecret } from './resources/client-secret.js';

export type { CreateClientInput, UpdateClientInput } from './resources/client.js';
export type { ClientSecretSummary, RotatedSecret } from './resources/client-secret.js';

export interface CreatedClient {
  client: ClientRecord;
  clientId: string;
  /** The raw secret, in this one result only. Absent for private_key_jwt-only clients. */
  clientSecret?: string;
  secret?: ClientSecretSummary;
}

export interface ClientOperations {
  createClient(input: CreateClientInput): Promise<CreatedClient>;
  listClients(options?: ListOptions): Promise<Page<ClientRecord>>;
  getClient(clientId: string): Promise<{ client: ClientRecord; secrets: ClientSecretSummary[] }>;
  updateClient(clientId: string, patch: UpdateClientInput): Promise<ClientRecord>;
  /** Deletes the client with its secrets, grants and federated credentials, atomically. */
  deleteClient(clientId: string): Promise<void>;
  /**
   * Adds a new secret and lets the current ones expire after `graceSeconds`, so a service can be
   * redeployed with the new secret while the old one still works.
   */
  rotateClientSecret(clientId: string, options?: { graceSeconds?: number }): Promise<RotatedSecret>;
}

/**
 * The writes behind the operations, for a caller that already holds a transaction (the operations
 * below, bootstrap and apply). `insertClient` records no audit event: its caller records the one
 * that says why the client exists; the others record the same event as the operation.
 */
export interface ClientWrites {
  insertClient(tx: RegistryStores, input: CreateClientInput, options?: InsertClientOptions): Promise<CreatedClient>;
  createClient(tx: RegistryStores, audit: RecordAudit, input: CreateClientInput, options?: InsertClientOptions): Promise<CreatedClient>;
  updateClient(tx: RegistryStores, audit: RecordAudit, clientId: string, patch: UpdateClientInput): Promise<ClientRecord>;
  deleteClient(tx: RegistryStores, audit: RecordAudit, clientId: string): Promise<void>;
}

export interface InsertClientOptions {
  /** A secret supplied by the deployment instead of a generated one. */
  clientSecret?: string;
  /** Keeps a client id from another registry (apply of an exported document); generated when absent. */
  clientId?: string;
}

export function createClientWrites({ deps }: AdminContext): ClientWrites {
  const { now } = deps;

  async function insertClient(tx: RegistryStores, input: CreateClientInput, options: InsertClientOptions = {}): Promise<CreatedClient> {
    const methods = validateAuthMethods(input.tokenEndpointAuthMethods ?? (input.jwks ? ['private_key_jwt'] : ['client_secret_basic', 'client_secret_post']));
    const jwks = input.jwks ? validateJwks(input.jwks) : null;
    if (methods.includes('private_key_jwt') && !jwks) throw validationFailed('jwks', 'private_key_jwt needs the client public keys (jwks)');
    if (input.defaultApi) await requireApi(tx, input.defaultApi);
    if (input.introspectApis?.length) requireCallerScopes(deps.caller, [INTROSPECTION_WRITE_SCOPE], 'An introspection permission');
    const quota = input.quota === undefined ? null : resolveQuota(undefined, input.quota);
    const at = now();
    const client: ClientRecord = {
      clientId: options.clientId === undefined ? generateClientId() : validateClientId(options.clientId),
      name: validateName(input.name),
      description: validateDescription(input.description ?? ''),
      defaultApi: input.defaultApi ?? null,
      isEnabled: input.isEnabled === undefined ? true : validateBoolean(input.isEnabled, 'enabled'),
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethods: methods,
      jwks,
      ...(input.introspectApis?.length ? { introspectApis: await validateIntrospectApis(tx, input.introspectApis) } : {}),
      ...(quota ? { quota } : {}),
      ...(input.dpopBoundAccessTokens !== undefined && validateBoolean(input.dpopBoundAccessTokens, 'dpop_bound_access_tokens')
        ? { dpopBoundAccessTokens: true }
        : {}),
      ...(input.tlsClientAuthSubjectDn != null ? { tlsClientAuthSubjectDn: validateSubjectDn(input.tlsClientAuthSubjectDn) } : {}),
      ...(input.tlsClientAuthSanDns?.length ? { tlsClientAuthSanDns: validateSanDns(input.tlsClientAuthSanDns) } : {}),
      ...(input.tlsClientCertificateBoundAccessTokens !== undefined &&
      validateBoolean(input.tlsClientCertificateBoundAccessTokens, 'tls_client_certificate_bound_access_tokens')
        ? { tlsClientCertificateBoundAccessTokens: true }
        : {}),
      createdAt: at,
      updatedAt: at,
    };
    checkTlsRegistration(client);
    await asAdminErrors(() => tx.createClient(client), `A client with id ${client.clientId} already exists`);
    const usesSecret = methods.some((method) => method === 'client_secret_basic' || method === 'client_secret_post');
    const issued = usesSecret ? await addSecret(tx, deps.secretPepper, client.clientId, at, options.clientSecret) : undefined;
    return { client, clientId: client.clientId, ...(issued ?? {}) };
  }

  return {
    insertClient,

    async createClient(tx, audit, input, options) {
      const created = await insertClient(tx, input, options);
      await audit('client.created', {
        clientId: created.clientId,
        after: clientResource.toWire(created.client),
        ...(created.secret ? { secretId: created.secret.id } : {}),
      });
      return created;
    },

    async updateClient(tx, audit, clientId, patch) {
      const before = await requireClient(tx, clientId);
      if (patch.defaultApi) await requireApi(tx, patch.defaultApi);
      const validated = {
        ...(patch.name !== undefined ? { name: validateName(patch.name) } : {}),
        ...(patch.description !== undefined ? { description: validateDescription(patch.description) } : {}),
        ...(patch.defaultApi !== undefined ? { defaultApi: patch.defaultApi } : {}),
        ...(patch.isEnabled !== undefined ? { isEnabled: validateBoolean(patch.isEnabled, 'enabled') } : {}),
        ...(patch.tokenEndpointAuthMethods !== undefined ? { tokenEndpointAuthMethods: validateAuthMethods(patch.tokenEndpointAuthMethods) } : {}),
        ...(patch.jwks !== undefined ? { jwks: patch.jwks === null ? null : validateJwks(patch.jwks) } : {}),
        ...(patch.introspectApis !== undefined ? { introspectApis: await validateIntrospectApis(tx, patch.introspectApis) } : {}),
        ...(patch.quota !== undefined ? { quota: resolveQuota(before.quota, patch.quota) } : {}),
        ...(patch.dpopBoundAccessTokens !== undefined
          ? { dpopBoundAccessTokens: validateBoolean(patch.dpopBoundAccessTokens, 'dpop_bound_access_tokens') }
          : {}),
        ...(patch.tlsClientAuthSubjectDn !== undefined
          ? { tlsClientAuthSubjectDn: patch.tlsClientAuthSubjectDn === null ? null : validateSubjectDn(patch.tlsClientAuthSubjectDn) }
          : {}),
        ...(patch.tlsClientAuthSanDns !== undefined ? { tlsClientAuthSanDns: validateSanDns(patch.tlsClientAuthSanDns) } : {}),
        ...(patch.tlsClientCertificateBoundAccessTokens !== undefined
          ? {
              tlsClientCertificateBoundAccessTokens: validateBoolean(patch.tlsClientCertificateBoundAccessTokens, 'tls_client_certificate_bound_access_tokens'),
            }
          : {}),
      };
      const methods = validated.tokenEndpointAuthMethods ?? before.tokenEndpointAuthMethods;
      const jwks = validated.jwks === undefined ? before.jwks : validated.jwks;
      if (methods.includes('private_key_jwt') && !jwks) throw validationFailed('jwks', 'private_key_jwt needs the client public keys (jwks)');
      const isEnabled = validated.isEnabled ?? before.isEnabled;
      const introspectApis = validated.introspectApis ?? before.introspectApis;
      const tls = {
        tlsClientAuthSubjectDn:
          validated.tlsClientAuthSubjectDn === undefined ? before.tlsClientAuthSubjectDn : (validated.tlsClientAuthSubjectDn ?? undefined),
        tlsClientAuthSanDns: validated.tlsClientAuthSanDns === undefined ? before.tlsClientAuthSanDns : validated.tlsClientAuthSanDns,
        tlsClientCertificateBoundAccessTokens: validated.tlsClientCertificateBoundAccessTokens ?? before.tlsClientCertificateBoundAccessTokens,
      };
      checkTlsRegistration({ tokenEndpointAuthMethods: methods, jwks, ...tls });
      if (deps.caller) {
        const needs = clientUpdateNeeds(
          before,
          { tokenEndpointAuthMethods: methods, jwks, isEnabled, ...(introspectApis ? { introspectApis } : {}), ...tls },
          await findAdminGrant(tx, clientId),
        );
        requireCallerScopes(deps.caller, needs, `This change to client ${clientId}`);
      }
      const client = (await tx.updateClient(clientId, validated, now()))!;
      const type =
        patch.isEnabled === false && before.isEnabled ? 'client.disabled' : patch.isEnabled === true && !before.isEnabled ? 'client.enabled' : 'client.updated';
      await audit(type, { clientId, changes: changedFields(clientResource.toWire(before), clientResource.toWire(client)) });
      return client;
    },

    async deleteClient(tx, audit, clientId) {
      const before = await requireClient(tx, clientId);
      const grants = await tx.listGrants({ clientId });
      requireCallerScopes(deps.caller, grantChangeNeeds(...grants), `Deleting client ${clientId} with its grant on the admin API`);
      const federated = await tx.listFederatedCredentials({ clientId });
      // Its own policies go with it; policies naming it as the subject stay, and match nothing while no such client exists.
      const policies = await tx.listExchangePolicies({ clientId });
      await tx.deleteClient(clientId);
      await audit('client.deleted', {
        clientId,
        before: clientResource.toWire(before),
        deletedGrants: grants.map((grant) => grant.id),
        ...(federated.length > 0 ? { deletedFederatedCredentials: federated.map((credential) => credential.id) } : {}),
        ...(policies.length > 0 ? { deletedExchangePolicies: policies.map((policy) => policy.id) } : {}),
      });
    },
  };
}

export function createClientOperations(context: AdminContext, writes: ClientWrites): ClientOperations {
  const { deps, write } = context;
  const { storage, now } = deps;

  return {
    createClient: (input) =>
      write(async (tx, audit) => {
        await requireFreeClientName(tx, validateName(input.name));
        return writes.createClient(tx, audit, input);
      }),

    listClients: (options = {}) =>
      pageOf(
        options,
        (client) => client.clientId,
        (page) => storage.listClients(page),
      ),

    async getClient(clientId) {
      const client = await requireClient(storage, clientId);
      const secrets = (await storage.listClientSecrets(clientId)).map(summarizeSecret);
      return { client, secrets };
    },

    updateClient: (clientId, patch) =>
      write(async (tx, audit) => {
        if (patch.name !== undefined) {
          const name = validateName(patch.name);
          // Keeping its own name is no change, even where an older database has a twin.
          if ((await requireClient(tx, clientId)).name !== name) await requireFreeClientName(tx, name, clientId);
        }
        return writes.updateClient(tx, audit, clientId, patch);
      }),
    deleteClient: (clientId) => write((tx, audit) => writes.deleteClient(tx, audit, clientId)),

    rotateClientSecret: (clientId, options = {}) =>
      write(async (tx, audit) => {
        await requireCredentialChange(deps, tx, await requireClient(tx, clientId));
        const graceSeconds = options.graceSeconds ?? 3600;
        if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 30 * 86_400) {
          throw validationFailed('graceSeconds', 'grace period must be a whole number of seconds from 0 to 2592000 (30 days)');
        }
        const at = now();
        const expiresAt = at + graceSeconds * 1000;
        const previous = await tx.listClientSecrets(clientId);
        const issued = await addSecret(tx, deps.secretPepper, clientId, at);
        for (const secret of previous) {
          if (secret.expiresAt === null || secret.expiresAt > expiresAt) await tx.expireClientSecret(clientId, secret.id, expiresAt);
        }
        await audit('client.secret_rotated', {
          clientId,
          secretId: issued.secret.id,
          graceSeconds,
          previousSecretsExpireAt: new Date(expiresAt).toISOString(),
        });
        return { clientId, ...issued, previousSecretsExpireAt: expiresAt };
      }),
  };
}

/**
 * Client names are unique: people tell clients apart by name (in lists, the audit log, a
 * configuration document that matches clients by name), and a second `billing-service` is almost
 * always a mistake. Checked in the write transaction, before the write, for every front end alike
 * — not by a unique index, which a database already holding two clients of one name could not
 * take (those keep working, and keep their names until one is renamed). A registry of many
 * clients pays a scan per create or rename; the storage contract has no lookup by name.
 */
export async function requireFreeClientName(tx: Pick<RegistryStores, 'listClients'>, name: string, exceptClientId?: string): Promise<void> {
  const holder = (await tx.listClients()).find((client) => client.name === name && client.clientId !== exceptClientId);
  if (holder) {
    throw new AdminError('conflict', `A client named ${JSON.stringify(echo(name))} already exists (${holder.clientId}): client names are unique`, 'name');
  }
}

/** A new credential for `client` makes its holder act as that client: it needs what the client holds. */
export async function requireCredentialChange(deps: AdminContext['deps'], tx: RegistryStores, client: ClientRecord): Promise<void> {
  if (!deps.caller) return;
  requireCallerScopes(deps.caller, credentialChangeNeeds(client, await findAdminGrant(tx, client.clientId)), `A new credential for client ${client.clientId}`);
}

/** Minimum strength of a secret supplied by a deployment instead of generated here. */
const MIN_SUPPLIED_SECRET_LENGTH = 32;

async function addSecret(tx: RegistryStores, pepper: Buffer, clientId: string, at: number, supplied?: string) {
  if (supplied !== undefined && (supplied.length < MIN_SUPPLIED_SECRET_LENGTH || supplied.length > 512 || /\s/.test(supplied))) {
    throw validationFailed('client_secret', `a supplied secret must be ${MIN_SUPPLIED_SECRET_LENGTH} to 512 characters without white space`);
  }
  const clientSecret = supplied ?? generateClientSecret();
  const record: ClientSecretRecord = {
    id: generateRecordId('sec'),
    clientId,
    hash: hashClientSecret(pepper, clientSecret),
    hint: secretHint(clientSecret),
    createdAt: at,
    expiresAt: null,
  };
  await asAdminErrors(() => tx.addClientSecret(record), `Secret ${record.id} already exists`);
  return { clientSecret, secret: summarizeSecret(record) };
}

export function summarizeSecret(secret: ClientSecretRecord): ClientSecretSummary {
  return { id: secret.id, hint: secret.hint, createdAt: secret.createdAt, expiresAt: secret.expiresAt };
}
