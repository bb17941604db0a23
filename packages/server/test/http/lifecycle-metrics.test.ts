import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { basic, createTestApp, form, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';

const PAYMENTS = 'https://payments.example';
let t: TestApp;
let client: { clientId: string; clientSecret: string };
beforeEach(async () => {
  t = await createTestApp();
  client = await seedExampleSystem(t.runtime);
});
afterEach(() => t.close());

const scrape = async () => (await t.app.inject({ url: '/metrics' })).body;
const post = (url: string, params: Record<string, string>, authorization: string) =>
  t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization }, payload: form(params) });

describe('lifecycle metrics', () => {
  it('counts revocations, introspections by result and failure back-off; reports signing-key age; never a secret or token', async () => {
    const auth = basic(client.clientId, client.clientSecret);
    const token = (await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, auth)).body.access_token as string;
    const rs = await t.runtime.admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS] });
    await post('/oauth/introspect', { token }, basic(rs.clientId, rs.clientSecret!));
    await post('/oauth/introspect', { token }, auth);
    await post('/oauth/revoke', { token }, auth);
    await post('/oauth/introspect', { token }, basic(rs.clientId, rs.clientSecret!));
    for (let i = 0; i < 11; i++) await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(client.clientId, 'm2msk_wrong'));
    t.clock.advance(3_600_000);

    const text = await scrape();
    expect(text).toContain('m2m_auth_revocations_total 1');
    expect(text).toContain('m2m_auth_introspections_total{result="active"} 1');
    expect(text).toContain('m2m_auth_introspections_total{result="not_allowed"} 1');
    expect(text).toContain('m2m_auth_introspections_total{result="inactive"} 1');
    expect(text).toContain('m2m_auth_throttled_total{limit="failures"} 1');
    expect(text).toMatch(/m2m_auth_signing_key_age_seconds\{alg="RS256",kid="[^"]+"\} 3600/);
    for (const secret of [client.clientSecret, rs.clientSecret!, token.split('.')[2]!]) expect(text).not.toContain(secret);
  });
});
