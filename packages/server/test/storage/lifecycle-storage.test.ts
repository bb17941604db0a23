import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createMemoryStorage } from '../../src/storage/memory/memory-storage.js';
import { createSqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { describeLifecycleConformance } from './lifecycle-conformance.js';
import { createPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { createSchemaNames, isPostgresAvailable, POSTGRES_URL } from '../helpers/services.js';

const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-lifecycle-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
let lastPath = '';

describeLifecycleConformance('memory', async () => createMemoryStorage());
describeLifecycleConformance(
  'sqlite',
  async () => createSqliteStorage({ path: (lastPath = join(directory, `lifecycle-${(files += 1)}.db`)) }),
  async () => createSqliteStorage({ path: lastPath }),
);

// PostgreSQL: each storage in its own schema, dropped when the file is done; skipped without the
// service unless M2M_AUTH_REQUIRE_SERVICES=1.
const isPostgres = await isPostgresAvailable();
const schemas = createSchemaNames('m2m_lifecycle');
afterAll(() => schemas.dropAll());
let lastSchema = '';
if (isPostgres) {
  describeLifecycleConformance(
    'postgres',
    async () => createPostgresStorage({ connectionString: POSTGRES_URL, schema: (lastSchema = schemas.next()), poolSize: 2 }),
    async () => createPostgresStorage({ connectionString: POSTGRES_URL, schema: lastSchema, poolSize: 2 }),
  );
}
