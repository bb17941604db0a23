import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, createVerifier, toHttpResponse, type ResourceServerEvent, type VerifierOptions } from '../src/index.js';
import { createRedisIntrospectionCache, createRedisReplayStore } from '../src/redis.js';
import { claims, createClock, makeKey, mint, nowSeconds, startIssuer, type SigningKey, type TestIssuer } from './helpers.js';
import { closedRedisUrl, createRedisNamespace, isRedisAvailable, REDIS_URL } from './services.js';

const AUDIENCE = 'https://payments.example';
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const hasRedis = await isRedisAvailable();

let key: SigningKey;
let issuer: TestIssuer;
let introspections = 0;
let activeUntil = nowSeconds() + 30;
beforeAll(async () => {
  key = await makeKey('ES256');
  issuer = await startIssuer({ keys: [key] });
  issuer.onIntrospect((_req, body) => {
    introspections += 1;
    const token = new URLSearchParams(body).get('token');
    if (token?.startsWith('revoked')) return { status: 200, body: { active: false } };
    return { status: 200, body: { active: true, iss: issuer.issuer, aud: AUDIENCE, exp: activeUntil, client_id: 'orders-service', sub: 'orders-service' } };
  });
});
afterAll(() => issuer.close());

const baseOptions = (overrides: Partial<VerifierOptions> = {}): VerifierOptions => ({
  issuer: issuer.issuer,
  audience: AUDIENCE,
  now: createClock().now,
  ...overrides,
});
const introspection = (cache: NonNullable<VerifierOptions['introspection']>['cache']) => ({
  endpoint: `${issuer.base}/introspect`,
  clientId: 'rs',
  clientSecret: 'rs-secret',
  cacheTtlSeconds: 60,
  inactiveTtlSeconds: 7,
  cache,
});

