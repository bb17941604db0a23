import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oauth from 'oauth4webapi';
import { freePort, m2mAuth, startAuthServer } from '../demo/auth-server.mjs';
import { startPlatformIssuer } from '../demo/platform-issuer.mjs';
import { LANGUAGE_TEST_TIMEOUT, describeWithToolchain, findTool, probe, run } from './helpers/harness.js';

/**
 * Delegation driven by clients that are not ours, against a real m2m-auth on loopback set up
 * through the CLI: oauth4webapi's generic token endpoint request doing an RFC 8693 token exchange,
 * and Python's requests (examples/python/token_exchange.py) doing the exchange and the RFC 7523 JWT
 * bearer grant. The scenario: a frontend calls the orders API; the orders API exchanges the
 * frontend's token for a ledger token, on its behalf; a CI job holds a platform JWT, no secret.
 */
const ORDERS = 'https://orders.example';
const LEDGER = 'https://ledger.example';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const CI_SUBJECT = 'repo:acme/app:ref:refs/heads/main';
const python = findTool([process.env.PYTHON ?? 'python3', '/usr/bin/python3'], (command) => probe(command, ['-c', 'import requests']));

let dataDir;
let auth;
let platform;
let frontend;
let ordersApi;
let deployer;
let files = 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-exchange-'));
  platform = await startPlatformIssuer();
  await m2mAuth(dataDir, ['init']);
  await m2mAuth(dataDir, ['apis', 'create', '--identifier', ORDERS, '--scopes', 'read:orders,ledger:append']);
  [frontend, ordersApi, deployer] = await Promise.all([
    m2mAuth(dataDir, ['apis', 'create', '--identifier', LEDGER, '--scopes', 'ledger:append,ledger:read']).then(() =>
      m2mAuth(dataDir, ['clients', 'create', '--name', 'frontend']),
    ),
    m2mAuth(dataDir, ['clients', 'create', '--name', 'orders-api']),
    m2mAuth(dataDir, ['clients', 'create', '--name', 'ci-deployer']),
    m2mAuth(dataDir, ['issuers', 'add', '--issuer', platform.issuer]),
  ]);
  await Promise.all([
    m2mAuth(dataDir, ['grants', 'create', '--client', frontend.client_id, '--api', ORDERS, '--scopes', 'read:orders,ledger:append']),
    m2mAuth(dataDir, ['grants', 'create', '--client', ordersApi.client_id, '--api', LEDGER, '--scopes', 'ledger:append,ledger:read']),
    m2mAuth(dataDir, ['grants', 'create', '--client', deployer.client_id, '--api', ORDERS, '--scopes', 'read:orders']),
    m2mAuth(dataDir, ['exchange-policies', 'add', '--client', ordersApi.client_id, '--subject-client', frontend.client_id, '--api', LEDGER]),
    m2mAuth(dataDir, ['clients', 'federated', 'add', '--client', deployer.client_id, '--issuer', platform.issuer, '--subject', CI_SUBJECT]),
  ]);
  auth = await startAuthServer({ dataDir, port: await freePort() });
}, 120_000);

