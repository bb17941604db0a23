import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cli, cliJson, initStore } from '../helpers/cli-process.js';
import { serveExpectingFailure } from '../helpers/serve-exit.js';
import { availableStacks, type Stack, type StackProcessArgs } from '../helpers/stacks.js';

/**
 * What the server and the CLI do when the data directory is not what it should be: refuse to
 * run with a message that names the real cause, the path and the way out — never start looking
 * healthy with a fresh master key, never blame the port for a database error.
 */
const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tempDir(prefix: string) {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  directories.push(directory);
  return directory;
}

// The master key lives in the data directory whatever the database is, so its faults are tried
// on every stack CI has: with PostgreSQL the keys and secrets it guards are in the database.
const stacks = await availableStacks();
const placed: StackProcessArgs[] = [];
afterAll(async () => {
  for (const place of placed.splice(0)) await place.close();
});

/** A data directory on `stack` (its flags in `d`), in use: keys, a client with a secret. */
async function populatedDataDir(stack: Stack) {
  const dataDir = join(tempDir('m2m-auth-faults-'), 'data');
  const place = await stack.processArgs(dataDir);
  placed.push(place);
  const d = ['--data-dir', dataDir, ...place.args];
  await initStore(d);
  await cliJson(['clients', 'create', '--name', 'billing', ...d]);
  return { dataDir, d };
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe.each(stacks)('master key missing or wrong, on $name', (stack) => {
  it('master.key moved away: serve and the CLI refuse, say what happened and how to recover, and create no new key', async () => {
    const { dataDir, d } = await populatedDataDir(stack);
    renameSync(join(dataDir, 'master.key'), join(dataDir, '..', 'master.key.moved'));

    const served = await serveExpectingFailure(d);
    expect(served.started).toBe(false);
    expect(served.code).toBe(1);
    expect(served.stderr).toContain(`${join(dataDir, 'master.key')} is missing`);
    // The keys and secrets are in the database, which is not the data directory on PostgreSQL.
    expect(served.stderr).toContain(`the database ${stack.name === 'sqlite' ? join(dataDir, 'm2m-auth.db') : 'postgres://'}`);
    expect(served.stderr).toMatch(/holds 1 signing key\(s\) and 1 client secret\(s\)/);
    expect(served.stderr).not.toContain(`data directory ${dataDir} holds`);
    expect(served.stderr).toMatch(/restore master\.key from a backup/);
    noStack(served.stderr);

    const listed = await cli(['clients', 'list', ...d]);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/master\.key is missing/);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);

    renameSync(join(dataDir, '..', 'master.key.moved'), join(dataDir, 'master.key'));
    expect((await cli(['clients', 'list', ...d])).code).toBe(0);
  });

  it('a wrong M2M_AUTH_MASTER_KEY: serve and the CLI refuse and name the source', async () => {
    const { d } = await populatedDataDir(stack);
    const wrong = (await cli(['master-key'])).stdout.trim();
    const served = await serveExpectingFailure(d, { env: { ...process.env, M2M_AUTH_MASTER_KEY: wrong } });
    expect(served.started).toBe(false);
    expect(served.code).toBe(1);
    expect(served.stderr).toMatch(/The master key from M2M_AUTH_MASTER_KEY does not open the signing keys/);
    noStack(served.stderr);
    const created = await cli(['clients', 'create', '--name', 'x', ...d], { M2M_AUTH_MASTER_KEY: wrong });
    expect(created.code).toBe(1);
    expect(created.stderr).toMatch(/does not open the signing keys/);
  });

  it('a fresh data directory gets its master key from init, and from no other management command', async () => {
    const dataDir = join(tempDir('m2m-auth-fresh-'), 'data');
    const place = await stack.processArgs(dataDir);
    placed.push(place);
    const listed = await cli(['clients', 'list', '--data-dir', dataDir, ...place.args]);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('m2m-auth init');
    expect(existsSync(dataDir)).toBe(false);
    expect((await cli(['init', '--data-dir', dataDir, ...place.args])).code).toBe(0);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(true);
    expect((await cli(['clients', 'list', '--data-dir', dataDir, ...place.args])).code).toBe(0);
  });
});

const isRoot = process.getuid?.() === 0;

/**
 * Root bypasses file permissions, so "read-only" is made real for root by running the server
 * without the capabilities that bypass them (setpriv drops CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH): still root, owning the data directory, yet held to its modes — what an
 * operator hits — and still able to reach the checkout wherever it is (a clone in a private
 * directory is out of reach of an unprivileged user). Without setpriv, as nobody (uid 65534),
 * when nobody can reach the CLI; else the case is skipped and says why.
 */
