import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { watchProcessTree } from '../lib/process-stats.js';
import { formatNumber, summarize } from '../lib/stats.js';

const m2mAuthBin = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const sinkScript = fileURLToPath(new URL('./otlp-sink.js', import.meta.url));
const AUDIENCE = 'https://api.bench.example';

/**
 * What OpenTelemetry tracing costs the token endpoint (SQLite, one worker, ES256, client secret):
 * the same server with tracing off, and on with every request traced and exported as OTLP/HTTP
 * JSON to a sink on 127.0.0.1 (otlp-sink.js, its own process). The batch processor is given room
 * (a queue of 100,000 spans, exports every 500 ms) so spans are exported, not dropped: the figure
 * is the cost of tracing everything. Two more variants split that cost: no trace sampled
 * (OTEL_TRACES_SAMPLER=always_off: the spans and the context propagation, nothing recorded or
 * exported), and 10% of the traces sampled (traceidratio), a usual production setting.
 */
export async function runTracingSuite({ connections, repetitions, durationSeconds, progress }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-tracing-'));
  const cli = (...args) => JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
  let sink;
  try {
    progress('tracing: preparing the client and the OTLP sink');
    cli('init');
    cli('apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:things', '--alg', 'ES256', '--token-ttl', '900');
    const client = cli('clients', 'create', '--name', 'bench-client');
    cli('grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:things');
    sink = await startChildServer({ command: process.execPath, args: [sinkScript], readyLine: true });
    const sinkUrl = `http://127.0.0.1:${sink.info.port}`;
    const spansReceived = async () => (await (await fetch(`${sinkUrl}/count`)).json()).spans;

    const batching = { OTEL_BSP_MAX_QUEUE_SIZE: '100000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2048', OTEL_BSP_SCHEDULE_DELAY: '500' };
    const variants = [
      { name: 'tracing off', args: [], env: {} },
      { name: 'tracing on, every request exported', args: ['--otel-exporter-otlp-endpoint', sinkUrl], env: batching },
      {
        name: 'tracing on, no trace sampled',
        args: ['--otel-exporter-otlp-endpoint', sinkUrl],
        env: { ...batching, OTEL_TRACES_SAMPLER: 'always_off' },
      },
      {
        name: 'tracing on, 10% of traces sampled',
        args: ['--otel-exporter-otlp-endpoint', sinkUrl],
        env: { ...batching, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
      },
    ];
    const request = {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE }).toString(),
    };
    const load = async (url, seconds) => {
      const result = await autocannon({ url: `${url}/oauth/token`, connections, duration: seconds, pipelining: 1, ...request });
      return {
        requestsPerSecond: result.requests.total / seconds,
        total: result.requests.total,
        p99Ms: result.latency.p99,
        failed: result.non2xx + result.errors + result.timeouts,
      };
    };

    const runs = new Map(variants.map((variant) => [variant.name, []]));
    for (let repetition = 1; repetition <= repetitions; repetition += 1) {
      for (const variant of variants) {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const server = await startChildServer({
          command: process.execPath,
          args: ['--max-semi-space-size=4', m2mAuthBin, 'serve', '--port', String(port), '--data-dir', dataDir, '--workers', '1', ...variant.args],
          env: variant.env,
          probeUrl: `${url}/healthz`,
        });
        try {
          const spansBefore = await spansReceived();
          const warmup = await load(url, 1);
          if (warmup.failed > 0) throw new Error(`tracing bench: ${variant.name} answered ${warmup.failed} failures while warming up`);
          const watch = watchProcessTree(server.pid);
          const run = await load(url, durationSeconds);
          const usage = watch.stop();
          // Spans still batched are exported when the server stops; warm-up and run are counted together.
          await server.stop();
          const spansPerRequest = ((await spansReceived()) - spansBefore) / Math.max(warmup.total + run.total, 1);
          runs.get(variant.name).push({ ...run, cpuMicrosPerRequest: (usage.cpuSeconds * 1e6) / Math.max(run.total, 1), spansPerRequest });
          progress(
            `tracing run ${repetition}/${repetitions} ${variant.name}: ${formatNumber(run.requestsPerSecond)} tokens/s, ${formatNumber(spansPerRequest, 2)} spans/token`,
          );
        } finally {
          await server.stop();
        }
      }
    }
    return [...runs].map(([name, variantRuns]) => ({
      name,
      connections,
      tokensPerSecond: summarize(variantRuns.map((r) => r.requestsPerSecond)),
      p99Ms: summarize(variantRuns.map((r) => r.p99Ms)),
      cpuMicrosPerToken: summarize(variantRuns.map((r) => r.cpuMicrosPerRequest)),
      spansPerToken: summarize(variantRuns.map((r) => r.spansPerRequest)),
      failed: variantRuns.reduce((sum, r) => sum + r.failed, 0),
    }));
  } finally {
    await sink?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function tracingTable(results) {
  const off = results[0].tokensPerSecond.median;
  const lines = [
    `${results[0].connections} connections, SQLite, one worker, ES256 tokens, client secret (HTTP Basic)`,
    '',
    '| variant | tokens/s median (min–max) | vs off | p99 ms | CPU µs/token | spans exported/token | failed |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of results) {
    const t = row.tokensPerSecond;
    lines.push(
      `| ${row.name} | ${formatNumber(t.median)} (${formatNumber(t.min)}–${formatNumber(t.max)}) | ${formatNumber((100 * t.median) / off)}% | ` +
        `${formatNumber(row.p99Ms.median, 1)} | ${formatNumber(row.cpuMicrosPerToken.median)} | ${formatNumber(row.spansPerToken.median, 2)} | ${row.failed} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
