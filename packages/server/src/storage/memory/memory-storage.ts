import {
  StorageConflictError,
  StorageReferenceError,
  type ApiPatch,
  type ApiRecord,
  type AuditEventRecord,
  type ClientGrantPatch,
  type ClientGrantRecord,
  type ClientPatch,
  type ClientRecord,
  type ClientSecretRecord,
  type FederatedCredentialRecord,
  type ExchangePolicyRecord,
  type TrustedIssuerRecord,
  type SigningKeyRecord,
  type SigningKeyStatus,
  type PageOptions,
  type RegistryChange,
  type Storage,
  CHANGE_HISTORY_LENGTH,
  exchangePolicyKey,
} from '../types.js';
import { createMemoryLifecycleStores } from './memory-lifecycle.js';
import { withTransactions } from '../transaction-gate.js';
import { patchedClient } from '../client-patch.js';

/**
 * In-process storage for tests and throwaway servers. Records are cloned on the way in and out
 * so a caller mutating a returned object cannot change what is stored — the same isolation a
 * real database gives, which keeps the conformance suite honest for this adapter too.
 */
export function createMemoryStorage(): Storage {
  let apis = new Map<string, ApiRecord>();
  let clients = new Map<string, ClientRecord>();
  let secrets = new Map<string, ClientSecretRecord>();
  let grants = new Map<string, ClientGrantRecord>();
  let keys = new Map<string, SigningKeyRecord>();
  let issuers = new Map<string, TrustedIssuerRecord>();
  let federated = new Map<string, FederatedCredentialRecord>();
  let policies = new Map<string, ExchangePolicyRecord>();
  let audit: AuditEventRecord[] = [];
  let revision = 0;
  let history: (RegistryChange & { revision: number })[] = [];
  let isClosed = false;
  const listeners = new Set<() => void>();
  let isNotifying = false;

  const copy = <T>(value: T): T => structuredClone(value);
  /** One revision per record touched, as the SQL adapters' row triggers count them. */
  const written = (...changes: RegistryChange[]) => {
    for (const change of changes) history.push({ ...change, revision: (revision += 1) });
    if (history.length > CHANGE_HISTORY_LENGTH) history = history.slice(-CHANGE_HISTORY_LENGTH);
    // Listeners hear of it after the caller's turn, once for a burst of writes.
    if (listeners.size > 0 && !isNotifying) {
      isNotifying = true;
      queueMicrotask(() => {
        isNotifying = false;
        for (const listener of listeners) listener();
      });
    }
  };
  const grantKey = (grant: ClientGrantRecord) => `${grant.clientId}\n${grant.apiIdentifier}`;
  /** The contract's order: createdAt, ties by key; then keyset paging. */
  const ordered = <T extends { createdAt: number }>(records: Iterable<T>, keyOf: (record: T) => string, page: PageOptions = {}): T[] => {
    const after = page.after;
    const sorted = [...records]
      .sort((a, b) => a.createdAt - b.createdAt || compareKeys(keyOf(a), keyOf(b)))
      .filter((record) => !after || record.createdAt > after.createdAt || (record.createdAt === after.createdAt && compareKeys(keyOf(record), after.key) > 0));
    return (page.limit === undefined ? sorted : sorted.slice(0, page.limit)).map(copy);
  };

  // A transaction snapshots everything and puts the snapshot back if it fails.
  let snapshot:
    | {
        apis: typeof apis;
        clients: typeof clients;
        secrets: typeof secrets;
        grants: typeof grants;
        keys: typeof keys;
        issuers: typeof issuers;
        federated: typeof federated;
        policies: typeof policies;
        audit: typeof audit;
        revision: number;
        history: typeof history;
      }
    | undefined;
  const hooks = {
    begin() {
      snapshot = {
        apis: copy(apis),
        clients: copy(clients),
        secrets: copy(secrets),
        grants: copy(grants),
        keys: copy(keys),
        issuers: copy(issuers),
        federated: copy(federated),
        policies: copy(policies),
        audit: copy(audit),
        revision,
        history: [...history],
      };
    },
    commit() {
      snapshot = undefined;
    },
    rollback() {
      if (!snapshot) return;
      ({ apis, clients, secrets, grants, keys, issuers, federated, policies, audit, revision, history } = snapshot);
      snapshot = undefined;
    },
  };

  const stores: Omit<Storage, 'transaction'> = {
    kind: 'memory',
    ...createMemoryLifecycleStores((clientId, secretId) => secrets.get(secretId)?.clientId === clientId),

    async createApi(api) {
      if (apis.has(api.identifier)) throw new StorageConflictError('api', api.identifier);
      apis.set(api.identifier, withoutFalseFlags(copy(api)));
      written({ entity: 'api', key: api.identifier });
    },
    async getApi(identifier) {
      const api = apis.get(identifier);
      return api && copy(api);
    },
    async listApis(page) {
      return ordered(apis.values(), (api) => api.identifier, page);
    },
    async updateApi(identifier, patch: ApiPatch, now) {
      const api = apis.get(identifier);
      if (!api) return undefined;
      const updated = withoutFalseFlags({ ...api, ...definedOnly(copy(patch)), updatedAt: now });
      apis.set(identifier, updated);
      written({ entity: 'api', key: identifier });
      return copy(updated);
    },
    async deleteApi(identifier) {
      if (!apis.delete(identifier)) return false;
      const changes: RegistryChange[] = [{ entity: 'api', key: identifier }];
      for (const [id, grant] of grants) {
        if (grant.apiIdentifier !== identifier) continue;
        grants.delete(id);
        changes.push({ entity: 'client_grant', key: grantKey(grant) });
      }
      for (const [id, policy] of policies) {
        if (policy.apiIdentifier !== identifier) continue;
        policies.delete(id);
        changes.push({ entity: 'exchange_policy', key: policy.clientId });
      }
      for (const client of clients.values()) {
        if (client.defaultApi !== identifier) continue;
        client.defaultApi = null;
        changes.push({ entity: 'client', key: client.clientId });
      }
      written(...changes);
      return true;
    },

    async createClient(client) {
      if (clients.has(client.clientId)) throw new StorageConflictError('client', client.clientId);
      clients.set(client.clientId, withoutFalseFlags(copy(client)));
      written({ entity: 'client', key: client.clientId });
    },
    async getClient(clientId) {
      const client = clients.get(clientId);
      return client && copy(client);
    },
    async listClients(page) {
      return ordered(clients.values(), (client) => client.clientId, page);
    },
    async updateClient(clientId, patch: ClientPatch, now) {
      const client = clients.get(clientId);
      if (!client) return undefined;
      const updated = patchedClient(client, copy(patch), now);
      clients.set(clientId, updated);
      written({ entity: 'client', key: clientId });
      return copy(updated);
    },
    async deleteClient(clientId) {
      if (!clients.delete(clientId)) return false;
      const changes: RegistryChange[] = [{ entity: 'client', key: clientId }];
      for (const [id, secret] of secrets) {
        if (secret.clientId !== clientId) continue;
        secrets.delete(id);
        changes.push({ entity: 'client_secret', key: clientId });
      }
      for (const [id, grant] of grants) {
        if (grant.clientId !== clientId) continue;
        grants.delete(id);
        changes.push({ entity: 'client_grant', key: grantKey(grant) });
      }
      for (const [id, credential] of federated) {
        if (credential.clientId !== clientId) continue;
        federated.delete(id);
        changes.push({ entity: 'federated_credential', key: credential.issuer });
      }
      for (const [id, policy] of policies) {
        if (policy.clientId !== clientId) continue;
        policies.delete(id);
        changes.push({ entity: 'exchange_policy', key: clientId });
      }
      written(...changes);
      return true;
    },

    async addExchangePolicy(policy) {
      if (policies.has(policy.id)) throw new StorageConflictError('exchange policy', policy.id);
      for (const existing of policies.values()) {
        if (
          existing.clientId === policy.clientId &&
          existing.subjectClientId === policy.subjectClientId &&
          existing.subjectIssuer === policy.subjectIssuer &&
          existing.apiIdentifier === policy.apiIdentifier
        ) {
          throw new StorageConflictError('exchange policy', exchangePolicyKey(policy));
        }
      }
      // The SQL adapters' CHECK: exactly one kind of subject.
      if ((policy.subjectClientId === null) === (policy.subjectIssuer === null))
        throw new Error('an exchange policy names exactly one subject: a client or an issuer');
      if (!clients.has(policy.clientId)) throw new StorageReferenceError('client', policy.clientId);
      if (!apis.has(policy.apiIdentifier)) throw new StorageReferenceError('api', policy.apiIdentifier);
      if (policy.subjectIssuer !== null && !issuers.has(policy.subjectIssuer)) throw new StorageReferenceError('trusted issuer', policy.subjectIssuer);
      policies.set(policy.id, copy(policy));
      written({ entity: 'exchange_policy', key: policy.clientId });
    },
    async getExchangePolicy(id) {
      const policy = policies.get(id);
      return policy && copy(policy);
    },
    async listExchangePolicies(filter = {}) {
      const matching = [...policies.values()].filter(
        (p) =>
          (filter.clientId === undefined || p.clientId === filter.clientId) && (filter.apiIdentifier === undefined || p.apiIdentifier === filter.apiIdentifier),
      );
      return ordered(matching, (p) => p.id, filter);
    },
    async deleteExchangePolicy(id) {
      const policy = policies.get(id);
      if (!policy) return false;
      policies.delete(id);
      written({ entity: 'exchange_policy', key: policy.clientId });
      return true;
    },

    async createTrustedIssuer(issuer) {
      if (issuers.has(issuer.issuer)) throw new StorageConflictError('trusted issuer', issuer.issuer);
      issuers.set(issuer.issuer, copy(issuer));
      written({ entity: 'trusted_issuer', key: issuer.issuer });
    },
    async getTrustedIssuer(issuer) {
      const record = issuers.get(issuer);
      return record && copy(record);
    },
    async listTrustedIssuers(page) {
      return ordered(issuers.values(), (record) => record.issuer, page);
    },
    async updateTrustedIssuer(issuer, patch, now) {
      const record = issuers.get(issuer);
      if (!record) return undefined;
      const updated = { ...record, ...definedOnly(copy(patch)), updatedAt: now };
      issuers.set(issuer, updated);
      written({ entity: 'trusted_issuer', key: issuer });
      return copy(updated);
    },
    async deleteTrustedIssuer(issuer) {
      if (!issuers.delete(issuer)) return false;
      const changes: RegistryChange[] = [{ entity: 'trusted_issuer', key: issuer }];
      for (const [id, credential] of federated) {
        if (credential.issuer !== issuer) continue;
        federated.delete(id);
        changes.push({ entity: 'federated_credential', key: issuer });
      }
      for (const [id, policy] of policies) {
        if (policy.subjectIssuer !== issuer) continue;
        policies.delete(id);
        changes.push({ entity: 'exchange_policy', key: policy.clientId });
      }
      written(...changes);
      return true;
    },

    async addFederatedCredential(credential) {
      if (federated.has(credential.id)) throw new StorageConflictError('federated credential', credential.id);
      for (const existing of federated.values()) {
        if (
          existing.clientId === credential.clientId &&
          existing.issuer === credential.issuer &&
          existing.subject === credential.subject &&
          existing.subjectMatch === credential.subjectMatch
        ) {
          throw new StorageConflictError('federated credential', `${credential.clientId} ← ${credential.issuer} ${credential.subject}`);
        }
      }
      if (!clients.has(credential.clientId)) throw new StorageReferenceError('client', credential.clientId);
      if (!issuers.has(credential.issuer)) throw new StorageReferenceError('trusted issuer', credential.issuer);
      federated.set(credential.id, copy(credential));
      written({ entity: 'federated_credential', key: credential.issuer });
    },
    async listFederatedCredentials(filter = {}) {
      const matching = [...federated.values()].filter(
        (c) => (filter.clientId === undefined || c.clientId === filter.clientId) && (filter.issuer === undefined || c.issuer === filter.issuer),
      );
      return ordered(matching, (c) => c.id, filter);
    },
    async findFederatedCredentials(issuer, subject) {
      const matching = [...federated.values()].filter(
        (c) => c.issuer === issuer && (c.subjectMatch === 'exact' ? c.subject === subject : subject.startsWith(c.subject)),
      );
      return ordered(matching, (c) => c.id);
    },
    async deleteFederatedCredential(clientId, id) {
      const credential = federated.get(id);
      if (!credential || credential.clientId !== clientId) return false;
      federated.delete(id);
      written({ entity: 'federated_credential', key: credential.issuer });
      return true;
    },

    async addClientSecret(secret) {
      if (secrets.has(secret.id)) throw new StorageConflictError('client secret', secret.id);
      if (!clients.has(secret.clientId)) throw new StorageReferenceError('client', secret.clientId);
      secrets.set(secret.id, copy(secret));
      written({ entity: 'client_secret', key: secret.clientId });
    },
    async listClientSecrets(clientId) {
      return ordered(
        [...secrets.values()].filter((s) => s.clientId === clientId),
        (s) => s.id,
      );
    },
    async expireClientSecret(clientId, secretId, expiresAt) {
      const secret = secrets.get(secretId);
      if (!secret || secret.clientId !== clientId) return false;
      secret.expiresAt = expiresAt;
      written({ entity: 'client_secret', key: clientId });
      return true;
    },
    async deleteClientSecret(clientId, secretId) {
      const secret = secrets.get(secretId);
      if (!secret || secret.clientId !== clientId) return false;
      secrets.delete(secretId);
      written({ entity: 'client_secret', key: clientId });
      return true;
    },

    async createGrant(grant) {
      if (grants.has(grant.id)) throw new StorageConflictError('client grant', grant.id);
      for (const existing of grants.values()) {
        if (existing.clientId === grant.clientId && existing.apiIdentifier === grant.apiIdentifier) {
          throw new StorageConflictError('client grant', `${grant.clientId} → ${grant.apiIdentifier}`);
        }
      }
      if (!clients.has(grant.clientId)) throw new StorageReferenceError('client', grant.clientId);
      if (!apis.has(grant.apiIdentifier)) throw new StorageReferenceError('api', grant.apiIdentifier);
      grants.set(grant.id, copy(grant));
      written({ entity: 'client_grant', key: grantKey(grant) });
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
      const matching = [...grants.values()].filter(
        (g) =>
          (filter.clientId === undefined || g.clientId === filter.clientId) && (filter.apiIdentifier === undefined || g.apiIdentifier === filter.apiIdentifier),
      );
      return ordered(matching, (g) => g.id, filter);
    },
    async updateGrant(id, patch: ClientGrantPatch, now) {
      const grant = grants.get(id);
      if (!grant) return undefined;
      const updated = { ...grant, ...definedOnly(copy(patch)), updatedAt: now };
      grants.set(id, updated);
      written({ entity: 'client_grant', key: grantKey(updated) });
      return copy(updated);
    },
    async deleteGrant(id) {
      const grant = grants.get(id);
      if (!grant) return false;
      grants.delete(id);
      written({ entity: 'client_grant', key: grantKey(grant) });
      return true;
    },

    async createKey(key) {
      if (keys.has(key.kid)) throw new StorageConflictError('signing key', key.kid);
      keys.set(key.kid, copy(key));
      written({ entity: 'signing_key', key: key.kid });
    },
    async getKey(kid) {
      const key = keys.get(kid);
      return key && copy(key);
    },
    async listKeys() {
      return ordered(keys.values(), (key) => key.kid);
    },
    async setKeyStatus(kid, status: SigningKeyStatus, now) {
      const key = keys.get(kid);
      if (!key) return false;
      if (key.status === 'active' && status !== 'active') key.rotatedAt = now;
      key.status = status;
      written({ entity: 'signing_key', key: kid });
      return true;
    },

    async appendAuditEvent(event) {
      if (audit.some((existing) => existing.id === event.id)) throw new StorageConflictError('audit event', event.id);
      audit.push(copy(event));
    },
    async listAuditEvents(query = {}) {
      const { before } = query;
      return audit
        .filter(
          (e) =>
            (query.type === undefined || e.type === query.type) &&
            (query.actor === undefined || e.actor === query.actor) &&
            (query.since === undefined || e.at >= query.since) &&
            (query.until === undefined || e.at < query.until) &&
            (!before || e.at < before.at || (e.at === before.at && compareKeys(e.id, before.id) < 0)),
        )
        .sort((a, b) => b.at - a.at || compareKeys(b.id, a.id))
        .slice(0, query.limit ?? 100)
        .map(copy);
    },
    async pruneAuditEvents(before) {
      const kept = audit.filter((e) => e.at >= before);
      const removed = audit.length - kept.length;
      audit = kept;
      return removed;
    },

    async currentRevision() {
      return revision;
    },
    watchChanges(listener) {
      const subscription = () => listener();
      listeners.add(subscription);
      return () => listeners.delete(subscription);
    },
    async changesSince(since) {
      if (since === revision) return { revision, changes: [] };
      const first = history.findIndex((change) => change.revision > since);
      // History must start right after `since`, else some changes were dropped (or `since` is from a rolled-back future).
      if (first === -1 || history[first]!.revision !== since + 1) return undefined;
      return { revision, changes: history.slice(first).map(({ entity, key }) => ({ entity, key }) as RegistryChange) };
    },
    async ping() {
      if (isClosed) throw new Error('storage is closed');
    },
    async close() {
      isClosed = true;
      listeners.clear();
    },
  };
  return withTransactions(stores, hooks);
}

/** Byte order, as SQLite and PostgreSQL (with COLLATE "C") compare text keys. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A patch's `undefined` fields mean "leave as is", not "set to undefined". */
function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Boolean flags are stored only when set: a record reads back without a false one, as from SQLite and PostgreSQL. */
function withoutFalseFlags<T extends { dpopBoundAccessTokens?: boolean; requireSenderConstrained?: boolean; tlsClientCertificateBoundAccessTokens?: boolean }>(
  record: T,
): T {
  if (record.dpopBoundAccessTokens === false) delete record.dpopBoundAccessTokens;
  if (record.tlsClientCertificateBoundAccessTokens === false) delete record.tlsClientCertificateBoundAccessTokens;
  if (record.requireSenderConstrained === false) delete record.requireSenderConstrained;
  return record;
}
