import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliJson, initStore } from '../helpers/cli-process.js';

/**
 * The CLI in an operator's first hour: the mistakes a trial run made (a command in the wrong
 * directory that printed `(none)` and left a new database behind, a duplicate client name, a
 * malformed flag) answered in plain words, and the help that finds the way (which store a command
 * used, the global options, shell completion).
 */
const root = mkdtempSync(join(tmpdir(), 'm2m-auth-first-hour-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /);

function emptyDir(name: string) {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe('a command pointed at a store that does not exist', () => {
  it('in the wrong working directory: says so, names the path and how to create it, exits 1, leaves nothing', async () => {
    const cwd = emptyDir('elsewhere');
    const expected = join(cwd, 'm2m-auth-data');
    for (const args of [['clients', 'list'], ['apis', 'create', '--identifier', 'https://orders.example'], ['keys', 'list'], ['export']]) {
      const result = await cli(args, {}, { cwd });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`store: sqlite ${join(expected, 'm2m-auth.db')}\n`);
      expect(result.stderr).toContain(`error: no m2m-auth data directory at ${expected}`);
      expect(result.stderr).toContain(`  m2m-auth init --data-dir ${expected}\n`);
      expect(result.stderr).toContain(`m2m-auth serve --data-dir ${expected}`);
      noStack(result.stderr);
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a data directory without a database, a path that is a file, a mistyped sqlite: URL: each named, nothing created', async () => {
    const dir = emptyDir('no-database');
    const missing = await cli(['clients', 'list', '--data-dir', dir, '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({
      error: 'usage',
      message: expect.stringMatching(new RegExp(`^no m2m-auth database at ${join(dir, 'm2m-auth.db')}\\.\\n`)),
      store: { kind: 'sqlite', location: join(dir, 'm2m-auth.db') },
    });
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect((await cli(['grants', 'list', '--data-dir', file])).stderr).toContain(`error: ${file} is not a directory`);
    const typo = await cli(['clients', 'list', '--data-dir', dir, '--database-url', `sqlite:${join(dir, 'typo.db')}`]);
    expect(typo.stderr).toContain(`no m2m-auth database at ${join(dir, 'typo.db')}`);
    expect(typo.stderr).toContain(`m2m-auth init --database-url sqlite:${join(dir, 'typo.db')} --data-dir ${dir}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('decode still shows the claims, and does not create a database to check the signature', async () => {
    const cwd = emptyDir('decode');
    const jwt = `${Buffer.from('{"alg":"RS256","kid":"k1"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2ln`;
    const decoded = await cli(['decode', jwt, '--json'], {}, { cwd });
    expect(decoded.code).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({
      claims: { sub: 'x' },
      signature: expect.stringContaining('not checked (no m2m-auth data directory at'),
    });
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('init', () => {
  it('creates the data directory, database, master key and a signing key, says what it made, and makes nothing twice', async () => {
    const dataDir = join(root, 'new-data');
    const first = await cli(['init', '--data-dir', dataDir]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Created the data directory ${dataDir}\n`);
    expect(first.stdout).toContain(`Created the database ${join(dataDir, 'm2m-auth.db')}\n`);
    expect(first.stdout).toContain(`Created the master key ${join(dataDir, 'master.key')} (mode 0600).`);
    expect(first.stdout).toMatch(/Created the RS256 signing key \S+/);
    expect(first.stdout).toContain(`  m2m-auth serve --data-dir ${dataDir}\n`);
    expect(first.stderr).toBe(`store: sqlite ${join(dataDir, 'm2m-auth.db')}\n`);

    const again = await cli(['init', '--data-dir', dataDir]);
    expect(again.stdout).toContain(`Nothing to create: ${join(dataDir, 'm2m-auth.db')} and its master key (${join(dataDir, 'master.key')}) are in place.`);
    expect(await cliJson(['init', '--data-dir', dataDir])).toEqual({
      data_dir: dataDir,
      database: join(dataDir, 'm2m-auth.db'),
      master_key: join(dataDir, 'master.key'),
      created: { data_dir: false, database: false, master_key: false, signing_keys: [] },
    });
    expect((await cli(['clients', 'list', '--data-dir', dataDir])).stdout).toBe('(none)\n');
  });
});

describe('every command says which store it used', () => {
  const dataDir = join(root, 'store-line');
  const database = join(dataDir, 'm2m-auth.db');

  it('on stderr for people; for --json, stdout unchanged and a last stderr line {"store": …}', async () => {
    await initStore(['--data-dir', dataDir]);
    const human = await cli(['apis', 'create', '--identifier', 'https://orders.example', '--data-dir', dataDir]);
    expect(human.stderr).toBe(`store: sqlite ${database}\n`);
    expect(human.stdout).toMatch(/^API created/);
    const json = await cli(['apis', 'list', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ identifier: 'https://orders.example' })]);
    expect(json.stderr).toBe(`${JSON.stringify({ store: { kind: 'sqlite', location: database } })}\n`);
    // A secret-printing command keeps its warning; the store line comes last.
    const created = await cli(['clients', 'create', '--name', 'billing-service', '--data-dir', dataDir, '--json']);
    expect(created.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^warning: Store this secret now/),
      JSON.stringify({ store: { kind: 'sqlite', location: database } }),
    ]);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'billing-service', client_secret: expect.stringMatching(/^m2msk_/) });
  });

  it('names a PostgreSQL database without its credentials', async () => {
    // Nothing answers on port 1: the store is named before connecting, so a failure shows where it looked.
    const refused = await cli(['clients', 'list', '--data-dir', dataDir, '--database-url', 'postgres://admin:s3cret@127.0.0.1:1/m2m?password=other']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.split('\n')[0]).toBe('store: postgres postgres://127.0.0.1:1/m2m');
    expect(refused.stderr).not.toMatch(/s3cret|other/);
    noStack(refused.stderr);
  });
});

describe('client names are unique', () => {
  const d = ['--data-dir', join(root, 'names')];

  it('create and rename refuse a name another client has; apply refuses a document that names two clients alike', async () => {
    await initStore(d);
    const billing = await cliJson<{ client_id: string }>(['clients', 'create', '--name', 'billing-service', ...d]);
    const again = await cli(['clients', 'create', '--name', 'billing-service', ...d]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error: A client named "billing-service" already exists (${billing.client_id}): client names are unique\n`);
    const reports = await cliJson<{ client_id: string }>(['clients', 'create', '--name', 'reports', ...d]);
    const renamed = await cli(['clients', 'update', reports.client_id, '--name', 'billing-service', ...d, '--json']);
    expect(JSON.parse(renamed.stderr)).toMatchObject({ error: 'conflict', field: 'name' });

    const document = join(root, 'twins.yaml');
    writeFileSync(document, 'version: 1\nclients:\n  - name: invoices\n  - name: invoices\n    description: the same name again\n');
    const applied = await cli(['apply', '-f', document, ...d]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('clients[1].name: a second client named invoices (the first is clients[0])');
    const kept = join(root, 'kept.yaml');
    writeFileSync(kept, 'version: 1\nclients:\n  - name: billing-service\n    client_id: another-billing\n');
    expect((await cli(['apply', '-f', kept, ...d])).stderr).toContain(`"billing-service" is the name of ${billing.client_id} on the server`);
    expect((await cliJson<unknown[]>(['clients', 'list', ...d])).length).toBe(2);
  });
});

describe('malformed global options', () => {
  const admin = { M2M_AUTH_ADMIN_CLIENT_ID: 'admin', M2M_AUTH_ADMIN_CLIENT_SECRET: 'secret' };

  it.each([
    [['clients', 'list', '--server', 'not-a-url'], {}, '--server / M2M_AUTH_SERVER: not a URL ("not-a-url")'],
    [['clients', 'list', '--server', 'not-a-url'], admin, '--server / M2M_AUTH_SERVER: not a URL ("not-a-url")'],
    [['--server', 'ftp://auth.example', 'apis', 'list'], admin, '--server / M2M_AUTH_SERVER: refusing to send'],
    [['clients', 'list', '--database-url', 'mysql://db/m2m'], {}, '--database-url / M2M_AUTH_DATABASE_URL: unsupported database URL'],
    [['clients', 'list', '--database-url', 'postgres://u:pw@[bad'], {}, '--database-url / M2M_AUTH_DATABASE_URL: not a valid PostgreSQL URL'],
    [['clients', 'list', '--redis-url', 'localhost:6379'], {}, '--redis-url / M2M_AUTH_REDIS_URL: must be a redis:// or rediss:// URL'],
    [['serve', '--port', 'eighty'], {}, '--port / M2M_AUTH_PORT: must be a port number from 0 to 65535 (got "eighty")'],
    [['audit', 'list', '--limit', 'ten'], {}, "option '--limit <n>' argument 'ten' is invalid. --limit must be a whole number."],
    [['clients', 'secrets', 'add', 'x', '--expires-in', 'soon'], {}, '--expires-in must be a duration'],
    [['--json', 'master-key'], {}, '--json does not apply to `m2m-auth master-key`'],
    [['token', '--client', 'c', '--secret', 's', '--url', 'localhost'], {}, '--url: not a URL ("localhost")'],
  ] as const)('%j: one line in the CLI’s words naming the option, exit 1, no stack', async (args, env, message) => {
    const result = await cli([...args], env, { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('pw@');
    noStack(result.stderr);
  });

  it('global options go before the command as well as after it; --help lists them', async () => {
    const dataDir = join(root, 'global');
    await initStore(['--data-dir', dataDir]);
    expect(await cliJson(['--data-dir', dataDir, 'keys', 'list'])).toEqual([expect.objectContaining({ alg: 'RS256', status: 'active' })]);
    const help = await cli(['--help']);
    for (const option of ['--data-dir <dir>', '--database-url <url>', '--redis-url <url>', '--server <url>', '--json']) expect(help.stdout).toContain(option);
    expect(help.stdout).toMatch(/init \[options\]\s+create the data directory/);
    expect(help.stdout).toMatch(/completion <shell>/);
  });
});

describe('shell completion', () => {
  const commands = [
    'serve',
    'init',
    'migrate',
    'apis',
    'clients',
    'grants',
    'issuers',
    'exchange-policies',
    'keys',
    'audit',
    'usage',
    'export',
    'apply',
    'admin',
    'token',
    'decode',
    'master-key',
    'completion',
  ];
  const hasShell = (shell: string) => spawnSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;

  it('bash: valid syntax, and it completes commands, subcommands, options and option choices', async () => {
    const script = join(root, 'm2m-auth.bash');
    const generated = await cli(['completion', 'bash']);
    expect(generated.code).toBe(0);
    writeFileSync(script, generated.stdout);
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    const complete = (line: string) => {
      const probe = [
        `source ${JSON.stringify(script)}`,
        `read -ra COMP_WORDS <<< ${JSON.stringify(line)}`,
        line.endsWith(' ') ? 'COMP_WORDS+=("")' : ':',
        'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))',
        '_m2m_auth',
        'echo "${COMPREPLY[*]}"',
      ].join('\n');
      return spawnSync('bash', ['-c', probe], { encoding: 'utf8' }).stdout.trim();
    };
    expect(complete('m2m-auth ').split(' ')).toEqual(commands);
    expect(complete('m2m-auth cl')).toBe('clients');
    expect(complete('m2m-auth clients ')).toBe('create list show update disable enable delete rotate-secret secrets federated');
    expect(complete('m2m-auth issuers add --kind ')).toBe('oidc kubernetes spiffe');
    expect(complete('m2m-auth clients secrets ')).toBe('add list revoke');
    expect(complete('m2m-auth clients create --na')).toBe('--name');
    expect(complete('m2m-auth --data-dir /srv/data clients create --')).toContain('--jwks-file');
    expect(complete('m2m-auth export --format ')).toBe('yaml json');
    expect(complete('m2m-auth completion ')).toBe('');
  });

  it.each(['zsh', 'fish'])('%s: lists every command (and passes the shell’s own -n check where it is installed)', async (shell) => {
    const generated = await cli(['completion', shell]);
    expect(generated.code).toBe(0);
    for (const command of commands) expect(generated.stdout).toContain(command);
    expect(generated.stdout).toContain('rotate-secret');
    expect(generated.stdout).toContain(shell === 'fish' ? '-l database-url' : '--database-url');
    if (!hasShell(shell)) return;
    const script = join(root, `m2m-auth.${shell}`);
    writeFileSync(script, generated.stdout);
    const checked = spawnSync(shell, ['-n', script], { encoding: 'utf8' });
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
  });

  it('an unknown shell is refused by name', async () => {
    const result = await cli(['completion', 'powershell']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("'powershell' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish.");
  });
});
