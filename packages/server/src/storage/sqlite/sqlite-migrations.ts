import type { Database } from 'better-sqlite3';
import { CHANGE_HISTORY_LENGTH } from '../types.js';

/** The entity and cache key each registry table's rows are known by (see RegistryChange). */
const CHANGE_KEYS: Record<string, { entity: string; key: (row: 'NEW' | 'OLD') => string }> = {
  apis: { entity: 'api', key: (row) => `${row}.identifier` },
  clients: { entity: 'client', key: (row) => `${row}.client_id` },
  client_secrets: { entity: 'client_secret', key: (row) => `${row}.client_id` },
  client_grants: { entity: 'client_grant', key: (row) => `${row}.client_id || char(10) || ${row}.api_identifier` },
  signing_keys: { entity: 'signing_key', key: (row) => `${row}.kid` },
  trusted_issuers: { entity: 'trusted_issuer', key: (row) => `${row}.issuer` },
  // The registry drops its whole federated lookup of an issuer on any change to its credentials.
  federated_credentials: { entity: 'federated_credential', key: (row) => `${row}.issuer` },
  // The registry caches policies per exchanging client.
  exchange_policies: { entity: 'exchange_policy', key: (row) => `${row}.client_id` },
};

/** The registry tables of the first schema; later migrations add their own triggers. */
const FIRST_REGISTRY_TABLES = ['apis', 'clients', 'client_secrets', 'client_grants', 'signing_keys'];

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Append only:
 * a released migration is never edited, a change is a new entry.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE apis (
    identifier        TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    signing_alg       TEXT NOT NULL,
    token_ttl_seconds INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
  );
  CREATE TABLE clients (
    client_id                   TEXT PRIMARY KEY,
    name                        TEXT NOT NULL,
    description                 TEXT NOT NULL,
    default_api                 TEXT,
    is_enabled                  INTEGER NOT NULL,
    grant_types                 TEXT NOT NULL,
    token_endpoint_auth_methods TEXT NOT NULL,
    jwks                        TEXT,
    created_at                  INTEGER NOT NULL,
    updated_at                  INTEGER NOT NULL
  );
  CREATE TABLE client_secrets (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
  );
  CREATE INDEX client_secrets_by_client ON client_secrets (client_id, created_at);
  CREATE TABLE client_grants (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    api_identifier    TEXT NOT NULL REFERENCES apis (identifier) ON DELETE CASCADE,
    scopes            TEXT NOT NULL,
    token_ttl_seconds INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (client_id, api_identifier)
  );
  CREATE INDEX client_grants_by_api ON client_grants (api_identifier);
  CREATE TABLE signing_keys (
    kid                   TEXT PRIMARY KEY,
    alg                   TEXT NOT NULL,
    status                TEXT NOT NULL,
    encrypted_private_key TEXT NOT NULL,
    public_jwk            TEXT,
    api_identifier        TEXT,
    created_at            INTEGER NOT NULL,
    rotated_at            INTEGER
  );
  CREATE TABLE audit_events (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    id     TEXT NOT NULL UNIQUE,
    at     INTEGER NOT NULL,
    type   TEXT NOT NULL,
    actor  TEXT NOT NULL,
    data   TEXT NOT NULL
  );
  CREATE INDEX audit_events_by_type ON audit_events (type, seq);
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  INSERT INTO meta (key, value) VALUES ('revision', 0);
  ${revisionTriggers(FIRST_REGISTRY_TABLES)}
  `,
  // 2: keyset paging in the contract's order, and audit queries by time.
  `
  CREATE INDEX apis_by_created ON apis (created_at, identifier);
  CREATE INDEX clients_by_created ON clients (created_at, client_id);
  CREATE INDEX client_grants_by_created ON client_grants (created_at, id);
  CREATE INDEX audit_events_by_at ON audit_events (at, id);
  `,
  // 3: token and key lifecycle: introspection permission, secret last-use (no revision trigger: a use
  // changes no behaviour), and leases (one scheduled key rotation among many processes).
  `
  ALTER TABLE clients ADD COLUMN introspect_apis TEXT;
  CREATE TABLE client_secret_usage (
    secret_id    TEXT PRIMARY KEY REFERENCES client_secrets (id) ON DELETE CASCADE,
    last_used_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 4: which record each write touched, so readers refresh that record instead of everything.
  `
  CREATE TABLE registry_changes (
    revision INTEGER PRIMARY KEY,
    entity   TEXT NOT NULL,
    key      TEXT NOT NULL
  );
  ${FIRST_REGISTRY_TABLES.flatMap((table) => ['insert', 'update', 'delete'].map((event) => `DROP TRIGGER ${table}_${event}_bumps_revision;`)).join('\n  ')}
  ${changeTriggers(FIRST_REGISTRY_TABLES)}
  `,
  // 5: workload identity federation: the issuers whose tokens clients may present, and which
  // subjects of theirs authenticate as which client. A credential goes with its client or issuer.
  `
  CREATE TABLE trusted_issuers (
    issuer                     TEXT PRIMARY KEY,
    kind                       TEXT NOT NULL,
    jwks_uri                   TEXT,
    jwks                       TEXT,
    token_reuse                TEXT NOT NULL,
    max_token_lifetime_seconds INTEGER NOT NULL,
    is_shared                  INTEGER NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
  );
  CREATE INDEX trusted_issuers_by_created ON trusted_issuers (created_at, issuer);
  CREATE TABLE federated_credentials (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    issuer        TEXT NOT NULL REFERENCES trusted_issuers (issuer) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    subject_match TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    claims        TEXT NOT NULL,
    description   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (client_id, issuer, subject, subject_match)
  );
  CREATE INDEX federated_credentials_by_subject ON federated_credentials (issuer, subject);
  CREATE INDEX federated_credentials_by_created ON federated_credentials (created_at, id);
  ${changeTriggers(['trusted_issuers', 'federated_credentials'])}
  `,
  // 6: an API's token format (docs/opaque-tokens.md); every API made before it issues JWTs.
  `
  ALTER TABLE apis ADD COLUMN token_format TEXT NOT NULL DEFAULT 'jwt';
  `,
  // 7: a client's token quota per hour and per day (JSON; NULL: none).
  `
  ALTER TABLE clients ADD COLUMN quota TEXT;
  `,
  // 8: token exchange (RFC 8693): which client may exchange whose tokens for which API. A policy
  // goes with its exchanging client, its API or its trusted issuer. The subject client is not a
  // foreign key: a policy naming a client that is deleted later stays, and matches nothing (no
  // token of a deleted client stands). Exactly one kind of subject; NULLs compare as '' in the
  // unique key, so the same policy cannot be stored twice.
  `
  CREATE TABLE exchange_policies (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    subject_client_id TEXT,
    subject_issuer    TEXT REFERENCES trusted_issuers (issuer) ON DELETE CASCADE,
    api_identifier    TEXT NOT NULL REFERENCES apis (identifier) ON DELETE CASCADE,
    scopes            TEXT,
    description       TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    CHECK ((subject_client_id IS NULL) <> (subject_issuer IS NULL))
  );
  CREATE UNIQUE INDEX exchange_policies_one_per_subject
    ON exchange_policies (client_id, coalesce(subject_client_id, ''), coalesce(subject_issuer, ''), api_identifier);
  CREATE INDEX exchange_policies_by_created ON exchange_policies (created_at, id);
  CREATE INDEX exchange_policies_by_api ON exchange_policies (api_identifier);
  CREATE INDEX exchange_policies_by_issuer ON exchange_policies (subject_issuer) WHERE subject_issuer IS NOT NULL;
  ${changeTriggers(['exchange_policies'])}
  `,
  // 9: sender-constrained tokens (docs/sender-constrained.md): a client whose every token request
  // must carry a DPoP proof, an API that accepts only bound tokens. Nothing changes for existing rows.
  `
  ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE apis ADD COLUMN require_sender_constrained INTEGER NOT NULL DEFAULT 0;
  `,
  // 10: mutual TLS (RFC 8705): the certificate subject or DNS names a tls_client_auth client is
  // known by, and whether its tokens are bound to its certificate. Nothing changes for existing rows.
  `
  ALTER TABLE clients ADD COLUMN tls_client_auth_subject_dn TEXT;
  ALTER TABLE clients ADD COLUMN tls_client_auth_san_dns TEXT;
  ALTER TABLE clients ADD COLUMN tls_client_certificate_bound_access_tokens INTEGER NOT NULL DEFAULT 0;
  `,
];

