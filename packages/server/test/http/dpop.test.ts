import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { basic, createTestApp, ISSUER, postToken, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { createProofKey, makeProof, negativeProofCases, type ProofKey, type ProofTarget } from '../../../sdk-core/test/helpers/dpop-proofs.js';
import type { RuntimeOptions } from '../../src/boot/create-runtime.js';
import { generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';

/**
 * DPoP at the token endpoint (RFC 9449 §5): a proof binds the token to the caller's key
 * (`cnf.jkt`, `token_type: DPoP`); each of RFC 9449 §4.3's checks and the OpenID Foundation's
 * negative cases is refused with `invalid_dpop_proof`; server nonces; client and API policies.
 */
const PAYMENTS = 'https://payments.example';
const TOKEN_URL = `${ISSUER}/oauth/token`;

let t: TestApp;
let client: { clientId: string; clientSecret: string };
// Made before the tests are collected: each negative case is a test of its own.
const key: ProofKey = await createProofKey('ES256');
const other: ProofKey = await createProofKey('ES256');

async function start(runtime: Partial<RuntimeOptions> = {}) {
  t = await createTestApp({ runtime });
  client = await seedExampleSystem(t.runtime);
}
afterEach(() => t.close());

const nowS = () => Math.floor(t.clock.now() / 1000);
const target = (extra: Partial<ProofTarget> = {}): ProofTarget => ({ method: 'POST', url: TOKEN_URL, iat: nowS(), ...extra });
const request = (dpop: string | undefined, params: Record<string, string> = {}, auth = basic(client.clientId, client.clientSecret)) =>
  postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...params }, auth, dpop === undefined ? {} : { headers: { dpop } });

describe('a DPoP proof at the token endpoint', () => {
  beforeEach(() => start());

  it('binds the token to the proof key: token_type DPoP and cnf.jkt, the RFC 7638 thumbprint', async () => {
    const response = await request(await makeProof(key, target()));
    expect(response.status).toBe(200);
    expect(response.body.token_type).toBe('DPoP');
    expect(decodeJwt(response.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('leaves a client that sends no proof with a bearer token, as before', async () => {
    const response = await request(undefined);
    expect(response.body.token_type).toBe('Bearer');
    expect(decodeJwt(response.body.access_token as string).cnf).toBeUndefined();
  });

  it('accepts RS256, PS256 and EdDSA proofs, and a proof whose htu has a default port, other letter case, a query', async () => {
    for (const alg of ['RS256', 'PS256', 'EdDSA']) {
      expect((await request(await makeProof(await createProofKey(alg), target()))).status, alg).toBe(200);
    }
    for (const htu of ['https://AUTH.test:443/oauth/token', `${TOKEN_URL}?x=1#y`]) {
      expect((await request(await makeProof(key, target(), { claims: { htu } }))).status, htu).toBe(200);
    }
  });

  it('wants the public URL from the issuer, not the Host the request came with (behind a proxy)', async () => {
    const asSeenByServer = await makeProof(key, target({ url: 'http://localhost:80/oauth/token' }));
    const response = await request(asSeenByServer);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_dpop_proof');
  });

  it.each(negativeProofCases({ key, other }, { withAccessToken: false }))(
    'refuses the OpenID Foundation negative case %s with invalid_dpop_proof, and issues nothing',
    async (_name, change) => {
      const response = await request(await makeProof(key, target(), change(target())));
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_dpop_proof');
      expect(response.body.access_token).toBeUndefined();
    },
  );

  it('refuses a proof used twice (its jti), and two DPoP headers', async () => {
    const proof = await makeProof(key, target());
    expect((await request(proof)).status).toBe(200);
    const replayed = await request(proof);
    expect(replayed.status).toBe(400);
    expect(replayed.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/already used/) });
    const twice = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(client.clientId, client.clientSecret),
        dpop: [await makeProof(key, target()), await makeProof(key, target())],
      },
      payload: `grant_type=client_credentials&audience=${encodeURIComponent(PAYMENTS)}`,
    });
    expect(twice.statusCode).toBe(400);
    expect(twice.json()).toMatchObject({ error: 'invalid_dpop_proof', error_description: 'The request must carry exactly one DPoP header.' });
  });

  it('a refused proof costs the client nothing: its client authentication is not consumed', async () => {
    const pem = await generateKeyPair('ES256', { extractable: true });
    const keyed = await t.runtime.admin.createClient({ name: 'keyed', jwks: { keys: [{ ...(await exportJWK(pem.publicKey)), kid: 'k1' }] } });
    await t.runtime.admin.createGrant({ clientId: keyed.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(keyed.clientId)
      .setSubject(keyed.clientId)
      .setAudience(TOKEN_URL)
      .setJti('assertion-1')
      .setIssuedAt(nowS())
      .setExpirationTime(nowS() + 60)
      .sign(pem.privateKey);
    const params = { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
    const refused = await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...params }, undefined, {
      headers: { dpop: await makeProof(key, target(), { breakSignature: true }) },
    });
    expect(refused.body.error).toBe('invalid_dpop_proof');
    const accepted = await postToken(t.app, { grant_type: 'client_credentials', audience: PAYMENTS, ...params }, undefined, {
      headers: { dpop: await makeProof(key, target()) },
    });
    expect(accepted.body.token_type).toBe('DPoP');
  });

  it('introspection names the key (cnf) and the token type', async () => {
    const issued = await request(await makeProof(key, target()));
    const introspector = await t.runtime.admin.createClient({ name: 'gateway', introspectApis: [PAYMENTS] });
    const answer = await postToken(t.app, { token: issued.body.access_token as string }, basic(introspector.clientId, introspector.clientSecret!), {
      url: '/oauth/introspect',
    });
    expect(answer.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });

  it('binds an opaque token too: its introspection names the key', async () => {
    const api = 'https://opaque.example';
    await t.runtime.admin.createApi({ identifier: api, scopes: ['x'], tokenFormat: 'opaque' });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: api, scopes: ['x'] });
    const issued = await request(await makeProof(key, target()), { audience: api });
    expect(issued.body.token_type).toBe('DPoP');
    const introspector = await t.runtime.admin.createClient({ name: 'opaque-gateway', introspectApis: [api] });
    const answer = await postToken(t.app, { token: issued.body.access_token as string }, basic(introspector.clientId, introspector.clientSecret!), {
      url: '/oauth/introspect',
    });
    expect(answer.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
  });

  it('binds an exchanged token to the exchanging client’s proof', async () => {
    const subject = await request(undefined);
    await t.runtime.storage.addExchangePolicy({
      id: 'xp_1',
      clientId: client.clientId,
      subjectClientId: '*',
      subjectIssuer: null,
      apiIdentifier: PAYMENTS,
      scopes: null,
      description: '',
      createdAt: t.clock.now(),
    });
    await t.runtime.registry.refresh();
    const exchanged = await request(await makeProof(key, target()), {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: subject.body.access_token as string,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(exchanged.body.token_type).toBe('DPoP');
    expect(decodeJwt(exchanged.body.access_token as string).cnf).toEqual({ jkt: key.jkt });
  });

  it('discovery lists the proof algorithms', async () => {
    const metadata = (await t.app.inject({ url: '/.well-known/oauth-authorization-server' })).json();
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'RS256', 'PS256', 'EdDSA']);
  });

  it('the admin API refuses a DPoP-bound token presented as a bearer token', async () => {
    const admin = await t.runtime.admin.bootstrapAdminClient();
    const issued = await postToken(t.app, { grant_type: 'client_credentials', audience: 'urn:m2m-auth:admin' }, basic(admin.clientId, admin.clientSecret), {
      headers: { dpop: await makeProof(key, target()) },
    });
    expect(issued.body.token_type).toBe('DPoP');
    const call = await t.app.inject({ url: '/admin/v1/clients', headers: { authorization: `Bearer ${issued.body.access_token as string}` } });
    expect(call.statusCode).toBe(401);
    expect(call.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });
});

describe('policies', () => {
  beforeEach(() => start());

  it('a client registered with dpop_bound_access_tokens must send a proof', async () => {
    await t.runtime.admin.updateClient(client.clientId, { dpopBoundAccessTokens: true });
    const without = await request(undefined);
    expect(without.status).toBe(400);
    expect(without.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/must be DPoP-bound/) });
    expect((await request(await makeProof(key, target()))).body.token_type).toBe('DPoP');
  });

  it('an API that requires sender-constrained tokens is issued none without a proof, whoever asks', async () => {
    await t.runtime.admin.updateApi(PAYMENTS, { requireSenderConstrained: true });
    const without = await request(undefined);
    expect(without.status).toBe(400);
    expect(without.body.error_description).toMatch(/accepts only sender-constrained tokens/);
    expect((await request(undefined, { audience: 'https://inventory.example' })).status).toBe(200);
    expect((await request(await makeProof(key, target()))).body.token_type).toBe('DPoP');
  });
});

