#!/usr/bin/env node
// A bounded HTTP fuzzer for a real `m2m-auth serve` process (needs `npm run build`).
//
// It starts the server on 127.0.0.1 with a throw-away data directory, plants a client secret and
// a valid access token, then sends malformed and mutated requests to every public endpoint and
// checks each answer: no 5xx, the process alive, every request answered within a bound, the
// planted secret and token never echoed, and no-store/nosniff on every answer. It compares the
// server's resident size and heap at the start and at the end.
//
// It runs on each storage + shared-state stack CI has, because a defect can live in one adapter
// only (PostgreSQL refuses a NUL byte that SQLite stores): `sqlite` (the data directory's
// database and state file, the default) and `postgres` (PostgreSQL for storage, Redis for the
// shared state, in a schema and key prefix of the run's own, removed afterwards;
// M2M_AUTH_TEST_POSTGRES_URL and M2M_AUTH_TEST_REDIS_URL as the test suite reads them).
//
//   npm run fuzz                          # 100,000 requests on SQLite
//   npm run fuzz -- --stack postgres      # the same on PostgreSQL + Redis
//   npm run fuzz -- --requests 5000 --seed 7
//
// Add an endpoint to ENDPOINTS to fuzz it too.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CLI = fileURLToPath(new URL('../../bin/m2m-auth.js', import.meta.url));
const run = promisify(execFile);

/** The storage + shared-state stacks `--stack` names. */
export const STACKS = ['sqlite', 'postgres'];
const POSTGRES_URL = process.env.M2M_AUTH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.M2M_AUTH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Every public endpoint and the methods it serves; the rest of the path space is fuzzed too. */
export const ENDPOINTS = [
  { path: '/oauth/token', methods: ['POST'], form: true },
  { path: '/oauth/introspect', methods: ['POST'], form: true },
  { path: '/oauth/revoke', methods: ['POST'], form: true },
  { path: '/.well-known/jwks.json', methods: ['GET'] },
  { path: '/.well-known/oauth-authorization-server', methods: ['GET'] },
  { path: '/.well-known/openid-configuration', methods: ['GET'] },
  { path: '/healthz', methods: ['GET'] },
  { path: '/readyz', methods: ['GET'] },
  { path: '/admin/v1/clients', methods: ['GET', 'POST'], admin: true },
  { path: '/admin/v1/apis', methods: ['GET', 'POST'], admin: true },
  { path: '/admin/v1/grants', methods: ['GET', 'POST'], admin: true },
  { path: '/admin/v1/keys', methods: ['GET'], admin: true },
  { path: '/admin/v1/audit-events', methods: ['GET'], admin: true },
  { path: '/admin/v1/openapi.json', methods: ['GET'], admin: true },
];

/** No answer within this is a hang. Slow-body requests are cut by the server's request timeout. */
const ANSWER_BOUND_MS = 10_000;
const REQUEST_TIMEOUT_MS = 2_000;
const HEADERS_TIMEOUT_MS = 1_000;
/** More than this in one error answer is an unbounded echo of the request. */
const MAX_ERROR_ANSWER_BYTES = 16 * 1024;

