import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createMemoryStorage } from '../../src/storage/memory/memory-storage.js';
import { createSqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { describeLifecycleConformance } from './lifecycle-conformance.js';

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
