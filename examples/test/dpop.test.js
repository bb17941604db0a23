import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, isAuthError, toHttpResponse } from '@m2m-auth/resource-server';
import { m2mAuth } from '../demo/auth-server.mjs';
import { AUDIENCE, LANGUAGE_TEST_TIMEOUT, describeWithToolchain, findTool, probe, run, startHarness } from './helpers/harness.js';

/**
 * The DPoP examples (python/dpop_client.py, java/DpopClient.java, go/dpop) against a real m2m-auth
 * that requires server nonces (M2M_AUTH_DPOP_NONCE) and an API that accepts only DPoP-bound tokens
 * and asks for its own nonces: each example does both nonce dances, gets a token bound to its key,
 * and calls the API three times with a proof per call. Their client is registered through the CLI
 * with --dpop-bound, so a bearer token request of it is refused.
 */
const python = findTool([process.env.PYTHON ?? 'python3', '/usr/bin/python3'], (command) => probe(command, ['-c', 'import requests, jwt, cryptography']));
const javaVersion = probe('javac', ['-version']);
const javaMajor = Number(/javac (\d+)/.exec(`${javaVersion.stdout}${javaVersion.stderr}`)?.[1] ?? 0);
const hasGo = probe('go', ['version']).code === 0;

let harness;
let api;
let env;
let dpopClient;

beforeAll(async () => {
  process.env.M2M_AUTH_DPOP_NONCE = 'true';
  harness = await startHarness();
  // Made while the server runs: it reads a client it has not seen from the database.
  dpopClient = await m2mAuth(harness.dataDir, ['clients', 'create', '--name', 'dpop-client', '--dpop-bound']);
  await m2mAuth(harness.dataDir, ['grants', 'create', '--client', dpopClient.client_id, '--api', AUDIENCE, '--scopes', 'read:orders']);

  const verifier = createVerifier({
    issuer: harness.issuer,
    audience: AUDIENCE,
    dpop: { required: true, nonce: { secret: 'examples-dpop-nonce-secret-32-bytes' } },
  });
  const server = createServer(async (req, res) => {
    try {
      const url = `http://${req.headers.host}${req.url}`;
      const caller = await verifier.authenticate({ authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method, url });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ caller: caller.clientId, jkt: caller.claims.cnf.jkt }));
    } catch (error) {
      if (!isAuthError(error)) throw error;
      const { status, headers, body } = toHttpResponse(error, verifier.realm);
      res.writeHead(status, headers).end(JSON.stringify(body));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  api = { url: `http://127.0.0.1:${server.address().port}/orders`, close: () => new Promise((resolve) => server.close(resolve)) };
  env = { ...harness.clientEnv, CLIENT_ID: dpopClient.client_id, CLIENT_SECRET: dpopClient.client_secret, API_URL: api.url };
}, 120_000);

afterAll(async () => {
  delete process.env.M2M_AUTH_DPOP_NONCE;
  await api?.close();
  await harness?.stop();
});

/** Three calls, all 200 for the client, each seen bound to the key the example says it made; one token. */
function expectBoundCalls(result) {
  expect(result.code, result.stderr).toBe(0);
  const fetched = [...result.stderr.matchAll(/token fetched \(token_type DPoP, bound to key ([A-Za-z0-9_-]{43})\)/g)];
  expect(fetched).toHaveLength(1);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toEqual(Array(3).fill(`200 {"caller":"${dpopClient.client_id}","jkt":"${fetched[0][1]}"}`));
}

describe('a client registered with --dpop-bound', () => {
  it('is refused a token without a proof', async () => {
    const response = await fetch(`${harness.issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${dpopClient.client_id}:${dpopClient.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE }),
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('invalid_dpop_proof');
  });
});

describe('the CLI flags', () => {
  it('apis create|update --require-sender-constrained and clients update --dpop-bound set and clear the policies', async () => {
    const api = await m2mAuth(harness.dataDir, ['apis', 'create', '--identifier', 'https://strict.example', '--require-sender-constrained']);
    expect(api.require_sender_constrained).toBe(true);
    expect((await m2mAuth(harness.dataDir, ['apis', 'update', 'https://strict.example', '--no-require-sender-constrained'])).require_sender_constrained).toBe(
      false,
    );
    expect((await m2mAuth(harness.dataDir, ['apis', 'update', 'https://strict.example', '--require-sender-constrained'])).require_sender_constrained).toBe(
      true,
    );
    const client = await m2mAuth(harness.dataDir, ['clients', 'create', '--name', 'flag-client']);
    expect(client.dpop_bound_access_tokens).toBe(false);
    expect((await m2mAuth(harness.dataDir, ['clients', 'update', client.client_id, '--dpop-bound'])).dpop_bound_access_tokens).toBe(true);
    expect((await m2mAuth(harness.dataDir, ['clients', 'update', client.client_id, '--no-dpop-bound'])).dpop_bound_access_tokens).toBe(false);
  });
});

describeWithToolchain('Python DPoP example (PyJWT + cryptography)', python ? undefined : 'no python3 with requests, PyJWT and cryptography', () => {
  it(
    'dpop_client.py gets a DPoP-bound token and calls the API with a proof per call',
    async () => {
      expectBoundCalls(await run(python, ['dpop_client.py'], { cwd: fileURLToPath(new URL('../python/', import.meta.url)), env, timeout: 30_000 }));
    },
    LANGUAGE_TEST_TIMEOUT,
  );
});

describeWithToolchain(
  'Java DPoP example (JDK 17)',
  javaVersion.code !== 0 ? 'javac not found (apt-get install openjdk-17-jdk-headless)' : javaMajor < 17 ? `javac ${javaMajor} is older than 17` : undefined,
  () => {
    it(
      'DpopClient gets a DPoP-bound token and calls the API with a proof per call',
      async () => {
        const classes = mkdtempSync(join(tmpdir(), 'm2m-auth-java-dpop-'));
        try {
          const compiled = await run('javac', ['-d', classes, fileURLToPath(new URL('../java/DpopClient.java', import.meta.url))], { timeout: 90_000 });
          expect(compiled.code, compiled.stderr).toBe(0);
          expectBoundCalls(await run('java', ['-cp', classes, 'DpopClient'], { env, timeout: 60_000 }));
        } finally {
          rmSync(classes, { recursive: true, force: true });
        }
      },
      LANGUAGE_TEST_TIMEOUT,
    );
  },
);

describeWithToolchain('Go DPoP example (standard library)', hasGo ? undefined : 'go not found (apt-get install golang-go)', () => {
  it(
    'dpop gets a DPoP-bound token and calls the API with a proof per call',
    async () => {
      const bin = mkdtempSync(join(tmpdir(), 'm2m-auth-go-dpop-'));
      try {
        // Standard library only: built without modules, like the other Go examples.
        const buildEnv = { GO111MODULE: 'off', GOCACHE: join(bin, 'cache'), GOFLAGS: '' };
        const built = await run('go', ['build', '-o', join(bin, 'dpop'), './dpop'], {
          cwd: fileURLToPath(new URL('../go/', import.meta.url)),
          env: buildEnv,
          timeout: 120_000,
        });
        expect(built.code, built.stderr).toBe(0);
        expectBoundCalls(await run(join(bin, 'dpop'), [], { env, timeout: 30_000 }));
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    },
    LANGUAGE_TEST_TIMEOUT,
  );
});
