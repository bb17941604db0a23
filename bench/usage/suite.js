import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { runLoad } from '../lib/load.js';
import { watchProcessTree } from '../lib/process-stats.js';
import { formatNumber, summarize } from '../lib/stats.js';

const m2mAuthBin = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const AUDIENCE = 'https://api.bench.example';
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * What usage counting and quotas cost on the token path, on one server (SQLite with its state
 * file, one worker), the same client_credentials request each time:
 * - counting off (`serve --no-usage-counting`), the baseline;
 * - counting on (the default): each token counted in memory, written once a second; every request
 *   of the load is a refetch, so the refetch detector does its most;
 * - counting on and the client under an enforced quota it never reaches: one atomic
 *   increment-and-compare in the shared state per token, on the answer's path;
 * - the same quota observed: counted in memory, added to the shared windows once a second.
 * Two servers (off and on) run side by side, each loaded in turn; the variants interleave.
 */
export async function runUsageSuite({ connections, repetitions, durationSeconds, progress }) {
  progress('usage: in-process cost per token (CPU time, steadier than tokens/s on a shared machine)');
  const inProcess = await measureInProcess();
  const servers = [];
  const dataDirs = [];
  try {
    const start = async (name, flags) => {
      const dataDir = mkdtempSync(join(tmpdir(), `m2m-auth-bench-usage-${name}-`));
      dataDirs.push(dataDir);
      const cli = (...args) => JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
      cli('init');
      cli('apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:things', '--alg', 'ES256', '--token-ttl', '900');
      const client = (quota) => {
        const created = cli('clients', 'create', '--name', `bench-${quota.join('-') || 'plain'}`, ...quota);
        cli('grants', 'create', '--client', created.client_id, '--api', AUDIENCE, '--scopes', 'read:things');
        return basic(created.client_id, created.client_secret);
      };
      const clients = {
        plain: client([]),
        enforced: client(['--quota-per-hour', '1000000000', '--quota-mode', 'enforce']),
        observed: client(['--quota-per-hour', '1000000000', '--quota-mode', 'observe']),
      };
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const server = await startChildServer({
        command: process.execPath,
        args: [
          '--max-semi-space-size=4',
          m2mAuthBin,
          'serve',
          '--port',
          String(port),
          '--data-dir',
          dataDir,
          '--workers',
          '1',
          '--log-level',
          'warn',
          ...flags,
        ],
        probeUrl: `${url}/healthz`,
      });
      servers.push(server);
      return { url, server, clients };
    };
    progress('usage: starting a server without and one with usage counting');
    const off = await start('off', ['--no-usage-counting']);
    const on = await start('on', []);
    const variants = [
      { name: 'usage counting off', target: off, client: off.clients.plain },
      { name: 'usage counting on (default)', target: on, client: on.clients.plain },
      { name: 'counting on, quota enforced (not reached)', target: on, client: on.clients.enforced },
      { name: 'counting on, quota observed', target: on, client: on.clients.observed },
    ];
    const body = new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE }).toString();
    const load = async (variant, seconds) => {
      const run = await runLoad({
        url: `${variant.target.url}/oauth/token`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: variant.client },
        body,
        connections,
        durationSeconds: seconds,
      });
      return { ...run, failed: run.non2xx + run.errors };
    };
    for (const variant of variants) {
      const check = await load(variant, 1);
      if (check.failed > 0) throw new Error(`usage bench: ${variant.name} answered ${check.failed} failures while warming up`);
    }
    // The same warm-up per server (3 s each): the counting server served three variants above.
    await load(variants[0], 2);
    const runs = new Map(variants.map((variant) => [variant.name, []]));
    for (let repetition = 1; repetition <= repetitions; repetition += 1) {
      for (const variant of variants) {
        const watch = watchProcessTree(variant.target.server.pid);
        const run = await load(variant, durationSeconds);
        const usage = watch.stop();
        runs.get(variant.name).push({ ...run, cpuMicrosPerRequest: (usage.cpuSeconds * 1e6) / Math.max(run.total, 1) });
        progress(
          `usage run ${repetition}/${repetitions} ${variant.name}: ${formatNumber(run.requestsPerSecond)} tokens/s${run.failed ? `, ${run.failed} failed` : ''}`,
        );
      }
    }
    // What the counting server wrote: the tokens it issued are in its usage counts.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const counted = JSON.parse(execFileSync(process.execPath, [m2mAuthBin, 'usage', '--data-dir', dataDirs[1], '--json'], { encoding: 'utf8' })).totals.reduce(
      (sum, total) => sum + total.tokens,
      0,
    );
    return {
      inProcess,
      counted,
      variants: [...runs].map(([name, variantRuns]) => ({
        name,
        connections,
        tokensPerSecond: summarize(variantRuns.map((r) => r.requestsPerSecond)),
        p99Ms: summarize(variantRuns.map((r) => r.p99Ms)),
        cpuMicrosPerToken: summarize(variantRuns.map((r) => r.cpuMicrosPerRequest)),
        issued: variantRuns.reduce((sum, r) => sum + r.total - r.failed, 0),
        failed: variantRuns.reduce((sum, r) => sum + r.failed, 0),
      })),
    };
  } finally {
    for (const server of servers) await server.stop();
    for (const dataDir of dataDirs) rmSync(dataDir, { recursive: true, force: true });
  }
}