export async function runFuzz({ requests = 100_000, seed = 1, concurrency = 16, stack = 'sqlite', log = console.log } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-fuzz-'));
  const place = await openStack(stack);
  const cli = (args) => run(process.execPath, [CLI, ...args, '--data-dir', dataDir, ...place.args]);
  let server;
  let refresher;
  // One line per kind of failure (its first example), and how often each kind happened.
  const failures = [];
  const failureCounts = {};
  const fail = (what, detail) => {
    failureCounts[what] = (failureCounts[what] ?? 0) + 1;
    if (failureCounts[what] === 1 && failures.length < 100) failures.push(`${what}: ${detail}`);
  };
  try {
    server = await startServer(cli, [...place.args, '--data-dir', dataDir]);
    const planted = await plant(cli, server.url);
    refresher = keepAdminTokenFresh(planted, server.url);
    // The server's log is checked as it arrives (a value split across two chunks is still seen).
    let logTail = '';
    server.onLog((chunk) => {
      const text = logTail + chunk;
      for (const [name, value] of Object.entries(planted.secrets)) if (text.includes(value)) fail(`${name} in the server log`, '');
      logTail = text.slice(-1024);
    });
    const random = mulberry32(seed);
    const generate = createGenerator(random, planted, server.port);
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const memoryAtStart = await memory(server.url);
    // Growth is measured from after a warm-up (caches, JIT, pools filled), so it shows a leak.
    const warmUp = Math.min(5000, Math.floor(requests / 10));
    let memoryAfterWarmUp;
    const stats = { sent: 0, answered: 0, byStatus: {}, maxLatencyMs: 0, slow: 0, raw: 0, retriedAfterReset: 0, byKind: {} };
    const started = performance.now();
    let next = 0;
    let lastReport = started;
    // The cases on the wire: when the server stops answering altogether (its event loop blocked
    // by one request), the culprit is among them, and the run stops instead of timing out each.
    const inFlight = new Set();
    let stalled;

    const worker = async () => {
      while (next < requests) {
        const index = next++;
        if (index === warmUp) memoryAfterWarmUp = await memory(server.url);
        const testCase = generate(index);
        stats.sent++;
        const begin = performance.now();
        let answer;
        testCase.sentAt = begin;
        inFlight.add(testCase);
        try {
          answer = testCase.raw ? await sendRaw(server.port, testCase) : await sendHttp(server.port, agent, testCase);
          // A reset on a pooled keep-alive connection can be the pool's race with the server
          // closing it; the same request on a fresh connection must then get an answer.
          if (answer.reset) {
            stats.retriedAfterReset++;
            testCase.retried = true;
            answer = await sendHttp(server.port, false, testCase);
          }
        } catch (error) {
          fail(`no answer (${testCase.label})`, error.message);
          // Oldest first: the request that blocked the server was sent before those it held up.
          const suspects = [...inFlight].sort((a, b) => a.sentAt - b.sentAt);
          if (!stalled && !(await answersHealthCheck(server.port))) {
            stalled = `after ${stats.sent} requests; in flight, oldest first: ${suspects.map(describeCase).join(' | ')}`;
            next = requests;
          }
          continue;
        } finally {
          inFlight.delete(testCase);
        }
        const latency = performance.now() - begin;
        if (!testCase.slow && latency > stats.maxLatencyMs) {
          stats.maxLatencyMs = latency;
          stats.slowestCase = `${testCase.label}${testCase.retried ? ' (sent again after a reset)' : ''}`;
          stats.slowestDetail = JSON.stringify({ path: testCase.path?.slice(0, 80), headers: testCase.headers, body: testCase.body?.slice(0, 80) }).slice(
            0,
            400,
          );
        }
        if (testCase.slow) stats.slow++;
        if (testCase.raw) stats.raw++;
        check(answer, testCase, planted, fail);
        if (answer.status) {
          stats.answered++;
          stats.byStatus[answer.status] = (stats.byStatus[answer.status] ?? 0) + 1;
          const kind = testCase.kind ?? (testCase.raw ? 'raw' : 'http');
          stats.byKind[kind] ??= {};
          stats.byKind[kind][answer.status] = (stats.byKind[kind][answer.status] ?? 0) + 1;
        }
        if (server.exited()) throw new Error(`the server exited (${server.exited()}) after ${stats.sent} requests`);
        const now = performance.now();
        if (now - lastReport > 5000) {
          lastReport = now;
          log(
            `  ${stats.sent}/${requests} requests, ${Math.round(stats.sent / ((now - started) / 1000))} req/s, ${Object.keys(failureCounts).length} kinds of failure`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const durationS = (performance.now() - started) / 1000;
    if (stalled) fail('the server stopped answering (its event loop blocked?)', stalled);
    const memoryAtEnd = stalled ? { rss: NaN, heapUsed: NaN } : await memory(server.url);
    agent.destroy();
    const fiveXX = Object.entries(stats.byStatus)
      .filter(([status]) => Number(status) >= 500)
      .reduce((sum, [, n]) => sum + n, 0);
    // "Flat": after 100k requests the heap is within a small margin of where it started.
    const baseline = memoryAfterWarmUp ?? memoryAtStart;
    const heapGrowth = memoryAtEnd.heapUsed - baseline.heapUsed;
    const rssGrowth = memoryAtEnd.rss - baseline.rss;
    if (heapGrowth > 32 * 2 ** 20) fail('memory', `heap grew by ${mib(heapGrowth)} MiB`);
    if (rssGrowth > 96 * 2 ** 20) fail('memory', `RSS grew by ${mib(rssGrowth)} MiB`);
    const summary = {
      requests: stats.sent,
      answered: stats.answered,
      rawRequests: stats.raw,
      retriedAfterReset: stats.retriedAfterReset,
      serverLogMiB: mib(server.logBytes()),
      slowRequests: stats.slow,
      durationS: Number(durationS.toFixed(1)),
      requestsPerSecond: Math.round(stats.sent / durationS),
      maxLatencyMs: Math.round(stats.maxLatencyMs),
      slowestCase: stats.slowestCase,
      slowestDetail: process.env.FUZZ_DEBUG ? stats.slowestDetail : undefined,
      stack,
      byStatus: stats.byStatus,
      byClass: byClass(stats.byStatus),
      // Which statuses each kind of case got: admin and credential cases must reach past
      // authentication (2xx and 4xx other than 401) to test anything behind it.
      byKind: stats.byKind,
      fiveXX,
      rssStartMiB: mib(memoryAtStart.rss),
      rssAfterWarmUpMiB: mib(baseline.rss),
      rssEndMiB: mib(memoryAtEnd.rss),
      heapStartMiB: mib(memoryAtStart.heapUsed),
      heapAfterWarmUpMiB: mib(baseline.heapUsed),
      heapEndMiB: mib(memoryAtEnd.heapUsed),
      failureCount: Object.values(failureCounts).reduce((sum, n) => sum + n, 0),
      failures,
      failureCounts,
    };
    return summary;
  } finally {
    clearInterval(refresher);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await place.close();
  }
}

/** A path as the route it hits, so failures group by route rather than by each odd id. */
const routeOf = (path) =>
  path
    .split('?')[0]
    .replace(/^(\/admin\/v1\/(?:clients|apis|grants|keys|audit-events))\/[^/]*/, '$1/:id')
    .replace(/^(\/admin\/v1\/clients\/:id\/secrets)\/[^/]+$/, '$1/:id')
    .slice(0, 48);

const byClass = (byStatus) => {
  const classes = {};
  for (const [status, n] of Object.entries(byStatus)) classes[`${status[0]}xx`] = (classes[`${status[0]}xx`] ?? 0) + n;
  return classes;
};

/**
 * The flags that point the CLI and `serve` at a stack, and what removes it afterwards. SQLite is
 * the data directory's default; PostgreSQL + Redis get a schema and a key prefix of this run's own.
 */
async function openStack(stack) {
  if (stack === 'sqlite') return { args: [], close: async () => undefined };
  if (stack !== 'postgres') throw new Error(`unknown stack ${JSON.stringify(stack)}: use one of ${STACKS.join(', ')}`);
  const pg = (await import('pg')).default;
  const { Redis } = await import('ioredis');
  const name = `m2m_fuzz_${process.pid}_${randomBytes(4).toString('hex')}`;
  const prefix = `m2m-auth-fuzz:${process.pid}:${randomBytes(4).toString('hex')}:`;
  const sql = async (statement) => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query(statement);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  try {
    await sql(`CREATE SCHEMA "${name}"`);
  } catch (error) {
    throw new Error(`--stack postgres needs PostgreSQL at ${POSTGRES_URL} (M2M_AUTH_TEST_POSTGRES_URL): ${error.message}`);
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const close = async () => {
    await sql(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    // Only this run's keys: everything under its own prefix.
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  };
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    await sql(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    throw new Error(`--stack postgres needs Redis at ${REDIS_URL} (M2M_AUTH_TEST_REDIS_URL): ${error.message}`);
  }
  return {
    args: [
      '--database-url',
      `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${name}`)}`,
      '--redis-url',
      `${REDIS_URL}/0?keyPrefix=${encodeURIComponent(prefix)}`,
    ],
    close,
  };
}

function check(answer, testCase, planted, fail) {
  if (!answer.status) {
    // Closed without an answer: only acceptable where HTTP allows no answer at all.
    if (!testCase.mayClose)
      fail(
        `closed without an answer (${testCase.label})`,
        `${JSON.stringify(answer.raw.slice(0, 120))} headers ${JSON.stringify(testCase.headers ?? {}).length}B path ${testCase.path?.length}B body ${testCase.body?.length}B ${JSON.stringify(testCase.headers ?? {}).slice(0, 150)}`,
      );
    return;
  }
  if (answer.status >= 500) fail(`${answer.status} (${testCase.label})`, answer.body.slice(0, 200));
  // An error answer says what is wrong in a few lines; one that grows with the request echoes it.
  if (answer.status >= 400 && answer.body.length > MAX_ERROR_ANSWER_BYTES)
    fail(`error answer over ${MAX_ERROR_ANSWER_BYTES} bytes (${testCase.label})`, `${answer.body.length} bytes: ${answer.body.slice(0, 120)}`);
  const everything = `${answer.headerText}\n${answer.body}`;
  for (const [name, value] of Object.entries(planted.secrets)) {
    if (everything.includes(value)) fail(`${name} echoed (${testCase.label})`, everything.slice(0, 200));
  }
  if (answer.headers['x-content-type-options'] !== 'nosniff')
    fail(`no nosniff (${testCase.label})`, `${answer.status} ${answer.headerText.slice(0, 200).replace(/\n/g, ' ')}`);
  if (!answer.headers['cache-control']) fail(`no cache-control (${testCase.label})`, `${answer.status}`);
  if (answer.status >= 400 && answer.body && testCase.method !== 'HEAD') {
    const path = testCase.path?.split('?')[0] ?? '';
    const type = answer.headers['content-type'] ?? '';
    const expectOAuth = path.startsWith('/oauth/');
    if (expectOAuth && !type.startsWith('application/json') && !type.startsWith('application/problem+json'))
      fail(`error content type ${type} (${testCase.label})`, path);
    if (!expectOAuth && answer.status !== 503 && !type.startsWith('application/problem+json') && testCase.path !== undefined)
      fail(`not problem details: ${type} (${testCase.label})`, `${answer.status} ${path}`);
    // Fastify's own error shape ({"error":"Bad Request","message":…,"statusCode":400}) or a stack.
    if (/"statusCode":|\bat .*\(.*:\d+:\d+\)/.test(answer.body)) fail(`framework error or stack (${testCase.label})`, answer.body.slice(0, 200));
  }
}

// ---------------------------------------------------------------------------------------------
// Request generation

function createGenerator(random, planted, port) {
  const pick = (items) => items[Math.floor(random() * items.length)];
  const int = (max) => Math.floor(random() * max);
  const chance = (p) => random() < p;
  const { clientId, clientSecret, accessToken } = planted.values;
  const b64 = (text) => Buffer.from(text).toString('base64');
  const b64url = (text) => Buffer.from(text).toString('base64url');

  // Strings some store cannot hold or some layer reads differently: NUL (PostgreSQL refuses it in
  // text), control and format characters, an overlong encoding, quotes and SQL, long ones. They go
  // where a store looks them up or keeps them: client ids, audiences, admin ids, cursors, names.
  const odd = () =>
    pick([
      '\u0000',
      'a\u0000b',
      `${clientId}\u0000`,
      '\u0000'.repeat(1 + int(40)),
      '\u0001\u001f\u007f',
      '\ufeff\u2028\uffff',
      '\ud7ff\ue000',
      'é😀',
      '%00',
      '%2500',
      '%C0%80',
      "' OR 1=1 --",
      '"\\',
      '$1',
      '%s%n',
      '*',
      'x'.repeat(256),
      'x'.repeat(4000 + int(4000)),
      ' ',
      '',
    ]);

  const junk = () =>
    pick([
      '',
      ' ',
      'x'.repeat(1 + int(64)),
      'a'.repeat(4000 + int(12_000)),
      '%',
      '%zz',
      '%00',
      '%C3%28',
      '\u0000',
      '\u202e\u0301',
      '😀'.repeat(10),
      '../../etc/passwd',
      '<script>alert(1)</script>',
      '${jndi:ldap://x}',
      'null',
      '[]',
      '{"a":1}',
      'client_credentials',
      clientSecret,
      accessToken,
      clientId,
      'https://orders.fuzz',
      'https://orders.fuzz/.default',
      'read:orders',
      'read:orders read:orders',
      Array.from({ length: 200 }, () => 's').join(' '),
      String(random()),
    ]);

  const paramNames = [
    'grant_type',
    'client_id',
    'client_secret',
    'audience',
    'resource',
    'scope',
    'token',
    'token_type_hint',
    'client_assertion',
    'client_assertion_type',
    'x',
    '',
  ];
  const form = () => {
    if (chance(0.3)) {
      // Mostly valid, one field mutated.
      const params = [
        ['grant_type', 'client_credentials'],
        ['audience', 'https://orders.fuzz'],
      ];
      if (chance(0.5)) params.push(['scope', 'read:orders']);
      if (chance(0.3)) params.push(['token', accessToken]);
      params[int(params.length)][1] = junk();
      if (chance(0.2)) params.push([pick(paramNames), junk()]);
      return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    }
    const count = int(8);
    const parts = [];
    for (let i = 0; i < count; i++) {
      const name = pick(paramNames);
      const value = junk();
      parts.push(chance(0.1) ? `${name}=${value}` : `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    }
    return pick([parts.join('&'), parts.join('&&'), parts.join(';'), `${parts.join('&')}&`, `=${parts.join('&')}`, junk()]);
  };

  const authorization = () =>
    pick([
      undefined,
      undefined,
      `Basic ${b64(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}`,
      `Basic ${b64(`${clientId}:${clientSecret}x`)}`,
      `Basic ${b64(`${clientSecret}:${clientSecret}`)}`,
      `Basic ${b64(`${clientId}:${junk()}`)}`,
      `Basic ${b64(junk())}`,
      `Basic ${b64(`${clientId}`)}`,
      `Basic ${b64(`:${clientSecret}`)}`,
      `Basic ${b64(`%zz:${clientSecret}`)}`,
      `Basic ${b64(`${encodeURIComponent(odd())}:${encodeURIComponent(clientSecret)}`)}`,
      `Basic ${b64(`${odd()}:x`)}`,
      `Basic ${clientSecret}`,
      `Basic ${'A'.repeat(8000)}`,
      `Basic`,
      `Basic ====`,
      `basic ${b64(`${clientId}:${clientSecret}`)}`,
      `Bearer ${accessToken}`,
      `Digest ${clientSecret}`,
      junk(),
    ]);

  const contentType = () =>
    pick([
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=utf-8',
      'application/x-www-form-urlencoded; charset=latin1',
      'APPLICATION/X-WWW-FORM-URLENCODED',
      'application/x-www-form-urlencoded;;;',
      'application/json',
      'application/json; charset=utf-8',
      'multipart/form-data; boundary=x',
      'text/plain',
      'application/octet-stream',
      '*/*',
      '',
      undefined,
      `application/${'x'.repeat(2000)}`,
    ]);

  const allPaths = ENDPOINTS.map((endpoint) => endpoint.path);
  const path = () => {
    const base = pick(allPaths);
    return pick([
      base,
      base,
      base,
      `${base}/`,
      `${base}?${encodeURIComponent(junk())}=${encodeURIComponent(junk())}`,
      `${base}?client_secret=${encodeURIComponent(clientSecret)}`,
      `${base}?token=${encodeURIComponent(accessToken)}`,
      base.toUpperCase(),
      `/${base}`,
      `${base}/../${base.split('/').pop()}`,
      `${base}%2F`,
      `${base}%00`,
      '/',
      '/%zz',
      '/%',
      `/${encodeURIComponent(clientSecret)}`,
      `/nope/${'a'.repeat(int(9000))}`,
      '/oauth',
      '/.well-known/',
      '/admin/v1/clients/%zz',
      '/oauth/%zz',
      '/oauth/token%',
      `/oauth/token?${pick(['%', '%zz=1', 'a=%E0%A4%A'])}`,
      `/admin/v1/clients/${encodeURIComponent(clientId)}`,
      '*',
    ]);
  };

  const methods = ['GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'LOCK', 'MKCOL'];

  // With a valid admin token: reads with odd ids, cursors and filters, and creates and changes
  // with hostile JSON (odd strings, deep nesting, huge keys). No deletes or key rotation, so the
  // planted client stays and memory measures the server, not a growing registry.
  const adminCase = (index) => {
    const base = pick(ENDPOINTS.filter((endpoint) => endpoint.admin)).path;
    const method = pick(['GET', 'GET', 'POST', 'PATCH']);
    const id = () => encodeURIComponent(pick([odd(), odd(), junk(), clientId, 'https://orders.fuzz']));
    const cursor = () => pick([junk(), odd(), b64url(JSON.stringify([int(1e6), odd()])), b64url(odd())]);
    const nested = (depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    // Half the writes are shaped for their route, so validation passes or stops at one odd value
    // and the value reaches the store: a create or change with odd strings where it keeps them.
    const shapedWrite = () => {
      const either = (a, b) => (chance(0.5) ? a : b);
      const [path, shape] =
        method === 'POST'
          ? pick([
              ['/admin/v1/apis', () => ({ identifier: either(`https://fuzz.example/${odd()}`, odd()), scopes: [either('a', odd())], name: odd() })],
              ['/admin/v1/clients', () => ({ name: odd(), description: odd(), ...(chance(0.3) ? { default_api: odd() } : {}) })],
              [
                '/admin/v1/grants',
                () => ({ client_id: either(clientId, odd()), api: either('https://orders.fuzz', odd()), scopes: [either('read:orders', odd())] }),
              ],
              [
                '/admin/v1/config/apply?dry_run=true',
                () => ({ version: 1, apis: [{ identifier: odd(), scopes: [odd()] }], clients: [{ name: odd() }], grants: [] }),
              ],
              [`/admin/v1/clients/${id()}/secrets`, () => ({})],
            ])
          : pick([
              [`/admin/v1/apis/${id()}`, () => ({ name: odd() })],
              [`/admin/v1/clients/${id()}`, () => ({ name: odd(), description: odd() })],
              [`/admin/v1/grants/${id()}`, () => ({ scopes: [odd()] })],
            ]);
      let body = JSON.stringify(shape());
      // An unknown field (odd or huge: an error that echoes it grows with it), or a client JWKS
      // with a deeply nested value inside a key, where a schema may not look.
      if (chance(0.2))
        body = `${body.slice(0, -1)}${body.length > 2 ? ',' : ''}${JSON.stringify(chance(0.5) ? odd() : 'k'.repeat(path.includes('apply') && chance(0.2) ? 900_000 : 2000 + int(12_000)))}:1}`;
      // eslint-disable-next-line no-dupe-else-if -- two random draws, not one condition twice
      else if (path === '/admin/v1/clients' && chance(0.2))
        body = `{"name":"fuzz-jwks","jwks":{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":${nested(500 + int(6000))}}]}}`;
      return { path, body };
    };
    const shaped = method !== 'GET' && chance(0.5) ? shapedWrite() : undefined;
    const target =
      shaped?.path ??
      pick([
        base,
        `${base}?limit=${encodeURIComponent(junk())}`,
        `${base}?cursor=${encodeURIComponent(cursor())}`,
        `${base}/${id()}`,
        `/admin/v1/clients/${id()}`,
        `/admin/v1/clients/${id()}/secrets`,
        `/admin/v1/clients/${id()}/secrets/${id()}`,
        `/admin/v1/apis/${id()}`,
        `/admin/v1/grants/${id()}`,
        `/admin/v1/keys/${id()}`,
        `/admin/v1/grants?client_id=${id()}&api=${id()}`,
        `/admin/v1/audit-events?type=${id()}&actor=${id()}&since=${id()}&until=${id()}`,
        '/admin/v1/config',
        '/admin/v1/config/apply?dry_run=true',
      ]);
    const value = () => pick([junk(), odd(), random() * 1e12, -1, 0, true, null, [], {}, [odd()], { nested: odd() }, clientSecret]);
    const fields = [
      'name',
      'identifier',
      'scopes',
      'client_id',
      'api',
      'api_identifier',
      'description',
      'signing_alg',
      'token_ttl',
      'token_ttl_seconds',
      'enabled',
      'grace_seconds',
      'default_api',
      'introspect_apis',
      'jwks',
      '__proto__',
      'constructor',
    ];
    const object = Object.fromEntries(Array.from({ length: int(6) }, () => [pick(fields), value()]));
    const body =
      method === 'GET'
        ? undefined
        : (shaped?.body ??
          pick([
            JSON.stringify(object),
            JSON.stringify(object).slice(0, -1),
            '[]',
            'null',
            '"x"',
            junk(),
            `{"a":${'['.repeat(5000)}`,
            `{"name":${nested(100 + int(6000))}}`,
            JSON.stringify({ [odd()]: odd(), name: 'fuzz' }),
          ]));
    const headers = {
      authorization: `Bearer ${planted.values.adminToken}`,
      'content-type': pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded']),
    };
    return { kind: 'admin', label: `admin ${method} ${routeOf(target)}`, method, path: target, headers, body, index };
  };

  // The token, introspection and revocation endpoints with odd client ids (in Basic, raw and
  // form-encoded, and in the form), audiences, scopes and assertion claims: each is looked up in
  // a store before the client is known.
  const credentialCase = (index) => {
    const target = pick(['/oauth/token', '/oauth/token', '/oauth/introspect', '/oauth/revoke']);
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `10.${int(256)}.${int(256)}.${int(256)}` };
    const params =
      target === '/oauth/token'
        ? [['grant_type', 'client_credentials']]
        : [
            ['token', pick([accessToken, odd()])],
            ['token_type_hint', pick(['access_token', odd()])],
          ];
    const id = odd();
    switch (int(5)) {
      case 0:
        headers.authorization = `Basic ${b64(`${encodeURIComponent(id)}:${encodeURIComponent(pick([clientSecret, odd()]))}`)}`;
        break;
      case 1:
        headers.authorization = `Basic ${b64(`${id}:${pick([clientSecret, 'x'])}`)}`;
        break;
      case 2:
        params.push(['client_id', id], ['client_secret', pick([clientSecret, 'x', odd()])]);
        break;
      case 3:
        headers.authorization = `Basic ${b64(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`)}`;
        break;
      default: {
        const claims = { iss: id, sub: pick([id, clientId]), aud: `http://127.0.0.1:${port}/oauth/token`, jti: odd(), exp: Math.floor(Date.now() / 1000) + 60 };
        const assertion = `${b64url(JSON.stringify({ alg: 'ES256', kid: odd() }))}.${b64url(JSON.stringify(claims))}.${b64url('sig')}`;
        params.push(
          ['client_id', pick([id, clientId])],
          ['client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
          ['client_assertion', assertion],
        );
      }
    }
    if (target === '/oauth/token') {
      params.push([pick(['audience', 'audience', 'resource']), pick([odd(), 'https://orders.fuzz', `https://orders.fuzz${odd()}`])]);
      if (chance(0.5)) params.push(['scope', pick([odd(), `read:orders ${odd()}`])]);
    }
    const body = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    return { kind: 'credentials', label: `credentials POST ${target}`, method: 'POST', path: target, headers, body, index };
  };

  const httpCase = (index) => {
    const target = chance(0.5) ? pick(ENDPOINTS.filter((endpoint) => endpoint.form)).path : path();
    const method = chance(0.6) && target.startsWith('/oauth/') ? 'POST' : pick(methods);
    const headers = {};
    const auth = authorization();
    if (auth !== undefined) headers.authorization = auth;
    const type = contentType();
    if (type !== undefined) headers['content-type'] = type;
    if (chance(0.05)) headers.authorization = [auth ?? 'Basic x', `Basic ${b64(`${clientId}:${clientSecret}`)}`];
    if (chance(0.05)) headers['x-forwarded-for'] = junk().replace(/[^\x20-\x7e]/g, '');
    if (chance(0.05)) headers['transfer-encoding'] = 'chunked';
    if (chance(0.03)) headers.accept = 'text/html';
    let body;
    if (method !== 'GET' && method !== 'HEAD' && chance(0.9)) {
      body = type?.includes('json') ? pick([JSON.stringify({ grant_type: 'client_credentials', client_secret: clientSecret }), '{', junk()]) : form();
      if (chance(0.03)) body = 'a='.padEnd(16_385 + int(2000), 'b');
    }
    return { label: `${method} ${routeOf(target)}`, method, path: target, headers, body, index };
  };

  const rawCase = () => {
    const target = pick(allPaths);
    const formBody = form();
    const variants = [
      {
        label: 'bad request line',
        data: `${pick(['FOO', 'G E T', 'post', '', 'GET'])} ${target} ${pick(['HTTP/1.1', 'HTTP/9.9', 'HTTP/1', 'HTTX/1.1', ''])}\r\nHost: x\r\n\r\n`,
        mayClose: true,
      },
      { label: 'bad header name', data: `GET ${target} HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n` },
      { label: 'header overflow', data: `GET ${target} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000 + int(10_000))}\r\n\r\n` },
      { label: 'many headers', data: `GET ${target} HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n` },
      {
        label: 'bad chunk',
        data: `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${formBody}\r\n0\r\n\r\n`,
      },
      {
        label: 'content-length mismatch',
        data: `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${pick(['-1', 'abc', '99999999999999999999', '1, 2'])}\r\n\r\n${formBody}`,
      },
      { label: 'two content-lengths', data: `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd` },
      { label: 'CL and TE', data: `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
      { label: 'NUL in header', data: `GET ${target} HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n` },
      {
        label: 'HTTP/1.0',
        data: `POST ${target} HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(formBody)}\r\n\r\n${formBody}`,
      },
      { label: 'HTTP/2 preface', data: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', mayClose: true },
      { label: 'absolute-form target', data: `GET http://127.0.0.1:${port}${target} HTTP/1.1\r\nHost: x\r\n\r\n` },
      { label: 'LF only', data: `GET ${target} HTTP/1.1\nHost: x\n\n` },
      { label: 'binary', data: Buffer.from(Array.from({ length: 1 + int(512) }, () => int(256))), mayClose: true },
      { label: 'secret in request line', data: `GET /${clientSecret} HTTP/1.1\r\nHost: x\r\n\r\n` },
    ];
    const chosen = pick(variants);
    return { ...chosen, raw: true, path: chosen.label === 'absolute-form target' ? undefined : target };
  };

  const slowCase = () => {
    const target = pick(ENDPOINTS.filter((endpoint) => endpoint.form)).path;
    const head = `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n`;
    return { label: 'slow body', raw: true, slow: true, path: target, chunks: [head, ...'grant_type=client_credentials'.split('')], gapMs: 150 };
  };

  return (index) => {
    if (index % 5000 === 4999) return slowCase();
    if (chance(0.1)) return rawCase();
    if (chance(0.15)) return adminCase(index);
    if (chance(0.15)) return credentialCase(index);
    return httpCase(index);
  };
}

// ---------------------------------------------------------------------------------------------
// Sending

function sendHttp(port, agent, testCase) {
  return new Promise((resolve, reject) => {
    let request;
    try {
      request = httpRequest({ host: '127.0.0.1', port, method: testCase.method, path: testCase.path, headers: testCase.headers, agent }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          const headerText = response.rawHeaders.join('\n');
          resolve({ status: response.statusCode, headers: response.headers, headerText, body: Buffer.concat(chunks).toString('latin1'), raw: '' });
        });
        response.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
    } catch (error) {
      // The client library refused to send it (invalid characters): send it raw instead.
      resolve(sendRaw(port, { ...testCase, data: toRawRequest(testCase), mayClose: true }));
      return;
    }
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${ANSWER_BOUND_MS} ms`));
    }, ANSWER_BOUND_MS);
    request.on('error', (error) => {
      clearTimeout(timer);
      // The server closing a connection after an error answer it already sent is fine; a reset
      // before any answer is reported.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve({ status: 0, headers: {}, headerText: '', body: '', raw: `reset: ${error.code}` });
      else reject(error);
    });
    if (testCase.body !== undefined) request.end(testCase.body);
    else request.end();
  }).then((answer) => (answer.status === 0 && answer.raw.startsWith('reset') ? { ...answer, reset: true } : answer));
}

function toRawRequest(testCase) {
  const headers = Object.entries(testCase.headers).flatMap(([name, value]) => [value].flat().map((v) => `${name}: ${v}`));
  const body = testCase.body ?? '';
  return `${testCase.method} ${testCase.path} HTTP/1.1\r\nHost: x\r\n${headers.join('\r\n')}${headers.length ? '\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function sendRaw(port, testCase) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRaw(data.toString('latin1')));
    };
    const timer = setTimeout(() => {
      done = true;
      socket.destroy();
      reject(new Error(`no answer within ${ANSWER_BOUND_MS} ms`));
    }, ANSWER_BOUND_MS);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const answer = parseRaw(data.toString('latin1'));
      // A HEAD answer has no body whatever its Content-Length says.
      const expected = testCase.method === 'HEAD' ? 0 : Number(answer.headers['content-length'] ?? Infinity);
      if (answer.status && Buffer.byteLength(answer.body, 'latin1') >= expected) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
    (async () => {
      for (const chunk of testCase.chunks ?? [testCase.data]) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (testCase.gapMs) await new Promise((r) => setTimeout(r, testCase.gapMs));
      }
    })();
  });
}

function parseRaw(raw) {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, headerText: '', body: '', raw };
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, headerText: raw.slice(0, end), body: raw.slice(end + 4), raw };
}

