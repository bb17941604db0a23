import {
  StorageConflictError,
  type ApiPatch,
  type ApiRecord,
  type AuditEventRecord,
  type ClientGrantPatch,
  type ClientGrantRecord,
  type ClientPatch,
  type ClientRecord,
  type ClientSecretRecord,
  type SigningKeyRecord,
  type SigningKeyStatus,
  type Storage,
} from '../types.js';
import { createMemoryLifecycleStores } from './memory-lifecycle.js';

/**
 * In-process storage for tests and throwaway servers. Records are cloned on the way in and out
 * so a caller mutating a returned object cannot change what is stored — the same isolation a
 * real database gives, which keeps the conformance suite honest for this adapter too.
 */
export function createMemoryStorage(): Storage {
  const apis = new Map<string, ApiRecord>();
  const clients = new Map<string, ClientRecord>();
  const secrets = new Map<string, ClientSecretRecord>();
  const grants = new Map<string, ClientGrantRecord>();
  const keys = new Map<string, SigningKeyRecord>();
  const audit: AuditEventRecord[] = [];
  let revision = 0;
  let isClosed = false;

  const copy = <T,>(value: T): T => structuredClone(value);
  const written = () => {
    revision += 1;
  };
  const byCreatedAt = <T extends { createdAt: number }>(a: T, b: T) => a.createdAt - b.createdAt;

  return {
    kind: 'memory',
    ...createMemoryLifecycleStores((clientId, secretId) => secrets.get(secretId)?.clientId === clientId),

    async createApi(api) {
      if (apis.has(api.identifier)) throw new StorageConflictError('api', api.identifier);
      apis.set(api.identifier, copy(api));
      written();
    },
    async getApi(identifier) {
      const api = apis.get(identifier);
      return api && copy(api);
    },
    async listApis() {
      return [...apis.values()].sort(byCreatedAt).map(copy);
    },
    async updateApi(identifier, patch: ApiPatch, now) {
      const api = apis.get(identifier);
      if (!api) return undefined;
      const updated = { ...api, ...definedOnly(copy(patch)), updatedAt: now };
      apis.set(identifier, updated);
      written();
      return copy(updated);
    },
    async deleteApi(identifier) {
      if (!apis.delete(identifier)) return false;
      for (const [id, grant] of grants) if (grant.apiIdentifier === identifier) grants.delete(id);
      for (const client of clients.values()) if (client.defaultApi === identifier) client.defaultApi = null;
      written();
      return true;
    },

    async createClient(client) {
      if (clients.has(client.clientId)) throw new StorageConflictError('client', client.clientId);
      clients.set(client.clientId, copy(client));
      written();
    },
    async getClient(clientId) {
      const client = clients.get(clientId);
      return client && copy(client);
    },
    async listClients() {
      return [...clients.values()].sort(byCreatedAt).map(copy);
    },
    async updateClient(clientId, patch: ClientPatch, now) {
      const client = clients.get(clientId);
      if (!client) return undefined;
      const updated = { ...client, ...definedOnly(copy(patch)), updatedAt: now };
      clients.set(clientId, updated);
      written();
      return copy(updated);
    },
    async deleteClient(clientId) {
      if (!clients.delete(clientId)) return false;
      for (const [id, secret] of secrets) if (secret.clientId === clientId) secrets.delete(id);
      for (const [id, grant] of grants) if (grant.clientId === clientId) grants.delete(id);
      written();
      return true;
    },

    async addClientSecret(secret) {
      if (secrets.has(secret.id)) throw new StorageConflictError('client secret', secret.id);
      if (!clients.has(secret.clientId)) throw new Error(`no client ${secret.clientId}`);
      secrets.set(secret.id, copy(secret));
      written();
    },
    async listClientSecrets(clientId) {
      return [...secrets.values()].filter((s) => s.clientId === clientId).sort(byCreatedAt).map(copy);
    },
    async expireClientSecret(clientId, secretId, expiresAt) {
      const secret = secrets.get(secretId);
      if (!secret || secret.clientId !== clientId) return false;
      secret.expiresAt = expiresAt;
      written();
      return true;
    },
    async deleteClientSecret(clientId, secretId) {
      const secret = secrets.get(secretId);
      if (!secret || secret.clientId !== clientId) return false;
      secrets.delete(secretId);
      written();
      return true;
    },

    async createGrant(grant) {
      if (grants.has(grant.id)) throw new StorageConflictError('client grant', grant.id);
      for (const existing of grants.values()) {
        if (existing.clientId === grant.clientId && existing.apiIdentifier === grant.apiIdentifier) {
          throw new StorageConflictError('client grant', `${grant.clientId} → ${grant.apiIdentifier}`);
        }
      }
      if (!clients.has(grant.clientId)) throw new Error(`no client ${grant.clientId}`);
      if (!apis.has(grant.apiIdentifier)) throw new Error(`no api ${grant.apiIdentifier}`);
      grants.set(grant.id, copy(grant));
      written();
    },
    async getGrant(id) {
      const grant = grants.get(id);
      return grant && copy(grant);
    },
    async findGrant(clientId, apiIdentifier) {
      for (const grant of grants.values()) {
        if (grant.clientId === clientId && grant.apiIdentifier === apiIdentifier) return copy(grant);
      }
      return undefined;
    },
    async listGrants(filter = {}) {
      return [...grants.values()]
        .filter((g) => (filter.clientId === undefined || g.clientId === filter.clientId) && (filter.apiIdentifier === undefined || g.apiIdentifier === filter.apiIdentifier))
        .sort(byCreatedAt)
        .map(copy);
    },
    async updateGrant(id, patch: ClientGrantPatch, now) {
      const grant = grants.get(id);
      if (!grant) return undefined;
      const updated = { ...grant, ...definedOnly(copy(patch)), updatedAt: now };
      grants.set(id, updated);
      written();
      return copy(updated);
    },
    async deleteGrant(id) {
      if (!grants.delete(id)) return false;
      written();
      return true;
    },

    async createKey(key) {
      if (keys.has(key.kid)) throw new StorageConflictError('signing key', key.kid);
      keys.set(key.kid, copy(key));
      written();
    },
    async getKey(kid) {
      const key = keys.get(kid);
      return key && copy(key);
    },
    async listKeys() {
      return [...keys.values()].sort(byCreatedAt).map(copy);
    },
    async setKeyStatus(kid, status: SigningKeyStatus, now) {
      const key = keys.get(kid);
      if (!key) return false;
      if (key.status === 'active' && status !== 'active') key.rotatedAt = now;
      key.status = status;
      written();
      return true;
    },

    async appendAuditEvent(event) {
      audit.push(copy(event));
    },
    async listAuditEvents(options = {}) {
      const matching = audit.filter((e) => (options.type === undefined || e.type === options.type) && (options.actor === undefined || e.actor === options.actor));
      return matching.reverse().slice(0, options.limit ?? 100).map(copy);
    },

    async currentRevision() {
      return revision;
    },
    async ping() {
      if (isClosed) throw new Error('storage is closed');
    },
    async close() {
      isClosed = true;
    },
  };
}

/** A patch's `undefined` fields mean "leave as is", not "set to undefined". */
function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
