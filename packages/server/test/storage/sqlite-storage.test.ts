import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStorageConformance } from './conformance/storage-conformance.js';
import BetterSqlite3 from 'better-sqlite3';
import { createSqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { SQLITE_SCHEMA_VERSION } from '../../src/storage/sqlite/sqlite-migrations.js';
import { recordBuilders } from './conformance/fixtures.js';

const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let databases = 0;
const paths = new WeakMap<object, string>();

describeStorageConformance('sqlite', {
  async makeStorage() {
    const path = join(directory, `conformance-${(databases += 1)}.db`);
    const storage = createSqliteStorage({ path });
    paths.set(storage, path);
    return storage;
  },
  // Another connection on the same file, as the CLI opens it while a server runs.
  connectAgain: async (storage) => createSqliteStorage({ path: paths.get(storage)! }),
});

describe('sqlite adapter specifics', () => {
  const T0 = Date.UTC(2026, 0, 1);
  const api = {
    identifier: 'https://orders.example',
    name: 'Orders',
    scopes: [{ value: 'read:orders', description: '' }],
    signingAlg: 'RS256' as const,
    tokenTtlSeconds: 900,
    tokenFormat: 'jwt' as const,
    createdAt: T0,
    updatedAt: T0,
  };

  it('creates the database file readable by its owner only', async () => {
    const path = join(directory, 'nested', 'private.db');
    const storage = createSqliteStorage({ path });
    await storage.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('keeps data across reopening, and migrating an up-to-date database is a no-op', async () => {
    const path = join(directory, 'reopen.db');
    const first = createSqliteStorage({ path });
    await first.createApi(api);
    await first.close();
    const second = createSqliteStorage({ path });
    expect(await second.listApis()).toEqual([api]);
    await second.close();
  });

  it('upgrades a database from before mutual TLS: its clients keep their methods and are not certificate-bound', async () => {
    const path = join(directory, 'before-mtls.db');
    const first = createSqliteStorage({ path });
    const stored = { ...recordBuilders(T0).client('c1'), dpopBoundAccessTokens: true };
    await first.createClient({ ...stored, tlsClientAuthSubjectDn: 'CN=c1', tlsClientCertificateBoundAccessTokens: true });
    await first.close();
    // The database as migration 9 left it: none of the three columns.
    const db = new BetterSqlite3(path);
    db.exec(
      `ALTER TABLE clients DROP COLUMN tls_client_auth_subject_dn; ALTER TABLE clients DROP COLUMN tls_client_auth_san_dns; ALTER TABLE clients DROP COLUMN tls_client_certificate_bound_access_tokens; PRAGMA user_version = ${SQLITE_SCHEMA_VERSION - 1};`,
    );
    db.close();
    const upgraded = createSqliteStorage({ path });
    expect(await upgraded.getClient('c1')).toEqual(stored);
    await upgraded.updateClient('c1', { tlsClientAuthSanDns: ['c1.example'] }, T0 + 1);
    expect((await upgraded.getClient('c1'))?.tlsClientAuthSanDns).toEqual(['c1.example']);
    await upgraded.close();
  });

  it('upgrades a database from before sender-constrained tokens: its clients and APIs keep bearer tokens', async () => {
    const path = join(directory, 'before-dpop.db');
    const first = createSqliteStorage({ path });
    await first.createApi({ ...api, requireSenderConstrained: true });
    await first.close();
    // The database as the migration before left it: neither column.
    const db = new BetterSqlite3(path);
    db.exec(
      `ALTER TABLE clients DROP COLUMN tls_client_auth_subject_dn; ALTER TABLE clients DROP COLUMN tls_client_auth_san_dns; ALTER TABLE clients DROP COLUMN tls_client_certificate_bound_access_tokens; ALTER TABLE apis DROP COLUMN require_sender_constrained; ALTER TABLE clients DROP COLUMN dpop_bound_access_tokens; PRAGMA user_version = ${SQLITE_SCHEMA_VERSION - 2};`,
    );
    db.close();
    const upgraded = createSqliteStorage({ path });
    expect(await upgraded.listApis()).toEqual([api]);
    await upgraded.close();
  });

  it('gives APIs stored before token formats existed the JWT format', async () => {
    const path = join(directory, 'before-token-format.db');
    const first = createSqliteStorage({ path });
    await first.createApi({ ...api, tokenFormat: 'opaque' });
    await first.close();
    // The database as version 5 left it: no token_format column (nor the later ones).
    const db = new BetterSqlite3(path);
    db.exec(
      'DROP TABLE exchange_policies; ALTER TABLE clients DROP COLUMN tls_client_auth_subject_dn; ALTER TABLE clients DROP COLUMN tls_client_auth_san_dns; ALTER TABLE clients DROP COLUMN tls_client_certificate_bound_access_tokens; ALTER TABLE apis DROP COLUMN token_format; ALTER TABLE apis DROP COLUMN require_sender_constrained; ALTER TABLE clients DROP COLUMN quota; ALTER TABLE clients DROP COLUMN dpop_bound_access_tokens; PRAGMA user_version = 5;',
    );
    db.close();
    const upgraded = createSqliteStorage({ path });
    expect(await upgraded.listApis()).toEqual([api]);
    await upgraded.close();
  });
});
