import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { cli, initStore, startServeProcess, waitForExit } from '../helpers/cli-process.js';

/** `m2m-auth apply` and `export` as an operator runs them: real processes on one SQLite data directory. */
const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-config-e2e-'));
const d = ['--data-dir', join(dir, 'data')];
const file = (name: string, content: string) => (writeFileSync(join(dir, name), content), join(dir, name));

const documentYaml = `
version: 1
apis:
  - identifier: https://orders.example
    name: Orders
    scopes:
      - value: read:orders
        description: Read orders
      - write:orders
clients:
  - name: billing-service
    default_api: https://orders.example
  - name: reporting
grants:
  - client: billing-service
    api: https://orders.example
    scopes: [read:orders]
  - client: reporting
    api: https://orders.example
    scopes: [read:orders]
`;

beforeAll(() => initStore(d));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('m2m-auth apply / export', () => {
  const doc = file('m2m-auth.yaml', documentYaml);
  let billingSecret = '';

  it('--dry-run shows the plan and changes nothing', async () => {
    const dry = await cli(['apply', '-f', doc, '--dry-run', ...d]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Plan: 5 to create, 0 to update, 0 to delete.');
    expect(dry.stdout).toContain('+ api https://orders.example');
    expect(dry.stdout).toContain('+ grant billing-service → https://orders.example');
    expect(dry.stdout).toContain('Dry run: nothing was changed.');
    expect((await cli(['clients', 'list', ...d])).stdout).toContain('(none)');
  });

  it('applies, printing each new secret once; a second apply changes nothing and says so', async () => {
    const applied = await cli(['apply', '-f', doc, ...d]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('Applied: 5 created, 0 updated, 0 deleted.');
    billingSecret = /client billing-service \(\w+\): client_secret (\S+)/.exec(applied.stdout)![1]!;
    expect(applied.stderr).toMatch(/shown only once/);

    const again = await cli(['apply', '-f', doc, ...d]);
    expect(again.stdout.trim()).toBe('No changes: the server already matches the document.');
    const exported = await cli(['export', ...d]);
    for (const output of [again.stdout, again.stderr, exported.stdout]) expect(output).not.toContain(billingSecret);
  });

  it('issues tokens to a client created by apply, with the secret it printed', async () => {
    const exported = YAML.parse((await cli(['export', ...d])).stdout) as { clients: { client_id: string; name: string }[] };
    const clientId = exported.clients.find((client) => client.name === 'billing-service')!.client_id;
    const server = await startServeProcess(['--port', '0', ...d]);
    try {
      const response = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${billingSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ scope: 'read:orders' });
      expect(server.stdout()).not.toContain(billingSecret);
    } finally {
      server.child.kill('SIGTERM');
      await waitForExit(server.child);
    }
  });

  it('exports YAML and JSON that apply back without a change', async () => {
    const yaml = await cli(['export', ...d]);
    const json = await cli(['export', '--format', 'json', '-o', join(dir, 'export.json'), ...d]);
    expect(json.code).toBe(0);
    const fromJson = JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8'));
    expect(YAML.parse(yaml.stdout)).toEqual(fromJson);
    // Created in one millisecond, the grants are listed in id order: compare them as a set.
    expect([...fromJson.grants].sort((a: { client: string }, b: { client: string }) => a.client.localeCompare(b.client))).toEqual([
      { client: 'billing-service', api: 'https://orders.example', scopes: ['read:orders'], token_ttl_seconds: null },
      { client: 'reporting', api: 'https://orders.example', scopes: ['read:orders'], token_ttl_seconds: null },
    ]);
    const reapplied = await cli(['apply', '-f', join(dir, 'export.json'), '--json', ...d]);
    // No warning (no secret was made): only the store used, as --json names it.
    expect(reapplied.stderr).toBe(`${JSON.stringify({ store: { kind: 'sqlite', location: join(dir, 'data', 'm2m-auth.db') } })}\n`);
    expect(JSON.parse(reapplied.stdout)).toMatchObject({ plan: { changes: [], kept: [] }, applied: false });
  });

  it('keeps what the document leaves out unless --prune is given', async () => {
    const smaller = file('smaller.yaml', documentYaml.replace(/  - name: reporting\n/, '').replace(/  - client: reporting[\s\S]*$/, ''));
    const kept = await cli(['apply', '-f', smaller, ...d]);
    expect(kept.stdout).toContain('Not in the document, kept (apply with --prune to delete):');
    expect(kept.stdout).toMatch(/ {2}client reporting \(\w+\)/);

    const pruned = await cli(['apply', '-f', smaller, '--prune', ...d]);
    expect(pruned.stdout).toMatch(/- client reporting \(\w+\)/);
    expect(pruned.stdout).toContain('- grant reporting → https://orders.example');
    expect(pruned.stdout).toContain('Applied: 0 created, 0 updated, 2 deleted.');
  });

  it('--prune refuses to delete the last client holding admin scopes unless --allow-delete-admin', async () => {
    const adminDir = ['--data-dir', join(dir, 'admin-data')];
    const boot = await cli(['admin', 'bootstrap', '--json', ...adminDir]);
    expect(boot.code).toBe(0);
    const empty = file('empty.yaml', 'version: 1\n');
    const refused = await cli(['apply', '-f', empty, '--prune', ...adminDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/last client holding admin scopes.*--allow-delete-admin/);
    expect((await cli(['clients', 'list', ...adminDir])).stdout).toContain('m2m-auth-admin');
    const allowed = await cli(['apply', '-f', empty, '--prune', '--allow-delete-admin', ...adminDir]);
    expect(allowed.code).toBe(0);
    expect((await cli(['clients', 'list', ...adminDir])).stdout).toContain('(none)');
  });

  it('--secrets-file writes new secrets to a new 0600 file instead of the terminal', async () => {
    const withNew = file('with-new.yaml', `${documentYaml}\n`.replace('clients:\n', 'clients:\n  - name: audit-export\n'));
    const secretsPath = join(dir, 'secrets.json');
    const applied = await cli(['apply', '-f', withNew, '--secrets-file', secretsPath, ...d]);
    expect(applied.code).toBe(0);
    expect(statSync(secretsPath).mode & 0o777).toBe(0o600);
    const secrets = JSON.parse(readFileSync(secretsPath, 'utf8')) as { name: string; client_secret: string }[];
    expect(secrets.map((secret) => secret.name).sort()).toEqual(['audit-export', 'reporting']);
    for (const secret of secrets) expect(applied.stdout + applied.stderr).not.toContain(secret.client_secret);
    expect(applied.stdout).toContain(`2 new secret(s) written to ${secretsPath} (mode 0600).`);

    // An existing file is never overwritten: it may hold secrets not yet stored elsewhere.
    const refused = await cli(['apply', '-f', withNew, '--secrets-file', secretsPath, ...d]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the file exists');
    // Nothing new to write: no file left behind.
    const nothingNew = await cli(['apply', '-f', withNew, '--secrets-file', join(dir, 'unused.json'), ...d]);
    expect(nothingNew.code).toBe(0);
    expect(existsSync(join(dir, 'unused.json'))).toBe(false);
  });

  it('refuses a bad document with every problem at its path, exit code 1, and changes nothing', async () => {
    const before = (await cli(['export', ...d])).stdout;
    const bad = file(
      'bad.yaml',
      'version: 1\napis:\n  - identifier: https://new.example\nclients:\n  - name: ""\ngrants:\n  - client: ghost\n    api: https://new.example\n',
    );
    const result = await cli(['apply', '-f', bad, ...d]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('clients[0].name: name must be a non-empty string');
    expect(result.stderr).toContain('grants[0].client: no client of the document has the client_id or name "ghost"');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect((await cli(['export', ...d])).stdout).toBe(before);

    const json = await cli(['apply', '-f', bad, '--json', ...d]);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: 'validation_failed', field: 'clients[0].name' });
    const notYaml = await cli(['apply', '-f', file('broken.yaml', 'apis: [\n'), ...d]);
    expect(notYaml.stderr).toMatch(/is not valid YAML or JSON: .*line 2/);
  });
});
