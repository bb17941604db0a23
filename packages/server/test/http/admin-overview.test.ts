import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, basic, postToken, seedExampleSystem, START, type TestApp, type TestAppOptions } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER, type AdminScope } from '../../src/admin/built-in-admin-api.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { createEndpointEventBus } from '../../src/protocol/endpoint-events.js';
import { countRecentActivity, MAX_CLIENTS_PER_MINUTE } from '../../src/observability/recent-activity.js';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { DEFAULT_KEY_ROTATION_POLICY } from '../../src/keys/rotation-policy.js';
import { availableStacks } from '../helpers/stacks.js';

const stacks = await availableStacks();

const MINUTE = 60_000;
const PAYMENTS = 'https://payments.example';

describe('GET /admin/v1/overview', () => {
  let t: TestApp;
  afterEach(() => t.close());

  async function setup(options: TestAppOptions = {}) {
    t = await createTestApp(options);
    const boot = await t.runtime.admin.bootstrapAdminClient();
    return { boot, orders: await seedExampleSystem(t.runtime) };
  }

  /** An admin token minted now (the clock moves in these tests; admin tokens live 5 minutes). */
  async function overview(as: { clientId: string; clientSecret: string }) {
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(as.clientId, as.clientSecret));
    const response = await t.app.inject({ url: '/admin/v1/overview', headers: { authorization: `Bearer ${token.body.access_token as string}` } });
    return { status: response.statusCode, headers: response.headers, raw: response.body, body: JSON.parse(response.body) as Record<string, any> };
  }

  async function adminWith(scopes: AdminScope[]) {
    const client = await t.runtime.admin.createClient({ name: `console-${scopes.join('-')}` });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
    return { clientId: client.clientId, clientSecret: client.clientSecret! };
  }

  it('counts this instance’s last hour per minute, failures by reason, busiest and failing clients; never an unknown client id', async () => {
    const { boot, orders } = await setup();
    const cc = (params: Record<string, string> = {}) => ({ grant_type: 'client_credentials', audience: PAYMENTS, ...params });
    // Minute 0: two tokens, a refused scope, then a wrong secret for orders-service; a guessed client id fails twice.
    expect((await postToken(t.app, cc(), basic(orders.clientId, orders.clientSecret))).status).toBe(200);
    expect((await postToken(t.app, cc(), basic(orders.clientId, orders.clientSecret))).status).toBe(200);
    expect((await postToken(t.app, cc({ scope: 'payments:read' }), basic(orders.clientId, orders.clientSecret))).status).toBe(400);
    expect((await postToken(t.app, cc(), basic(orders.clientId, 'an-old-secret-after-rotation'))).status).toBe(401);
    for (let i = 0; i < 2; i++) expect((await postToken(t.app, cc(), basic('attacker-chosen-id', 'guess'))).status).toBe(401);
    t.clock.advance(2 * MINUTE);

    const reader = await adminWith(['overview:read', 'keys:read']);
    const { status, headers, raw, body } = await overview(reader);
    expect(status).toBe(200);
    expect(headers['cache-control']).toBe('no-store');
    expect(raw).not.toContain('attacker-chosen-id');
    expect(body.generated_at).toBe(new Date(START + 2 * MINUTE).toISOString());
    expect(body.instance).toEqual({ started_at: new Date(START).toISOString() });
    // 60 minutes, oldest first, ending with the current one; zero where nothing happened.
    expect(body.tokens_per_minute).toHaveLength(60);
    expect(body.tokens_per_minute[0].minute).toBe(new Date(START - 57 * MINUTE).toISOString());
    expect(body.tokens_per_minute.at(-3)).toEqual({ minute: new Date(START).toISOString(), issued: 2, failed: 4 });
    expect(body.tokens_per_minute.at(-2)).toEqual({ minute: new Date(START + MINUTE).toISOString(), issued: 0, failed: 0 });
    // The reader's own admin token is this minute's.
    expect(body.tokens_per_minute.at(-1)).toMatchObject({ issued: 1, failed: 0 });
    expect(body.failures_by_reason).toEqual([
      { reason: 'invalid_client', count: 3 },
      { reason: 'invalid_scope', count: 1 },
    ]);
    expect(body.busiest_clients).toEqual([
      { client_id: orders.clientId, name: 'orders-service', issued: 2 },
      { client_id: reader.clientId, name: 'console-overview:read-keys:read', issued: 1 },
    ]);
    // A registered client failing to authenticate counts; the guessed id does not.
    expect(body.failing_clients).toEqual([{ client_id: orders.clientId, name: 'orders-service', failed: 2, last_error: 'invalid_client' }]);
    expect(body.health).toEqual({
      database: { ok: true, latency_ms: expect.any(Number) },
      shared_state: { ok: true, latency_ms: expect.any(Number), kind: 'memory' },
    });
    expect(boot.clientId).not.toBe(reader.clientId);

    // An hour later the window has moved past all of it.
    t.clock.advance(60 * MINUTE);
    const later = (await overview(reader)).body;
    expect(later.tokens_per_minute.slice(0, -1).every((minute: { issued: number; failed: number }) => minute.issued + minute.failed === 0)).toBe(true);
    expect(later.failures_by_reason).toEqual([]);
    expect(later.failing_clients).toEqual([]);
    expect(later.busiest_clients.map((client: { client_id: string }) => client.client_id)).toEqual([reader.clientId]);
  });

  it('key ages and the next scheduled rotation need keys:read as well: left out without it, not refused', async () => {
    await setup();
    const withKeys = (await overview(await adminWith(['overview:read', 'keys:read']))).body;
    const active = (await t.runtime.admin.listKeys()).filter((key) => key.status === 'active');
    expect(withKeys.keys).toEqual(
      expect.arrayContaining(
        active.map((key) => ({ kid: key.kid, alg: key.alg, status: 'active', age_seconds: 0, created_at: new Date(key.createdAt).toISOString() })),
      ),
    );
    expect(withKeys.next_rotation).toBe(new Date(START + DEFAULT_KEY_ROTATION_POLICY.rotateEveryMs).toISOString());

    const without = await overview(await adminWith(['overview:read']));
    expect(without.status).toBe(200);
    expect(without.body).not.toHaveProperty('keys');
    expect(without.body).not.toHaveProperty('next_rotation');

    const refused = await overview(await adminWith(['keys:read', 'usage:read']));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ required_scope: 'overview:read' });
  });

  it('next_rotation is null when this server does not rotate on a schedule', async () => {
    await setup({ runtime: { keyRotationCheckMs: 0 } });
    expect((await overview(await adminWith(['overview:read', 'keys:read']))).body.next_rotation).toBeNull();
  });

  it('a database that does not answer is reported, not an error of the overview', async () => {
    const storage = await openStorage({ kind: 'memory' });
    let isDown = false;
    const flaky = new Proxy(storage, {
      get: (target, property, receiver) =>
        property === 'ping' && isDown ? () => Promise.reject(new Error('connection refused')) : Reflect.get(target, property, receiver),
    });
    await setup({ storage: flaky });
    const reader = await adminWith(['overview:read']);
    isDown = true;
    const { status, body } = await overview(reader);
    expect(status).toBe(200);
    expect(body.health.database).toEqual({ ok: false, latency_ms: expect.any(Number) });
    expect(body.health.shared_state.ok).toBe(true);
  });
});