describe.skipIf(!hasRedis)(`Redis replay store and introspection cache (${REDIS_URL})`, () => {
  let namespace: ReturnType<typeof createRedisNamespace>;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(() => void (namespace = createRedisNamespace()));
  afterAll(async () => {
    for (const close of closers) await close();
    await namespace.removeAll();
  });
  /** Each call is one API instance: its own connection, the shared Redis and key prefix. */
  const replayStore = (options: { now?: () => number } = {}) => {
    const store = createRedisReplayStore({ redis: REDIS_URL, keyPrefix: namespace.prefix, ...options });
    closers.push(store.close);
    return store;
  };
  const introspectionCache = () => {
    const cache = createRedisIntrospectionCache({ redis: REDIS_URL, keyPrefix: namespace.prefix });
    closers.push(cache.close);
    return cache;
  };

  it('accepts a jti once across two instances sharing Redis, under a hashed key that lives until exp + tolerance', async () => {
    const clock = createClock();
    const first = createVerifier(baseOptions({ now: clock.now, replayDetection: replayStore({ now: clock.now }) }));
    const second = createVerifier(baseOptions({ now: clock.now, replayDetection: replayStore({ now: clock.now }) }));
    const jti = `one-time-${Math.random().toString(36).slice(2)}`;
    const token = await mint(key, claims(issuer.issuer, { jti, exp: nowSeconds() + 600 }));

    await expect(first.verify(token)).resolves.toMatchObject({ tokenId: jti });
    await expect(second.verify(token)).rejects.toMatchObject({ code: 'invalid_token', reason: 'replayed', status: 401 });
    await expect(first.verify(token)).rejects.toMatchObject({ code: 'invalid_token', reason: 'replayed' });

    const stored = `${namespace.prefix}jti:${sha256(jti)}`;
    expect(await namespace.keys()).toContain(stored);
    expect((await namespace.keys()).join('\n')).not.toContain(jti);
    const ttl = await namespace.client.pttl(stored);
    expect(ttl).toBeGreaterThan(600_000);
    expect(ttl).toBeLessThanOrEqual(605_000); // exp + the default 5 s tolerance
  });

  it('forgets a jti when the token can no longer be accepted, so the id is accepted again after expiry', async () => {
    const clock = createClock(); // held still: only Redis's own clock moves
    const verifier = createVerifier(baseOptions({ now: clock.now, clockToleranceSeconds: 0, replayDetection: replayStore({ now: clock.now }) }));
    const jti = `short-${Math.random().toString(36).slice(2)}`;
    const token = await mint(key, claims(issuer.issuer, { jti, exp: nowSeconds() + 1 }));
    await expect(verifier.verify(token)).resolves.toBeDefined();
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'replayed' });
    const stored = `${namespace.prefix}jti:${sha256(jti)}`;
    expect(await namespace.client.pttl(stored)).toBeLessThanOrEqual(1000);
    for (let waited = 0; (await namespace.client.exists(stored)) === 1 && waited < 10_000; waited += 100) await sleep(100);
    await expect(verifier.verify(token)).resolves.toBeDefined();
  });

  it('shares introspection answers between instances under the token hash, never the token, with TTLs bounded by exp and the settings', async () => {
    activeUntil = nowSeconds() + 30;
    const first = createVerifier(baseOptions({ introspection: introspection(introspectionCache()) }));
    const second = createVerifier(baseOptions({ introspection: introspection(introspectionCache()) }));
    const token = `opaque-${Math.random().toString(36).slice(2)}`;
    const revoked = `revoked-${Math.random().toString(36).slice(2)}`;
    const before = introspections;

    await expect(first.verify(token)).resolves.toMatchObject({ subject: 'orders-service', source: 'introspection' });
    await expect(first.verify(revoked)).rejects.toMatchObject({ code: 'invalid_token', reason: 'inactive' });
    await waitFor(async () => (await namespace.keys()).filter((k) => k.includes(':introspection:')).length === 2); // writes are not awaited by the request
    await expect(second.verify(token)).resolves.toMatchObject({ subject: 'orders-service' });
    await expect(second.verify(revoked)).rejects.toMatchObject({ reason: 'inactive' });
    expect(introspections - before).toBe(2); // the second instance asked Redis, not the endpoint

    const activeKey = `${namespace.prefix}introspection:${sha256(token)}`;
    const inactiveKey = `${namespace.prefix}introspection:${sha256(revoked)}`;
    for (const stored of [activeKey, inactiveKey]) {
      expect(stored).not.toContain(token);
      expect(await namespace.client.get(stored)).not.toContain(token);
    }
    expect(JSON.parse((await namespace.client.get(inactiveKey))!)).toBeNull();
    const activeTtl = await namespace.client.pttl(activeKey);
    expect(activeTtl).toBeGreaterThan(0);
    expect(activeTtl).toBeLessThanOrEqual(30_000); // exp comes before cacheTtlSeconds (60)
    const inactiveTtl = await namespace.client.pttl(inactiveKey);
    expect(inactiveTtl).toBeGreaterThan(0);
    expect(inactiveTtl).toBeLessThanOrEqual(7_000); // inactiveTtlSeconds: a negative answer is kept briefly
  });

  it('takes an ioredis client instead of a URL, and leaves it open on close()', async () => {
    const client = new Redis(REDIS_URL);
    try {
      const clock = createClock();
      const store = createRedisReplayStore({ redis: client, keyPrefix: namespace.prefix, now: clock.now });
      const verifier = createVerifier(baseOptions({ now: clock.now, replayDetection: store }));
      const token = await mint(key, claims(issuer.issuer));
      await expect(verifier.verify(token)).resolves.toBeDefined();
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'replayed' });
      await store.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('recovers by itself when Redis comes back', async () => {
    const proxy = await startProxy(new URL(REDIS_URL));
    const clock = createClock();
    const store = createRedisReplayStore({ redis: proxy.url, keyPrefix: namespace.prefix, now: clock.now });
    closers.push(store.close);
    const verifier = createVerifier(baseOptions({ now: clock.now, replayDetection: store }));
    const fresh = () => mint(key, claims(issuer.issuer));
    try {
      await expect(verifier.verify(await fresh())).resolves.toBeDefined();
      await proxy.stop();
      await expect(verifier.verify(await fresh())).rejects.toMatchObject({ code: 'temporarily_unavailable', reason: 'replay_store_unavailable' });
      await proxy.start();
      // ioredis reconnects with its back-off (at most 2 s between attempts); no restart, no new store.
      await waitFor(
        async () =>
          await verifier.verify(await fresh()).then(
            () => true,
            () => false,
          ),
      );
    } finally {
      await proxy.stop();
    }
  });

  it('a check refused with 503 during a reconnect leaves no trace: the retry is accepted, not called a replay', async () => {
    const proxy = await startProxy(new URL(REDIS_URL));
    // A client that keeps commands queued through a long reconnect (ioredis's default is 20
    // retries), the case where a check answered 503 used to run later and record the jti.
    const client = new Redis(proxy.url, { maxRetriesPerRequest: 20 });
    client.on('error', () => undefined);
    const clock = createClock();
    const store = createRedisReplayStore({ redis: client, keyPrefix: namespace.prefix, timeoutMs: 200, now: clock.now });
    const verifier = createVerifier(baseOptions({ now: clock.now, replayDetection: store }));
    const jti = `retried-${Math.random().toString(36).slice(2)}`;
    const token = await mint(key, claims(issuer.issuer, { jti, exp: nowSeconds() + 600 }));
    const stored = `${namespace.prefix}jti:${sha256(jti)}`;
    try {
      await client.ping();
      await proxy.stop();
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'temporarily_unavailable', reason: 'replay_store_unavailable' });
      await proxy.start();
      await waitFor(async () => client.status === 'ready');
      await client.ping(); // behind every command queued before it: the refused check has run, or never will
      expect(await namespace.client.exists(stored)).toBe(0);
      await expect(verifier.verify(token)).resolves.toMatchObject({ tokenId: jti });
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'replayed' });
    } finally {
      client.disconnect();
      await proxy.stop();
    }
  });
});

