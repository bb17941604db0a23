import type { ClientBase, Pool } from 'pg';
import { CHANGE_HISTORY_LENGTH } from '../types.js';

/** The channel every registry write notifies on; servers LISTEN on it to refresh their caches. */
export const CHANGE_CHANNEL = 'm2m_auth_registry_changed';

/** The registry tables of the first schema, each with its change-feed entity and key columns. */
const FIRST_REGISTRY_TABLES: Record<string, string[]> = {
  apis: ['api', 'identifier'],
  clients: ['client', 'client_id'],
  client_secrets: ['client_secret', 'client_id'],
  client_grants: ['client_grant', 'client_id', 'api_identifier'],
  signing_keys: ['signing_key', 'kid'],
};

/**
 * Schema migrations, applied in order; `schema_migrations` records which ran. Append only: a
 * released migration is never edited, a change is a new entry. Mirrors the SQLite schema: text
 * keys use COLLATE "C" so ties order byte-wise as in SQLite, times are epoch milliseconds.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE apis (
    identifier        TEXT COLLATE "C" PRIMARY KEY,
    name              TEXT NOT NULL,
    scopes            JSONB NOT NULL,
    signing_alg       TEXT NOT NULL,
    token_ttl_seconds INTEGER NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
  );
  CREATE INDEX apis_by_created ON apis (created_at, identifier);
  CREATE TABLE clients (
    client_id                   TEXT COLLATE "C" PRIMARY KEY,
    name                        TEXT NOT NULL,
    description                 TEXT NOT NULL,
    default_api                 TEXT COLLATE "C",
    is_enabled                  BOOLEAN NOT NULL,
    grant_types                 JSONB NOT NULL,
    token_endpoint_auth_methods JSONB NOT NULL,
    jwks                        JSONB,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
  );
  CREATE INDEX clients_by_created ON clients (created_at, client_id);
  CREATE INDEX clients_by_default_api ON clients (default_api) WHERE default_api IS NOT NULL;
  CREATE TABLE client_secrets (
    id         TEXT COLLATE "C" PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL CONSTRAINT client_secrets_client_fk REFERENCES clients (client_id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
  );
  CREATE INDEX client_secrets_by_client ON client_secrets (client_id, created_at, id);
  CREATE TABLE client_grants (
    id                TEXT COLLATE "C" PRIMARY KEY,
    client_id         TEXT COLLATE "C" NOT NULL CONSTRAINT client_grants_client_fk REFERENCES clients (client_id) ON DELETE CASCADE,
    api_identifier    TEXT COLLATE "C" NOT NULL CONSTRAINT client_grants_api_fk REFERENCES apis (identifier) ON DELETE CASCADE,
    scopes            JSONB NOT NULL,
    token_ttl_seconds INTEGER,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CONSTRAINT client_grants_one_per_api UNIQUE (client_id, api_identifier)
  );
  CREATE INDEX client_grants_by_api ON client_grants (api_identifier);
  CREATE INDEX client_grants_by_created ON client_grants (created_at, id);
  CREATE TABLE signing_keys (
    kid                   TEXT COLLATE "C" PRIMARY KEY,
    alg                   TEXT NOT NULL,
    status                TEXT NOT NULL,
    encrypted_private_key TEXT NOT NULL,
    public_jwk            JSONB,
    api_identifier        TEXT COLLATE "C",
    created_at            BIGINT NOT NULL,
    rotated_at            BIGINT
  );
  CREATE TABLE audit_events (
    id    TEXT COLLATE "C" PRIMARY KEY,
    at    BIGINT NOT NULL,
    type  TEXT NOT NULL,
    actor TEXT NOT NULL,
    data  JSONB NOT NULL
  );
  CREATE INDEX audit_events_by_at ON audit_events (at, id);
  CREATE INDEX audit_events_by_type ON audit_events (type, at);
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
  );
  INSERT INTO meta (key, value) VALUES ('revision', 0);

  -- Every registry write bumps one counter in the same transaction and notifies listeners when it
  -- commits. Triggers make it impossible for a new write path to forget. The payload is empty so
  -- PostgreSQL folds the notifications of one transaction into one. Audit events do not count:
  -- they change no behaviour.
  CREATE FUNCTION bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'revision';
    PERFORM pg_notify('${CHANGE_CHANNEL}', '');
    RETURN NULL;
  END;
  $$;
  ${Object.keys(FIRST_REGISTRY_TABLES)
    .map((table) => `CREATE TRIGGER ${table}_bumps_revision AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION bump_revision();`)
    .join('\n  ')}
  `,
  // 2: which record each write touched, so readers refresh that record instead of everything;
  // notifications name the schema, so deployments sharing a database ignore each other.
  // Statement-level triggers over transition tables: a statement touching 100,000 rows (a bulk
  // import, an API deleted with its grants) bumps the revision once, not 100,000 times — updating
  // one row over and over in a transaction slows down with every update.
  `
  CREATE TABLE registry_changes (
    revision BIGINT PRIMARY KEY,
    entity   TEXT NOT NULL,
    key      TEXT COLLATE "C" NOT NULL
  );
  -- Arguments: the entity name, then the columns whose values (joined by a newline) are its key.
  CREATE FUNCTION record_changes() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    touched BIGINT;
    last_revision BIGINT;
  BEGIN
    SELECT count(*) INTO touched FROM changed_rows;
    IF touched = 0 THEN RETURN NULL; END IF;
    UPDATE meta SET value = value + touched WHERE key = 'revision' RETURNING value INTO last_revision;
    INSERT INTO registry_changes (revision, entity, key)
      SELECT last_revision - touched + row_number() OVER (), TG_ARGV[0],
             (to_jsonb(c) ->> TG_ARGV[1]) || CASE WHEN TG_NARGS > 2 THEN E'\n' || (to_jsonb(c) ->> TG_ARGV[2]) ELSE '' END
      FROM changed_rows AS c;
    DELETE FROM registry_changes WHERE revision <= last_revision - ${CHANGE_HISTORY_LENGTH};
    PERFORM pg_notify('${CHANGE_CHANNEL}', TG_TABLE_SCHEMA);
    RETURN NULL;
  END;
  $$;
  ${Object.entries(FIRST_REGISTRY_TABLES)
    .map(([table, args]) => `DROP TRIGGER ${table}_bumps_revision ON ${table};\n  ${changeTriggers(table, args)}`)
    .join('\n  ')}
  DROP FUNCTION bump_revision();
  `,
  // 3: token and key lifecycle (as SQLite's 3): introspection permission, secret last-use (no
  // change recorded: a use changes no behaviour), and leases (one scheduled key rotation among
  // many instances).
  `
  ALTER TABLE clients ADD COLUMN introspect_apis JSONB;
  CREATE TABLE client_secret_usage (
    secret_id    TEXT COLLATE "C" PRIMARY KEY REFERENCES client_secrets (id) ON DELETE CASCADE,
    last_used_at BIGINT NOT NULL
  );
  CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  `,
  // 4: workload identity federation (as SQLite's 5): the issuers whose tokens clients may present,
  // and which subjects of theirs authenticate as which client. A credential goes with its client
  // or its issuer; either cascade records the credentials it took, keyed by their issuer.
  `
  CREATE TABLE trusted_issuers (
    issuer                     TEXT COLLATE "C" PRIMARY KEY,
    kind                       TEXT NOT NULL,
    jwks_uri                   TEXT,
    jwks                       JSONB,
    token_reuse                TEXT NOT NULL,
    max_token_lifetime_seconds INTEGER NOT NULL,
    is_shared                  BOOLEAN NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL
  );
  CREATE INDEX trusted_issuers_by_created ON trusted_issuers (created_at, issuer);
  CREATE TABLE federated_credentials (
    id            TEXT COLLATE "C" PRIMARY KEY,
    client_id     TEXT COLLATE "C" NOT NULL CONSTRAINT federated_credentials_client_fk REFERENCES clients (client_id) ON DELETE CASCADE,
    issuer        TEXT COLLATE "C" NOT NULL CONSTRAINT federated_credentials_issuer_fk REFERENCES trusted_issuers (issuer) ON DELETE CASCADE,
    subject       TEXT COLLATE "C" NOT NULL,
    subject_match TEXT NOT NULL,
    audiences     JSONB NOT NULL,
    claims        JSONB NOT NULL,
    description   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    CONSTRAINT federated_credentials_one_per_subject UNIQUE (client_id, issuer, subject, subject_match)
  );
  CREATE INDEX federated_credentials_by_subject ON federated_credentials (issuer, subject);
  CREATE INDEX federated_credentials_by_created ON federated_credentials (created_at, id);
  ${changeTriggers('trusted_issuers', ['trusted_issuer', 'issuer'])}
  ${changeTriggers('federated_credentials', ['federated_credential', 'issuer'])}
  `,
  // 5: an API's token format (as SQLite's 6); every API made before it issues JWTs.
  `
  ALTER TABLE apis ADD COLUMN token_format TEXT NOT NULL DEFAULT 'jwt';
  `,
  // 6: a client's token quota per hour and per day (as SQLite's 7; NULL: none).
  `
  ALTER TABLE clients ADD COLUMN quota JSONB;
  `,
  // 7: token exchange (as SQLite's 8): which client may exchange whose tokens for which API. A
  // policy goes with its exchanging client, its API or its trusted issuer; the subject client is
  // not a foreign key (a policy naming a deleted client stays and matches nothing). Changes are
  // keyed by the exchanging client, whose policies the registry caches together.
  `
  CREATE TABLE exchange_policies (
    id                TEXT COLLATE "C" PRIMARY KEY,
    client_id         TEXT COLLATE "C" NOT NULL CONSTRAINT exchange_policies_client_fk REFERENCES clients (client_id) ON DELETE CASCADE,
    subject_client_id TEXT COLLATE "C",
    subject_issuer    TEXT COLLATE "C" CONSTRAINT exchange_policies_issuer_fk REFERENCES trusted_issuers (issuer) ON DELETE CASCADE,
    api_identifier    TEXT COLLATE "C" NOT NULL CONSTRAINT exchange_policies_api_fk REFERENCES apis (identifier) ON DELETE CASCADE,
    scopes            JSONB,
    description       TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    CONSTRAINT exchange_policies_one_subject CHECK ((subject_client_id IS NULL) <> (subject_issuer IS NULL))
  );
  CREATE UNIQUE INDEX exchange_policies_one_per_subject
    ON exchange_policies (client_id, coalesce(subject_client_id, ''), coalesce(subject_issuer, ''), api_identifier);
  CREATE INDEX exchange_policies_by_created ON exchange_policies (created_at, id);
  CREATE INDEX exchange_policies_by_api ON exchange_policies (api_identifier);
  CREATE INDEX exchange_policies_by_issuer ON exchange_policies (subject_issuer) WHERE subject_issuer IS NOT NULL;
  ${changeTriggers('exchange_policies', ['exchange_policy', 'client_id'])}
  `,
  // 8: sender-constrained tokens (as SQLite's 9).
  `
  ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT false;
  ALTER TABLE apis ADD COLUMN require_sender_constrained BOOLEAN NOT NULL DEFAULT false;
  `,
  // 9: mutual TLS (as SQLite's 10).
  `
  ALTER TABLE clients ADD COLUMN tls_client_auth_subject_dn TEXT;
  ALTER TABLE clients ADD COLUMN tls_client_auth_san_dns JSONB;
  ALTER TABLE clients ADD COLUMN tls_client_certificate_bound_access_tokens BOOLEAN NOT NULL DEFAULT false;
  `,
];

/**
 * The record_changes triggers of a table. `args`: its entity name, then the columns whose values
 * (joined by a newline) are its key (see RegistryChange).
 */
