import pg from 'pg';
import { StorageConflictError, StorageReferenceError, exchangePolicyKey, type PageOptions, type RegistryStores, type Storage } from '../types.js';
import { withTransactions } from '../transaction-gate.js';
import { isStorableText } from '../../protocol/storable-text.js';
import { createRowMappers, type Row } from '../sql-rows.js';
import { CHANGE_CHANNEL, migratePostgres, quoteIdentifier } from './postgres-migrations.js';
import { createChangeListener } from './postgres-change-listener.js';
import { createPostgresLifecycleStores } from './postgres-lifecycle.js';
import { asStorageError, reportingUnavailable } from './postgres-unavailable.js';
import { changesAfter, type ChangeRow } from '../change-history.js';

export interface PostgresStorageOptions {
  connectionString: string;
  /** Tables live in this schema (created when missing); default: the connection's search_path. */
  schema?: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** Bring the schema up to date on open (default). False: `m2m-auth migrate` did it. */
  migrate?: boolean;
}

// jsonb arrives parsed: the value is the record's JSON member as it was written.
const records = createRowMappers({ json: <T>(value: unknown) => value as T, bool: (value) => value as boolean });
type Queryable = Pick<pg.Pool, 'query'>;

const INT8 = 20;
/** Times are epoch milliseconds in BIGINT: well inside Number's exact range, so read them as numbers. */
const types = {
  getTypeParser: ((oid: number, format: 'text' | 'binary' = 'text') =>
    oid === INT8 ? Number : format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text')) as typeof pg.types.getTypeParser,
};

/**
 * PostgreSQL, for several server instances sharing one database. Every write is one statement
 * (UPDATE … RETURNING, a CTE for delete-with-cleanup), so instances never race through a
 * read-then-write. Outside `transaction()` calls take any pooled connection; readers in other
 * processes see only committed data (READ COMMITTED).
 */
export async function createPostgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  const pool = createPool(options);
  try {
    if (options.migrate !== false) await migratePostgres(pool, options.schema);
  } catch (error) {
    await pool.end();
    throw error;
  }

  // Every query the stores make reports a lost database as StorageUnavailableError (a 503 on the
  // wire), never as the driver's own error (a 500).
  const db = reportingUnavailable(pool);
  const outer = storesOn(db, false);
  let txClient: pg.PoolClient | undefined;
  const endTransaction = async (statement: 'COMMIT' | 'ROLLBACK') => {
    const client = txClient;
    txClient = undefined;
    if (!client) return;
    try {
      await client.query(statement);
      client.release();
    } catch (error) {
      // A connection whose COMMIT or ROLLBACK failed is in an unknown state: destroy, never reuse.
      client.release(error as Error);
      if (statement === 'COMMIT') throw asStorageError(error);
    }
  };
  const hooks = {
    // One pooled connection carries the whole transaction; the gate runs one at a time per process.
    async begin(): Promise<RegistryStores> {
      const client = await pool.connect().catch((error: unknown) => {
        throw asStorageError(error);
      });
      try {
        await client.query('BEGIN');
      } catch (error) {
        client.release(error as Error);
        throw asStorageError(error);
      }
      txClient = client;
      return storesOn(reportingUnavailable(client), true);
    },
    commit: () => endTransaction('COMMIT'),
    rollback: () => endTransaction('ROLLBACK'),
  };

  // Notifications carry the schema the write went to (see the record_change trigger).
  const schema = options.schema ?? ((await pool.query('SELECT current_schema() AS name')).rows[0]?.name as string);
  const changeListener = createChangeListener({ connection: connectionConfig(options), channel: CHANGE_CHANNEL, payload: schema });

  let closed: Promise<void> | undefined;
  return withTransactions(
    {
      ...outer,
      kind: 'postgres',
      async currentRevision() {
        const { rows } = await db.query("SELECT value FROM meta WHERE key = 'revision'");
        return rows[0]!.value as number;
      },
      watchChanges: (listener: () => void) => changeListener.add(listener),
      async changesSince(since: number) {
        // One statement: the revision and the history from the same snapshot.
        const { rows } = await db.query(
          "SELECT (SELECT value FROM meta WHERE key = 'revision') AS current, c.revision, c.entity, c.key FROM (SELECT 1) AS one LEFT JOIN registry_changes c ON c.revision > $1 ORDER BY c.revision",
          [since],
        );
        const current = Number(rows[0]!.current);
        return changesAfter(since, current, rows.filter((row) => row.revision !== null) as ChangeRow[]);
      },
      ...createPostgresLifecycleStores(db),
      async ping() {
        await db.query('SELECT 1');
      },
      close: () => (closed ??= Promise.all([changeListener.close(), pool.end()]).then(() => undefined)),
    },
    hooks,
  );
}

