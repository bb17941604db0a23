import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, m2mAuth, startAuthServer } from '../../examples/demo/auth-server.mjs';
import { run } from '../../examples/test/helpers/harness.js';
import { PUBLISHED, ROOT, packPackages, requireBuiltPackages } from '../../scripts/pack-packages.mjs';

/**
 * docs/install.md, done: the tarballs of `npm run pack` installed into two projects outside the
 * repository — the CLI with the SDKs, and the SDKs alone — then a server started from the installed
 * CLI issues a token that a script using only the installed SDKs gets and verifies.
 *
 * `npm install` takes third-party packages from the npm cache when it has them (--prefer-offline)
 * and from the registry otherwise. It runs with --ignore-scripts, and better-sqlite3's native
 * binding is copied from this repository's node_modules when it is the same version: otherwise its
 * install script builds it from source where no prebuilt binary can be downloaded, which takes
 * minutes and tests better-sqlite3, not m2m-auth. A different version is rebuilt (slow, bounded).
 */
const INSTALL_TIMEOUT = 300_000;
const AUDIENCE = 'https://orders.example';

const GET_TOKEN = `import { createTokenClient } from '@m2m-auth/client';
import { createVerifier } from '@m2m-auth/resource-server';

const { M2M_AUTH_ISSUER: issuer, CLIENT_ID: clientId, CLIENT_SECRET: clientSecret } = process.env;
const tokens = createTokenClient({ issuer, clientId, clientSecret, audience: '${AUDIENCE}', scope: 'read:orders' });
const token = await tokens.getToken();
const caller = await createVerifier({ issuer, audience: '${AUDIENCE}' }).verify(token.accessToken);
console.log(\`verified: client \${caller.clientId}, scopes \${caller.scopes.join(' ')}\`);
tokens.close();
`;

let scratch;
let tarballs;

/** A new project with `type: module` and the given tarballs installed; returns its directory. */
async function installProject(name, packageNames) {
  const dir = join(scratch, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `install-check-${name}`, private: true, type: 'module' }));
  const files = packageNames.map((packageName) => tarballs.find((entry) => entry.name === packageName).tarball);
  const installed = await run('npm', ['install', ...files, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
    timeout: INSTALL_TIMEOUT,
  });
  if (installed.code !== 0) throw new Error(`npm install failed:\n${installed.stderr}`);
  writeFileSync(join(dir, 'get-token.mjs'), GET_TOKEN);
  return dir;
}

/** better-sqlite3's binding, from this repository's build when it is the same version (see above). */
async function provideSqliteBinding(project) {
  const version = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  const ours = join(ROOT, 'node_modules/better-sqlite3');
  const theirs = join(project, 'node_modules/better-sqlite3');
  const binding = 'build/Release/better_sqlite3.node';
  if (existsSync(join(ours, binding)) && version(ours) === version(theirs)) {
    mkdirSync(join(theirs, 'build/Release'), { recursive: true });
    copyFileSync(join(ours, binding), join(theirs, binding));
    return;
  }
  const rebuilt = await run('npm', ['rebuild', 'better-sqlite3'], { cwd: project, timeout: INSTALL_TIMEOUT });
  if (rebuilt.code !== 0) throw new Error(`npm rebuild better-sqlite3 failed:\n${rebuilt.stderr}`);
}

let withCli;
let sdkOnly;

beforeAll(
  async () => {
    requireBuiltPackages();
    scratch = mkdtempSync(join(tmpdir(), 'm2m-auth-install-'));
    tarballs = packPackages(join(scratch, 'tarballs'));
    withCli = await installProject('with-cli', ['@m2m-auth/server', '@m2m-auth/client', '@m2m-auth/resource-server', '@m2m-auth/sdk-core']);
    await provideSqliteBinding(withCli);
    sdkOnly = await installProject('sdk-only', ['@m2m-auth/client', '@m2m-auth/resource-server', '@m2m-auth/sdk-core']);
  },
  2 * INSTALL_TIMEOUT + 60_000,
);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('installing the tarballs of npm run pack into another project', () => {
  it('installs one copy of each package, from the tarballs', () => {
    const manifest = JSON.parse(readFileSync(join(withCli, 'package.json'), 'utf8'));
    for (const { name } of PUBLISHED) expect(manifest.dependencies[name], name).toMatch(/^file:.*\.tgz$/);
    // the server's and the SDKs' dependencies on each other were satisfied by the tarballs, not a registry
    expect(existsSync(join(withCli, 'node_modules/@m2m-auth/server/node_modules/@m2m-auth'))).toBe(false);
    expect(existsSync(join(withCli, 'node_modules/@m2m-auth/client/node_modules/@m2m-auth'))).toBe(false);
  });

  const expectHelp = (help) => {
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: m2m-auth /);
    expect(help.stdout).toMatch(/^ {2}serve /m);
  };

  it('node_modules/.bin/m2m-auth --help runs the CLI, and so do npm exec and npx --no-install in the project', async () => {
    expectHelp(await run(join(withCli, 'node_modules/.bin/m2m-auth'), ['--help'], { cwd: withCli, timeout: 30_000 }));
    expectHelp(await run('npm', ['exec', '--', 'm2m-auth', '--help'], { cwd: withCli, timeout: 60_000 }));
    expectHelp(await run('npx', ['--no-install', 'm2m-auth', '--help'], { cwd: withCli, timeout: 60_000 }));
  }, 90_000);

  it(
    'npm install -g with the three tarballs puts m2m-auth on the PATH',
    async () => {
      const prefix = join(scratch, 'global');
      const files = ['@m2m-auth/server', '@m2m-auth/client', '@m2m-auth/sdk-core'].map((name) => tarballs.find((entry) => entry.name === name).tarball);
      const installed = await run('npm', ['install', '-g', '--prefix', prefix, ...files, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
        cwd: scratch,
        timeout: INSTALL_TIMEOUT,
      });
      expect(installed.code, installed.stderr).toBe(0);
      expectHelp(await run('m2m-auth', ['--help'], { cwd: scratch, env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` }, timeout: 30_000 }));
    },
    INSTALL_TIMEOUT + 30_000,
  );

  it('a server started from the installed CLI issues a token that the installed SDKs get and verify', async () => {
    const cli = join(withCli, 'node_modules/.bin/m2m-auth');
    const dataDir = join(withCli, 'm2m-auth-data');
    await m2mAuth(dataDir, ['init'], { cli });
    await m2mAuth(dataDir, ['apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:orders,write:orders'], { cli });
    const client = await m2mAuth(dataDir, ['clients', 'create', '--name', 'install-check'], { cli });
    await m2mAuth(dataDir, ['grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:orders'], { cli });
    const server = await startAuthServer({ dataDir, port: await freePort(), cli });
    try {
      const env = { M2M_AUTH_ISSUER: server.url, CLIENT_ID: client.client_id, CLIENT_SECRET: client.client_secret };
      for (const project of [withCli, sdkOnly]) {
        const result = await run(process.execPath, ['get-token.mjs'], { cwd: project, env, timeout: 30_000 });
        expect([result.code, result.stdout.trim()], result.stderr).toEqual([0, `verified: client ${client.client_id}, scopes read:orders`]);
      }
    } finally {
      await server.stop();
    }
  }, 90_000);
});