function changeTriggers(table: string, args: string[]): string {
  const call = `EXECUTE FUNCTION record_changes(${args.map((arg) => `'${arg}'`).join(', ')})`;
  return `CREATE TRIGGER ${table}_insert_records_changes AFTER INSERT ON ${table} REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT ${call};
  CREATE TRIGGER ${table}_update_records_changes AFTER UPDATE ON ${table} REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT ${call};
  CREATE TRIGGER ${table}_delete_records_changes AFTER DELETE ON ${table} REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT ${call};`;
}

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

/** Any fixed number: instances that migrate at once take turns on it (per schema, see below). */
const MIGRATION_LOCK = 0x6d326d; // "m2m"

export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
}

/**
 * Brings the schema up to date. Several instances starting together is safe: each takes a
 * session-level advisory lock first, so one migrates while the others wait, then find nothing
 * left to do. Each migration commits with its version row, so a crash leaves a known version.
 */
export async function migratePostgres(pool: Pool, schema: string | undefined): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK, schema ?? 'public']);
    try {
      return await migrateLocked(client, schema);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK, schema ?? 'public']);
    }
  } finally {
    client.release();
  }
}

async function migrateLocked(client: ClientBase, schema: string | undefined): Promise<{ from: number; to: number }> {
  if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
  await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
  const { rows } = await client.query<{ version: number | null }>('SELECT max(version) AS version FROM schema_migrations');
  const from = rows[0]?.version ?? 0;
  if (from > MIGRATIONS.length) {
    throw new SchemaVersionError(`database schema version ${from} is newer than this m2m-auth (${MIGRATIONS.length}); upgrade m2m-auth`);
  }
  for (let version = from; version < MIGRATIONS.length; version += 1) {
    await client.query('BEGIN');
    try {
      await client.query(MIGRATIONS[version]!);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  }
  return { from, to: MIGRATIONS.length };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
