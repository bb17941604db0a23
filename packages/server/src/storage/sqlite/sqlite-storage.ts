import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  StorageConflictError,
  StorageReferenceError,
  exchangePolicyKey,
  type ApiRecord,
  type ClientGrantRecord,
  type ClientRecord,
  type FederatedCredentialRecord,
  type PageOptions,
  type Storage,
  type TrustedIssuerRecord,
} from '../types.js';
import { migrate } from './sqlite-migrations.js';
import { createSqliteLifecycleStores } from './sqlite-lifecycle.js';
import { withTransactions } from '../transaction-gate.js';
import { createRowMappers, type Row } from '../sql-rows.js';
import { patchedClient } from '../client-patch.js';
import { changesAfter, type ChangeRow } from '../change-history.js';

export interface SqliteStorageOptions {
  /** Database file; created (mode 0600) with its directory when missing. `:memory:` for tests. */
  path: string;
  /** How long a writer waits for another process's lock before failing. */
  busyTimeoutMs?: number;
  /** How often watchers poll the revision for writes by other processes (SQLite cannot push). */
  changePollIntervalMs?: number;
}

const records = createRowMappers({ json: (value) => JSON.parse(value as string), bool: (value) => value === 1 });

/**
 * The embedded default. WAL lets the server read while the CLI writes from another process; the
 * busy timeout makes concurrent writers queue instead of failing. better-sqlite3 is synchronous,
 * which is fine here: every query is an indexed lookup measured in microseconds, and the server
 * caches the registry in memory anyway.
 */
