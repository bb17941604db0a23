import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { cliJson, initStore, startServeProcess, waitForExit } from '../helpers/cli-process.js';

/**
 * Security state shared by real processes: `serve --workers 2` on 127.0.0.1 and a restart of it.
 * Every request opens its own connection, so the cluster spreads them over both workers.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-state-e2e-'));
const d = ['--data-dir', dataDir];
const API = 'https://orders.example';
let jwtClient: { client_id: string };
let secretClient: { client_id: string; client_secret: string };
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  const jwksFile = join(dataDir, 'client-jwks.json');
  await initStore(d);
  await cliJson(['apis', 'create', '--identifier', API, '--scopes', 'read:orders', ...d]);
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] }));
  jwtClient = await cliJson(['clients', 'create', '--name', 'jwt-service', '--jwks-file', jwksFile, ...d]);
  secretClient = await cliJson(['clients', 'create', '--name', 'secret-service', ...d]);
  for (const client of [jwtClient, secretClient])
    await cliJson(['grants', 'create', '--client', client.client_id, '--api', API, '--scopes', 'read:orders', ...d]);
});

/** One POST on a fresh connection (no keep-alive), so consecutive requests can reach different workers. */
function post(url: string, body: Record<string, string>, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/oauth/token`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'close', ...(authorization ? { authorization } : {}) },
    });
    req.on('response', (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(new URLSearchParams(body).toString());
  });
}

const assertionFor = (url: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(jwtClient.client_id)
    .setSubject(jwtClient.client_id)
    .setAudience(`${url}/oauth/token`)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(privateKey);

const withAssertion = (assertion: string) => ({
  grant_type: 'client_credentials',
  audience: API,
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: assertion,
});

const pidsOf = (stdout: string, event: string) =>
  new Set(
    stdout
      .split('\n')
      .filter((line) => line.includes(`"${event}"`))
      .map((line) => (JSON.parse(line) as { pid: number }).pid),
  );

describe('serve --workers 2 --metrics: one /metrics for the whole server', () => {
  it('sums every worker’s counts, whichever worker answers the scrape', async () => {
    const server = await startServeProcess(['--port', '0', '--workers', '2', '--metrics', ...d, '--log-level', 'warn']);
    try {
      const right = `Basic ${Buffer.from(`${secretClient.client_id}:${secretClient.client_secret}`).toString('base64')}`;
      for (let i = 0; i < 10; i++) expect((await post(server.url, { grant_type: 'client_credentials', audience: API }, right)).status).toBe(200);
      for (let i = 0; i < 4; i++) {
        const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } })).text();
        expect(text).toContain(`m2m_auth_tokens_issued_total{client_id="${secretClient.client_id}",audience="${API}"} 10`);
        expect(text).not.toContain(secretClient.client_secret);
      }
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await waitForExit(server.child)).toBe(0);
  });
});

describe('serve --workers 2 shares replay and failure state, across a restart too', () => {
  it('accepts one private_key_jwt assertion once, across workers and after a restart', async () => {
    const server = await startServeProcess(['--port', '0', '--workers', '2', ...d, '--log-level', 'info']);
    const url = server.url;
    const port = new URL(url).port;
    let assertion: string;
    try {
      assertion = await assertionFor(url);
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await post(url, withAssertion(assertion)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 401, 401, 401, 401, 401]);
      expect(answers[1]!.body.error).toBe('invalid_client');
      // Ten failures spread over both workers count as one: the eleventh is throttled.
      const wrong = `Basic ${Buffer.from(`${secretClient.client_id}:m2msk_wrong`).toString('base64')}`;
      const failures = [];
      for (let i = 0; i < 11; i++) failures.push((await post(url, { grant_type: 'client_credentials', audience: API }, wrong)).status);
      expect(failures).toEqual([...Array(10).fill(401), 429]);
      const right = `Basic ${Buffer.from(`${secretClient.client_id}:${secretClient.client_secret}`).toString('base64')}`;
      expect((await post(url, { grant_type: 'client_credentials', audience: API }, right)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await waitForExit(server.child)).toBe(0);
    expect(pidsOf(server.stdout(), 'token.rejected').size).toBe(2);

    // Same port, same issuer: only the shared state can know the assertion was used.
    const restarted = await startServeProcess(['--port', port, ...d, '--log-level', 'info']);
    try {
      const replay = await post(restarted.url, withAssertion(assertion));
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe('invalid_client');
      expect((await post(restarted.url, withAssertion(await assertionFor(restarted.url)))).status).toBe(200);
    } finally {
      restarted.child.kill('SIGTERM');
    }
    expect(await waitForExit(restarted.child)).toBe(0);
  });
});
