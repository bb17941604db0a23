import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { createTestApp, basic, postToken, seedExampleSystem, ISSUER, type TestApp } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER, type AdminScope } from '../../src/admin/built-in-admin-api.js';
import { MAX_INSPECTED_TOKEN_CHARS } from '../../src/admin/resources/token-inspection.js';
import { availableStacks } from '../helpers/stacks.js';

const PAYMENTS = 'https://payments.example';
const stacks = await availableStacks();

describe('POST /admin/v1/tokens/inspect', () => {
  let t: TestApp;
  let orders: { clientId: string; clientSecret: string };
  let inspector: { clientId: string; clientSecret: string };

  beforeEach(async () => {
    t = await createTestApp();
    await t.runtime.admin.bootstrapAdminClient();
    orders = await seedExampleSystem(t.runtime);
    inspector = await adminWith(['tokens:inspect']);
  });
  afterEach(() => t.close());

  async function adminWith(scopes: AdminScope[]) {
    const client = await t.runtime.admin.createClient({ name: `console-${scopes.join('-')}` });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
    return { clientId: client.clientId, clientSecret: client.clientSecret! };
  }

  /** With an admin token minted now: the clock moves in these tests. */
  async function inspect(token: unknown, as = inspector) {
    const admin = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(as.clientId, as.clientSecret));
    const response = await t.app.inject({
      method: 'POST',
      url: '/admin/v1/tokens/inspect',
      headers: { authorization: `Bearer ${admin.body.access_token as string}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ token }),
    });
    return { status: response.statusCode, headers: response.headers, raw: response.body, body: JSON.parse(response.body) as Record<string, any> };
  }

  const paymentsToken = async () =>
    (await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(orders.clientId, orders.clientSecret))).body.access_token as string;

  it('an active token of ours: valid signature, issued here, active; header and claims decoded', async () => {
    const token = await paymentsToken();
    const { status, headers, body } = await inspect(token);
    expect(status).toBe(200);
    expect(headers['cache-control']).toBe('no-store');
    expect(body).toEqual({
      format: 'jwt',
      signature: 'valid',
      issued_here: true,
      active: true,
      revoked: false,
      expired: false,
      reason: null,
      header: { alg: 'RS256', typ: 'at+jwt', kid: expect.any(String) },
      claims: decodeJwt(token),
    });
  });

  it('revoked, expired, or no longer backed by its client: not active, and says why', async () => {
    const revoked = await paymentsToken();
    const revocation = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(orders.clientId, orders.clientSecret) },
      payload: `token=${revoked}`,
    });
    expect(revocation.statusCode).toBe(200);
    expect((await inspect(revoked)).body).toMatchObject({
      signature: 'valid',
      issued_here: true,
      active: false,
      revoked: true,
      expired: false,
      reason: 'Revoked',
    });

    const expiring = await paymentsToken();
    t.clock.advance(3_600_000 + 1000);
    expect((await inspect(expiring)).body).toMatchObject({ signature: 'valid', issued_here: true, active: false, expired: true, reason: 'Expired' });

    const disabled = await paymentsToken();
    await t.runtime.admin.updateClient(orders.clientId, { isEnabled: false });
    expect((await inspect(disabled)).body).toMatchObject({ issued_here: true, active: false, revoked: false, reason: expect.stringMatching(/disabled/) });
  });

  it('a tampered signature is invalid; a foreign key is unknown_key; our kid with another alg is invalid', async () => {
    const token = await paymentsToken();
    const [header, payload, signature] = token.split('.');
    const tampered = `${header}.${payload}.${signature!.slice(0, -6)}AAAAAA`;
    expect((await inspect(tampered)).body).toMatchObject({ format: 'jwt', signature: 'invalid', issued_here: false, active: false });

    const foreign = await generateKeyPair('RS256');
    const forged = await new SignJWT({ client_id: orders.clientId, scope: 'payments:write' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'someone-elses-key' })
      .setIssuer(ISSUER)
      .setAudience(PAYMENTS)
      .setJti('forged')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(foreign.privateKey);
    expect((await inspect(forged)).body).toMatchObject({ signature: 'unknown_key', issued_here: false, active: false, claims: { jti: 'forged' } });

    const ourKid = (decodeJwt(token), JSON.parse(Buffer.from(header!, 'base64url').toString()) as { kid: string }).kid;
    const confused = await new SignJWT({ client_id: orders.clientId })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: ourKid })
      .setIssuer(ISSUER)
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
    expect((await inspect(confused)).body).toMatchObject({ signature: 'invalid', issued_here: false });
  });

  it('opaque tokens: active while stored, unknown once revoked; a malformed one is format unknown', async () => {
    await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'opaque' });
    const token = await paymentsToken();
    expect(token.startsWith('m2mat_')).toBe(true);
    const { body } = await inspect(token);
    expect(body).toMatchObject({ format: 'opaque', signature: 'not_applicable', issued_here: true, active: true, header: null, claims: { aud: PAYMENTS } });
    await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(orders.clientId, orders.clientSecret) },
      payload: `token=${token}`,
    });
    expect((await inspect(token)).body).toMatchObject({ format: 'opaque', issued_here: false, active: false, claims: null });
    expect((await inspect(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).body).toMatchObject({ format: 'unknown', issued_here: false });
  });

  it('anything that is no token is a 200 with format unknown; an oversized body is a 400; the token reaches no log line', async () => {
    for (const junk of ['', 'hello', 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', 'ü\u2028']) {
      const { status, body } = await inspect(junk);
      expect(status, junk).toBe(200);
      expect(body).toMatchObject({ format: expect.stringMatching(/unknown|jwt/), issued_here: false, active: false });
    }
    const tooLong = await inspect('x'.repeat(MAX_INSPECTED_TOKEN_CHARS + 1));
    expect(tooLong.status).toBe(400);
    expect(tooLong.raw).not.toContain('xxxxxxxx');
    expect((await inspect(42)).status).toBe(400);
    // As everywhere in the admin API, text with a NUL is refused (no store could keep it).
    expect((await inspect('a\u0000b')).status).toBe(400);

    const token = await paymentsToken();
    await inspect(token);
    await inspect(`${token}tampered`);
    const signature = token.split('.')[2]!;
    expect(t.logs()).not.toContain(signature);
    expect(t.logs()).not.toContain('tampered');
  });

  it('needs tokens:inspect', async () => {
    const refused = await inspect(await paymentsToken(), await adminWith(['keys:read', 'overview:read']));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ required_scope: 'tokens:inspect' });
  });
});

describe.each(stacks)('the token inspector on $name', (stack) => {
  it('reads revocations and opaque tokens where the server keeps them', async () => {
    const t = await createTestApp({ stack });
    try {
      const boot = await t.runtime.admin.bootstrapAdminClient();
      const orders = await seedExampleSystem(t.runtime);
      const inspect = async (token: string) => {
        const admin = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
        const response = await t.app.inject({
          method: 'POST',
          url: '/admin/v1/tokens/inspect',
          headers: { authorization: `Bearer ${admin.body.access_token as string}` },
          payload: { token },
        });
        return response.json() as Record<string, unknown>;
      };
      const issue = async () =>
        (await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(orders.clientId, orders.clientSecret))).body
          .access_token as string;
      const revoke = (token: string) =>
        t.app.inject({
          method: 'POST',
          url: '/oauth/revoke',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(orders.clientId, orders.clientSecret) },
          payload: `token=${token}`,
        });
      const jwt = await issue();
      expect(await inspect(jwt)).toMatchObject({ format: 'jwt', active: true });
      await revoke(jwt);
      expect(await inspect(jwt)).toMatchObject({ format: 'jwt', active: false, revoked: true });
      await t.runtime.admin.updateApi(PAYMENTS, { tokenFormat: 'opaque' });
      const opaque = await issue();
      expect(await inspect(opaque)).toMatchObject({ format: 'opaque', issued_here: true, active: true });
      await revoke(opaque);
      expect(await inspect(opaque)).toMatchObject({ format: 'opaque', issued_here: false, active: false });
    } finally {
      await t.close();
    }
  });
});