export function createSqliteStorage(options: SqliteStorageOptions): Storage {
  const { db } = openDatabase(options);

  const statements = {
    insertApi: db.prepare(
      `INSERT INTO apis (identifier, name, scopes, signing_alg, token_ttl_seconds, token_format, require_sender_constrained, created_at, updated_at)
       VALUES (@identifier, @name, @scopes, @signingAlg, @tokenTtlSeconds, @tokenFormat, @requireSenderConstrained, @createdAt, @updatedAt)`,
    ),
    getApi: db.prepare('SELECT * FROM apis WHERE identifier = ?'),
    listApis: db.prepare(
      `SELECT * FROM apis WHERE (@afterCreatedAt IS NULL OR (created_at, identifier) > (@afterCreatedAt, @afterKey)) ORDER BY created_at, identifier LIMIT @limit`,
    ),
    updateApi: db.prepare(
      `UPDATE apis SET name = @name, scopes = @scopes, signing_alg = @signingAlg, token_ttl_seconds = @tokenTtlSeconds,
       token_format = @tokenFormat, require_sender_constrained = @requireSenderConstrained, updated_at = @updatedAt WHERE identifier = @identifier`,
    ),
    deleteApi: db.prepare('DELETE FROM apis WHERE identifier = ?'),
    clearDefaultApi: db.prepare('UPDATE clients SET default_api = NULL WHERE default_api = ?'),

    insertClient: db.prepare(
      `INSERT INTO clients (client_id, name, description, default_api, is_enabled, grant_types, token_endpoint_auth_methods, jwks, introspect_apis, quota, dpop_bound_access_tokens,
         tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_certificate_bound_access_tokens, created_at, updated_at)
       VALUES (@clientId, @name, @description, @defaultApi, @isEnabled, @grantTypes, @tokenEndpointAuthMethods, @jwks, @introspectApis, @quota, @dpopBoundAccessTokens,
         @tlsClientAuthSubjectDn, @tlsClientAuthSanDns, @tlsClientCertificateBoundAccessTokens, @createdAt, @updatedAt)`,
    ),
    getClient: db.prepare('SELECT * FROM clients WHERE client_id = ?'),
    listClients: db.prepare(
      `SELECT * FROM clients WHERE (@afterCreatedAt IS NULL OR (created_at, client_id) > (@afterCreatedAt, @afterKey)) ORDER BY created_at, client_id LIMIT @limit`,
    ),
    updateClient: db.prepare(
      `UPDATE clients SET name = @name, description = @description, default_api = @defaultApi, is_enabled = @isEnabled,
       grant_types = @grantTypes, token_endpoint_auth_methods = @tokenEndpointAuthMethods, jwks = @jwks, introspect_apis = @introspectApis, quota = @quota,
       dpop_bound_access_tokens = @dpopBoundAccessTokens, tls_client_auth_subject_dn = @tlsClientAuthSubjectDn,
       tls_client_auth_san_dns = @tlsClientAuthSanDns, tls_client_certificate_bound_access_tokens = @tlsClientCertificateBoundAccessTokens, updated_at = @updatedAt
       WHERE client_id = @clientId`,
    ),
    deleteClient: db.prepare('DELETE FROM clients WHERE client_id = ?'),

    insertSecret: db.prepare(
      `INSERT INTO client_secrets (id, client_id, hash, hint, created_at, expires_at)
       VALUES (@id, @clientId, @hash, @hint, @createdAt, @expiresAt)`,
    ),
    listSecrets: db.prepare('SELECT * FROM client_secrets WHERE client_id = ? ORDER BY created_at, id'),
    expireSecret: db.prepare('UPDATE client_secrets SET expires_at = ? WHERE client_id = ? AND id = ?'),
    deleteSecret: db.prepare('DELETE FROM client_secrets WHERE client_id = ? AND id = ?'),

    insertGrant: db.prepare(
      `INSERT INTO client_grants (id, client_id, api_identifier, scopes, token_ttl_seconds, created_at, updated_at)
       VALUES (@id, @clientId, @apiIdentifier, @scopes, @tokenTtlSeconds, @createdAt, @updatedAt)`,
    ),
    getGrant: db.prepare('SELECT * FROM client_grants WHERE id = ?'),
    findGrant: db.prepare('SELECT * FROM client_grants WHERE client_id = ? AND api_identifier = ?'),
    listGrants: db.prepare(
      `SELECT * FROM client_grants WHERE (@clientId IS NULL OR client_id = @clientId)
       AND (@apiIdentifier IS NULL OR api_identifier = @apiIdentifier)
       AND (@afterCreatedAt IS NULL OR (created_at, id) > (@afterCreatedAt, @afterKey)) ORDER BY created_at, id LIMIT @limit`,
    ),
    updateGrant: db.prepare('UPDATE client_grants SET scopes = @scopes, token_ttl_seconds = @tokenTtlSeconds, updated_at = @updatedAt WHERE id = @id'),
    deleteGrant: db.prepare('DELETE FROM client_grants WHERE id = ?'),

    insertTrustedIssuer: db.prepare(
      `INSERT INTO trusted_issuers (issuer, kind, jwks_uri, jwks, token_reuse, max_token_lifetime_seconds, is_shared, created_at, updated_at)
       VALUES (@issuer, @kind, @jwksUri, @jwks, @tokenReuse, @maxTokenLifetimeSeconds, @isShared, @createdAt, @updatedAt)`,
    ),
    getTrustedIssuer: db.prepare('SELECT * FROM trusted_issuers WHERE issuer = ?'),
    listTrustedIssuers: db.prepare(
      `SELECT * FROM trusted_issuers WHERE (@afterCreatedAt IS NULL OR (created_at, issuer) > (@afterCreatedAt, @afterKey)) ORDER BY created_at, issuer LIMIT @limit`,
    ),
    updateTrustedIssuer: db.prepare(
      `UPDATE trusted_issuers SET jwks_uri = @jwksUri, jwks = @jwks, token_reuse = @tokenReuse, max_token_lifetime_seconds = @maxTokenLifetimeSeconds,
       is_shared = @isShared, updated_at = @updatedAt WHERE issuer = @issuer`,
    ),
    deleteTrustedIssuer: db.prepare('DELETE FROM trusted_issuers WHERE issuer = ?'),

    insertFederatedCredential: db.prepare(
      `INSERT INTO federated_credentials (id, client_id, issuer, subject, subject_match, audiences, claims, description, created_at)
       VALUES (@id, @clientId, @issuer, @subject, @subjectMatch, @audiences, @claims, @description, @createdAt)`,
    ),
    listFederatedCredentials: db.prepare(
      `SELECT * FROM federated_credentials WHERE (@clientId IS NULL OR client_id = @clientId) AND (@issuer IS NULL OR issuer = @issuer)
       AND (@afterCreatedAt IS NULL OR (created_at, id) > (@afterCreatedAt, @afterKey)) ORDER BY created_at, id LIMIT @limit`,
    ),
    // A prefix is compared as bytes: a UTF-8 byte prefix is a character prefix (as the memory
    // adapter's startsWith sees it), and a NUL byte does not end the text as it would for length().
    findFederatedCredentials: db.prepare(
      `SELECT * FROM federated_credentials WHERE issuer = @issuer
       AND (subject = @subject OR (subject_match = 'prefix'
         AND substr(CAST(@subject AS BLOB), 1, length(CAST(subject AS BLOB))) = CAST(subject AS BLOB)))
       ORDER BY created_at, id`,
    ),
    deleteFederatedCredential: db.prepare('DELETE FROM federated_credentials WHERE client_id = ? AND id = ?'),

    insertExchangePolicy: db.prepare(
      `INSERT INTO exchange_policies (id, client_id, subject_client_id, subject_issuer, api_identifier, scopes, description, created_at)
       VALUES (@id, @clientId, @subjectClientId, @subjectIssuer, @apiIdentifier, @scopes, @description, @createdAt)`,
    ),
    getExchangePolicy: db.prepare('SELECT * FROM exchange_policies WHERE id = ?'),
    listExchangePolicies: db.prepare(
      `SELECT * FROM exchange_policies WHERE (@clientId IS NULL OR client_id = @clientId) AND (@apiIdentifier IS NULL OR api_identifier = @apiIdentifier)
       AND (@afterCreatedAt IS NULL OR (created_at, id) > (@afterCreatedAt, @afterKey)) ORDER BY created_at, id LIMIT @limit`,
    ),
    deleteExchangePolicy: db.prepare('DELETE FROM exchange_policies WHERE id = ?'),

    insertKey: db.prepare(
      `INSERT INTO signing_keys (kid, alg, status, encrypted_private_key, public_jwk, api_identifier, created_at, rotated_at)
       VALUES (@kid, @alg, @status, @encryptedPrivateKey, @publicJwk, @apiIdentifier, @createdAt, @rotatedAt)`,
    ),
    getKey: db.prepare('SELECT * FROM signing_keys WHERE kid = ?'),
    listKeys: db.prepare('SELECT * FROM signing_keys ORDER BY created_at, kid'),
    setKeyStatus: db.prepare(
      `UPDATE signing_keys SET rotated_at = CASE WHEN status = 'active' AND @status <> 'active' THEN @now ELSE rotated_at END,
       status = @status WHERE kid = @kid`,
    ),

    insertAuditEvent: db.prepare('INSERT INTO audit_events (id, at, type, actor, data) VALUES (@id, @at, @type, @actor, @data)'),
    listAuditEvents: db.prepare(
      `SELECT * FROM audit_events WHERE (@type IS NULL OR type = @type) AND (@actor IS NULL OR actor = @actor)
       AND (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)
       AND (@beforeAt IS NULL OR (at, id) < (@beforeAt, @beforeId))
       ORDER BY at DESC, id DESC LIMIT @limit`,
    ),
    pruneAuditEvents: db.prepare('DELETE FROM audit_events WHERE at < ?'),

    revision: db.prepare("SELECT value FROM meta WHERE key = 'revision'").pluck(),
    changesSince: db.prepare('SELECT revision, entity, key FROM registry_changes WHERE revision > ? ORDER BY revision'),
    ping: db.prepare('SELECT 1').pluck(),
  };

  const deleteApi = db.transaction((identifier: string) => {
    statements.clearDefaultApi.run(identifier);
    return statements.deleteApi.run(identifier).changes > 0;
  });

  /**
   * Runs an insert, turning a uniqueness clash into the contract's conflict error and a missing
   * parent (foreign key) into its reference error.
   */
  function insert(entity: string, key: string, run: () => unknown, parent?: () => [string, string]): void {
    try {
      run();
    } catch (error) {
      if (isUniquenessViolation(error)) throw new StorageConflictError(entity, key);
      if (parent && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new StorageReferenceError(...parent());
      throw error;
    }
  }

  const hooks = {
    // IMMEDIATE takes the write lock at once, so another process's writer queues (busy timeout)
    // instead of failing half-way through our transaction.
    begin: () => void db.exec('BEGIN IMMEDIATE'),
    commit: () => void db.exec('COMMIT'),
    rollback: () => {
      if (db.inTransaction) db.exec('ROLLBACK');
    },
  };

  // SQLite cannot push: watchers poll the revision, a one-row indexed read, in the background.
  const poller = createRevisionPoller(() => (db.open ? (statements.revision.get() as number) : undefined), options.changePollIntervalMs ?? 250);

  const stores: Omit<Storage, 'transaction'> = {
    kind: 'sqlite',
    ...createSqliteLifecycleStores(db),

    async createApi(api) {
      insert('api', api.identifier, () => statements.insertApi.run(apiToRow(api)));
    },
    async getApi(identifier) {
      const row = statements.getApi.get(identifier) as Row | undefined;
      return row && records.api(row);
    },
    async listApis(page) {
      return (statements.listApis.all(pageParams(page)) as Row[]).map(records.api);
    },
    async updateApi(identifier, patch, now) {
      const row = statements.getApi.get(identifier) as Row | undefined;
      if (!row) return undefined;
      const updated: ApiRecord = { ...records.api(row), ...definedOnly(patch), updatedAt: now };
      statements.updateApi.run(apiToRow(updated));
      return updated;
    },
    async deleteApi(identifier) {
      return deleteApi(identifier);
    },

    async createClient(client) {
      insert('client', client.clientId, () => statements.insertClient.run(clientToRow(client)));
    },
    async getClient(clientId) {
      const row = statements.getClient.get(clientId) as Row | undefined;
      return row && records.client(row);
    },
    async listClients(page) {
      return (statements.listClients.all(pageParams(page)) as Row[]).map(records.client);
    },
    async updateClient(clientId, patch, now) {
      const row = statements.getClient.get(clientId) as Row | undefined;
      if (!row) return undefined;
      const updated = patchedClient(records.client(row), patch, now);
      statements.updateClient.run(clientToRow(updated));
      return updated;
    },
    async deleteClient(clientId) {
      return statements.deleteClient.run(clientId).changes > 0;
    },

    async addClientSecret(secret) {
      insert(
        'client secret',
        secret.id,
        () => statements.insertSecret.run(secret),
        () => ['client', secret.clientId],
      );
    },
    async listClientSecrets(clientId) {
      return (statements.listSecrets.all(clientId) as Row[]).map(records.secret);
    },
    async expireClientSecret(clientId, secretId, expiresAt) {
      return statements.expireSecret.run(expiresAt, clientId, secretId).changes > 0;
    },
    async deleteClientSecret(clientId, secretId) {
      return statements.deleteSecret.run(clientId, secretId).changes > 0;
    },

    async createGrant(grant) {
      insert(
        'client grant',
        `${grant.clientId} → ${grant.apiIdentifier}`,
        () => statements.insertGrant.run(grantToRow(grant)),
        () => (statements.getClient.get(grant.clientId) ? ['api', grant.apiIdentifier] : ['client', grant.clientId]),
      );
    },
    async getGrant(id) {
      const row = statements.getGrant.get(id) as Row | undefined;
      return row && records.grant(row);
    },
    async findGrant(clientId, apiIdentifier) {
      const row = statements.findGrant.get(clientId, apiIdentifier) as Row | undefined;
      return row && records.grant(row);
    },
    async listGrants(filter = {}) {
      const rows = statements.listGrants.all({
        clientId: filter.clientId ?? null,
        apiIdentifier: filter.apiIdentifier ?? null,
        ...pageParams(filter),
      }) as Row[];
      return rows.map(records.grant);
    },
    async updateGrant(id, patch, now) {
      const row = statements.getGrant.get(id) as Row | undefined;
      if (!row) return undefined;
      const updated: ClientGrantRecord = { ...records.grant(row), ...definedOnly(patch), updatedAt: now };
      statements.updateGrant.run(grantToRow(updated));
      return updated;
    },
    async deleteGrant(id) {
      return statements.deleteGrant.run(id).changes > 0;
    },

    async createTrustedIssuer(issuer) {
      insert('trusted issuer', issuer.issuer, () => statements.insertTrustedIssuer.run(trustedIssuerToRow(issuer)));
    },
    async getTrustedIssuer(issuer) {
      const row = statements.getTrustedIssuer.get(issuer) as Row | undefined;
      return row && records.trustedIssuer(row);
    },
    async listTrustedIssuers(page) {
      return (statements.listTrustedIssuers.all(pageParams(page)) as Row[]).map(records.trustedIssuer);
    },
    async updateTrustedIssuer(issuer, patch, now) {
      const row = statements.getTrustedIssuer.get(issuer) as Row | undefined;
      if (!row) return undefined;
      const updated: TrustedIssuerRecord = { ...records.trustedIssuer(row), ...definedOnly(patch), updatedAt: now };
      statements.updateTrustedIssuer.run(trustedIssuerToRow(updated));
      return updated;
    },
    async deleteTrustedIssuer(issuer) {
      return statements.deleteTrustedIssuer.run(issuer).changes > 0;
    },

    async addFederatedCredential(credential) {
      insert(
        'federated credential',
        `${credential.clientId} ← ${credential.issuer} ${credential.subject}`,
        () => statements.insertFederatedCredential.run(federatedCredentialToRow(credential)),
        () => (statements.getClient.get(credential.clientId) ? ['trusted issuer', credential.issuer] : ['client', credential.clientId]),
      );
    },
    async listFederatedCredentials(filter = {}) {
      const rows = statements.listFederatedCredentials.all({
        clientId: filter.clientId ?? null,
        issuer: filter.issuer ?? null,
        ...pageParams(filter),
      }) as Row[];
      return rows.map(records.federatedCredential);
    },
    async findFederatedCredentials(issuer, subject) {
      return (statements.findFederatedCredentials.all({ issuer, subject }) as Row[]).map(records.federatedCredential);
    },
    async deleteFederatedCredential(clientId, id) {
      return statements.deleteFederatedCredential.run(clientId, id).changes > 0;
    },

    async addExchangePolicy(policy) {
      insert(
        'exchange policy',
        exchangePolicyKey(policy),
        () => statements.insertExchangePolicy.run({ ...policy, scopes: policy.scopes && JSON.stringify(policy.scopes) }),
        () =>
          !statements.getClient.get(policy.clientId)
            ? ['client', policy.clientId]
            : !statements.getApi.get(policy.apiIdentifier)
              ? ['api', policy.apiIdentifier]
              : ['trusted issuer', policy.subjectIssuer ?? ''],
      );
    },
    async getExchangePolicy(id) {
      const row = statements.getExchangePolicy.get(id) as Row | undefined;
      return row && records.exchangePolicy(row);
    },
    async listExchangePolicies(filter = {}) {
      const rows = statements.listExchangePolicies.all({
        clientId: filter.clientId ?? null,
        apiIdentifier: filter.apiIdentifier ?? null,
        ...pageParams(filter),
      }) as Row[];
      return rows.map(records.exchangePolicy);
    },
    async deleteExchangePolicy(id) {
      return statements.deleteExchangePolicy.run(id).changes > 0;
    },

    async createKey(key) {
      insert('signing key', key.kid, () => statements.insertKey.run({ ...key, publicJwk: key.publicJwk && JSON.stringify(key.publicJwk) }));
    },
    async getKey(kid) {
      const row = statements.getKey.get(kid) as Row | undefined;
      return row && records.key(row);
    },
    async listKeys() {
      return (statements.listKeys.all() as Row[]).map(records.key);
    },
    async setKeyStatus(kid, status, now) {
      return statements.setKeyStatus.run({ kid, status, now }).changes > 0;
    },

    async appendAuditEvent(event) {
      insert('audit event', event.id, () => statements.insertAuditEvent.run({ ...event, data: JSON.stringify(event.data) }));
    },
    async listAuditEvents(query = {}) {
      const rows = statements.listAuditEvents.all({
        type: query.type ?? null,
        actor: query.actor ?? null,
        since: query.since ?? null,
        until: query.until ?? null,
        beforeAt: query.before?.at ?? null,
        beforeId: query.before?.id ?? null,
        limit: query.limit ?? 100,
      }) as Row[];
      return rows.map(records.auditEvent);
    },
    async pruneAuditEvents(before) {
      return statements.pruneAuditEvents.run(before).changes;
    },

    async currentRevision() {
      return statements.revision.get() as number;
    },
    watchChanges: (listener) => poller.add(listener),
    async changesSince(since) {
      const rows = statements.changesSince.all(since) as ChangeRow[];
      return changesAfter(since, statements.revision.get() as number, rows);
    },
    async ping() {
      statements.ping.get();
    },
    async close() {
      poller.stop();
      if (db.open) db.close();
    },
  };
  return withTransactions(stores, hooks);
}

/** Polls while anyone watches; the timer never keeps the process alive on its own. */
function createRevisionPoller(read: () => number | undefined, intervalMs: number) {
  const listeners = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let last: number | undefined;
  const poll = () => {
    const revision = read();
    if (revision === undefined || revision === last) return;
    last = revision;
    for (const listener of listeners) listener();
  };
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
    listeners.clear();
  };
  return {
    add(listener: () => void) {
      const subscription = () => listener();
      listeners.add(subscription);
      if (!timer) {
        last = read();
        timer = setInterval(poll, intervalMs).unref();
      }
      return () => {
        listeners.delete(subscription);
        if (listeners.size === 0) stop();
      };
    },
    stop,
  };
}

