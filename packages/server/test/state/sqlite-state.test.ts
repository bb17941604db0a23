import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createSqliteState } from '../../src/state/sqlite/sqlite-state.js';
import { describeSharedStateConformance } from './state-conformance.js';

const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-state-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
let lastPath = '';

describeSharedStateConformance('sqlite', {
  make: async (clock, options) => createSqliteState({ path: (lastPath = join(directory, `state-${(files += 1)}.db`)), now: clock.now, ...options }),
  openAnother: async (clock) => createSqliteState({ path: lastPath, now: clock.now }),
});

it('creates the state file readable by its owner only, and keeps entries across reopening', async () => {
  const path = join(directory, 'nested', 'state.db');
  const first = createSqliteState({ path, now: () => 1000 });
  await first.useOnce('a', 5000);
  await first.close();
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const second = createSqliteState({ path, now: () => 2000 });
  expect(await second.useOnce('a', 5000)).toBe(false);
  await second.close();
});
