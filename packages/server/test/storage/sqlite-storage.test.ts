import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeStorageConformance } from './conformance/storage-conformance.js';
import { createSqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';

const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-sqlite-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let databases = 0;

describeStorageConformance('sqlite', async () => createSqliteStorage({ path: join(directory, `conformance-${(databases += 1)}.db`) }));

describe('sqlite adapter specifics', () => {
  const T0 = Date.UTC(2026, 0, 1);
  const api = {
    identifier: 'https://orders.example',
    name: 'Orders',
    scopes: [{ value: 'read:orders', description: '' }],
    signingAlg: 'RS256' as const,
    tokenTtlSeconds: 900,
    createdAt: T0,
    updatedAt: T0,
  };

  it('creates the database file readable by its owner only', async () => {
    const path = join(directory, 'nested', 'private.db');
    const storage = createSqliteStorage({ path });
    await storage.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('a write by one connection is seen by another, and moves its revision (CLI and server share a file)', async () => {
    const path = join(directory, 'shared.db');
    const server = createSqliteStorage({ path });
    const cli = createSqliteStorage({ path });
    const before = await server.currentRevision();
    await cli.createApi(api);
    expect(await server.currentRevision()).not.toBe(before);
    expect(await server.getApi(api.identifier)).toEqual(api);
    await cli.close();
    await server.close();
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
});
