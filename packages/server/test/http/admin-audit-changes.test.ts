import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, basic, postToken, START, type TestApp } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';
import { DEFAULT_KEY_ROTATION_POLICY } from '../../src/keys/rotation-policy.js';

const ORDERS = 'https://orders.example';
const CLUSTER = 'https://kubernetes.default.svc';
const enc = encodeURIComponent;

type AuditEvent = { type: string; actor: string; data: Record<string, any> };

/**
 * The console shows an audit event's before and after side by side: every change of an existing
 * resource — through the admin API, the CLI or the rotation scheduler — records it one way,
 * `changes: {field: {before, after}}` with wire (snake_case) fields, as client.updated always did.
 */
describe('audit events record what changed as changes: {field: {before, after}}', () => {
  let t: TestApp;
  let boot: { clientId: string; clientSecret: string };
  beforeEach(async () => {
    t = await createTestApp();
    boot = await t.runtime.admin.bootstrapAdminClient();
  });
  afterEach(() => t.close());

  // A token per call: these tests move the clock by days and revoke the key that signed the last one.
  const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) => {
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
    const authorization = `Bearer ${token.body.access_token as string}`;
    const response = await t.app.inject({
      method,
      url: `/admin/v1${url}`,
      headers: { authorization },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    return response.json() as Record<string, any>;
  };
  const events = async () => ((await call('GET', '/audit-events?limit=1000')).items as AuditEvent[]).reverse();
  const last = async (type: string) => (await events()).filter((event) => event.type === type).at(-1)!;

  const expectChanges = (changes: unknown, expected: Record<string, { before: unknown; after: unknown }>) => {
    expect(changes).toEqual(expected);
    for (const change of Object.values(changes as object)) expect(Object.keys(change as object).sort()).toEqual(['after', 'before']);
  };

  it('APIs, clients, grants and trusted issuers', async () => {
    await call('POST', '/apis', { identifier: ORDERS, scopes: ['orders:read'] });
    await call('PATCH', `/apis/${enc(ORDERS)}`, { name: 'Orders' });
    expectChanges((await last('api.updated')).data.changes, { name: { before: ORDERS, after: 'Orders' } });

    const client = await call('POST', '/clients', { name: 'orders-reader' });
    await call('PATCH', `/clients/${client.client_id}`, { name: 'orders-reporter' });
    expectChanges((await last('client.updated')).data.changes, { name: { before: 'orders-reader', after: 'orders-reporter' } });

    const grant = await call('POST', '/grants', { client_id: client.client_id, api: ORDERS, scopes: [] });
    await call('PATCH', `/grants/${grant.id}`, { scopes: ['orders:read'] });
    expectChanges((await last('grant.updated')).data.changes, { scopes: { before: [], after: ['orders:read'] } });

    await call('POST', '/trusted-issuers', { issuer: CLUSTER, kind: 'kubernetes' });
    await call('PATCH', `/trusted-issuers/${enc(CLUSTER)}`, { max_token_lifetime_seconds: 600 });
    const issuerChanges = (await last('trusted_issuer.updated')).data.changes;
    expect(Object.keys(issuerChanges)).toEqual(['max_token_lifetime_seconds']);
    expectChanges(issuerChanges, { max_token_lifetime_seconds: { before: expect.anything(), after: 600 } });
  });

  it('signing keys: rotated, retired and revoked through the admin API', async () => {
    const [first] = (await call('GET', '/keys')).items.filter((key: { alg: string; status: string }) => key.alg === 'RS256' && key.status === 'active');
    t.clock.advance(1000);
    const rotated = await call('POST', '/keys/rotate', {});
    const rotation = (await last('key.rotated')).data;
    expect(rotation).toMatchObject({ kid: rotated.key.kid, previous: [first.kid], after: { kid: rotated.key.kid, status: 'active' } });
    expect(rotation.demoted).toHaveLength(1);
    expect(rotation.demoted[0].kid).toBe(first.kid);
    expectChanges(rotation.demoted[0].changes, {
      status: { before: 'active', after: 'published' },
      rotated_at: { before: null, after: new Date(START + 1000).toISOString() },
    });

    await call('POST', `/keys/${first.kid}/retire?force=true`);
    const retired = (await last('key.retired')).data;
    expect(retired).toMatchObject({ kid: first.kid, forced: true });
    expectChanges(retired.changes, { status: { before: 'published', after: 'retired' } });

    const revoked = await call('POST', `/keys/${rotated.key.kid}/revoke`);
    const revocation = (await last('key.revoked')).data;
    expect(revocation).toMatchObject({ kid: rotated.key.kid, replacement: revoked.replacement });
    expectChanges(revocation.changes, {
      status: { before: 'active', after: 'retired' },
      rotated_at: { before: null, after: new Date(START + 1000).toISOString() },
    });
  });

  it('signing keys: each step of scheduled rotation', async () => {
    const policy = DEFAULT_KEY_ROTATION_POLICY;
    const active = (await t.runtime.admin.listKeys()).find((key) => key.alg === 'RS256' && key.status === 'active')!;
    t.clock.advance(policy.rotateEveryMs - policy.prepublishMs);
    const [prepublished] = await t.runtime.rotateKeysNow();
    expect((await last('key.prepublished')).data).toMatchObject({ kid: prepublished!.kid, after: { kid: prepublished!.kid, status: 'pending' } });
    t.clock.advance(policy.prepublishMs);
    await t.runtime.rotateKeysNow();
    const activation = await last('key.activated');
    expect(activation.actor).toBe('scheduler');
    expectChanges(activation.data.changes, { status: { before: 'pending', after: 'active' } });
    expect(activation.data.demoted).toEqual([{ kid: active.kid, changes: { status: { before: 'active', after: 'published' } } }]);
    t.clock.advance(policy.retainAfterMs);
    await t.runtime.rotateKeysNow();
    expectChanges((await last('key.retired')).data.changes, { status: { before: 'published', after: 'retired' } });
  });
});