// ---------------------------------------------------------------------------------------------
// The server under test

async function startServer(cli, stackArgs) {
  await cli(['init']);
  await cli(['apis', 'create', '--identifier', 'https://orders.fuzz', '--scopes', 'read:orders,write:orders']);
  const child = spawn(
    process.execPath,
    // Behind one (pretend) proxy, so the credential cases can come from many addresses and are not
    // all throttled as one failing source before they reach a store, and so X-Forwarded-For is
    // parsed and fuzzed too.
    [
      CLI,
      'serve',
      '--port',
      '0',
      ...stackArgs,
      '--trust-proxy',
      '1',
      '--metrics',
      '--log-level',
      'info',
      '--request-timeout',
      String(REQUEST_TIMEOUT_MS),
      '--headers-timeout',
      String(HEADERS_TIMEOUT_MS),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let logBytes = 0;
  let exit;
  // The log is read and counted, not kept: it is checked for the planted values as it arrives.
  const logChecks = [];
  child.stdout.on('data', (chunk) => {
    logBytes += chunk.length;
    for (const checkChunk of logChecks) checkChunk(chunk.toString('latin1'));
  });
  child.on('exit', (code, signal) => (exit = `${code ?? signal}`));
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening:\s+(\S+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error(`server exited:\n${stderr}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    exited: () => exit,
    logBytes: () => logBytes,
    onLog: (check) => logChecks.push(check),
    // SIGTERM asks for a graceful stop; a server whose event loop is blocked never gets to it.
    stop: () =>
      new Promise((resolve) => {
        if (exit) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => (clearTimeout(kill), resolve()));
        child.kill('SIGTERM');
      }),
  };
}

async function plant(cli, url) {
  const created = JSON.parse((await cli(['clients', 'create', '--name', 'fuzz', '--json'])).stdout);
  await cli(['grants', 'create', '--client', created.client_id, '--api', 'https://orders.fuzz', '--scopes', 'read:orders']);
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${created.client_id}:${created.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&audience=https://orders.fuzz',
  });
  const { access_token: accessToken } = await response.json();
  if (!accessToken) throw new Error('could not plant a token');
  const admin = JSON.parse((await cli(['admin', 'bootstrap', '--json'])).stdout);
  const adminToken = await mintAdminToken(url, admin);
  return {
    admin,
    values: { clientId: created.client_id, clientSecret: created.client_secret, accessToken, adminToken },
    // What must never come back: the secrets, the tokens, and a token's signature on its own.
    secrets: {
      'client secret': created.client_secret,
      'access token': accessToken,
      'token signature': accessToken.split('.')[2],
      'admin client secret': admin.client_secret,
      'admin token': adminToken,
    },
  };
}

async function mintAdminToken(url, admin) {
  const response = await fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${admin.client_id}:${admin.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&audience=urn:m2m-auth:admin',
  });
  const { access_token: adminToken } = await response.json();
  if (!adminToken) throw new Error(`could not plant an admin token (${response.status})`);
  return adminToken;
}

/**
 * Admin tokens are short-lived: a fresh one every 30 s keeps a long run reaching the admin
 * routes with a valid token. Each one joins the values that must never come back.
 */
function keepAdminTokenFresh(planted, url) {
  let count = 1;
  const timer = setInterval(() => {
    mintAdminToken(url, planted.admin)
      .then((token) => {
        planted.values.adminToken = token;
        planted.secrets[`admin token ${(count += 1)}`] = token;
      })
      .catch(() => undefined);
  }, 30_000);
  timer.unref();
  return timer;
}

/** Whether the server answers its health check on a fresh connection within 5 s. */
async function answersHealthCheck(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** A case in a line: what it was and how big, to find the request that blocked the server. */
const describeCase = (testCase) => {
  const body = testCase.body ?? testCase.data ?? '';
  return `${testCase.label}, ${testCase.path?.length ?? 0}-char path, ${body.length}-byte body ${JSON.stringify(String(body).slice(0, 60))}`;
};

/** The server's resident size and heap, from its own metrics (a fresh connection each time). */
async function memory(url) {
  let text = '';
  try {
    const response = await fetch(`${url}/metrics`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(ANSWER_BOUND_MS) });
    text = await response.text();
  } catch {
    // No answer: the run reports the server as stalled; the figures stay NaN.
  }
  const metric = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: metric('m2m_auth_process_resident_memory_bytes'), heapUsed: metric('m2m_auth_nodejs_heap_size_used_bytes') };
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const option = (name, fallback) => {
    const index = process.argv.indexOf(`--${name}`);
    return index > 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const requests = option('requests', 100_000);
  const stackAt = process.argv.indexOf('--stack');
  const stack = stackAt > 0 ? process.argv[stackAt + 1] : 'sqlite';
  console.log(`m2m-auth HTTP fuzzer: ${requests} requests on ${stack}, seed ${option('seed', 1)}`);
  const summary = await runFuzz({ requests, seed: option('seed', 1), concurrency: option('concurrency', 16), stack });
  console.log(JSON.stringify(summary, null, 2));
  if (summary.failures.length > 0 || summary.fiveXX > 0 || summary.requests !== requests) {
    console.error(`FAILED: ${summary.failureCount} failures of ${summary.failures.length} kinds`);
    process.exitCode = 1;
  } else {
    console.log('OK: no 5xx, no crash, no hang, nothing echoed, memory flat');
  }
}
