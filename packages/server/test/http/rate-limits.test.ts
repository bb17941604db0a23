import { afterEach, describe, expect, it } from 'vitest';
import { basic, createTestApp, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { availableStacks } from '../helpers/stacks.js';

const cc = { grant_type: 'client_credentials', audience: 'https://payments.example' };
let t: TestApp;
afterEach(() => t.close());

// The buckets live in the shared state: the limits are tried on every stack CI has.
const stacks = await availableStacks();

describe.each(stacks)('optional token-request rate limits (token buckets in the shared state) on $name', (stack) => {
  it('per client: a burst, then 429 with Retry-After in RFC 6749 error shape, then a refill', async () => {
    t = await createTestApp({ stack, runtime: { rateLimits: { perClient: { capacity: 3, refillPerSecond: 0.5 } } } });
    const client = await seedExampleSystem(t.runtime);
    const auth = basic(client.clientId, client.clientSecret);
    for (let i = 0; i < 3; i++) expect((await postToken(t.app, cc, auth)).status).toBe(200);
    const refused = await postToken(t.app, cc, auth);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: 'Too many token requests for this client; retry later.' });
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.headers['cache-control']).toBe('no-store');
    t.clock.advance(2000);
    expect((await postToken(t.app, cc, auth)).status).toBe(200);
    // Nobody else can spend this client's budget without its secret: failures do not count.
    const other = await t.runtime.admin.createClient({ name: 'other' });
    await t.runtime.admin.createGrant({ clientId: other.clientId, apiIdentifier: 'https://payments.example', scopes: ['payments:read'] });
    expect((await postToken(t.app, cc, basic(other.clientId, other.clientSecret!))).status).toBe(200);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/m2m_auth_throttled_total\{limit="client"\} 1/);
  });

  it('per address: refused before authentication, and the rejection log is rate-limited', async () => {
    t = await createTestApp({ stack, runtime: { rateLimits: { perAddress: { capacity: 2, refillPerSecond: 1 } } } });
    const client = await seedExampleSystem(t.runtime);
    const auth = basic(client.clientId, client.clientSecret);
    const from = { remoteAddress: '198.51.100.20' };
    expect((await postToken(t.app, cc, auth, from)).status).toBe(200);
    expect((await postToken(t.app, cc, basic('nobody', 'x'), from)).status).toBe(401);
    for (let i = 0; i < 20; i++) expect((await postToken(t.app, cc, auth, from)).status).toBe(429);
    expect((await postToken(t.app, cc, auth, { remoteAddress: '198.51.100.21' })).status).toBe(200);
    const throttledLines = t
      .logs()
      .split('\n')
      .filter((line) => line.includes('"token.throttled"'));
    expect(throttledLines.length).toBeLessThanOrEqual(1);
  });
});