/**
 * Every registry write (cascaded deletes included) bumps the revision and records what it touched,
 * in the same transaction. The history is trimmed to CHANGE_HISTORY_LENGTH entries as it grows.
 */
function changeTriggers(tables: string[]): string {
  return tables
    .flatMap((table) => {
      const { entity, key } = CHANGE_KEYS[table]!;
      return ['INSERT', 'UPDATE', 'DELETE'].map(
        (event) => `
  CREATE TRIGGER ${table}_${event.toLowerCase()}_records_change AFTER ${event} ON ${table}
  BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'revision';
    INSERT INTO registry_changes (revision, entity, key) SELECT value, '${entity}', ${key(event === 'DELETE' ? 'OLD' : 'NEW')} FROM meta WHERE key = 'revision';
    DELETE FROM registry_changes WHERE revision <= (SELECT value FROM meta WHERE key = 'revision') - ${CHANGE_HISTORY_LENGTH};
  END;`,
      );
    })
    .join('\n');
}

/**
 * Every write to the registry bumps one counter in the same transaction, so another process (the
 * server, while the CLI writes) learns of it with one indexed read. Triggers make it impossible
 * for a new write path to forget. Audit events do not count: they change no behaviour.
 */
function revisionTriggers(tables: string[]): string {
  return tables
    .flatMap((table) =>
      ['INSERT', 'UPDATE', 'DELETE'].map(
        (event) => `
  CREATE TRIGGER ${table}_${event.toLowerCase()}_bumps_revision AFTER ${event} ON ${table}
  BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'revision';
  END;`,
      ),
    )
    .join('\n');
}

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database): { from: number; to: number } {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > MIGRATIONS.length) {
    throw new Error(`database schema version ${applied} is newer than this m2m-auth (${MIGRATIONS.length}); upgrade m2m-auth`);
  }
  for (let version = applied; version < MIGRATIONS.length; version += 1) {
    // One transaction per migration: a crash leaves the schema at a known version.
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
  return { from: applied, to: MIGRATIONS.length };
}
