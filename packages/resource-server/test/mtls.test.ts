import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint, formatClientCertHeader } from '@m2m-auth/sdk-core';
import { createTestCa, issueCertificate, selfSignedCertificate, type TestCertificate } from '../../sdk-core/test/helpers/test-pki.js';
import * as expressAdapter from '../src/express.js';
import * as fastifyAdapter from '../src/fastify.js';
import { createVerifier, isAuthError, type ResourceServerEvent, type VerifierOptions } from '../src/index.js';
import { proxyTrustFromList } from '../src/core/client-certificate.js';
import { claims, createClock, makeKey, mint, startIssuer, type SigningKey, type TestIssuer } from './helpers.js';

/**
 * Certificate-bound tokens at a resource server (RFC 8705 §3), through both adapters over real
 * TLS sockets on 127.0.0.1 that ask for a client certificate: a token bound to a certificate
 * (`cnf.x5t#S256`) is accepted with that certificate only; the Client-Cert header (RFC 9440) of a
 * trusted proxy stands for it, and from anyone else is ignored.
 */
const AUDIENCE = 'https://payments.example';
const ca = createTestCa();
const serverCert = issueCertificate(ca, { subject: '/CN=127.0.0.1', sanIp: ['127.0.0.1'] });
const clientCert = issueCertificate(ca, { subject: '/CN=orders-service' });
const otherCert = selfSignedCertificate({ subject: '/CN=someone-else' });
const BOUND = { cnf: { 'x5t#S256': certificateThumbprint(clientCert.x509) } };

interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** rejectUnauthorized: false — the TLS layer asks for any certificate (self-signed ones too); the binding is the SDK's check. */
const TLS = { cert: serverCert.cert, key: serverCert.key, requestCert: true, rejectUnauthorized: false };

