import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJwt } from 'jose';
import Provider from 'oidc-provider';
import { createTokenClient, fileAssertion, githubActionsAssertion } from '@m2m-auth/client';
import { createClock, createTestApp, ISSUER, seedExampleSystem, type TestApp } from '../helpers/test-app.js';
import { startPlatformIssuer } from '../helpers/platform-issuer.js';
import type { TrustedIssuerKind, TrustedIssuerRecord } from '../../src/storage/types.js';
import { addFederatedCredential, trustIssuer } from '../helpers/federation.js';

/**
 * Secretless clients end to end, over real HTTP: a workload holds no m2m-auth secret, only what
 * its platform gives it — a token from a real OIDC provider (node-oidc-provider), a Kubernetes
 * projected service-account token file that the kubelet replaces, a GitHub Actions OIDC token from
 * the runner's token service — and the client SDK trades it for an access token.
 */
const PAYMENTS = 'https://payments.example';

let t: TestApp;
let baseUrl: string;
let clientId: string;
const closers: (() => Promise<unknown> | void)[] = [];

async function startServer(clock = createClock(Date.now())) {
  t = await createTestApp({ clock });
  ({ clientId } = await seedExampleSystem(t.runtime));
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

async function trust(issuer: string, kind: TrustedIssuerKind, fields: Partial<TrustedIssuerRecord> = {}) {
  await trustIssuer(t.runtime.storage, t.clock.now(), issuer, kind, fields);
}

async function credential(issuer: string, subject: string, fields: { subjectMatch?: 'exact' | 'prefix'; claims?: Record<string, string> } = {}) {
  await addFederatedCredential(t.runtime.storage, t.clock.now(), { clientId, issuer, subject, ...fields });
  await t.runtime.registry.refresh();
}

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const close of closers.splice(0).reverse()) await close();
  await t?.close();
});