function readOnlyRunner(): { wrapper?: string[]; asNobody?: boolean; skip?: string } {
  if (!isRoot) return {};
  const dropped = ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'];
  if (spawnSync(dropped[0]!, [...dropped.slice(1), process.execPath, '-e', ''], { stdio: 'ignore' }).status === 0) return { wrapper: dropped };
  const reach = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(CLI)}, require('fs').constants.R_OK)`], {
    uid: 65534,
    gid: 65534,
    stdio: 'ignore',
  });
  if (reach.status === 0) return { asNobody: true };
  return { skip: `running as root without setpriv, and uid 65534 cannot reach ${CLI} (a checkout in a private directory)` };
}

// The database file in an unusable data directory: SQLite's concern (PostgreSQL has its own
// outage test, test/http/storage-outage.test.ts).
const sqlite = stacks.find((stack) => stack.name === 'sqlite')!;

describe('data directory unusable (SQLite)', () => {
  const readOnly = readOnlyRunner();
  if (readOnly.skip) console.warn(`data-dir-faults: read-only case skipped: ${readOnly.skip}`);
  it.skipIf(readOnly.skip !== undefined)(
    `read-only: the error names the database file and EACCES, not the port${readOnly.skip ? ` (skipped: ${readOnly.skip})` : ''}`,
    async () => {
      const { dataDir } = await populatedDataDir(sqlite);
      if (readOnly.asNobody) for (const name of ['', ...readdirSync(dataDir)]) chownSync(join(dataDir, name), 65534, 65534);
      for (const name of readdirSync(dataDir)) chmodSync(join(dataDir, name), 0o400);
      chmodSync(dataDir, 0o500);
      try {
        const served = await serveExpectingFailure(['--data-dir', dataDir], {
          ...(readOnly.asNobody ? { uid: 65534, gid: 65534 } : {}),
          ...(readOnly.wrapper ? { wrapper: readOnly.wrapper } : {}),
        });
        expect(served.started).toBe(false);
        expect(served.code).toBe(1);
        expect(served.stderr).toContain(`cannot open the database ${join(dataDir, 'm2m-auth.db')}: EACCES`);
        expect(served.stderr).not.toMatch(/listen/);
        noStack(served.stderr);
      } finally {
        chmodSync(dataDir, 0o700);
      }
    },
  );

  it('a data directory path that is a file: the error names the path', async () => {
    const file = join(tempDir('m2m-auth-file-'), 'not-a-dir');
    writeFileSync(file, 'x');
    const served = await serveExpectingFailure(['--data-dir', file]);
    expect(served.code).toBe(1);
    expect(served.stderr).toContain(file);
    expect(served.stderr).toMatch(/ENOTDIR|EEXIST/);
    noStack(served.stderr);
  });

  it('the port is taken: the error names the address, not a file', async () => {
    const { dataDir } = await populatedDataDir(sqlite);
    const blocker = await import('node:net').then(
      ({ createServer }) =>
        new Promise<import('node:net').Server>((resolve) => {
          const server = createServer().listen(0, '127.0.0.1', () => resolve(server));
        }),
    );
    const { port } = blocker.address() as { port: number };
    try {
      const served = await serveExpectingFailure(['--data-dir', dataDir, '--port', String(port)]);
      expect(served.code).toBe(1);
      expect(served.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is already in use`);
    } finally {
      blocker.close();
    }
  });

  const tmpfs = tryMountTinyTmpfs();
  it.skipIf(!tmpfs.path)(`full: the error names the data directory and the reason (tmpfs: ${tmpfs.reason ?? 'mounted'})`, async () => {
    const full = tmpfs.path!;
    // Fill the file system, then start on a fresh data directory inside it.
    spawnSync('dd', ['if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4096'], { stdio: 'ignore' });
    const dataDir = join(full, 'data');
    const served = await serveExpectingFailure(['--data-dir', dataDir]);
    expect(served.started).toBe(false);
    expect(served.code).toBe(1);
    expect(served.stderr).toContain(dataDir);
    expect(served.stderr).toMatch(/ENOSPC|full/);
    noStack(served.stderr);
  });
});

/** A 256 KiB tmpfs, when this process may mount one (root with CAP_SYS_ADMIN); else why not. */
function tryMountTinyTmpfs(): { path?: string; reason?: string } {
  if (!isRoot) return { reason: 'not root, cannot mount a tmpfs' };
  const path = tempDir('m2m-auth-tmpfs-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', path], { encoding: 'utf8' });
  if (mounted.status !== 0) return { reason: `mount failed: ${mounted.error?.message ?? mounted.stderr.trim()}` };
  afterAll(() => {
    spawnSync('umount', [path]);
  });
  mkdirSync(join(path, '.'), { recursive: true });
  return { path };
}