describe.each(stacks)('the overview’s health checks on $name', (stack) => {
  it('asks the real database and shared state, and names the state’s kind', async () => {
    const t = await createTestApp({ stack });
    try {
      const boot = await t.runtime.admin.bootstrapAdminClient();
      const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
      const response = await t.app.inject({ url: '/admin/v1/overview', headers: { authorization: `Bearer ${token.body.access_token as string}` } });
      expect(response.json().health).toEqual({
        database: { ok: true, latency_ms: expect.any(Number) },
        shared_state: { ok: true, latency_ms: expect.any(Number), kind: stack.name === 'sqlite' ? 'sqlite' : 'redis' },
      });
    } finally {
      await t.close();
    }
  });
});

describe('recent activity counting', () => {
  it('keeps at most a bounded number of clients apart per minute; totals still count every token', () => {
    const events = createEndpointEventBus();
    let now = START;
    const activity = countRecentActivity(events, () => now);
    const issue = (clientId: string) =>
      events.emit('token.issued', {
        clientId,
        grantType: 'client_credentials',
        audience: 'a',
        scope: '',
        jti: 'j',
        expiresIn: 60,
        credential: 'x',
        requestId: undefined,
      });
    for (let i = 0; i < MAX_CLIENTS_PER_MINUTE + 500; i++) issue(`client-${i}`);
    for (let i = 0; i < MAX_CLIENTS_PER_MINUTE + 500; i++)
      events.emit('token.failed', { error: new OAuthError('invalid_scope', 'no'), clientId: `client-${i}`, requestId: undefined });
    const snapshot = activity.snapshot(Number.MAX_SAFE_INTEGER);
    expect(snapshot.minutes.at(-1)).toEqual({ minute: START, issued: MAX_CLIENTS_PER_MINUTE + 500, failed: MAX_CLIENTS_PER_MINUTE + 500 });
    expect(snapshot.busiestClients).toHaveLength(MAX_CLIENTS_PER_MINUTE);
    expect(snapshot.failingClients).toHaveLength(MAX_CLIENTS_PER_MINUTE);
    // A later minute has its own bound, and the window adds the minutes up.
    now += MINUTE;
    issue('client-0');
    issue('late-client');
    expect(activity.snapshot(2).busiestClients).toEqual([
      { clientId: 'client-0', issued: 2 },
      { clientId: 'client-1', issued: 1 },
    ]);
    expect(activity.snapshot(Number.MAX_SAFE_INTEGER).busiestClients).toContainEqual({ clientId: 'late-client', issued: 1 });
  });

  it('a server fault is counted as server_error, its message kept out', () => {
    const events = createEndpointEventBus();
    const activity = countRecentActivity(events, () => START);
    events.emit('token.failed', { error: new Error('database password wrong'), clientId: undefined, requestId: undefined });
    expect(activity.snapshot(5).failuresByReason).toEqual([{ reason: 'server_error', count: 1 }]);
    expect(JSON.stringify(activity.snapshot(5))).not.toContain('password');
  });
});
