import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createSqliteState } from '../../src/state/sqlite/sqlite-state.js';
import { describeSharedStateConformance } from './state-conformance.js';

const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-state-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
let lastPath = '';

describeSharedStateConformance('sqlite', {
  make: async (clock, options) => createSqliteState({ path: (lastPath = join(directory, `state-${(files += 1)}.db`)), now: clock.now, ...options }),
  openAnother: async (clock, options) => createSqliteState({ path: lastPath, now: clock.now, ...options }),
});

it('creates the state file readable by its owner only, and keeps entries across reopening', async () => {
  const path = join(directory, 'nested', 'state.db');
  const first = createSqliteState({ path, now: () => 1000 });
  await first.useOnce('a', 5000, 'client');
  await first.close();
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const second = createSqliteState({ path, now: () => 2000 });
  expect(await second.useOnce('a', 5000, 'client')).toBe(false);
  await second.close();
});

it('upgrades a state file of the first format in place: its revocations and used assertions still hold', async () => {
  const path = join(directory, 'v0', 'state.db');
  const old = createV0StateFile(path);
  old.prepare('INSERT INTO revoked_tokens (key, expires_at) VALUES (?, ?)').run('revoked-before', 60_000);
  old.prepare('INSERT INTO used_assertions (key, expires_at) VALUES (?, ?)').run('used-before', 60_000);
  old.close();
  const upgraded = createSqliteState({ path, now: () => 1000, allowance: { revocations: 1, assertions: 1 } });
  expect(await upgraded.isTokenRevoked('revoked-before')).toBe(true);
  expect(await upgraded.useOnce('used-before', 60_000, 'client-a')).toBe(false);
  // Rows of the old format belong to nobody: they do not use up any client's allowance.
  await upgraded.revokeToken('revoked-after', 60_000, 'client-a');
  expect(await upgraded.useOnce('used-after', 60_000, 'client-a')).toBe(true);
  await upgraded.putOpaqueToken('opaque-after', 'claims', 60_000, 'client-a');
  expect(await upgraded.getOpaqueToken('opaque-after')).toBe('claims');
  await upgraded.close();
  const reopened = createSqliteState({ path, now: () => 1000, allowance: { revocations: 1, assertions: 1 } });
  await expect(reopened.revokeToken('revoked-again', 60_000, 'client-a')).rejects.toMatchObject({ concern: 'revocations' });
  await reopened.close();
});

it('upgrades a state file of the second format (before opaque tokens): its entries hold and opaque tokens are counted per client', async () => {
  const path = join(directory, 'v1', 'state.db');
  const first = createSqliteState({ path, now: () => 1000 });
  await first.revokeToken('revoked-before', 60_000, 'client-a');
  await first.close();
  const db = new BetterSqlite3(path);
  db.exec(`DROP TABLE opaque_tokens; DELETE FROM entry_counts WHERE concern = 'opaque_tokens'; PRAGMA user_version = 1;`);
  db.close();
  const upgraded = createSqliteState({ path, now: () => 1000, allowance: { opaqueTokens: 1 } });
  expect(await upgraded.isTokenRevoked('revoked-before')).toBe(true);
  await upgraded.putOpaqueToken('one', 'claims', 60_000, 'client-a');
  await expect(upgraded.putOpaqueToken('two', 'claims', 60_000, 'client-a')).rejects.toMatchObject({ concern: 'opaqueTokens' });
  await upgraded.close();
});

/** The schema state.db files were created with before owners and allowances existed. */
function createV0StateFile(path: string) {
  mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  db.exec(`
    CREATE TABLE revoked_tokens (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE used_assertions (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE attempt_counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE token_buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  `);
  return db;
}
