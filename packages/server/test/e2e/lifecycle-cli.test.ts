import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliJson, initStore } from '../helpers/cli-process.js';

/** The lifecycle commands as an operator types them: human output by default, JSON with --json. */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-lifecycle-cli-'));
const d = ['--data-dir', dataDir];
beforeAll(() => initStore(d));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('lifecycle CLI', () => {
  it('clients create/update --introspect, clients secrets add|list|revoke, keys retire|revoke', async () => {
    await cliJson(['apis', 'create', '--identifier', 'https://orders.example', '--scopes', 'read:orders', ...d]);
    const rs = await cliJson<{ client_id: string; introspect_apis: string[] }>([
      'clients',
      'create',
      '--name',
      'orders-api',
      '--introspect',
      'https://orders.example',
      ...d,
    ]);
    expect(rs.introspect_apis).toEqual(['https://orders.example']);
    const all = await cliJson<{ introspect_apis: string[] }>(['clients', 'update', rs.client_id, '--introspect', '*', ...d]);
    expect(all.introspect_apis).toEqual(['*']);
    const none = await cliJson<{ introspect_apis: string[] }>(['clients', 'update', rs.client_id, '--introspect', '', ...d]);
    expect(none.introspect_apis).toEqual([]);
    const typo = await cli(['clients', 'update', rs.client_id, '--introspect', 'https://typo.example', ...d]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('No API with identifier https://typo.example');

    const added = await cliJson<{ client_secret: string; secret: { id: string; expires_at: string } }>([
      'clients',
      'secrets',
      'add',
      rs.client_id,
      '--expires-in',
      '90d',
      ...d,
    ]);
    expect(added.client_secret).toMatch(/^m2msk_/);
    expect(Date.parse(added.secret.expires_at) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    const human = await cli(['clients', 'secrets', 'list', rs.client_id, ...d]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/ID\s+HINT\s+CREATED\s+EXPIRES\s+LAST_USED/);
    expect(human.stdout).toContain(added.secret.id);
    expect(human.stdout).not.toContain(added.client_secret);
    const revoked = await cli(['clients', 'secrets', 'revoke', rs.client_id, added.secret.id, ...d]);
    expect(revoked.stdout.trim()).toBe(`Secret ${added.secret.id} of ${rs.client_id} revoked`);
    const list = await cliJson<{ id: string }[]>(['clients', 'secrets', 'list', rs.client_id, ...d]);
    expect(list.map((secret) => secret.id)).not.toContain(added.secret.id);
    expect((await cli(['clients', 'secrets', 'add', rs.client_id, '--expires-in', 'soon', ...d])).stderr).toContain('--expires-in must be a duration');

    const [key] = await cliJson<{ kid: string; status: string }[]>(['keys', 'list', ...d]);
    await cliJson(['keys', 'rotate', ...d]);
    const refused = await cli(['keys', 'retire', key!.kid, ...d]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('may be alive until');
    expect((await cliJson(['keys', 'retire', key!.kid, '--force', ...d])).retired).toBe(key!.kid);
    const active = (await cliJson<{ kid: string; status: string; alg: string }[]>(['keys', 'list', ...d])).find(
      (k) => k.status === 'active' && k.alg === 'RS256',
    )!;
    const emergency = await cliJson<{ revoked: string; replacement: string }>(['keys', 'revoke', active.kid, ...d]);
    expect(emergency.revoked).toBe(active.kid);
    expect(emergency.replacement).toEqual(expect.any(String));
  });

  it('serve refuses --trust-proxy true and unsafe key rotation settings, clearly', async () => {
    const trust = await cli(['serve', '--trust-proxy', 'true', '--port', '0', ...d]);
    expect(trust.code).toBe(1);
    expect(trust.stderr).toContain('number of proxies');
    const rotation = await cli(['serve', '--key-prepublish-seconds', '10', '--port', '0', ...d]);
    expect(rotation.code).toBe(1);
    expect(rotation.stderr).toContain('JWKS cache lifetime');
  });
});