describe('server nonces (--dpop-nonce)', () => {
  const masterKey = parseMasterKey(generateMasterKey());
  beforeEach(() => start({ masterKey, dpop: { requireNonce: true, nonceLifetimeSeconds: 300 } }));

  it('answers use_dpop_nonce with a DPoP-Nonce, accepts the nonce, and hands out a fresh one as it ages', async () => {
    const first = await request(await makeProof(key, target()));
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers['dpop-nonce'] as string;
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);

    const second = await request(await makeProof(key, target({ nonce })));
    expect(second.status).toBe(200);
    expect(second.headers['dpop-nonce']).toBeUndefined();

    t.clock.advance(300_000);
    const aging = await request(await makeProof(key, target({ nonce })));
    expect(aging.status).toBe(200);
    expect(aging.headers['dpop-nonce']).not.toBe(nonce);

    t.clock.advance(300_000);
    const stale = await request(await makeProof(key, target({ nonce })));
    expect(stale.body.error).toBe('use_dpop_nonce');
    expect(await request(await makeProof(key, target({ nonce: 'made-up' })))).toMatchObject({ status: 400, body: { error: 'use_dpop_nonce' } });
  });

  it('another instance with the same master key accepts the nonce: nothing is stored or shared', async () => {
    const nonce = (await request(await makeProof(key, target()))).headers['dpop-nonce'] as string;
    const twin = await createTestApp({ clock: t.clock, runtime: { masterKey, dpop: { requireNonce: true } } });
    try {
      const { clientId, clientSecret } = await seedExampleSystem(twin.runtime);
      const answer = await postToken(twin.app, { grant_type: 'client_credentials', audience: PAYMENTS }, basic(clientId, clientSecret), {
        headers: { dpop: await makeProof(key, target({ nonce })) },
      });
      expect(answer.body.token_type).toBe('DPoP');
    } finally {
      await twin.close();
    }
  });
});

describe('the proof window (--dpop-proof-window)', () => {
  beforeEach(() => start({ dpop: { proofWindowSeconds: 300 } }));

  it('accepts a proof made within the configured window and refuses one outside it', async () => {
    expect((await request(await makeProof(key, target({ iat: nowS() - 250 })))).status).toBe(200);
    expect((await request(await makeProof(key, target({ iat: nowS() - 350 })))).body.error).toBe('invalid_dpop_proof');
  });
});
