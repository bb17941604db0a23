import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { cliJson, startServeProcess, waitForExit } from '../helpers/cli-process.js';
import { parseAnswer, type RawAnswer } from '../helpers/raw-http.js';

/**
 * A graceful shutdown as a load balancer sees it, with a real process: from SIGTERM /readyz
 * answers 503 while the listener still accepts and serves (`--shutdown-drain-seconds`), then the
 * listener closes, and requests already in flight (here: bodies still arriving) complete with
 * their tokens before the process exits 0.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-shutdown-'));
const d = ['--data-dir', dataDir];
const AUDIENCE = 'https://orders.example';
let client: { client_id: string; client_secret: string };

beforeAll(async () => {
  await cliJson(['init', ...d]);
  await cliJson(['apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read', ...d]);
  client = await cliJson(['clients', 'create', '--name', 'drained', ...d]);
  await cliJson(['grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read', ...d]);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A status on a fresh connection (no keep-alive pool), or the connection error's code. */
function statusOf(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

/** Polls until `check` holds; the bound only detects a server that never gets there. */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, bound = 15_000): Promise<T> {
  const deadline = Date.now() + bound;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A token request whose headers and half its body are sent now, the rest when `finish` is called. */
function startTokenRequest(port: number): Promise<{ finish(): Promise<RawAnswer> }> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE }).toString();
  const authorization = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
  const head =
    `POST /oauth/token HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${authorization}\r\n` +
    `content-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\n\r\n`;
  const half = Math.floor(body.length / 2);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1', () => {
      socket.write(head + body.slice(0, half));
      resolve({
        finish: () =>
          new Promise<RawAnswer>((answered) => {
            let data = '';
            socket.on('data', (chunk) => {
              data += chunk.toString('latin1');
              const answer = parseAnswer(data);
              if (answer.status > 0 && answer.body.length >= Number(answer.headers['content-length'] ?? Infinity)) {
                socket.destroy();
                answered(answer);
              }
            });
            socket.on('close', () => answered(parseAnswer(data)));
            socket.write(body.slice(half));
          }),
      });
    });
    socket.on('error', reject);
  });
}

describe('graceful shutdown with a drain period', () => {
  it('answers /readyz 503 from SIGTERM while serving, then closes the listener and finishes the requests in flight', async () => {
    const server = await startServeProcess(['--port', '0', ...d, '--shutdown-drain-seconds', '5', '--log-level', 'info']);
    const child: ChildProcess = server.child;
    try {
      const port = Number(new URL(server.url).port);
      expect(await statusOf(port, '/readyz')).toBe(200);
      const duringDrain = await startTokenRequest(port);
      const afterClose = await startTokenRequest(port);

      child.kill('SIGTERM');
      expect(
        await until(
          () => statusOf(port, '/readyz'),
          (status) => status === 503,
        ),
      ).toBe(503);
      // Still accepting and serving: the balancer's last requests are answered, not refused.
      expect(await statusOf(port, '/healthz')).toBe(200);
      const first = await duringDrain.finish();
      expect(first.status).toBe(200);
      expect(JSON.parse(first.body)).toMatchObject({ token_type: 'Bearer' });

      // The drain over, new connections are refused, and the request still in flight completes.
      expect(
        await until(
          () => statusOf(port, '/healthz'),
          (status) => status === 'ECONNREFUSED',
        ),
      ).toBe('ECONNREFUSED');
      const second = await afterClose.finish();
      expect(second.status).toBe(200);
      expect(JSON.parse(second.body)).toMatchObject({ token_type: 'Bearer' });
      expect(await waitForExit(child)).toBe(0);
      expect(server.stdout()).toMatch(/"event":"server.draining"/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('drains every worker under --workers: the primary waits for them instead of closing their listeners', async () => {
    const server = await startServeProcess(['--port', '0', ...d, '--workers', '2', '--shutdown-drain-seconds', '3']);
    const child: ChildProcess = server.child;
    try {
      const port = Number(new URL(server.url).port);
      expect(
        await until(
          () => statusOf(port, '/readyz'),
          (status) => status === 200,
        ),
      ).toBe(200);
      const inFlight = await startTokenRequest(port);
      child.kill('SIGTERM');
      expect(
        await until(
          () => statusOf(port, '/readyz'),
          (status) => status === 503,
        ),
      ).toBe(503);
      expect((await inFlight.finish()).status).toBe(200);
      expect(await waitForExit(child)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