afterAll(async () => {
  await auth?.stop();
  await platform?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The frontend's token on the orders API: the subject token the orders API receives. */
async function frontendToken(scope = 'read:orders ledger:append') {
  const response = await fetch(`${auth.url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${frontend.client_id}:${frontend.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', audience: ORDERS, scope }),
  });
  expect(response.status).toBe(200);
  return (await response.json()).access_token;
}

const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));

function tokenFile(token) {
  const path = join(dataDir, `token-${(files += 1)}`);
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return path;
}

describe('oauth4webapi: token exchange as a generic token endpoint request', () => {
  let as;
  const client = () => ({ client_id: ordersApi.client_id });

  beforeAll(async () => {
    const issuer = new URL(auth.url);
    // Loopback http: oauth4webapi asks for https unless told this is a test setup.
    const discovery = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true });
    as = await oauth.processDiscoveryResponse(issuer, discovery);
    expect(as.grant_types_supported).toContain(TOKEN_EXCHANGE);
  });

  const exchange = (parameters) =>
    oauth.genericTokenEndpointRequest(as, client(), oauth.ClientSecretBasic(ordersApi.client_secret), TOKEN_EXCHANGE, parameters, {
      [oauth.allowInsecureRequests]: true,
    });

  it('exchanges the frontend’s token for a ledger token naming the frontend as subject and the orders API as actor', async () => {
    const subjectToken = await frontendToken();
    const response = await exchange({ subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, audience: LEDGER, scope: 'ledger:append' });
    const result = await oauth.processGenericTokenEndpointResponse(as, client(), response);
    expect(result).toMatchObject({ token_type: 'bearer', scope: 'ledger:append', issued_token_type: ACCESS_TOKEN_TYPE });
    const claims = claimsOf(result.access_token);
    expect(claims).toMatchObject({
      iss: auth.url,
      aud: LEDGER,
      sub: frontend.client_id,
      client_id: ordersApi.client_id,
      scope: 'ledger:append',
      act: { sub: ordersApi.client_id, client_id: ordersApi.client_id },
    });
    // No longer-lived than the token it came from.
    expect(claims.exp).toBeLessThanOrEqual(claimsOf(subjectToken).exp);
  });

  it('surfaces the server’s refusal as an OAuth error: a scope wider than the subject token carries', async () => {
    const subjectToken = await frontendToken('read:orders');
    const response = await exchange({ subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE, audience: LEDGER, scope: 'ledger:append' });
    const refusal = await oauth.processGenericTokenEndpointResponse(as, client(), response).catch((error) => error);
    expect(refusal).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refusal).toMatchObject({ error: 'invalid_scope', status: 400 });
  });
});

describeWithToolchain(
  'Python: token exchange and the JWT bearer grant with requests',
  python ? undefined : 'no python3 with requests (apt-get install python3-requests)',
  () => {
    const examples = fileURLToPath(new URL('../python/', import.meta.url));
    const runExample = (mode, env) => run(python, ['token_exchange.py', mode], { cwd: examples, env: { M2M_AUTH_ISSUER: auth.url, ...env }, timeout: 30_000 });

    it(
      'token_exchange.py exchange: the orders API trades the frontend’s token for a ledger token, on its behalf',
      async () => {
        const result = await runExample('exchange', {
          CLIENT_ID: ordersApi.client_id,
          CLIENT_SECRET: ordersApi.client_secret,
          SUBJECT_TOKEN_FILE: tokenFile(await frontendToken()),
          AUDIENCE: LEDGER,
          SCOPE: 'ledger:append',
        });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.trim()).toMatch(
          new RegExp(
            `^exchanged: sub ${frontend.client_id}, actors ${ordersApi.client_id}, scope 'ledger:append', expires in \\d+ s, issued_token_type ${ACCESS_TOKEN_TYPE}$`,
          ),
        );
        expect(`${result.stdout}${result.stderr}`).not.toMatch(/eyJ/);
      },
      LANGUAGE_TEST_TIMEOUT,
    );

    it(
      'token_exchange.py exchange: refused with the server’s error when the subject token lacks the scope or no policy names the subject',
      async () => {
        const narrower = await runExample('exchange', {
          CLIENT_ID: ordersApi.client_id,
          CLIENT_SECRET: ordersApi.client_secret,
          SUBJECT_TOKEN_FILE: tokenFile(await frontendToken('read:orders')),
          AUDIENCE: LEDGER,
          SCOPE: 'ledger:append',
        });
        expect(narrower.code).toBe(1);
        expect(narrower.stdout.trim()).toMatch(/^token request refused: 400 invalid_scope \(/);
        // The CI job's platform JWT is not the frontend's token: no policy lets the orders API exchange it.
        const foreign = await runExample('exchange', {
          CLIENT_ID: ordersApi.client_id,
          CLIENT_SECRET: ordersApi.client_secret,
          SUBJECT_TOKEN_FILE: tokenFile(await platform.sign({ sub: CI_SUBJECT, aud: [auth.url] })),
          SUBJECT_TOKEN_TYPE: 'urn:ietf:params:oauth:token-type:jwt',
          AUDIENCE: LEDGER,
        });
        expect(foreign.code).toBe(1);
        expect(foreign.stdout.trim()).toMatch(/^token request refused: 400 unauthorized_client \(/);
      },
      LANGUAGE_TEST_TIMEOUT,
    );

    it(
      'token_exchange.py jwt-bearer: the CI job’s platform JWT is the grant, and names its client through the federated credential',
      async () => {
        const granted = await runExample('jwt-bearer', {
          ASSERTION_FILE: tokenFile(await platform.sign({ sub: CI_SUBJECT, aud: [auth.url] })),
          AUDIENCE: ORDERS,
          SCOPE: 'read:orders',
        });
        expect(granted.code, granted.stderr).toBe(0);
        expect(granted.stdout.trim()).toMatch(new RegExp(`^access token: client ${deployer.client_id}, scope 'read:orders', expires in \\d+ s$`));
        // Another subject of the same issuer has no federated credential.
        const stranger = await runExample('jwt-bearer', {
          ASSERTION_FILE: tokenFile(await platform.sign({ sub: 'repo:acme/other:ref:refs/heads/main', aud: [auth.url] })),
          AUDIENCE: ORDERS,
        });
        expect(stranger.code).toBe(1);
        expect(stranger.stdout.trim()).toMatch(/^token request refused: 401 invalid_client \(/);
      },
      LANGUAGE_TEST_TIMEOUT,
    );
  },
);
