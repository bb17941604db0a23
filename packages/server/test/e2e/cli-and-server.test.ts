import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { cli, cliJson, initStore, logLines, startServeProcess, waitForExit, waitForLogLine } from '../helpers/cli-process.js';

/**
 * A new user's path, with real processes: the CLI sets up an API, a client and a grant, `serve`
 * runs on the same SQLite data directory, a plain HTTP client gets a token, and jose verifies it
 * against the published JWKS.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-e2e-'));
const d = ['--data-dir', dataDir];
let server: { url: string; child: ChildProcess; stdout: () => string };

async function getToken(url: string, clientId: string, secret: string, params: Record<string, string>) {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

let billing: { client_id: string; client_secret: string };

beforeAll(async () => {
  await initStore(d);
  await cliJson(['apis', 'create', '--identifier', 'https://orders.example', '--scopes', 'read:orders,write:orders', ...d]);
  await cliJson(['apis', 'create', '--identifier', 'https://stock.example', '--scopes', 'read:stock', '--alg', 'ES256', '--token-ttl', '600', ...d]);
  billing = await cliJson(['clients', 'create', '--name', 'billing-service', ...d]);
  await cliJson(['grants', 'create', '--client', billing.client_id, '--api', 'https://orders.example', '--scopes', 'read:orders', ...d]);
  server = await startServeProcess(['--port', '0', ...d, '--log-level', 'info']);
});

afterAll(async () => {
  server?.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('CLI + server as real processes', () => {
  it('keeps the master key and database private (mode 0600)', () => {
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'm2m-auth.db')).mode & 0o077).toBe(0);
  });

  it('issues a token that verifies against the JWKS from discovery', async () => {
    const { status, body } = await getToken(server.url, billing.client_id, billing.client_secret, { audience: 'https://orders.example' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'read:orders' });
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string; jwks_uri: string };
    expect(metadata.issuer).toBe(server.url);
    const { payload, protectedHeader } = await jwtVerify(body.access_token!, createRemoteJWKSet(new URL(metadata.jwks_uri)), {
      issuer: metadata.issuer,
      audience: 'https://orders.example',
      typ: 'at+jwt',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ sub: billing.client_id, client_id: billing.client_id, scope: 'read:orders' });
  });

  it('serves a client and grant created by the CLI while it runs, at once', async () => {
    const inventory = await cliJson<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'inventory-sync', ...d]);
    await cliJson(['grants', 'create', '--client', inventory.client_id, '--api', 'https://stock.example', '--scopes', 'read:stock', ...d]);
    const { status, body } = await getToken(server.url, inventory.client_id, inventory.client_secret, { audience: 'https://stock.example' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ expires_in: 600, scope: 'read:stock' });
  });

  it('publishes a key rotated by the CLI within seconds, without a restart', async () => {
    const rotated = await cliJson<{ key: { kid: string } }>(['keys', 'rotate', '--alg', 'RS256', ...d]);
    let kids: string[] = [];
    for (let attempt = 0; attempt < 50 && !kids.includes(rotated.key.kid); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      kids = ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    }
    expect(kids).toContain(rotated.key.kid);
  });

  it('gets and decodes a token with the CLI itself', async () => {
    const token = await cli(['token', '--client', billing.client_id, '--url', server.url, '--audience', 'https://orders.example', '--json'], {
      M2M_AUTH_CLIENT_SECRET: billing.client_secret,
    });
    expect(token.code).toBe(0);
    const accessToken = JSON.parse(token.stdout).access_token as string;
    const decoded = await cli(['decode', accessToken, ...d, '--json']);
    expect(decoded.code).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({ claims: { sub: billing.client_id }, time_valid: true, signature: expect.stringMatching(/^valid/) });
  });

  it("never logs the secret or the token (checked after the requests' own log lines were written)", async () => {
    const wrongSecret = `m2msk_wrong_${Date.now()}`;
    await getToken(server.url, billing.client_id, wrongSecret, { audience: 'https://orders.example' });
    const { body } = await getToken(server.url, billing.client_id, billing.client_secret, { audience: 'https://orders.example' });
    // Lines are written in order, so once the later token's audit line (found by its jti) is out,
    // so is the rejection before it.
    const { jti } = decodeJwt(body.access_token!);
    await waitForLogLine(server.stdout, (line) => line.event === 'token.issued' && line.jti === jti);
    expect(logLines(server.stdout()).some((line) => line.event === 'token.rejected' && line.detail === 'secret mismatch')).toBe(true);
    expect(server.stdout()).not.toContain(billing.client_secret);
    expect(server.stdout()).not.toContain(wrongSecret);
    expect(server.stdout()).not.toContain(body.access_token);
    expect(server.stdout()).not.toContain(body.access_token!.split('.')[2]);
  });

  it('shuts down gracefully on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    expect(await waitForExit(server.child)).toBe(0);
  });
});

describe('serve --workers 2', () => {
  it('answers on one port from two worker processes, then stops cleanly on SIGTERM', async () => {
    const workers = await startServeProcess(['--port', '0', '--workers', '2', ...d, '--log-level', 'info']);
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => getToken(workers.url, billing.client_id, billing.client_secret, { audience: 'https://orders.example' })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      const issuer = ((await (await fetch(`${workers.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string }).issuer;
      expect(issuer).toBe(workers.url);
    } finally {
      workers.child.kill('SIGTERM');
    }
    expect(await waitForExit(workers.child)).toBe(0);
    // Each worker flushes its log on exit: the audit lines name two different processes.
    const pids = workers
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"token.issued"'))
      .map((line) => (JSON.parse(line) as { pid: number }).pid);
    expect(pids).toHaveLength(20);
    expect(new Set(pids).size).toBe(2);
  });
});

describe('CLI input errors', () => {
  it.each([
    [['apis', 'create', '--identifier', 'not-a-uri', '--scopes', 'a'], /identifier must be an absolute URI/],
    [['apis', 'create', '--identifier', 'https://x.example', '--alg', 'none'], /alg must be one of/],
    [['apis', 'create', '--identifier', 'https://x.example', '--token-ttl', '999999'], /token TTL/],
    [['grants', 'create', '--client', 'nope', '--api', 'https://orders.example', '--scopes', 'read:orders'], /No client with id nope/],
    [['apis', 'show', 'https://missing.example'], /No API with identifier/],
  ])('%j fails with a clear message and exit code 1', async (args, message) => {
    const result = await cli([...args, ...d]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a duplicate API with a conflict', async () => {
    const result = await cli(['apis', 'create', '--identifier', 'https://orders.example', ...d, '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stderr)).toMatchObject({ error: 'conflict' });
  });

  it('shows the secret only once: show and list print hints, not secrets', async () => {
    const shown = await cli(['clients', 'show', billing.client_id, ...d]);
    expect(shown.stdout).not.toContain(billing.client_secret);
    expect(shown.stdout).toContain(`…${billing.client_secret.slice(-4)}`);
  });
});