/** Runs the pending migrations and closes: `m2m-auth migrate`, ahead of a rolling deploy. */
export async function migratePostgresDatabase(options: PostgresStorageOptions): Promise<{ from: number; to: number }> {
  const pool = createPool({ ...options, poolSize: 1 });
  try {
    return await migratePostgres(pool, options.schema);
  } finally {
    await pool.end();
  }
}

/**
 * The schema version m2m-auth left in the database, 0 when it never migrated it: read without
 * creating anything, so a management command can refuse a database nobody set up.
 */
export async function readPostgresSchemaVersion(options: PostgresStorageOptions): Promise<number> {
  const pool = createPool({ ...options, poolSize: 1 });
  try {
    const { rows } = await pool.query<{ table: string | null }>("SELECT to_regclass('schema_migrations')::text AS table");
    if (!rows[0]?.table) return 0;
    const versions = await pool.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
    return versions.rows[0]?.version ?? 0;
  } finally {
    await pool.end();
  }
}

function connectionConfig(options: PostgresStorageOptions): pg.ClientConfig {
  if (options.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(options.schema))
    throw new Error(`invalid schema name ${JSON.stringify(options.schema)}`);
  const statementTimeout = options.statementTimeoutMs ?? 10_000;
  return {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: statementTimeout,
    // A process that dies (or hangs) inside a transaction must not hold row locks for long.
    idle_in_transaction_session_timeout: Math.max(statementTimeout * 3, 30_000),
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    types,
    application_name: 'm2m-auth',
  };
}

function createPool(options: PostgresStorageOptions): pg.Pool {
  const pool = new pg.Pool({ ...connectionConfig(options), max: options.poolSize ?? 10 });
  // An idle pooled connection that drops emits here; without a listener that would crash the
  // process. The next query gets a fresh connection, or fails and reaches the caller (and /readyz).
  pool.on('error', () => undefined);
  return pool;
}