describe('a generic OIDC issuer: node-oidc-provider', () => {
  let provider: { issuer: string; close: () => Promise<void> };
  const WORKLOAD = { id: 'reporting-job', secret: 'provider-side-secret-of-the-workload-platform' };

  beforeAll(async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const oidc = new Provider(issuer, {
      clients: [
        {
          client_id: WORKLOAD.id,
          client_secret: WORKLOAD.secret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => ISSUER,
          useGrantedResource: () => true,
          // The provider's access token for audience m2m-auth is the workload's identity there.
          getResourceServerInfo: () => ({ scope: '', audience: ISSUER, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
    });
    const server = oidc.listen(port, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    provider = { issuer, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  });
  afterAll(() => provider.close());

  const providerToken = async () => {
    const response = await fetch(`${provider.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${WORKLOAD.id}:${WORKLOAD.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: ISSUER }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  };

  it('trusted through its discovery document: the SDK trades each provider token for an m2m-auth token', async () => {
    await startServer();
    await trust(provider.issuer, 'oidc');
    await credential(provider.issuer, WORKLOAD.id);
    const client = createTokenClient({
      tokenEndpoint: `${baseUrl}/oauth/token`,
      allowInsecureHttp: true,
      clientAssertion: { source: providerToken },
      audience: PAYMENTS,
    });
    const token = await client.getToken();
    expect(decodeJwt(token.accessToken)).toMatchObject({ iss: ISSUER, client_id: clientId, aud: PAYMENTS });
    // A provider token is used once (oidc issuers refuse reuse); the SDK fetches a new one for each request.
    const reused = await providerToken();
    const post = (assertion: string) =>
      fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          audience: PAYMENTS,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      });
    expect((await post(reused)).status).toBe(200);
    expect((await post(reused)).status).toBe(401);
  });
});

describe('a Kubernetes-shaped issuer: a projected token file the kubelet replaces', () => {
  it('the SDK reads the file again after the kubelet swaps it, and a JWKS file is the trust', async () => {
    const clock = createClock(Date.now());
    await startServer(clock);
    const cluster = await startPlatformIssuer({ alg: 'RS256' });
    closers.push(() => cluster.close());
    // The cluster's JWKS endpoint needs a credential, so the operator saved it to a file: inline keys.
    await trust(cluster.issuer, 'kubernetes', { jwks: cluster.jwks() as never });
    await credential(cluster.issuer, 'system:serviceaccount:payments:', { subjectMatch: 'prefix', claims: { 'kubernetes.io/namespace': 'payments' } });

    const mint = (lifetimeS: number) => {
      const nowS = Math.floor(clock.now() / 1000);
      return cluster.sign({
        sub: 'system:serviceaccount:payments:worker',
        aud: [ISSUER],
        iat: nowS,
        exp: nowS + lifetimeS,
        'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'worker', uid: 'b6e1' }, pod: { name: 'worker-7d9', uid: '1f2e' } },
      });
    };
    // The kubelet's layout: token -> ..data/token, ..data -> a timestamped directory, swapped atomically.
    const volume = mkdtempSync(join(tmpdir(), 'm2m-auth-projected-'));
    closers.push(() => rmSync(volume, { recursive: true, force: true }));
    let generation = 0;
    const project = async (token: string) => {
      const dir = `..${(generation += 1)}`;
      mkdirSync(join(volume, dir));
      writeFileSync(join(volume, dir, 'token'), token);
      symlinkSync(dir, join(volume, '..data_tmp'));
      renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
      if (generation === 1) symlinkSync('..data/token', join(volume, 'token'));
    };
    await project(await mint(300));

    const client = createTokenClient({
      tokenEndpoint: `${baseUrl}/oauth/token`,
      allowInsecureHttp: true,
      clientAssertion: { source: fileAssertion(join(volume, 'token')) },
      audience: PAYMENTS,
      clock: clock.now,
      backgroundRefresh: false,
    });
    const first = await client.getToken();
    expect(decodeJwt(first.accessToken).client_id).toBe(clientId);
    // Kubernetes tokens are reused for their lifetime: a second request with the same file works.
    expect((await client.getToken({ audience: 'https://inventory.example' })).accessToken).toBeTruthy();

    // The kubelet rotates the token; the old one then expires. Only the new file can work now.
    await project(await mint(3600));
    clock.advance(20 * 60_000);
    const second = await client.getToken();
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(decodeJwt(second.accessToken).client_id).toBe(clientId);
  });
});

describe('a GitHub-Actions-shaped issuer: the runner’s token service', () => {
  it('a shared issuer: a repository prefix with a claim condition pinning the owner, the SDK asking the token service', async () => {
    await startServer();
    const github = await startPlatformIssuer({ alg: 'RS256' });
    closers.push(() => github.close());
    const requestToken = 'runner-request-token-for-this-job';
    let ownerId = 42;
    github.override('/idtoken', async (response, request) => {
      if (request.headers.authorization !== `Bearer ${requestToken}`) return void response.writeHead(401).end();
      const audience = new URL(request.url!, github.issuer).searchParams.get('audience')!;
      const nowS = Math.floor(Date.now() / 1000);
      const value = await github.sign({
        sub: 'repo:acme/deployer:ref:refs/heads/main',
        aud: audience,
        iat: nowS,
        exp: nowS + 300,
        jti: `gh-${Math.random()}`,
        repository: 'acme/deployer',
        repository_owner: 'acme',
        repository_owner_id: String(ownerId),
        ref: 'refs/heads/main',
      });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ count: 1, value }));
    });
    await trust(github.issuer, 'oidc', { isShared: true });
    await credential(github.issuer, 'repo:acme/deployer:', { subjectMatch: 'prefix', claims: { repository_owner_id: '42' } });
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', `${github.issuer}/idtoken?api-version=2.0`);
    vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', requestToken);

    const client = () =>
      createTokenClient({
        tokenEndpoint: `${baseUrl}/oauth/token`,
        allowInsecureHttp: true,
        clientAssertion: { source: githubActionsAssertion({ audience: ISSUER }) },
        audience: PAYMENTS,
        retry: { maxAttempts: 1 },
      });
    expect(decodeJwt((await client().getToken()).accessToken).client_id).toBe(clientId);
    // Another owner's repository of the same name (a squatted org name): the id claim tells them apart.
    ownerId = 7;
    await expect(client().getToken()).rejects.toMatchObject({ code: 'oauth_error', error: 'invalid_client', status: 401 });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    import('node:net').then(({ createServer }) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    }, reject);
  });
}
