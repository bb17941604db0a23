import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { describeStorageConformance } from './conformance/storage-conformance.js';
import { createPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { POSTGRES_SCHEMA_VERSION } from '../../src/storage/postgres/postgres-migrations.js';
import { StorageConflictError, StorageUnavailableError, type Storage } from '../../src/storage/types.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { createSchemaNames, isPostgresAvailable, POSTGRES_URL } from '../helpers/services.js';
import { eventually, recordBuilders } from './conformance/fixtures.js';

const isAvailable = await isPostgresAvailable();
const schemas = createSchemaNames();
afterAll(() => schemas.dropAll());

const schemaOf = new WeakMap<object, string>();
const open = async (schema: string, options: { poolSize?: number } = {}) => {
  const storage = await createPostgresStorage({ connectionString: POSTGRES_URL, schema, poolSize: options.poolSize ?? 3 });
  schemaOf.set(storage, schema);
  return storage;
};

describe.skipIf(!isAvailable)('postgres', () => {
  // Every test gets its own schema (search_path), dropped when the file is done.
  describeStorageConformance('postgres', {
    makeStorage: () => open(schemas.next()),
    connectAgain: (storage) => open(schemaOf.get(storage)!),
  });

  describe('postgres adapter specifics', () => {
    const T0 = Date.UTC(2026, 0, 1);
    const { client } = recordBuilders(T0);

    it('migrates once when several instances start together, and records the version', async () => {
      const schema = schemas.next();
      const instances = await Promise.all(Array.from({ length: 4 }, () => open(schema, { poolSize: 1 })));
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
        expect(rows.map((row) => row.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
      } finally {
        await admin.end();
        await Promise.all(instances.map((instance) => instance.close()));
      }
    });

    it('refuses a database migrated by a newer m2m-auth', async () => {
      const schema = schemas.next();
      await (await open(schema)).close();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`INSERT INTO "${schema}".schema_migrations (version) VALUES (${POSTGRES_SCHEMA_VERSION + 1})`);
      await admin.end();
      await expect(open(schema)).rejects.toThrow(/newer than this m2m-auth/);
    });

    it('upgrades a schema from before mutual TLS: its clients keep their methods and are not certificate-bound', async () => {
      const schema = schemas.next();
      const first = await open(schema);
      const stored = { ...client('c1'), dpopBoundAccessTokens: true };
      await first.createClient({ ...stored, tlsClientAuthSanDns: ['c1.example'], tlsClientCertificateBoundAccessTokens: true });
      await first.close();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(
        `ALTER TABLE "${schema}".clients DROP COLUMN tls_client_auth_subject_dn, DROP COLUMN tls_client_auth_san_dns, DROP COLUMN tls_client_certificate_bound_access_tokens;
         DELETE FROM "${schema}".schema_migrations WHERE version >= ${POSTGRES_SCHEMA_VERSION}`,
      );
      await admin.end();
      const upgraded = await open(schema);
      try {
        expect(await upgraded.getClient('c1')).toEqual(stored);
        await upgraded.updateClient('c1', { tlsClientAuthSubjectDn: 'CN=c1' }, T0 + 1);
        expect((await upgraded.getClient('c1'))?.tlsClientAuthSubjectDn).toBe('CN=c1');
      } finally {
        await upgraded.close();
      }
    });

    it('upgrades a schema from before sender-constrained tokens: its clients keep bearer tokens', async () => {
      const schema = schemas.next();
      const first = await open(schema);
      await first.createClient({ ...client('c1'), dpopBoundAccessTokens: true });
      await first.close();
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(
        `ALTER TABLE "${schema}".clients DROP COLUMN dpop_bound_access_tokens, DROP COLUMN tls_client_auth_subject_dn, DROP COLUMN tls_client_auth_san_dns, DROP COLUMN tls_client_certificate_bound_access_tokens;
         ALTER TABLE "${schema}".apis DROP COLUMN require_sender_constrained;
         DELETE FROM "${schema}".schema_migrations WHERE version >= ${POSTGRES_SCHEMA_VERSION - 1}`,
      );
      await admin.end();
      const upgraded = await open(schema);
      try {
        expect(await upgraded.getClient('c1')).toEqual(client('c1'));
      } finally {
        await upgraded.close();
      }
    });

    it('gives APIs stored before token formats existed the JWT format', async () => {
      const schema = schemas.next();
      const first = await open(schema);
      await first.createApi({ ...recordBuilders(T0).api('https://orders.example'), tokenFormat: 'opaque' });
      await first.close();
      // The schema as migration 4 left it: no token_format column (nor the later ones).
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(
        `DROP TABLE "${schema}".exchange_policies; ALTER TABLE "${schema}".apis DROP COLUMN token_format, DROP COLUMN require_sender_constrained;
         ALTER TABLE "${schema}".clients DROP COLUMN quota, DROP COLUMN dpop_bound_access_tokens, DROP COLUMN tls_client_auth_subject_dn, DROP COLUMN tls_client_auth_san_dns, DROP COLUMN tls_client_certificate_bound_access_tokens;
         DELETE FROM "${schema}".schema_migrations WHERE version >= 5`,
      );
      await admin.end();
      const upgraded = await open(schema);
      try {
        expect((await upgraded.listApis()).map((row) => row.tokenFormat)).toEqual(['jwt']);
      } finally {
        await upgraded.close();
      }
    });

    it('orders text keys byte-wise (COLLATE "C"), as SQLite does', async () => {
      const storage = await open(schemas.next());
      try {
        for (const id of ['b', 'B', 'a', '_', 'A']) await storage.createClient(client(id));
        expect((await storage.listClients()).map((c) => c.clientId)).toEqual(['A', 'B', '_', 'a', 'b']);
      } finally {
        await storage.close();
      }
    });

    it('updates from many connections at once lose nothing: each update is one statement', async () => {
      const schema = schemas.next();
      const instances: Storage[] = await Promise.all([open(schema), open(schema), open(schema)]);
      try {
        await instances[0]!.createClient(client('c1'));
        await Promise.all(
          instances.flatMap((instance, i) => [
            instance.updateClient('c1', { name: `by ${i}` }, T0 + i),
            instance.updateClient('c1', { description: `d${i}` }, T0 + i),
          ]),
        );
        const stored = await instances[0]!.getClient('c1');
        // Whichever update ran last per field won, and neither field was reset by the other's write.
        expect(stored?.name).toMatch(/^by \d$/);
        expect(stored?.description).toMatch(/^d\d$/);
      } finally {
        await Promise.all(instances.map((instance) => instance.close()));
      }
    });

    it('inside a transaction, a caught conflict does not poison the rest of the work', async () => {
      const storage = await open(schemas.next());
      try {
        await storage.createClient(client('c1'));
        await storage.transaction(async (tx) => {
          await tx.createClient(client('c1')).catch(() => undefined);
          await tx.createClient(client('c2'));
        });
        expect(await storage.getClient('c2')).toBeDefined();
      } finally {
        await storage.close();
      }
    });

    it('reopens a dropped LISTEN connection and tells watchers, so changes made meanwhile are not lost', async () => {
      const schema = schemas.next();
      const server = await open(schema);
      const cli = await open(schema);
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        let heard = 0;
        const stop = server.watchChanges(() => (heard += 1));
        await eventually(() => heard > 0, 'the listener to connect'); // every (re)connect tells watchers once
        const listening = "SELECT pid FROM pg_stat_activity WHERE application_name = 'm2m-auth' AND query LIKE 'LISTEN%'";
        await eventually(async () => (await admin.query(listening)).rowCount! > 0, 'the LISTEN to show');
        await admin.query(`SELECT pg_terminate_backend(pid) FROM (${listening}) AS listeners`);
        const before = heard;
        await cli.createClient(client('written-while-down'));
        await eventually(() => heard > before, 'a notification after the reconnect');
        expect(await server.getClient('written-while-down')).toBeDefined();
        stop();
      } finally {
        await admin.end();
        await cli.close();
        await server.close();
      }
    });

    it('records every row a bulk statement touched (an API deleted with its 500 grants), one revision each', async () => {
      const storage = await open(schemas.next());
      try {
        const { api, grant } = recordBuilders(T0);
        await storage.createApi(api('https://bulk.example'));
        await storage.transaction(async (tx) => {
          for (let i = 0; i < 500; i += 1) {
            await tx.createClient(client(`c${i}`));
            await tx.createGrant(grant(`g${i}`, `c${i}`, 'https://bulk.example'));
          }
        });
        const before = await storage.currentRevision();
        await storage.deleteApi('https://bulk.example');
        const result = await storage.changesSince(before);
        expect(result?.revision).toBe(before + 501);
        expect(new Set(result?.changes.map((change) => change.entity))).toEqual(new Set(['api', 'client_grant']));
      } finally {
        await storage.close();
      }
    });

    it('a database out of reach is StorageUnavailableError (a 503 upstream); a constraint is still its own error', async () => {
      const proxy = await startTcpProxy({ host: new URL(POSTGRES_URL).hostname, port: Number(new URL(POSTGRES_URL).port || 5432) });
      const viaProxy = new URL(POSTGRES_URL);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const storage = await createPostgresStorage({ connectionString: viaProxy.toString(), schema: schemas.next(), poolSize: 1, connectTimeoutMs: 2_000 });
      try {
        await storage.createClient(client('c1'));
        await expect(storage.createClient(client('c1'))).rejects.toBeInstanceOf(StorageConflictError);
        await proxy.stop();
        await expect(storage.getClient('c2')).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(storage.transaction((tx) => tx.createClient(client('c2')))).rejects.toBeInstanceOf(StorageUnavailableError);
        await proxy.start();
        expect(await storage.getClient('c1')).toBeDefined();
      } finally {
        await storage.close();
        await proxy.close();
      }
    });

    it('ping fails once the database is unreachable (what /readyz reports)', async () => {
      const storage = await createPostgresStorage({ connectionString: POSTGRES_URL, schema: schemas.next(), poolSize: 1 });
      await storage.close();
      await expect(storage.ping()).rejects.toThrow();
    });
  });
});