/** The registry stores over a pool (calls outside a transaction) or one client (inside one). */
function storesOn(db: Queryable, isTransaction: boolean): RegistryStores {
  const insert = (entity: string, key: string, sql: string, values: unknown[], parent?: (constraint: string | undefined) => [string, string]) =>
    insertOn(db, isTransaction, entity, key, sql, values, parent);
  // Lookups by a key no row can hold (a NUL byte, which PostgreSQL refuses even as a parameter)
  // find nothing without asking, as on the other adapters: never an error for a key that cannot exist.
  const one = async (sql: string, values: unknown[]) => (canExist(values) ? ((await db.query(sql, values)).rows[0] as Row | undefined) : undefined);
  const all = async (sql: string, values: unknown[]) => (canExist(values) ? ((await db.query(sql, values)).rows as Row[]) : []);
  const changed = async (sql: string, values: unknown[]) => canExist(values) && ((await db.query(sql, values)).rowCount ?? 0) > 0;

  return {
    async createApi(api) {
      await insert(
        'api',
        api.identifier,
        'INSERT INTO apis (identifier, name, scopes, signing_alg, token_ttl_seconds, token_format, require_sender_constrained, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [
          api.identifier,
          api.name,
          JSON.stringify(api.scopes),
          api.signingAlg,
          api.tokenTtlSeconds,
          api.tokenFormat,
          api.requireSenderConstrained ?? false,
          api.createdAt,
          api.updatedAt,
        ],
      );
    },
    async getApi(identifier) {
      const row = await one('SELECT * FROM apis WHERE identifier = $1', [identifier]);
      return row && records.api(row);
    },
    async listApis(page) {
      return (await all(...paged('SELECT * FROM apis', 'identifier', [], page))).map(records.api);
    },
    async updateApi(identifier, patch, now) {
      const row = await update(db, 'apis', 'identifier', identifier, {
        name: patch.name,
        scopes: patch.scopes && JSON.stringify(patch.scopes),
        signing_alg: patch.signingAlg,
        token_ttl_seconds: patch.tokenTtlSeconds,
        token_format: patch.tokenFormat,
        require_sender_constrained: patch.requireSenderConstrained,
        updated_at: now,
      });
      return row && records.api(row);
    },
    async deleteApi(identifier) {
      // One statement: no instance sees the API gone while a client still defaults to it.
      return changed('WITH cleared AS (UPDATE clients SET default_api = NULL WHERE default_api = $1) DELETE FROM apis WHERE identifier = $1', [identifier]);
    },

    async createClient(client) {
      await insert(
        'client',
        client.clientId,
        `INSERT INTO clients (client_id, name, description, default_api, is_enabled, grant_types, token_endpoint_auth_methods, jwks, introspect_apis, quota, dpop_bound_access_tokens,
           tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_certificate_bound_access_tokens, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [
          client.clientId,
          client.name,
          client.description,
          client.defaultApi,
          client.isEnabled,
          JSON.stringify(client.grantTypes),
          JSON.stringify(client.tokenEndpointAuthMethods),
          client.jwks && JSON.stringify(client.jwks),
          introspectApisColumn(client.introspectApis),
          client.quota ? JSON.stringify(client.quota) : null,
          client.dpopBoundAccessTokens ?? false,
          client.tlsClientAuthSubjectDn ?? null,
          sanDnsColumn(client.tlsClientAuthSanDns),
          client.tlsClientCertificateBoundAccessTokens ?? false,
          client.createdAt,
          client.updatedAt,
        ],
      );
    },
    async getClient(clientId) {
      const row = await one('SELECT * FROM clients WHERE client_id = $1', [clientId]);
      return row && records.client(row);
    },
    async listClients(page) {
      return (await all(...paged('SELECT * FROM clients', 'client_id', [], page))).map(records.client);
    },
    async updateClient(clientId, patch, now) {
      const row = await update(db, 'clients', 'client_id', clientId, {
        name: patch.name,
        description: patch.description,
        default_api: patch.defaultApi,
        is_enabled: patch.isEnabled,
        grant_types: patch.grantTypes && JSON.stringify(patch.grantTypes),
        token_endpoint_auth_methods: patch.tokenEndpointAuthMethods && JSON.stringify(patch.tokenEndpointAuthMethods),
        jwks: patch.jwks === undefined ? undefined : patch.jwks && JSON.stringify(patch.jwks),
        introspect_apis: patch.introspectApis === undefined ? undefined : introspectApisColumn(patch.introspectApis),
        quota: patch.quota === undefined ? undefined : patch.quota && JSON.stringify(patch.quota),
        dpop_bound_access_tokens: patch.dpopBoundAccessTokens,
        tls_client_auth_subject_dn: patch.tlsClientAuthSubjectDn === undefined ? undefined : patch.tlsClientAuthSubjectDn || null,
        tls_client_auth_san_dns: patch.tlsClientAuthSanDns === undefined ? undefined : sanDnsColumn(patch.tlsClientAuthSanDns),
        tls_client_certificate_bound_access_tokens: patch.tlsClientCertificateBoundAccessTokens,
        updated_at: now,
      });
      return row && records.client(row);
    },
    async deleteClient(clientId) {
      return changed('DELETE FROM clients WHERE client_id = $1', [clientId]);
    },

    async addClientSecret(secret) {
      await insert(
        'client secret',
        secret.id,
        'INSERT INTO client_secrets (id, client_id, hash, hint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [secret.id, secret.clientId, secret.hash, secret.hint, secret.createdAt, secret.expiresAt],
        () => ['client', secret.clientId],
      );
    },
    async listClientSecrets(clientId) {
      return (await all('SELECT * FROM client_secrets WHERE client_id = $1 ORDER BY created_at, id', [clientId])).map(records.secret);
    },
    async expireClientSecret(clientId, secretId, expiresAt) {
      return changed('UPDATE client_secrets SET expires_at = $3 WHERE client_id = $1 AND id = $2', [clientId, secretId, expiresAt]);
    },
    async deleteClientSecret(clientId, secretId) {
      return changed('DELETE FROM client_secrets WHERE client_id = $1 AND id = $2', [clientId, secretId]);
    },

    async createGrant(grant) {
      await insert(
        'client grant',
        `${grant.clientId} → ${grant.apiIdentifier}`,
        'INSERT INTO client_grants (id, client_id, api_identifier, scopes, token_ttl_seconds, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [grant.id, grant.clientId, grant.apiIdentifier, JSON.stringify(grant.scopes), grant.tokenTtlSeconds, grant.createdAt, grant.updatedAt],
        // The violated constraint names the missing parent, with no second query.
        (constraint) => (constraint === 'client_grants_api_fk' ? ['api', grant.apiIdentifier] : ['client', grant.clientId]),
      );
    },
    async getGrant(id) {
      const row = await one('SELECT * FROM client_grants WHERE id = $1', [id]);
      return row && records.grant(row);
    },
    async findGrant(clientId, apiIdentifier) {
      const row = await one('SELECT * FROM client_grants WHERE client_id = $1 AND api_identifier = $2', [clientId, apiIdentifier]);
      return row && records.grant(row);
    },
    async listGrants(filter = {}) {
      const where = 'SELECT * FROM client_grants WHERE ($1::text IS NULL OR client_id = $1) AND ($2::text IS NULL OR api_identifier = $2)';
      return (await all(...paged(where, 'id', [filter.clientId ?? null, filter.apiIdentifier ?? null], filter))).map(records.grant);
    },
    async updateGrant(id, patch, now) {
      const row = await update(db, 'client_grants', 'id', id, {
        scopes: patch.scopes && JSON.stringify(patch.scopes),
        token_ttl_seconds: patch.tokenTtlSeconds,
        updated_at: now,
      });
      return row && records.grant(row);
    },
    async deleteGrant(id) {
      return changed('DELETE FROM client_grants WHERE id = $1', [id]);
    },

    async createTrustedIssuer(issuer) {
      await insert(
        'trusted issuer',
        issuer.issuer,
        `INSERT INTO trusted_issuers (issuer, kind, jwks_uri, jwks, token_reuse, max_token_lifetime_seconds, is_shared, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          issuer.issuer,
          issuer.kind,
          issuer.jwksUri,
          issuer.jwks && JSON.stringify(issuer.jwks),
          issuer.tokenReuse,
          issuer.maxTokenLifetimeSeconds,
          issuer.isShared,
          issuer.createdAt,
          issuer.updatedAt,
        ],
      );
    },
    async getTrustedIssuer(issuer) {
      const row = await one('SELECT * FROM trusted_issuers WHERE issuer = $1', [issuer]);
      return row && records.trustedIssuer(row);
    },
    async listTrustedIssuers(page) {
      return (await all(...paged('SELECT * FROM trusted_issuers', 'issuer', [], page))).map(records.trustedIssuer);
    },
    async updateTrustedIssuer(issuer, patch, now) {
      const row = await update(db, 'trusted_issuers', 'issuer', issuer, {
        jwks_uri: patch.jwksUri,
        jwks: patch.jwks === undefined ? undefined : patch.jwks && JSON.stringify(patch.jwks),
        token_reuse: patch.tokenReuse,
        max_token_lifetime_seconds: patch.maxTokenLifetimeSeconds,
        is_shared: patch.isShared,
        updated_at: now,
      });
      return row && records.trustedIssuer(row);
    },
    async deleteTrustedIssuer(issuer) {
      return changed('DELETE FROM trusted_issuers WHERE issuer = $1', [issuer]);
    },

    async addFederatedCredential(credential) {
      await insert(
        'federated credential',
        `${credential.clientId} ← ${credential.issuer} ${credential.subject}`,
        `INSERT INTO federated_credentials (id, client_id, issuer, subject, subject_match, audiences, claims, description, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          credential.id,
          credential.clientId,
          credential.issuer,
          credential.subject,
          credential.subjectMatch,
          JSON.stringify(credential.audiences),
          JSON.stringify(credential.claims),
          credential.description,
          credential.createdAt,
        ],
        (constraint) => (constraint === 'federated_credentials_issuer_fk' ? ['trusted issuer', credential.issuer] : ['client', credential.clientId]),
      );
    },
    async listFederatedCredentials(filter = {}) {
      const where = 'SELECT * FROM federated_credentials WHERE ($1::text IS NULL OR client_id = $1) AND ($2::text IS NULL OR issuer = $2)';
      return (await all(...paged(where, 'id', [filter.clientId ?? null, filter.issuer ?? null], filter))).map(records.federatedCredential);
    },
    async findFederatedCredentials(issuer, subject) {
      // No stored subject holds a NUL (text refuses it), so none equals a `sub` that does, and
      // those that are a prefix of it are prefixes of what comes before the NUL: the memory and
      // SQLite adapters' answer, without sending PostgreSQL text it would refuse.
      const nul = subject.indexOf('\u0000');
      const storable = nul === -1 ? subject : subject.slice(0, nul);
      // left() and length() count characters, as startsWith does on a well-formed string.
      const rows = await all(
        `SELECT * FROM federated_credentials WHERE issuer = $1
         AND ((subject = $2 AND $3) OR (subject_match = 'prefix' AND left($2, length(subject)) = subject))
         ORDER BY created_at, id`,
        [issuer, storable, nul === -1],
      );
      return rows.map(records.federatedCredential);
    },
    async deleteFederatedCredential(clientId, id) {
      return changed('DELETE FROM federated_credentials WHERE client_id = $1 AND id = $2', [clientId, id]);
    },

    async addExchangePolicy(policy) {
      await insert(
        'exchange policy',
        exchangePolicyKey(policy),
        `INSERT INTO exchange_policies (id, client_id, subject_client_id, subject_issuer, api_identifier, scopes, description, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          policy.id,
          policy.clientId,
          policy.subjectClientId,
          policy.subjectIssuer,
          policy.apiIdentifier,
          policy.scopes && JSON.stringify(policy.scopes),
          policy.description,
          policy.createdAt,
        ],
        (constraint) =>
          constraint === 'exchange_policies_api_fk'
            ? ['api', policy.apiIdentifier]
            : constraint === 'exchange_policies_issuer_fk'
              ? ['trusted issuer', policy.subjectIssuer ?? '']
              : ['client', policy.clientId],
      );
    },
    async getExchangePolicy(id) {
      const row = await one('SELECT * FROM exchange_policies WHERE id = $1', [id]);
      return row && records.exchangePolicy(row);
    },
    async listExchangePolicies(filter = {}) {
      const where = 'SELECT * FROM exchange_policies WHERE ($1::text IS NULL OR client_id = $1) AND ($2::text IS NULL OR api_identifier = $2)';
      return (await all(...paged(where, 'id', [filter.clientId ?? null, filter.apiIdentifier ?? null], filter))).map(records.exchangePolicy);
    },
    async deleteExchangePolicy(id) {
      return changed('DELETE FROM exchange_policies WHERE id = $1', [id]);
    },

    async createKey(key) {
      await insert(
        'signing key',
        key.kid,
        'INSERT INTO signing_keys (kid, alg, status, encrypted_private_key, public_jwk, api_identifier, created_at, rotated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [
          key.kid,
          key.alg,
          key.status,
          key.encryptedPrivateKey,
          key.publicJwk && JSON.stringify(key.publicJwk),
          key.apiIdentifier,
          key.createdAt,
          key.rotatedAt,
        ],
      );
    },
    async getKey(kid) {
      const row = await one('SELECT * FROM signing_keys WHERE kid = $1', [kid]);
      return row && records.key(row);
    },
    async listKeys() {
      return (await all('SELECT * FROM signing_keys ORDER BY created_at, kid', [])).map(records.key);
    },
    async setKeyStatus(kid, status, now) {
      // rotated_at is decided by the row's own status in the same statement: two instances
      // rotating at once cannot both stamp it.
      return changed(
        `UPDATE signing_keys SET rotated_at = CASE WHEN status = 'active' AND $2 <> 'active' THEN $3 ELSE rotated_at END, status = $2 WHERE kid = $1`,
        [kid, status, now],
      );
    },

    async appendAuditEvent(event) {
      await insert('audit event', event.id, 'INSERT INTO audit_events (id, at, type, actor, data) VALUES ($1, $2, $3, $4, $5)', [
        event.id,
        event.at,
        event.type,
        event.actor,
        JSON.stringify(event.data),
      ]);
    },
    async listAuditEvents(query = {}) {
      const rows = await all(
        `SELECT * FROM audit_events WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR actor = $2)
         AND ($3::bigint IS NULL OR at >= $3) AND ($4::bigint IS NULL OR at < $4)
         AND ($5::bigint IS NULL OR (at, id) < ($5, $6::text)) ORDER BY at DESC, id DESC LIMIT $7`,
        [
          query.type ?? null,
          query.actor ?? null,
          query.since ?? null,
          query.until ?? null,
          query.before?.at ?? null,
          query.before?.id ?? null,
          query.limit ?? 100,
        ],
      );
      return rows.map(records.auditEvent);
    },
    async pruneAuditEvents(before) {
      return (await db.query('DELETE FROM audit_events WHERE at < $1', [before])).rowCount ?? 0;
    },
  };
}