describe('Redis unreachable', () => {
  it('the replay store fails closed: 503 temporarily_unavailable, never an accept', async () => {
    const store = createRedisReplayStore({ redis: await closedRedisUrl(), timeoutMs: 2000 });
    const events: ResourceServerEvent[] = [];
    try {
      const verifier = createVerifier(baseOptions({ replayDetection: store, onEvent: (event) => events.push(event) }));
      const error = await verifier.verify(await mint(key, claims(issuer.issuer))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code: 'temporarily_unavailable', reason: 'replay_store_unavailable', status: 503 });
      expect(toHttpResponse(error as AuthError, 'api')).toEqual({
        status: 503,
        headers: { 'retry-after': '5', 'cache-control': 'no-store' },
        body: { error: 'temporarily_unavailable', error_description: 'The token cannot be checked right now.' },
      });
      expect(events).toContainEqual(expect.objectContaining({ type: 'token.rejected', reason: 'replay_store_unavailable' }));
    } finally {
      await store.close();
    }
  });

  it('the introspection cache falls through to the endpoint: the token is introspected and accepted', async () => {
    activeUntil = nowSeconds() + 600;
    const cache = createRedisIntrospectionCache({ redis: await closedRedisUrl(), timeoutMs: 2000 });
    const events: ResourceServerEvent[] = [];
    try {
      const verifier = createVerifier(baseOptions({ introspection: introspection(cache), onEvent: (event) => events.push(event) }));
      const before = introspections;
      await expect(verifier.verify('opaque-while-redis-is-down')).resolves.toMatchObject({ subject: 'orders-service', source: 'introspection' });
      await expect(verifier.verify('revoked-while-redis-is-down')).rejects.toMatchObject({ code: 'invalid_token', reason: 'inactive' });
      expect(introspections - before).toBe(2);
      expect(events).toContainEqual(expect.objectContaining({ type: 'introspection.cache_failed' }));
      expect(JSON.stringify(events)).not.toContain('opaque-while-redis-is-down');
    } finally {
      await cache.close();
    }
  });
});

describe('entry points', () => {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  // A resolve hook that throws on ioredis: importing an entry fails exactly when it loads ioredis.
  const tripwire = `export async function resolve(specifier, context, next) { if (specifier === 'ioredis' || specifier.startsWith('ioredis/')) throw new Error('ioredis was loaded'); return next(specifier, context); }`;
  const importWithTripwire = (entry: string) =>
    promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(tripwire)}`)}); await import(${JSON.stringify(pathToFileURL(dist + entry).href)});`,
    ]);

  it('the main entry and the adapters never load ioredis; only /redis does (built dist/, as npm ci and npm test leave it)', async () => {
    expect(existsSync(`${dist}index.js`), 'dist/ is missing: run npm run build').toBe(true);
    for (const entry of ['index.js', 'express.js', 'fastify.js']) await expect(importWithTripwire(entry)).resolves.toBeDefined();
    await expect(importWithTripwire('redis.js')).rejects.toThrow(/ioredis was loaded/);
  });

  it('rejects bad options at set-up, naming the option', () => {
    expect(() => createRedisReplayStore({ redis: 'http://cache:6379' })).toThrow(
      'createRedisReplayStore: redis must be a redis:// or rediss:// URL or an ioredis client (got a string that is neither).',
    );
    expect(() => createRedisIntrospectionCache({ redis: 42 as never })).toThrow(
      'createRedisIntrospectionCache: redis must be a redis:// or rediss:// URL or an ioredis client (got number).',
    );
    expect(() => createRedisReplayStore({ redis: 'redis://127.0.0.1:1', timeoutMs: 0 })).toThrow(
      'createRedisReplayStore: timeoutMs must be a number > 0 (got 0).',
    );
    expect(() => createRedisReplayStore({ redis: 'redis://127.0.0.1:1', ttl: 5 } as never)).toThrow(/createRedisReplayStore: options has unknown option "ttl"/);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  for (const start = Date.now(); !(await condition()); await sleep(100)) {
    if (Date.now() - start > deadlineMs) throw new Error('condition not met in time');
  }
}

/** A TCP proxy to Redis that can be stopped (every connection cut, the port closed) and started again on the same port. */
async function startProxy(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = async () => {
    server = createServer((socket) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const s of [socket, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      socket.pipe(upstream).pipe(socket);
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      for (const socket of sockets) socket.destroy();
      if (server?.listening) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
