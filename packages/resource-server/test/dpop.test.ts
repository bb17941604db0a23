import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as expressAdapter from '../src/express.js';
import * as fastifyAdapter from '../src/fastify.js';
import { createVerifier, type ResourceServerEvent, type VerifierOptions } from '../src/index.js';
import { createRedisReplayStore } from '../src/redis.js';
import { claims, createClock, makeKey, mint, type SigningKey, type TestIssuer, startIssuer } from './helpers.js';
import { createProofKey, makeProof, negativeProofCases, type ProofKey, type ProofTarget } from '../../sdk-core/test/helpers/dpop-proofs.js';
import { createRedisNamespace, isRedisAvailable } from './services.js';

/**
 * DPoP at a resource server (RFC 9449 §7), through both adapters over real HTTP: a DPoP-bound
 * token is accepted with a proof for this request, and every negative case of the OpenID
 * Foundation's DPoP tests is refused with a DPoP challenge; a bound token is refused as a bearer
 * token; the scheme's case does not matter; nonces; the public URL behind a proxy.
 */
const AUDIENCE = 'https://payments.example';

interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** GET /orders on each adapter; `trustProxy` as each framework spells it. */
const adapters: Record<string, (options: VerifierOptions, trustProxy?: boolean) => Promise<RunningApi>> = {
  express: async (options, trustProxy = false) => {
    const app = express();
    app.set('trust proxy', trustProxy);
    app.get('/orders', expressAdapter.requireAuth(options), (req, res) => res.json({ subject: req.auth!.subject }));
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
  },
  fastify: async (options, trustProxy = false) => {
    const app = Fastify({ trustProxy });
    await app.register(fastifyAdapter.resourceServer);
    app.get('/orders', { preHandler: fastifyAdapter.requireAuth(options) }, async (request) => ({ subject: request.auth!.subject }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
};

const clock = createClock();
const nowS = () => Math.floor(clock.now() / 1000);
let issuer: TestIssuer;
let signing: SigningKey;
// Made before the tests are collected: each negative case is a test of its own.
const key: ProofKey = await createProofKey('ES256');
const other: ProofKey = await createProofKey('ES256');

beforeAll(async () => {
  signing = await makeKey('ES256', 'key-1');
  issuer = await startIssuer({ keys: [signing] });
});
afterAll(() => issuer.close());

const boundToken = (jkt = key.jkt) => mint(signing, claims(issuer.issuer, { cnf: { jkt } }));
const options = (extra: Partial<VerifierOptions> = {}): VerifierOptions => ({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now, ...extra });

async function call(api: RunningApi, authorization: string, dpop?: string | string[], path = '/orders', headers: Record<string, string> = {}) {
  const list: [string, string][] = [['authorization', authorization], ...Object.entries(headers)];
  for (const proof of [dpop ?? []].flat()) list.push(['dpop', proof]);
  const response = await fetch(`${api.url}${path}`, { headers: list });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate') ?? '',
    nonce: response.headers.get('dpop-nonce'),
    body: (await response.json()) as { error?: string; error_description?: string; subject?: string },
  };
}

for (const [adapterName, startApi] of Object.entries(adapters)) {
  describe(`DPoP through the ${adapterName} adapter`, () => {
    let api: RunningApi;
    const target = (extra: Partial<ProofTarget> = {}): ProofTarget => ({ method: 'GET', url: `${api.url}/orders`, iat: nowS(), ...extra });

    beforeAll(async () => {
      api = await startApi(options());
    });
    afterAll(() => api.close());

    it('accepts a DPoP-bound token with a proof for this request, whatever the case of the scheme', async () => {
      const token = await boundToken();
      for (const scheme of ['DPoP', 'dpop', 'DPOP', 'dPoP']) {
        const answer = await call(api, `${scheme} ${token}`, await makeProof(key, target({ accessToken: token })));
        expect(answer.status, scheme).toBe(200);
      }
    });

    it('ignores the query string: the proof names the URL without it', async () => {
      const token = await boundToken();
      const answer = await call(api, `DPoP ${token}`, await makeProof(key, target({ accessToken: token })), '/orders?page=2');
      expect(answer.status).toBe(200);
    });

    it.each(negativeProofCases({ key, other }, { withAccessToken: true }))(
      'refuses the OpenID Foundation negative case %s with 401 invalid_dpop_proof and a DPoP challenge',
      async (_name, change) => {
        const token = await boundToken();
        const answer = await call(api, `DPoP ${token}`, await makeProof(key, target({ accessToken: token }), change(target({ accessToken: token }))));
        expect(answer.status).toBe(401);
        expect(answer.challenge).toMatch(/^DPoP realm="api", error="invalid_dpop_proof", error_description="[^"]+", algs="ES256 RS256 PS256 EdDSA"$/);
        expect(answer.body.error).toBe('invalid_dpop_proof');
      },
    );

    it('refuses a proof presented twice, a request without a proof, and two DPoP headers', async () => {
      const token = await boundToken();
      const proof = await makeProof(key, target({ accessToken: token }));
      expect((await call(api, `DPoP ${token}`, proof)).status).toBe(200);
      const replayed = await call(api, `DPoP ${token}`, proof);
      expect(replayed).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof', error_description: expect.stringMatching(/already used/) } });
      expect((await call(api, `DPoP ${token}`)).body).toMatchObject({ error: 'invalid_dpop_proof', error_description: 'The request must carry a DPoP proof.' });
      const two = [await makeProof(key, target({ accessToken: token })), await makeProof(key, target({ accessToken: token }))];
      expect((await call(api, `DPoP ${token}`, two)).body).toMatchObject({
        error: 'invalid_dpop_proof',
        error_description: 'The request must carry exactly one DPoP header.',
      });
    });

    it('refuses a token bound to one key used with a proof of another', async () => {
      const token = await boundToken(other.jkt);
      const answer = await call(api, `DPoP ${token}`, await makeProof(key, target({ accessToken: token })));
      expect(answer).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof', error_description: expect.stringMatching(/another key/) } });
    });

    it('refuses a DPoP-bound token presented as a bearer token, and a bearer token presented with the DPoP scheme', async () => {
      const bound = await boundToken();
      const asBearer = await call(api, `Bearer ${bound}`, await makeProof(key, target({ accessToken: bound })));
      expect(asBearer.status).toBe(401);
      expect(asBearer.challenge).toMatch(/^DPoP realm="api", error="invalid_token", error_description="The access token is bound to a key/);
      const plain = await mint(signing, claims(issuer.issuer));
      const asDpop = await call(api, `DPoP ${plain}`, await makeProof(key, target({ accessToken: plain })));
      expect(asDpop).toMatchObject({ status: 401, body: { error: 'invalid_token', error_description: expect.stringMatching(/not DPoP-bound/) } });
      expect((await call(api, `Bearer ${plain}`)).status).toBe(200);
    });

    it('answers a DPoP request whose token is refused with a DPoP challenge', async () => {
      const expired = await mint(signing, claims(issuer.issuer, { cnf: { jkt: key.jkt }, exp: nowS() - 60 }));
      const answer = await call(api, `DPoP ${expired}`, await makeProof(key, target({ accessToken: expired })));
      expect(answer.status).toBe(401);
      expect(answer.challenge).toMatch(/^DPoP realm="api", error="invalid_token", error_description="The access token expired.", algs="/);
    });
  });

  describe(`DPoP options through the ${adapterName} adapter`, () => {
    it('nonces: use_dpop_nonce with a DPoP-Nonce, then the nonce is accepted', async () => {
      const api = await startApi(options({ dpop: { nonce: { secret: 'n'.repeat(32) } } }));
      try {
        const token = await boundToken();
        const target = { method: 'GET', url: `${api.url}/orders`, iat: nowS(), accessToken: token };
        const first = await call(api, `DPoP ${token}`, await makeProof(key, target));
        expect(first.status).toBe(401);
        expect(first.challenge).toMatch(/^DPoP realm="api", error="use_dpop_nonce", error_description="[^"]+", algs="ES256 RS256 PS256 EdDSA"$/);
        expect(first.nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
        expect((await call(api, `DPoP ${token}`, await makeProof(key, { ...target, nonce: first.nonce! }))).status).toBe(200);
      } finally {
        await api.close();
      }
    });

    it('required: a bearer token is refused with a DPoP challenge', async () => {
      const api = await startApi(options({ dpop: { required: true } }));
      try {
        const answer = await call(api, `Bearer ${await mint(signing, claims(issuer.issuer))}`);
        expect(answer.status).toBe(401);
        expect(answer.challenge).toMatch(
          /^DPoP realm="api", error="invalid_token", error_description="This API accepts only DPoP-bound access tokens.", algs="/,
        );
        const missing = await fetch(`${api.url}/orders`);
        expect(missing.headers.get('www-authenticate')).toBe('DPoP realm="api", algs="ES256 RS256 PS256 EdDSA"');
      } finally {
        await api.close();
      }
    });

    it('behind a trusted proxy: the URL the client addressed, from X-Forwarded-Proto and -Host; not without trust', async () => {
      const token = await boundToken();
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example' };
      const publicTarget = { method: 'GET', url: 'https://api.example/orders', iat: nowS(), accessToken: token };
      const trusting = await startApi(options(), true);
      const untrusting = await startApi(options());
      try {
        expect((await call(trusting, `DPoP ${token}`, await makeProof(key, publicTarget), '/orders', forwarded)).status).toBe(200);
        expect((await call(untrusting, `DPoP ${token}`, await makeProof(key, publicTarget), '/orders', forwarded)).body.error).toBe('invalid_dpop_proof');
      } finally {
        await trusting.close();
        await untrusting.close();
      }
    });

    it('origin: the configured public origin and the request path', async () => {
      const api = await startApi(options({ dpop: { origin: 'https://gateway.example' } }));
      try {
        const token = await boundToken();
        const proof = await makeProof(key, { method: 'GET', url: 'https://gateway.example/orders', iat: nowS(), accessToken: token });
        expect((await call(api, `DPoP ${token}`, proof)).status).toBe(200);
      } finally {
        await api.close();
      }
    });
  });
}

describe('DPoP in the framework-free core', () => {
  it('reports refusals as token.rejected with their reason', async () => {
    const events: ResourceServerEvent[] = [];
    const verifier = createVerifier(options({ onEvent: (event) => events.push(event) }));
    const token = await boundToken();
    await expect(verifier.authenticate({ authorization: `Bearer ${token}` })).rejects.toMatchObject({
      code: 'invalid_token',
      reason: 'dpop_bound_token_as_bearer',
    });
    await expect(verifier.authenticate({ authorization: `DPoP ${token}` })).rejects.toMatchObject({ code: 'invalid_dpop_proof', reason: 'dpop_proof_missing' });
    expect(events.filter((event) => event.type === 'token.rejected').map((event) => (event as { reason: string }).reason)).toEqual([
      'dpop_bound_token_as_bearer',
      'dpop_proof_missing',
    ]);
  });

  it('needs the method and URL from an adapter or the caller, and says so', async () => {
    const verifier = createVerifier(options());
    const token = await boundToken();
    const proof = await makeProof(key, { method: 'GET', url: 'https://api.example/orders', iat: nowS(), accessToken: token });
    await expect(verifier.authenticate({ authorization: `DPoP ${token}`, dpop: proof })).rejects.toThrow(/needs the request method and URL/);
    await expect(
      verifier.authenticate({ authorization: `DPoP ${token}`, dpop: proof, method: 'GET', url: 'https://api.example/orders' }),
    ).resolves.toMatchObject({ subject: 'orders-service' });
  });

  it('checks options at set-up', () => {
    expect(() => createVerifier(options({ dpop: { algorithms: ['HS256' as never] } }))).toThrow(/dpop.algorithms\[0\] must be one of/);
    expect(() => createVerifier(options({ dpop: { nonce: { secret: 'short' } } }))).toThrow(/at least 32 bytes/);
    expect(() => createVerifier(options({ dpop: { unknown: true } as never }))).toThrow(/unknown option/);
  });
});

const redisUp = await isRedisAvailable();

describe.skipIf(!redisUp)('DPoP proofs across instances (Redis)', () => {
  it('a proof accepted by one instance is refused by the other', async () => {
    const namespace = createRedisNamespace();
    const [a, b] = [0, 1].map(() =>
      createVerifier(options({ dpop: { replayStore: createRedisReplayStore({ redis: namespace.client, keyPrefix: namespace.prefix, now: clock.now }) } })),
    );
    try {
      const token = await boundToken();
      const request = { method: 'POST', url: 'https://api.example/orders' };
      const proof = await makeProof(key, { ...request, iat: nowS(), accessToken: token });
      const sources = { authorization: `DPoP ${token}`, dpop: proof, ...request };
      await expect(a!.authenticate(sources)).resolves.toMatchObject({ subject: 'orders-service' });
      await expect(b!.authenticate(sources)).rejects.toMatchObject({ code: 'invalid_dpop_proof', reason: 'dpop_proof_replayed' });
      expect((await namespace.keys()).length).toBe(1);
    } finally {
      await namespace.removeAll();
    }
  });
});
