import { Writable } from 'node:stream';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type RuntimeOptions, type ServerRuntime } from '../../src/boot/create-runtime.js';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { openStorage } from '../../src/storage/open-storage.js';
import type { Storage } from '../../src/storage/types.js';
import { generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import type { Stack } from './stacks.js';

export const ISSUER = 'https://auth.test';
export const START = Date.UTC(2026, 10, 24, 12, 0, 0);

/** A controllable clock: tests move time instead of sleeping. */
export function createClock(start = START) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  runtime: ServerRuntime;
  clock: ReturnType<typeof createClock>;
  /** The master key the runtime derives its secrets from (to compute what the server stores). */
  masterKey: Buffer;
  logs: () => string;
  /** With a stack: everything it holds at rest, as text (stacks.ts). */
  dumpAtRest?: () => Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  trustProxy?: AppOptions['trustProxy'];
  /** Extra runtime options (state, failure limits, rate limits, key rotation). */
  runtime?: Partial<RuntimeOptions>;
  clock?: ReturnType<typeof createClock>;
  /** The storage to run on (closed with the app); default in-memory. */
  storage?: Storage;
  /** Storage and shared state from one of the CI stacks (stacks.ts); default in-memory. */
  stack?: Pick<Stack, 'open'>;
  /** The web console's files to serve under /console (default: none, as a server built without it). */
  console?: AppOptions['console'];
}

/** The real app (in-memory unless storage or a stack is given), driven with inject(); logs captured for redaction checks. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? createClock();
  let captured = '';
  const logger = createLogger('debug', new Writable({ write: (chunk, _encoding, done) => ((captured += String(chunk)), done()) }) as never);
  const opened = options.stack ? await options.stack.open(clock.now) : undefined;
  const storage = opened?.storage ?? options.storage ?? (await openStorage({ kind: 'memory' }));
  const masterKey = parseMasterKey(generateMasterKey());
  const runtime = createRuntime({
    storage,
    masterKey,
    issuer: ISSUER,
    logger,
    now: clock.now,
    ...(opened ? { state: opened.state } : {}),
    ...options.runtime,
  });
  await runtime.admin.ensureSigningKeys();
  const app = buildApp(runtime, {
    logger,
    exposeMetrics: true,
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
    ...(options.console ? { console: options.console } : {}),
  });
  await app.ready();
  return {
    app,
    runtime,
    clock,
    masterKey,
    logs: () => captured,
    ...(opened ? { dumpAtRest: opened.dumpAtRest } : {}),
    close: async () => {
      await app.close();
      await runtime.close();
      if (opened) return opened.close();
      await runtime.state.close();
      await storage.close();
    },
  };
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function form(params: Record<string, string | string[]>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) for (const v of [value].flat()) body.append(name, v);
  return body.toString();
}

export async function postToken(
  app: FastifyInstance,
  params: Record<string, string | string[]>,
  authorization?: string,
  from: { url?: string; remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  const response = await app.inject({
    method: 'POST',
    url: from.url ?? '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}), ...from.headers },
    payload: form(params),
    ...(from.remoteAddress ? { remoteAddress: from.remoteAddress } : {}),
  });
  return { status: response.statusCode, headers: response.headers, body: (response.body === '' ? {} : response.json()) as Record<string, unknown> };
}

export async function verifyWithJwks(app: FastifyInstance, token: string, clock: { now: () => number }, audience?: string) {
  const jwks = (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as JSONWebKeySet;
  return jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: ISSUER,
    typ: 'at+jwt',
    currentDate: new Date(clock.now()),
    ...(audience ? { audience } : {}),
  });
}

/** The example system from MISSION.md: an orders service calling payments and inventory. */
export async function seedExampleSystem(runtime: ServerRuntime) {
  await runtime.admin.createApi({ identifier: 'https://payments.example', scopes: ['payments:write', 'payments:read'] });
  await runtime.admin.createApi({
    identifier: 'https://inventory.example',
    scopes: ['inventory:read', 'inventory:write'],
    signingAlg: 'ES256',
    tokenTtlSeconds: 600,
  });
  const orders = await runtime.admin.createClient({ name: 'orders-service' });
  await runtime.admin.createGrant({ clientId: orders.clientId, apiIdentifier: 'https://payments.example', scopes: ['payments:write'] });
  await runtime.admin.createGrant({ clientId: orders.clientId, apiIdentifier: 'https://inventory.example', scopes: ['inventory:read'] });
  return { clientId: orders.clientId, clientSecret: orders.clientSecret! };
}
