// What every language example's test needs: a real m2m-auth on loopback with a throw-away data
// directory, set up through the CLI, and an API protected by the resource-server SDK to call.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { createVerifier, isAuthError, toHttpResponse, checkScopes } from '@m2m-auth/resource-server';
import { freePort, m2mAuth, startAuthServer } from '../../demo/auth-server.mjs';

export const AUDIENCE = 'https://orders.example';

/** The repository root: where every guide's commands are run from. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The command a guide prints in the ```sh block right after `<!-- tested command: <name> -->`,
 * exactly as printed. The guides print the values apart (an `export …` block with placeholders);
 * the commands themselves take them from the environment, so a test runs them unchanged.
 */
export function printedCommand(guide, name) {
  const markdown = readFileSync(join(ROOT, guide), 'utf8');
  const marker = `<!-- tested command: ${name} -->\n\`\`\`sh\n`;
  const start = markdown.indexOf(marker);
  if (start < 0) throw new Error(`${guide} prints no tested command "${name}"`);
  const body = markdown.slice(start + marker.length);
  return body.slice(0, body.indexOf('```')).trim();
}

/** Runs a printed command with bash from the repository root, as a reader would; never throws. */
export function runPrinted(command, { env = {}, timeout = 60_000 } = {}) {
  return run('bash', ['-c', command], { cwd: ROOT, env, timeout });
}

/** Each language test starts processes (a JVM, Python, Go binaries): a bound for a busy machine, not a speed claim. */
export const LANGUAGE_TEST_TIMEOUT = 120_000;

/** m2m-auth with an API, a client granted read:orders, and GET /orders requiring read:orders. */
export async function startHarness() {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-lang-'));
  await m2mAuth(dataDir, ['init']);
  await m2mAuth(dataDir, ['apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:orders,write:orders']);
  const [client, introspector] = await Promise.all([
    m2mAuth(dataDir, ['clients', 'create', '--name', 'example-client']),
    // The API's own client, allowed to introspect tokens for it (RFC 7662 §4).
    m2mAuth(dataDir, ['clients', 'create', '--name', 'orders-api', '--introspect', AUDIENCE]),
  ]);
  await m2mAuth(dataDir, ['grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:orders']);
  const auth = await startAuthServer({ dataDir, port: await freePort() });
  const issuer = auth.url;

  const verifier = createVerifier({ issuer, audience: AUDIENCE });
  const api = createServer(async (req, res) => {
    try {
      const caller = await verifier.authenticate({ authorization: req.headers.authorization });
      checkScopes(caller, ['read:orders']);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ orders: [], caller: caller.clientId }));
    } catch (error) {
      if (!isAuthError(error)) throw error;
      const { status, headers, body } = toHttpResponse(error, verifier.realm);
      res.writeHead(status, headers).end(JSON.stringify(body));
    }
  });
  await new Promise((resolve) => api.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${api.address().port}/orders`;

  /** A token straight from the token endpoint, for the resource-server checks. */
  async function token(params = { audience: AUDIENCE }) {
    const response = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
    });
    const body = await response.json();
    if (response.status !== 200) throw new Error(`token request failed: ${JSON.stringify(body)}`);
    return body.access_token;
  }

  return {
    issuer,
    dataDir,
    client,
    introspector,
    apiUrl,
    token,
    /** The environment every client example reads. */
    clientEnv: { M2M_AUTH_ISSUER: issuer, CLIENT_ID: client.client_id, CLIENT_SECRET: client.client_secret, AUDIENCE, SCOPE: 'read:orders', API_URL: apiUrl },
    async stop() {
      await new Promise((resolve) => api.close(resolve));
      await auth.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A token whose payload was changed and whose signature was kept. */
export function tamper(token) {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  return [header, Buffer.from(JSON.stringify({ ...claims, scope: 'read:orders write:orders' })).toString('base64url'), signature].join('.');
}

/**
 * Runs a command with a time limit; never throws. Asynchronous: the API the examples call runs in
 * this process and must keep answering.
 */
export function run(command, args, { env = {}, cwd, timeout = 60_000 } = {}) {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, cwd, timeout, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        stdout: stdout ?? '',
        stderr: stderr ?? '',
        error: error && typeof error.code !== 'number' ? error : undefined,
      });
    });
  });
}

/** A probe for a toolchain, run once at collection time (nothing else runs yet, so it may block). */
export function probe(command, args, timeout = 20_000) {
  const result = spawnSync(command, args, { timeout, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', error: result.error };
}

/** The first command of `candidates` for which `probe(command)` succeeds, or undefined. */
export function findTool(candidates, probe) {
  return candidates.find((command) => {
    const result = probe(command);
    return result.code === 0 && !result.error;
  });
}

/**
 * A language's tests run when its toolchain is there. Without it they are skipped with the reason
 * in the title and on stderr — unless M2M_AUTH_REQUIRE_TOOLCHAINS=1 (CI), where a missing
 * toolchain is a failure.
 */
export function describeWithToolchain(title, missing, body) {
  if (!missing) return describe(title, body);
  if (process.env.M2M_AUTH_REQUIRE_TOOLCHAINS === '1') {
    return describe(title, () =>
      it('has its toolchain', () => {
        throw new Error(`${missing} (M2M_AUTH_REQUIRE_TOOLCHAINS=1: CI must install it)`);
      }),
    );
  }
  process.stderr.write(`[examples] skipping ${title}: ${missing}\n`);
  return describe.skip(`${title} (skipped: ${missing})`, body);
}

/** The contract every client example meets: three calls, all 200 with the caller's id, one token fetch. */
export function expectThreeCallsOneToken(expect, result, clientId) {
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(3);
  for (const line of lines) expect(line).toBe(`200 {"orders":[],"caller":"${clientId}"}`);
  expect(result.stderr.match(/token fetched/g)).toHaveLength(1);
}
