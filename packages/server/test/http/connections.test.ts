import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { connect } from 'node:net';
import { startServer, type RunningServer } from '../../src/http/start-server.js';
import { openStorage } from '../../src/storage/open-storage.js';
import type { Storage } from '../../src/storage/types.js';
import { generateMasterKey } from '../../src/keys/master-key.js';
import { rawRequest } from '../helpers/raw-http.js';

/** A real server on a socket: what happens before Fastify sees a request, and while it starts. */
const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

async function serve(limits: Parameters<typeof startServer>[0] extends infer O ? (O extends { limits?: infer L } ? L : never) : never = {}) {
  const server = await startServer({ storage: 'memory', port: 0, logger: 'silent', limits });
  running.push(server);
  return { server, port: Number(new URL(server.url).port) };
}

const PROBLEM_HEADERS = { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

describe('errors before a request reaches Fastify (clientError)', () => {
  it('unparsable HTTP: 400 problem details, no-store, nosniff, connection closed', async () => {
    const { port } = await serve();
    const answer = await rawRequest(port, 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(answer.status).toBe(400);
    expect(answer.headers).toMatchObject({ ...PROBLEM_HEADERS, connection: 'close' });
    expect(JSON.parse(answer.body)).toEqual({
      type: 'urn:m2m-auth:problem:bad-request',
      title: 'Bad Request',
      status: 400,
      detail: 'The request is not valid HTTP.',
    });
  });

  it('headers over the size limit: 431 problem details', async () => {
    const { port } = await serve();
    const answer = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    expect(answer.headers).toMatchObject(PROBLEM_HEADERS);
  });

  it('a body sent a byte at a time is cut off by the request timeout with a 408, not held for minutes', async () => {
    const { port } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const head = 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n';
    const answer = await rawRequest(port, [head, ...'grant_type=client_credentials'.split('')], { gapMs: 100, bound: 10_000 });
    expect(answer.status).toBe(408);
    expect(answer.headers).toMatchObject(PROBLEM_HEADERS);
  });

  it('headers sent slowly are cut off by the headers timeout with a 408', async () => {
    const { port } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const answer = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n'.split(''), { gapMs: 60, bound: 10_000 });
    expect(answer.status).toBe(408);
  });

  it('closes connections over the cap at once, and keeps serving the ones under it', async () => {
    const { port, server } = await serve({ maxConnections: 2 });
    const open = await Promise.all([0, 1].map(() => openSocket(port)));
    const refused = await openSocket(port);
    await new Promise<void>((resolve) => (refused.destroyed ? resolve() : refused.once('close', () => resolve())));
    expect(refused.destroyed).toBe(true);
    expect(server.url).toContain(String(port));
    for (const socket of open) socket.destroy();
    expect((await untilAnswered(() => rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { bound: 5000 }))).status).toBe(200);
  });
});

describe('a request target that cannot be decoded (found by the attack probe: no nosniff under /oauth/)', () => {
  it.each(['/oauth/%zz', '/oauth/token%', '/admin/v1/%zz', '/%zz'])('GET %s: 400 in the path’s format, no-store and nosniff', async (target) => {
    const { port } = await serve();
    const answer = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(answer.status).toBe(400);
    expect(answer.headers).toMatchObject({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    if (target.startsWith('/oauth/'))
      expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_request', error_description: 'The request target is not a valid URL.' });
    else expect(JSON.parse(answer.body)).toMatchObject({ type: 'urn:m2m-auth:problem:bad-request', status: 400 });
  });
});

function openSocket(port: number) {
  return new Promise<ReturnType<typeof connect>>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => undefined);
  });
}

describe('start-up', () => {
  it('answers 503 with Retry-After while starting (never a hang), then serves; with port 0 the issuer names the real port', async () => {
    const port = await freePort();
    const release = deferred();
    const storage = holdFirstKeyWrite(await openStorage({ kind: 'memory' }), release.promise);
    const starting = startServer({ storage, masterKey: generateMasterKey(), port, logger: 'silent' });
    const early = await untilAnswered(() => rawRequest(port, 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', { bound: 5000 }));
    expect(early.status).toBe(503);
    expect(early.headers).toMatchObject({ 'retry-after': '1', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    expect(JSON.parse(early.body)).toEqual({ error: 'temporarily_unavailable', error_description: 'The server is starting; try again shortly.' });
    const health = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', { bound: 5000 });
    expect(health.status).toBe(503);
    expect(health.headers['content-type']).toBe('application/problem+json');
    release.resolve();
    const server = await starting;
    running.push(server);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const zero = await serve();
    const metadata = (await (await fetch(`${zero.server.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
    expect(metadata.issuer).toBe(`http://127.0.0.1:${zero.port}`);
  });

  it('a failure after listening closes the socket instead of leaving a port that never answers', async () => {
    const port = await freePort();
    const storage = await openStorage({ kind: 'memory' });
    storage.transaction = async () => {
      throw new Error('disk on fire');
    };
    await expect(startServer({ storage, masterKey: generateMasterKey(), port, logger: 'silent' })).rejects.toThrow('disk on fire');
    await expect(rawRequest(port, 'GET /healthz HTTP/1.1\r\n\r\n', { bound: 5000 })).resolves.toMatchObject({ status: 0 });
  });
});

/** Holds the first write (the signing keys made after listening) until `until` settles. */
function holdFirstKeyWrite(storage: Storage, until: Promise<void>): Storage {
  const transaction = storage.transaction.bind(storage);
  storage.transaction = async (work) => {
    await until;
    return transaction(work);
  };
  return storage;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function untilAnswered<T extends { status: number }>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const answer = await attempt().catch(() => undefined);
    if (answer && answer.status > 0) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the server never answered');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('HEAD and errors before Fastify', () => {
  it('a HEAD request whose headers are too large gets the 431 headers without a body', async () => {
    const { port } = await serve();
    const answer = await rawRequest(port, `HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer.status).toBe(431);
    expect(answer.body).toBe('');
  });
});
