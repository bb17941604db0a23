import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { createTestApp, ISSUER, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { startPlatformIssuer, type PlatformIssuer } from '../helpers/platform-issuer.js';
import type { FederatedCredentialRecord, TrustedIssuerRecord } from '../../src/storage/types.js';
import { JWT_BEARER_ASSERTION_TYPE, JWT_SPIFFE_ASSERTION_TYPE } from '../../src/federation/federation-rules.js';
import { addFederatedCredential, trustIssuer } from '../helpers/federation.js';

/**
 * Workload identity federation at the token endpoint, tried the way an attacker would: every
 * refusal is the same invalid_client, and only a token of a trusted issuer, signed by its key,
 * naming a registered subject for this server, gets a token.
 */
const PAYMENTS = 'https://payments.example';
const nowS = () => Math.floor(t.clock.now() / 1000);

let t: TestApp;
let platform: PlatformIssuer;
let other: PlatformIssuer;
let clientId: string;

beforeAll(async () => {
  platform = await startPlatformIssuer();
  other = await startPlatformIssuer({ alg: 'RS256' });
});
afterAll(async () => {
  await platform.close();
  await other.close();
});
beforeEach(async () => {
  t = await createTestApp();
  ({ clientId } = await seedExampleSystem(t.runtime));
  await trust(platform.issuer);
  await trust(other.issuer);
  await addCredential({ subject: 'repo:acme/orders:ref:refs/heads/main' });
});
afterEach(() => t.close());

async function trust(issuer: string, fields: Partial<TrustedIssuerRecord> = {}) {
  await trustIssuer(t.runtime.storage, t.clock.now(), issuer, fields.kind ?? 'oidc', fields);
  await t.runtime.registry.refresh();
}

async function addCredential(fields: Partial<FederatedCredentialRecord> & { subject: string }) {
  const record = await addFederatedCredential(t.runtime.storage, t.clock.now(), { clientId, issuer: platform.issuer, ...fields });
  await t.runtime.registry.refresh();
  return record;
}

const claims = (extra: JWTPayload = {}): JWTPayload => ({
  sub: 'repo:acme/orders:ref:refs/heads/main',
  aud: ISSUER,
  iat: nowS(),
  exp: nowS() + 300,
  jti: `jti-${Math.random()}`,
  ...extra,
});

function exchange(assertion: string, extra: Record<string, string> = {}) {
  return postToken(t.app, {
    grant_type: 'client_credentials',
    audience: PAYMENTS,
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
    ...extra,
  });
}

async function expectRefused(assertion: string, extra: Record<string, string> = {}) {
  const response = await exchange(assertion, extra);
  expect(response.status).toBe(401);
  // The same answer for every reason: nothing tells an attacker which check failed.
  expect(response.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
  return response;
}

describe('a platform token instead of a secret', () => {
  it('gets a token for the client its credential names, without client_id, and the token.issued line names the credential', async () => {
    const response = await exchange(await platform.sign(claims()));
    expect(response.status).toBe(200);
    expect(decodeJwt(response.body.access_token as string)).toMatchObject({ client_id: clientId, aud: PAYMENTS, scope: 'payments:write' });
    const [credential] = await t.runtime.storage.listFederatedCredentials({ clientId });
    expect(t.logs()).toMatch(new RegExp(`"event":"token.issued".*"credential":"federated:${credential!.id}"`));
  });

  it('with client_id it must be the credential’s client', async () => {
    expect((await exchange(await platform.sign(claims()), { client_id: clientId })).status).toBe(200);
    const stranger = await t.runtime.admin.createClient({ name: 'stranger' });
    await expectRefused(await platform.sign(claims()), { client_id: stranger.clientId });
  });

  it('unknown issuer, bad signature and unknown subject all answer the same invalid_client', async () => {
    const outsider = await startPlatformIssuer();
    try {
      await expectRefused(await outsider.sign(claims()));
      // Signed by a key the trusted issuer never published, under the trusted issuer's kid.
      const { privateKey } = await generateKeyPair('ES256');
      await expectRefused(await platform.sign(claims(), { key: privateKey }));
      await expectRefused(await platform.sign(claims({ sub: 'repo:acme/orders:ref:refs/heads/evil' })));
    } finally {
      await outsider.close();
    }
    const scrape = (await t.app.inject({ url: '/metrics' })).body;
    expect(scrape).toMatch(/m2m_auth_federated_authentications_total\{issuer="unknown",result="unknown_issuer"\} 1/);
    expect(scrape).toContain(`m2m_auth_federated_authentications_total{issuer="${platform.issuer}",result="bad_signature"} 1`);
    expect(scrape).toContain(`m2m_auth_federated_authentications_total{issuer="${platform.issuer}",result="no_matching_credential"} 1`);
  });

  it('never accepts alg none, or HS256 keyed with the issuer’s public key (algorithm confusion)', async () => {
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'key-1' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: platform.issuer, ...claims() })).toString('base64url')}.`;
    await expectRefused(unsigned);
    const publicJwk = JSON.stringify(platform.jwks().keys[0]);
    const confused = await new SignJWT({ iss: platform.issuer, ...claims() })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .sign(new TextEncoder().encode(publicJwk));
    await expectRefused(confused);
  });

  it('a credential of issuer A never matches a token of issuer B with the same subject', async () => {
    await expectRefused(await other.sign(claims()));
  });

  it('aud must hold this server’s issuer identifier, or one of the credential’s own audiences', async () => {
    await expectRefused(await platform.sign(claims({ aud: 'https://somewhere-else.example' })));
    await expectRefused(await platform.sign(claims({ aud: `${ISSUER}/oauth/token` })));
    await addCredential({ subject: 'system:serviceaccount:payments:worker', audiences: ['m2m-auth'] });
    expect((await exchange(await platform.sign(claims({ sub: 'system:serviceaccount:payments:worker', aud: ['kube', 'm2m-auth'] })))).status).toBe(200);
    await expectRefused(await platform.sign(claims({ sub: 'system:serviceaccount:payments:worker', aud: ISSUER })));
  });

  it('exp is required, the lifetime bounded, and exp, nbf and iat checked with a small skew', async () => {
    const { exp: _exp, ...withoutExp } = claims();
    await expectRefused(await platform.sign(withoutExp));
    await expectRefused(await platform.sign(claims({ iat: nowS(), exp: nowS() + 3601 })));
    await expectRefused(await platform.sign(claims({ iat: nowS() - 600, exp: nowS() - 60 })));
    await expectRefused(await platform.sign(claims({ nbf: nowS() + 120 })));
    await expectRefused(await platform.sign(claims({ iat: nowS() + 120, exp: nowS() + 300 })));
    // Without iat the lifetime counts from now.
    const { iat: _iat, ...withoutIat } = claims({ exp: nowS() + 7200 });
    await expectRefused(await platform.sign(withoutIat));
    expect((await exchange(await platform.sign(claims({ iat: nowS() + 10 })))).status).toBe(200);
  });

  it('claim conditions must all hold, nested claims by path', async () => {
    await addCredential({
      subject: 'system:serviceaccount:payments:worker',
      claims: { 'kubernetes.io/namespace': 'payments', repository_owner_id: '42' },
    });
    const sub = 'system:serviceaccount:payments:worker';
    const good = { sub, 'kubernetes.io': { namespace: 'payments' }, repository_owner_id: 42 };
    expect((await exchange(await platform.sign(claims(good)))).status).toBe(200);
    await expectRefused(await platform.sign(claims({ ...good, 'kubernetes.io': { namespace: 'default' } })));
    await expectRefused(await platform.sign(claims({ sub, 'kubernetes.io': { namespace: 'payments' } })));
  });

  it('refuses a reused token when the issuer refuses reuse (oidc), accepts it where reuse is the norm (kubernetes)', async () => {
    const once = await platform.sign(claims());
    expect((await exchange(once)).status).toBe(200);
    await expectRefused(once);
    // Without a jti the token itself is what may not come back.
    const { jti: _jti, ...noJti } = claims();
    const anonymous = await platform.sign(noJti);
    expect((await exchange(anonymous)).status).toBe(200);
    await expectRefused(anonymous);

    await t.runtime.storage.updateTrustedIssuer(platform.issuer, { tokenReuse: 'allow' }, t.clock.now());
    await t.runtime.registry.refresh();
    const reusable = await platform.sign(claims());
    expect((await exchange(reusable)).status).toBe(200);
    expect((await exchange(reusable)).status).toBe(200);
  });

  it('a credential on a disabled client authenticates nobody', async () => {
    await t.runtime.admin.updateClient(clientId, { isEnabled: false });
    await expectRefused(await platform.sign(claims()));
  });

  it('when two clients hold credentials for the same subject, the request must name one', async () => {
    const twin = await t.runtime.admin.createClient({ name: 'twin' });
    await t.runtime.admin.createGrant({ clientId: twin.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    await addCredential({ subject: 'repo:acme/orders:ref:refs/heads/main', clientId: twin.clientId });
    await expectRefused(await platform.sign(claims()));
    const named = await exchange(await platform.sign(claims()), { client_id: twin.clientId });
    expect(decodeJwt(named.body.access_token as string).client_id).toBe(twin.clientId);
  });

  it('a prefix credential covers the subjects under it, not a sibling that shares the first letters', async () => {
    await addCredential({ subject: 'system:serviceaccount:batch:', subjectMatch: 'prefix' });
    expect((await exchange(await platform.sign(claims({ sub: 'system:serviceaccount:batch:nightly' })))).status).toBe(200);
    await expectRefused(await platform.sign(claims({ sub: 'system:serviceaccount:batch-evil:x' })));
  });

  it('removing the credential or the issuer stops it at once', async () => {
    expect((await exchange(await platform.sign(claims()))).status).toBe(200);
    await t.runtime.storage.deleteTrustedIssuer(platform.issuer);
    await t.runtime.registry.refresh();
    await expectRefused(await platform.sign(claims()));
  });
});

describe('the issuer’s keys', () => {
  it('a rotated key is fetched once the cooldown allows, never once per request', async () => {
    expect((await exchange(await platform.sign(claims()))).status).toBe(200);
    const fetched = () => platform.hits.get('/jwks') ?? 0;
    const before = fetched();
    await platform.rotate();
    // Within the cooldown a flood of unknown kids costs the issuer nothing more.
    for (let i = 0; i < 5; i += 1) await expectRefused(await platform.sign(claims(), { kid: `made-up-${i}` }));
    expect(fetched()).toBe(before);
    t.clock.advance(31_000);
    expect((await exchange(await platform.sign(claims()))).status).toBe(200);
    expect(fetched()).toBe(before + 1);
  });

  it('inline keys (a JWKS file, a SPIFFE bundle) are used without fetching anything', async () => {
    const bundleIssuer = await startPlatformIssuer({ jwkUse: 'jwt-svid' });
    try {
      await trust('spiffe://example.org', { kind: 'spiffe', jwks: bundleIssuer.jwks() as never });
      await addCredential({ issuer: 'spiffe://example.org', subject: 'spiffe://example.org/ns/payments/sa/worker' });
      const svid = claims({ sub: 'spiffe://example.org/ns/payments/sa/worker' });
      const spiffeRequest = async (token: string) =>
        postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, client_assertion_type: JWT_SPIFFE_ASSERTION_TYPE, client_assertion: token });
      const response = await spiffeRequest(await bundleIssuer.sign(svid, { withoutIssuer: true }));
      expect(response.status).toBe(200);
      expect(bundleIssuer.hits.size).toBe(0);
      // A JWT-SVID of another trust domain is not this issuer's, whatever key signed it.
      const refused = await spiffeRequest(await bundleIssuer.sign({ ...svid, sub: 'spiffe://evil.org/ns/payments/sa/worker' }, { withoutIssuer: true }));
      expect(refused.status).toBe(401);
    } finally {
      await bundleIssuer.close();
    }
  });

  it('a redirect to another origin is not followed, an oversized JWKS not read: 503, the token not judged', async () => {
    const elsewhere = await startPlatformIssuer();
    const fresh = await startPlatformIssuer();
    try {
      await trust(fresh.issuer);
      await addCredential({ issuer: fresh.issuer, subject: 'workload-a' });
      fresh.override('/jwks', (response) => void response.writeHead(302, { location: elsewhere.jwksUri }).end());
      const redirected = await exchange(await fresh.sign(claims({ sub: 'workload-a' })));
      expect(redirected.status).toBe(503);
      expect(redirected.headers['retry-after']).toBeDefined();
      expect(elsewhere.hits.get('/jwks')).toBeUndefined();

      t.clock.advance(2_000);
      fresh.override('/jwks', (response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: [], padding: 'x'.repeat(300 * 1024) }));
      });
      expect((await exchange(await fresh.sign(claims({ sub: 'workload-a' })))).status).toBe(503);
      expect(t.logs()).toContain('federation.keys_fetch_failed');
    } finally {
      await elsewhere.close();
      await fresh.close();
    }
  });
});

describe('discovery', () => {
  it('lists the client assertion types it accepts', async () => {
    const metadata = (await t.app.inject({ url: '/.well-known/oauth-authorization-server' })).json() as Record<string, unknown>;
    expect(metadata.client_assertion_types_supported).toEqual([JWT_BEARER_ASSERTION_TYPE, JWT_SPIFFE_ASSERTION_TYPE]);
  });
});