/** False when a lookup value is text no row can hold: the statement could only fail. */
function canExist(values: unknown[]): boolean {
  return values.every((value) => typeof value !== 'string' || isStorableText(value));
}

/** No DNS names are stored as NULL, so a record reads back without the field, as in SQLite. */
function sanDnsColumn(names: string[] | null | undefined): string | null {
  return names?.length ? JSON.stringify(names) : null;
}

/** No permission is stored as NULL, so a record reads back without the field, as in SQLite. */
function introspectApisColumn(apis: string[] | undefined): string | null {
  return apis?.length ? JSON.stringify(apis) : null;
}

/**
 * Runs an insert, turning 23505 into the contract's conflict error and 23503 into its reference
 * error. Inside a transaction the insert runs under a savepoint: PostgreSQL would otherwise abort
 * the whole transaction on the failed statement, while the contract (and SQLite) let the work
 * catch a conflict and carry on.
 */
async function insertOn(
  db: Queryable,
  isTransaction: boolean,
  entity: string,
  key: string,
  sql: string,
  values: unknown[],
  parent?: (constraint: string | undefined) => [string, string],
): Promise<void> {
  try {
    if (!isTransaction) {
      await db.query(sql, values);
    } else {
      await db.query('SAVEPOINT m2m_auth_insert');
      try {
        await db.query(sql, values);
      } catch (error) {
        await db.query('ROLLBACK TO SAVEPOINT m2m_auth_insert');
        throw error;
      } finally {
        await db.query('RELEASE SAVEPOINT m2m_auth_insert').catch(() => undefined);
      }
    }
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    if (code === '23505') throw new StorageConflictError(entity, key);
    if (code === '23503' && parent) throw new StorageReferenceError(...parent(constraint));
    throw error;
  }
}