/** Runs the pending migrations and closes: `m2m-auth migrate`. */
export function migrateSqliteDatabase(options: SqliteStorageOptions): { from: number; to: number } {
  const { db, migrated } = openDatabase(options);
  db.close();
  return migrated;
}

function openDatabase(options: SqliteStorageOptions) {
  if (options.path !== ':memory:') createPrivateFile(options.path);
  const db = new BetterSqlite3(options.path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    return { db, migrated: migrate(db) };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** SQLite's LIMIT -1 is "no limit". */
function pageParams(page: PageOptions = {}) {
  return { afterCreatedAt: page.after?.createdAt ?? null, afterKey: page.after?.key ?? null, limit: page.limit ?? -1 };
}

/** The database holds key material (encrypted) and secret hashes: owner-only from the first byte. */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
}

function isUniquenessViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function apiToRow(api: ApiRecord) {
  return { ...api, scopes: JSON.stringify(api.scopes), requireSenderConstrained: api.requireSenderConstrained ? 1 : 0 };
}

function clientToRow(client: ClientRecord) {
  return {
    ...client,
    isEnabled: client.isEnabled ? 1 : 0,
    grantTypes: JSON.stringify(client.grantTypes),
    tokenEndpointAuthMethods: JSON.stringify(client.tokenEndpointAuthMethods),
    jwks: client.jwks && JSON.stringify(client.jwks),
    introspectApis: client.introspectApis?.length ? JSON.stringify(client.introspectApis) : null,
    quota: client.quota ? JSON.stringify(client.quota) : null,
    dpopBoundAccessTokens: client.dpopBoundAccessTokens ? 1 : 0,
    tlsClientAuthSubjectDn: client.tlsClientAuthSubjectDn ?? null,
    tlsClientAuthSanDns: client.tlsClientAuthSanDns?.length ? JSON.stringify(client.tlsClientAuthSanDns) : null,
    tlsClientCertificateBoundAccessTokens: client.tlsClientCertificateBoundAccessTokens ? 1 : 0,
  };
}

function grantToRow(grant: ClientGrantRecord) {
  return { ...grant, scopes: JSON.stringify(grant.scopes) };
}

function trustedIssuerToRow(issuer: TrustedIssuerRecord) {
  return { ...issuer, jwks: issuer.jwks && JSON.stringify(issuer.jwks), isShared: issuer.isShared ? 1 : 0 };
}

function federatedCredentialToRow(credential: FederatedCredentialRecord) {
  return { ...credential, audiences: JSON.stringify(credential.audiences), claims: JSON.stringify(credential.claims) };
}
