import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChildServer } from '../lib/child-server.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const m2mAuthBin = join(repoRoot, 'packages/server/bin/m2m-auth.js');
const peer = (name) => join(repoRoot, 'bench/peers', name);
export const AUDIENCE = 'https://api.bench.example';

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * The token servers compared. Each `start` returns the process to watch and the exact request to
 * repeat: a client_credentials grant with real credentials, answered with a freshly signed token.
 */
export const tokenTargets = [
  {
    name: 'm2m-auth',
    start: (options) => startM2mAuth({ ...options, workers: 1 }),
  },
  {
    name: 'm2m-auth ×2 workers',
    start: (options) => startM2mAuth({ ...options, workers: 2 }),
  },
  {
    // The same runtime without Fastify: shows what the framework costs (see the peer's header).
    name: 'm2m-auth core on node:http',
    start: (options) => startM2mAuth({ ...options, workers: 1, coreOnly: true }),
  },
  {
    name: 'reference',
    start: (options) => startPeer('reference-token-server.js', { ...options, workers: 1 }),
  },
  {
    name: 'reference ×2 workers',
    start: (options) => startPeer('reference-token-server.js', { ...options, workers: 2 }),
  },
  {
    name: 'node-oidc-provider 9',
    start: (options) => startPeer('oidc-provider-server.js', { ...options, workers: 1 }),
  },
];

export async function startM2mAuth({ alg, port, workers, coreOnly = false, nodeArgs = [] }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-'));
  const cli = (...args) => JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
  cli('init');
  cli('apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:things', '--alg', alg, '--token-ttl', '900');
  const client = cli('clients', 'create', '--name', 'bench-client');
  cli('grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:things');
  const url = `http://127.0.0.1:${port}`;
  const server = coreOnly
    ? await startChildServer({
        command: process.execPath,
        args: ['--max-semi-space-size=4', ...nodeArgs, peer('m2m-auth-core-server.js')],
        env: { PORT: String(port), DATA_DIR: dataDir },
        readyLine: true,
      })
    : await startChildServer({
        command: process.execPath,
        // Logging stays on (one token.issued line per token, as in production), written to /dev/null.
        args: [
          '--max-semi-space-size=4',
          ...nodeArgs,
          m2mAuthBin,
          'serve',
          '--port',
          String(port),
          '--data-dir',
          dataDir,
          '--workers',
          String(workers),
          '--metrics',
        ],
        probeUrl: `${url}/healthz`,
      });
  if (workers > 1) await waitForWorkers(`${url}/healthz`, workers);
  return {
    ...server,
    request: tokenRequest(`${url}/oauth/token`, client.client_id, client.client_secret),
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startPeer(file, { alg, port, workers, nodeArgs = [] }) {
  const server = await startChildServer({
    command: process.execPath,
    args: [...nodeArgs, peer(file)],
    env: { PORT: String(port), ALG: alg, WORKERS: String(workers) },
    readyLine: true,
  });
  const { url, tokenPath, clientId, clientSecret, audience, scope } = server.info;
  return { ...server, request: tokenRequest(`${url}${tokenPath}`, clientId, clientSecret, { audience, scope, parameter: 'resource' }) };
}

function tokenRequest(url, clientId, clientSecret, { audience = AUDIENCE, scope = 'read:things', parameter = 'audience' } = {}) {
  return {
    url,
    method: 'POST',
    headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', [parameter]: audience, scope }).toString(),
  };
}

/** A cluster answers /healthz as soon as one worker listens; give the others a moment. */
async function waitForWorkers(url, workers) {
  for (let i = 0; i < workers * 10; i += 1) {
    await fetch(url).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Before measuring, one request proves the target answers with a real token signed as asked. */
export async function checkTokenResponse(request, alg) {
  const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
  const body = await response.json();
  if (response.status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(`token request failed: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  }
  const header = JSON.parse(Buffer.from(body.access_token.split('.')[0], 'base64url').toString());
  if (header.alg !== alg) throw new Error(`expected an ${alg} token, got ${header.alg}`);
}