/** GET /orders over https on each adapter. */
const adapters: Record<string, (options: VerifierOptions) => Promise<RunningApi>> = {
  express: async (options) => {
    const app = express();
    app.get('/orders', expressAdapter.requireAuth(options), (req, res) => res.json({ subject: req.auth!.subject }));
    const server = createHttpsServer(TLS, app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  },
  fastify: async (options) => {
    const app = Fastify({ https: TLS });
    await app.register(fastifyAdapter.resourceServer);
    app.get('/orders', { preHandler: fastifyAdapter.requireAuth(options) }, async (request) => ({ subject: request.auth!.subject }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
};

interface Answer {
  status: number;
  wwwAuthenticate: string | undefined;
  body: string;
}

/** One request on a fresh TLS connection (no pooling, no session reuse), presenting `certificate` if given. */
function call(url: string, token: string, certificate?: TestCertificate, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      `${url}/orders`,
      {
        ca: ca.cert,
        ...(certificate ? { cert: certificate.cert, key: certificate.key } : {}),
        agent: false,
        headers: { authorization: `Bearer ${token}`, ...headers },
        timeout: 10_000,
      },
      (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, wwwAuthenticate: response.headers['www-authenticate'], body }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end();
  });
}

const clock = createClock();
let issuer: TestIssuer;
let signing: SigningKey;

beforeAll(async () => {
  signing = await makeKey('ES256', 'key-1');
  issuer = await startIssuer({ keys: [signing] });
});
afterAll(() => issuer.close());

const options = (extra: Partial<VerifierOptions> = {}): VerifierOptions => ({ issuer: issuer.issuer, audience: AUDIENCE, now: clock.now, ...extra });
const boundToken = () => mint(signing, claims(issuer.issuer, BOUND));
const plainToken = () => mint(signing, claims(issuer.issuer));

/** The RFC 6750 answer to a refused certificate binding: it says what is wrong, never which certificate. */
function expectRefused(answer: Answer, description: RegExp): void {
  expect(answer.status).toBe(401);
  expect(answer.wwwAuthenticate).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/);
  expect(answer.wwwAuthenticate).toMatch(description);
  expect(JSON.parse(answer.body)).toMatchObject({ error: 'invalid_token' });
  for (const certificate of [clientCert, otherCert]) {
    const shown = `${answer.wwwAuthenticate} ${answer.body}`;
    expect(shown).not.toContain(certificateThumbprint(certificate.x509));
    expect(shown).not.toContain(certificate.x509.raw.toString('base64').slice(0, 40));
  }
}

for (const [name, start] of Object.entries(adapters)) {
  describe(`${name}: certificate-bound tokens over TLS (RFC 8705 §3.2)`, () => {
    let api: RunningApi;
    beforeAll(async () => {
      api = await start(options());
    });
    afterAll(() => api.close());

    it('accepts a bound token with its certificate, then refuses it with another certificate and with none (the token cache does not skip the check)', async () => {
      const token = await boundToken();
      const accepted = await call(api.url, token, clientCert);
      expect(accepted.status).toBe(200);
      expect(JSON.parse(accepted.body)).toEqual({ subject: 'orders-service' });
      expectRefused(await call(api.url, token, otherCert), /does not match the one the access token is bound to/);
      expectRefused(await call(api.url, token), /bound to a client certificate, and the request presented none/);
    });

    it("ignores a Client-Cert header from a peer that is not a trusted proxy: the connection's own certificate counts", async () => {
      const token = await boundToken();
      const forged = { 'client-cert': formatClientCertHeader(clientCert.x509) };
      expectRefused(await call(api.url, token, undefined, forged), /presented none/);
      expectRefused(await call(api.url, token, otherCert, forged), /does not match/);
      const misleading = { 'client-cert': formatClientCertHeader(otherCert.x509) };
      expect((await call(api.url, token, clientCert, misleading)).status).toBe(200);
    });

    it('accepts an unbound bearer token with or without a certificate (binding is per token)', async () => {
      const token = await plainToken();
      expect((await call(api.url, token)).status).toBe(200);
      expect((await call(api.url, token, otherCert)).status).toBe(200);
    });
  });

  describe(`${name}: mtls options`, () => {
    it('required: refuses a token that is not certificate-bound, even over mutual TLS', async () => {
      const api = await start(options({ mtls: { required: true } }));
      try {
        expectRefused(await call(api.url, await plainToken(), clientCert), /accepts only certificate-bound access tokens/);
        expect((await call(api.url, await boundToken(), clientCert)).status).toBe(200);
      } finally {
        await api.close();
      }
    });

    it("trustedProxies: from a trusted proxy the Client-Cert header is the client's certificate, and the proxy's own TLS certificate is not", async () => {
      for (const trustedProxies of [['127.0.0.1'], ['127.0.0.0/8'], (address: string) => address === '127.0.0.1']) {
        const api = await start(options({ mtls: { trustedProxies } }));
        try {
          const token = await boundToken();
          const forwarded = (certificate: TestCertificate) => ({ 'client-cert': formatClientCertHeader(certificate.x509) });
          expect((await call(api.url, token, undefined, forwarded(clientCert))).status).toBe(200);
          expect((await call(api.url, token, otherCert, forwarded(clientCert))).status).toBe(200);
          expectRefused(await call(api.url, token, clientCert, forwarded(otherCert)), /does not match/);
          expectRefused(await call(api.url, token, clientCert), /presented none/);
          expectRefused(await call(api.url, token, undefined, { 'client-cert': 'not a byte sequence' }), /presented none/);
        } finally {
          await api.close();
        }
      }
    });

    it('trustedProxies that do not include the peer: the header is ignored', async () => {
      const api = await start(options({ mtls: { trustedProxies: ['10.0.0.0/8', 'fd00::/8'] } }));
      try {
        const token = await boundToken();
        expectRefused(await call(api.url, token, undefined, { 'client-cert': formatClientCertHeader(clientCert.x509) }), /presented none/);
        expect((await call(api.url, token, clientCert)).status).toBe(200);
      } finally {
        await api.close();
      }
    });
  });
}

describe('the framework-free core', () => {
  it('takes the certificate in hand (DER bytes or parsed), and reports why a binding was refused', async () => {
    const events: ResourceServerEvent[] = [];
    const verifier = createVerifier(options({ onEvent: (event) => events.push(event) }));
    const authorization = `Bearer ${await boundToken()}`;
    await expect(verifier.authenticate({ authorization, clientCertificate: new Uint8Array(clientCert.x509.raw) })).resolves.toMatchObject({
      subject: 'orders-service',
    });
    await expect(verifier.authenticate({ authorization, clientCertificate: clientCert.x509 })).resolves.toMatchObject({ subject: 'orders-service' });
    const refused = await verifier.authenticate({ authorization, clientCertificate: otherCert.x509 }).catch((error: unknown) => error);
    expect(isAuthError(refused) && [refused.code, refused.reason, refused.status]).toEqual(['invalid_token', 'client_certificate_mismatch', 401]);
    await expect(verifier.authenticate({ authorization })).rejects.toMatchObject({ reason: 'client_certificate_missing' });
    expect(events.filter((event) => event.type === 'token.rejected').map((event) => (event as { reason: string }).reason)).toEqual([
      'client_certificate_mismatch',
      'client_certificate_missing',
    ]);
  });

  it('a trust function that throws trusts nobody', async () => {
    const verifier = createVerifier(
      options({
        mtls: {
          trustedProxies: () => {
            throw new Error('lookup failed');
          },
        },
      }),
    );
    const authorization = `Bearer ${await boundToken()}`;
    const socket = { remoteAddress: '127.0.0.1', getPeerX509Certificate: () => undefined };
    await expect(verifier.authenticate({ authorization, socket, clientCertHeader: formatClientCertHeader(clientCert.x509) })).rejects.toMatchObject({
      reason: 'client_certificate_missing',
    });
  });

  it('trusted proxy lists: addresses and CIDR ranges, IPv4-mapped IPv6 peers match their IPv4 rules', () => {
    const trust = proxyTrustFromList(['10.1.2.3', '192.168.0.0/16', 'fd00::/8']);
    if (typeof trust !== 'function') throw new Error('expected a trust function');
    expect(['10.1.2.3', '::ffff:10.1.2.3', '192.168.40.1', '::FFFF:192.168.0.9', 'fd12::1'].map(trust)).toEqual([true, true, true, true, true]);
    expect(['10.1.2.4', '127.0.0.1', '::1', 'fe80::1', 'not-an-address', ''].map(trust)).toEqual([false, false, false, false, false, false]);
  });

  it('refuses bad mtls options at set-up, naming the option', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ required: 'yes' }, /mtls\.required must be true or false/],
      [{ trustedProxies: '10.0.0.1' }, /mtls\.trustedProxies must be an array of IP addresses and CIDR ranges, or a function/],
      [{ trustedProxies: [] }, /mtls\.trustedProxies must be a non-empty array/],
      [{ trustedProxies: ['10.0.0.1', 'proxy.internal'] }, /mtls\.trustedProxies\[1\] must be an IP address or a CIDR range/],
      [{ trustedProxies: ['10.0.0.0/33'] }, /mtls\.trustedProxies\[0\] must be an IP address or a CIDR range/],
      [{ trustedProxies: ['10.0.0.0/8/1'] }, /mtls\.trustedProxies\[0\]/],
      [{ trustHeader: true }, /mtls has unknown option "trustHeader"/],
    ];
    for (const [mtls, message] of cases) {
      expect(() => createVerifier(options({ mtls: mtls as VerifierOptions['mtls'] }))).toThrowError(
        expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(message) }),
      );
    }
  });
});