/**
 * UPDATE … RETURNING the given columns (undefined = keep): one atomic statement, no read first.
 * Column names come from the callers above, never from input.
 */
async function update(db: Queryable, table: string, keyColumn: string, key: string, columns: Record<string, unknown>): Promise<Row | undefined> {
  if (!canExist([key])) return undefined;
  const set = Object.entries(columns).filter(([, value]) => value !== undefined);
  const assignments = set.map(([column], index) => `${quoteIdentifier(column)} = $${index + 2}`).join(', ');
  const { rows } = await db.query(`UPDATE ${table} SET ${assignments} WHERE ${keyColumn} = $1 RETURNING *`, [key, ...set.map(([, value]) => value)]);
  return rows[0] as Row | undefined;
}

/** Appends the keyset condition and the contract's order to a query whose parameters are `values`. */
function paged(select: string, keyColumn: string, values: unknown[], page: PageOptions = {}): [string, unknown[]] {
  const params = [...values];
  const conditions: string[] = [];
  if (page.after) {
    params.push(page.after.createdAt, page.after.key);
    conditions.push(`(created_at, ${keyColumn}) > ($${params.length - 1}, $${params.length})`);
  }
  let sql = conditions.length === 0 ? select : `${select} ${select.includes(' WHERE ') ? 'AND' : 'WHERE'} ${conditions.join(' AND ')}`;
  sql += ` ORDER BY created_at, ${keyColumn}`;
  if (page.limit !== undefined) {
    params.push(page.limit);
    sql += ` LIMIT $${params.length}`;
  }
  return [sql, params];
}
