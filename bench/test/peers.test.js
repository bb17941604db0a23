import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';

/**
 * The benchmark's own m2m-auth peer imports the server's internals from dist/: a refactor that
 * renames one breaks `npm run bench` without breaking a product test. Starting it here catches that.
 */
const cliPath = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const peerPath = fileURLToPath(new URL('../peers/m2m-auth-core-server.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-peer-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('benchmark peers', () => {
  it('the m2m-auth core peer starts on a data dir the CLI prepared and issues a token', async () => {
    const cli = (...args) => JSON.parse(execFileSync(process.execPath, [cliPath, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
    cli('init');
    cli('apis', 'create', '--identifier', 'https://api.bench.example', '--scopes', 'read');
    const client = cli('clients', 'create', '--name', 'bench');
    cli('grants', 'create', '--client', client.client_id, '--api', 'https://api.bench.example', '--scopes', 'read');
    const port = await freePort();
    const server = await startChildServer({ command: process.execPath, args: [peerPath], env: { PORT: String(port), DATA_DIR: dataDir }, readyLine: true });
    try {
      const response = await fetch(`http://127.0.0.1:${port}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&audience=https%3A%2F%2Fapi.bench.example',
      });
      expect(response.status).toBe(200);
      expect((await response.json()).scope).toBe('read');
    } finally {
      await server.stop();
    }
  });
});
