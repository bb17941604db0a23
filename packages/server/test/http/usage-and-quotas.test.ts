import { afterEach, describe, expect, it } from 'vitest';
import { basic, createTestApp, postToken, seedExampleSystem, START, type TestApp } from '../helpers/test-app.js';
import { availableStacks } from '../helpers/stacks.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';

const PAYMENTS = 'https://payments.example';
const INVENTORY = 'https://inventory.example';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const cc = (audience = PAYMENTS) => ({ grant_type: 'client_credentials', audience });
let t: TestApp;
afterEach(() => t.close());

// Quota counters and usage counts live in the shared state: tried on every stack CI has.
const stacks = await availableStacks();

describe.each(stacks)('token quotas and usage on $name', (stack) => {
  it('enforce: past the hourly quota, 429 with Retry-After until the hour ends and an OAuth error body; the next hour it works again', async () => {
    t = await createTestApp({ stack });
    const client = await seedExampleSystem(t.runtime);
    await t.runtime.admin.updateClient(client.clientId, { quota: { perHour: 3, perDay: 4 } });
    const auth = basic(client.clientId, client.clientSecret);
    for (let i = 0; i < 3; i++) expect((await postToken(t.app, cc(), auth)).status).toBe(200);
    t.clock.advance(15 * 60_000);
    const refused = await postToken(t.app, cc(), auth);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe(String(45 * 60));
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'This client has used its token quota for the hour; reuse the tokens it has until they near expiry, or retry when the hour ends.',
    });
    // Refused tokens do not count: the next hour has room for the day's last token, then the day is full.
    t.clock.advance(45 * 60_000);
    expect((await postToken(t.app, cc(INVENTORY), auth)).status).toBe(200);
    const dayFull = await postToken(t.app, cc(), auth);
    expect(dayFull.status).toBe(429);
    expect(dayFull.headers['retry-after']).toBe(String((DAY - 13 * HOUR) / 1000));
    expect(dayFull.body.error_description).toContain('for the day');

    // Said once in the log with the counts and the refetching hint (three tokens for the same
    // audience and scope within minutes of each other), counted in the metrics by client.
    const lines = t
      .logs()
      .split('\n')
      .filter((line) => line.includes('"quota.exceeded"'))
      .map((line) => JSON.parse(line) as Record<string, any>);
    expect(lines[0]).toMatchObject({
      level: 40,
      clientId: client.clientId,
      mode: 'enforce',
      refetching: true,
      windows: [{ window: 'hour', used: 3, limit: 3, endsAt: new Date(START + HOUR).toISOString() }],
    });
    expect(lines[0]!.msg).toMatch(/^token refused: client over its quota; the client fetches a new token while its earlier ones are far from expiry/);
    expect(t.logs()).not.toContain('"token.throttled"');
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain(`m2m_auth_quota_exceeded_total{client_id="${client.clientId}",mode="enforce"} 2`);
    expect(metrics).toContain(`m2m_auth_client_quota_used_ratio{client_id="${client.clientId}",window="day"} 1`);
    expect(metrics).toMatch(/m2m_auth_throttled_total\{limit="quota"\} 2/);
    // Other clients have no quota and are not counted against this one.
    const other = await t.runtime.admin.createClient({ name: 'other' });
    await t.runtime.admin.createGrant({ clientId: other.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    for (let i = 0; i < 5; i++) expect((await postToken(t.app, cc(), basic(other.clientId, other.clientSecret!))).status).toBe(200);
  });

  it('enforce: a request the grant refuses (no token issued) does not use the quota up', async () => {
    t = await createTestApp({ stack });
    const client = await seedExampleSystem(t.runtime);
    await t.runtime.admin.updateClient(client.clientId, { quota: { perHour: 1 } });
    const auth = basic(client.clientId, client.clientSecret);
    for (let i = 0; i < 3; i++) expect((await postToken(t.app, cc('https://unknown.example'), auth)).body.error).toBe('invalid_target');
    expect((await postToken(t.app, { ...cc(), scope: 'payments:refund' }, auth)).body.error).toBe('invalid_scope');
    // Given back before the error is answered (not awaited, but sent ahead of the next count).
    expect((await postToken(t.app, cc(), auth)).status).toBe(200);
    expect((await postToken(t.app, cc(), auth)).status).toBe(429);
  });

  it('observe: tokens are issued past the quota; what enforce would refuse is counted and logged, not refused', async () => {
    t = await createTestApp({ stack });
    const client = await seedExampleSystem(t.runtime);
    const updated = await t.runtime.admin.updateClient(client.clientId, { quota: { perHour: 2, mode: 'observe' } });
    expect(updated.quota).toEqual({ perHour: 2, perDay: null, mode: 'observe' });
    const auth = basic(client.clientId, client.clientSecret);
    for (let i = 0; i < 5; i++) expect((await postToken(t.app, cc(), auth)).status).toBe(200);
    const exceeded = async () => (await t.app.inject({ url: '/metrics' })).body;
    // Nothing is written per token: the tokens observed are added to the shared windows once a second.
    expect(await exceeded()).not.toContain('m2m_auth_quota_exceeded_total{');
    await t.runtime.usage.flush();
    expect(await exceeded()).toContain(`m2m_auth_quota_exceeded_total{client_id="${client.clientId}",mode="observe"} 3`);
    expect(await exceeded()).toContain(`m2m_auth_client_quota_used_ratio{client_id="${client.clientId}",window="hour"} 2.5`);
    const line = t
      .logs()
      .split('\n')
      .find((entry) => entry.includes('"quota.exceeded"'));
    expect(JSON.parse(line!)).toMatchObject({ mode: 'observe', clientId: client.clientId, tokensOver: 3, windows: [{ window: 'hour', used: 5, limit: 2 }] });
    expect(JSON.parse(line!).msg).toMatch(/^token issued past the client’s quota \(observe mode: enforcing would refuse it\)/);
    // Enforcing now counts on from the same window: full already.
    await t.runtime.admin.updateClient(client.clientId, { quota: { mode: 'enforce' } });
    expect((await postToken(t.app, cc(), auth)).status).toBe(429);
    await t.runtime.admin.updateClient(client.clientId, { quota: null });
    expect((await postToken(t.app, cc(), auth)).status).toBe(200);
  });

  it('usage: tokens per client and API by hour and day through the admin API, refetches marked, kept for their retention', async () => {
    t = await createTestApp({ stack, runtime: { usage: { retentionDays: 3 } } });
    const client = await seedExampleSystem(t.runtime);
    const auth = basic(client.clientId, client.clientSecret);
    // Three payments tokens a minute apart (the 2nd and 3rd are refetches: the first had most of its life left), one inventory token.
    for (let i = 0; i < 3; i++) {
      expect((await postToken(t.app, cc(), auth)).status).toBe(200);
      t.clock.advance(60_000);
    }
    expect((await postToken(t.app, cc(INVENTORY), auth)).status).toBe(200);
    t.clock.advance(HOUR);
    expect((await postToken(t.app, cc(INVENTORY), auth)).status).toBe(200);
    await t.runtime.usage.flush();

    const boot = await t.runtime.admin.bootstrapAdminClient();
    const reader = await t.runtime.admin.createClient({ name: 'usage-reader' });
    await t.runtime.admin.createGrant({ clientId: reader.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['usage:read'] });
    const bearer = async (clientId: string, secret: string) =>
      `Bearer ${(await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(clientId, secret))).body.access_token as string}`;
    // Admin tokens live 5 minutes and the clock moves by days: a fresh one per read.
    const usage = async (query: string, as: { clientId: string; clientSecret?: string } = reader) => {
      const authorization = await bearer(as.clientId, as.clientSecret!);
      const response = await t.app.inject({ url: `/admin/v1/usage${query}`, headers: { authorization } });
      return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, any> };
    };
    const hours = await usage(`?granularity=hour&client_id=${client.clientId}`);
    expect(hours.status).toBe(200);
    expect(hours.body).toEqual({
      granularity: 'hour',
      // The default: the 24 hours up to the end of the current one.
      since: new Date(START - 22 * HOUR).toISOString(),
      until: new Date(START + 2 * HOUR).toISOString(),
      buckets: [
        { client_id: client.clientId, api: INVENTORY, start: new Date(START).toISOString(), tokens: 1, refetches: 0 },
        { client_id: client.clientId, api: PAYMENTS, start: new Date(START).toISOString(), tokens: 3, refetches: 2 },
        { client_id: client.clientId, api: INVENTORY, start: new Date(START + HOUR).toISOString(), tokens: 1, refetches: 0 },
      ],
      totals: [
        { client_id: client.clientId, api: PAYMENTS, tokens: 3, refetches: 2 },
        { client_id: client.clientId, api: INVENTORY, tokens: 2, refetches: 0 },
      ],
    });
    const days = await usage(`?api=${encodeURIComponent(PAYMENTS)}`);
    expect(days.body.granularity).toBe('day');
    expect(days.body.buckets).toEqual([
      { client_id: client.clientId, api: PAYMENTS, start: new Date(Date.UTC(2026, 10, 24)).toISOString(), tokens: 3, refetches: 2 },
    ]);
    // An admin client without usage:read is refused; a full admin holds it; bad queries are 400.
    const auditor = await t.runtime.admin.createClient({ name: 'auditor' });
    await t.runtime.admin.createGrant({ clientId: auditor.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['audit:read'] });
    expect(await usage('', auditor)).toMatchObject({ status: 403, body: { required_scope: 'usage:read' } });
    const root = { clientId: boot.clientId, clientSecret: boot.clientSecret };
    expect((await usage('', root)).status).toBe(200);
    expect((await usage('?granularity=week', root)).status).toBe(400);
    expect((await usage('?since=2026-11-25T00:00:00Z&until=2026-11-24T00:00:00Z', root)).status).toBe(400);

    // Retention: hourly buckets 48 h (the retention of 3 days is longer), daily ones 3 days after they end.
    t.clock.advance(48 * HOUR);
    await t.runtime.state.purgeExpired();
    const since = `&since=${START - DAY}`;
    expect((await usage(`?granularity=hour&client_id=${client.clientId}${since}`)).body.buckets).toEqual([
      { client_id: client.clientId, api: INVENTORY, start: new Date(START + HOUR).toISOString(), tokens: 1, refetches: 0 },
    ]);
    t.clock.advance(HOUR);
    expect((await usage(`?granularity=hour&client_id=${client.clientId}${since}`)).body.buckets).toEqual([]);
    expect((await usage(`?client_id=${client.clientId}${since}`)).body.buckets).toHaveLength(2);
    t.clock.advance(2 * DAY);
    expect((await usage(`?client_id=${client.clientId}${since}`)).body.buckets).toEqual([]);
  });
});