const dist = (path) => import(new URL(`../../packages/server/dist/${path}`, import.meta.url).href);

/** CPU time of `work` per call, over `calls` calls, in nanoseconds. */
async function cpuNanosPerCall(calls, work) {
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i += 1) await work(i);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / calls;
}

/**
 * The same work the server does per token, without HTTP: the token.issued subscriber (refetch
 * detection and the in-memory count, every token a refetch as in the load below) and the enforced
 * quota's increment-and-compare in a SQLite state file. The batch write is once a second whatever
 * the rate, so it is measured per batch.
 */
export async function measureInProcess() {
  const [
    { createEndpointEventBus },
    { countUsage },
    { createUsageRecorder },
    { createRefetchDetector },
    { createSqliteState },
    { usageRetention },
    { quotaWindows, createClientQuotaCheck },
  ] = await Promise.all([
    dist('protocol/endpoint-events.js'),
    dist('usage/count-usage.js'),
    dist('usage/usage-recorder.js'),
    dist('usage/refetch-detector.js'),
    dist('state/sqlite/sqlite-state.js'),
    dist('usage/usage-windows.js'),
    dist('usage/client-quota.js'),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-usage-state-'));
  try {
    const now = () => Date.now();
    const state = createSqliteState({ path: join(dir, 'state.db'), now });
    const event = (i) => ({
      clientId: `client-${i % 100}`,
      grantType: 'client_credentials',
      audience: AUDIENCE,
      scope: 'read:things',
      jti: 'j',
      expiresIn: 900,
      credential: 'secret',
      requestId: undefined,
    });
    const events = Array.from({ length: 100 }, (_, i) => event(i));
    const bare = createEndpointEventBus();
    const counting = createEndpointEventBus();
    const recorder = createUsageRecorder({ store: state, retention: usageRetention(), flushIntervalMs: 3_600_000 });
    countUsage(counting, { recorder, refetches: createRefetchDetector({ now }), now });
    const calls = 1_000_000;
    const bareNs = await cpuNanosPerCall(calls, (i) => bare.emit('token.issued', events[i % 100]));
    const countingNs = await cpuNanosPerCall(calls, (i) => counting.emit('token.issued', events[i % 100]));
    const flushNs = await cpuNanosPerCall(1, () => recorder.flush());
    const quota = { perHour: 1_000_000_000, perDay: 1_000_000_000, mode: 'enforce' };
    const quotaNs = await cpuNanosPerCall(10_000, (i) =>
      state.consumeQuota(
        quotaWindows(`client-${i % 100}`, quota, now()).map((w) => w.counter),
        true,
      ),
    );
    const observing = createClientQuotaCheck({ counters: state, now, events: bare, isRefetching: () => false, flushIntervalMs: 3_600_000 });
    const observedClients = Array.from({ length: 100 }, (_, i) => ({ clientId: `client-${i}`, quota: { ...quota, mode: 'observe' } }));
    const observedNs = await cpuNanosPerCall(calls, (i) => observing.admit(observedClients[i % 100], undefined));
    await observing.close();
    await recorder.close();
    await state.close();
    return {
      subscriberNsPerToken: countingNs - bareNs,
      flushOf100ClientsMicros: flushNs / 1000,
      sqliteQuotaMicrosPerToken: quotaNs / 1000,
      observedQuotaNsPerToken: observedNs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function usageTable({ inProcess, counted, variants }) {
  const baseline = variants[0].tokensPerSecond.median;
  const lines = [
    `${variants[0].connections} connections, SQLite (state file), one worker, ES256 tokens; every request fetches a new token (a refetch)`,
    '',
    '| variant | tokens/s median (min–max) | vs off | p99 ms | CPU µs/token | failed |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of variants) {
    const t = row.tokensPerSecond;
    lines.push(
      `| ${row.name} | ${formatNumber(t.median)} (${formatNumber(t.min)}–${formatNumber(t.max)}) | ${formatNumber((100 * t.median) / baseline)}% | ` +
        `${formatNumber(row.p99Ms.median, 1)} | ${formatNumber(row.cpuMicrosPerToken.median)} | ${row.failed} |`,
    );
  }
  lines.push(
    '',
    'In process (CPU time, 1,000,000 tokens of 100 clients, each a refetch): ' +
      `counting subscriber ${formatNumber(inProcess.subscriberNsPerToken)} ns/token; ` +
      `the once-a-second batch write of 100 clients ${formatNumber(inProcess.flushOf100ClientsMicros)} µs; ` +
      `an enforced quota's increment-and-compare in the SQLite state file ${formatNumber(inProcess.sqliteQuotaMicrosPerToken, 1)} µs/token; ` +
      `an observed quota ${formatNumber(inProcess.observedQuotaNsPerToken)} ns/token (its batch written once a second).`,
  );
  const issuedWithCounting = variants.slice(1).reduce((sum, row) => sum + row.issued, 0);
  lines.push(
    '',
    `Counted by the counting server: ${formatNumber(counted)} tokens (it issued ${formatNumber(issuedWithCounting)} while measured, plus its warm-up).`,
  );
  return `${lines.join('\n')}\n`;
}
