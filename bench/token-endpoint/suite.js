import { freePort } from '../lib/free-port.js';
import { runLoad } from '../lib/load.js';
import { watchProcessTree } from '../lib/process-stats.js';
import { formatNumber, summarize } from '../lib/stats.js';
import { checkTokenResponse, tokenTargets } from './targets.js';

/**
 * Token endpoint: every target under the same load, runs interleaved (A, B, C, A, B, C …) so drift
 * on a shared machine hits all targets alike; each figure is the median of the repetitions.
 */
export async function runTokenEndpointSuite({ algs, connectionCounts, repetitions, durationSeconds, warmupSeconds, progress, only }) {
  const results = [];
  const targets = only ? tokenTargets.filter((t) => only.some((name) => t.name.startsWith(name))) : tokenTargets;
  for (const alg of algs) {
    const running = [];
    try {
      for (const target of targets) {
        progress(`token endpoint ${alg}: starting ${target.name}`);
        const server = await target.start({ alg, port: await freePort() });
        running.push({ target, server });
        await checkTokenResponse(server.request, alg);
      }
      for (const connections of connectionCounts) {
        for (const { server } of running) await runLoad({ ...server.request, connections, durationSeconds: warmupSeconds });
        const runs = new Map(running.map(({ target }) => [target.name, []]));
        for (let repetition = 1; repetition <= repetitions; repetition += 1) {
          for (const { target, server } of running) {
            const watch = watchProcessTree(server.pid);
            const load = await runLoad({ ...server.request, connections, durationSeconds });
            const usage = watch.stop();
            const run = { ...load, peakRssBytes: usage.peakRssBytes, cpuMicrosPerRequest: (usage.cpuSeconds * 1e6) / Math.max(load.total, 1) };
            runs.get(target.name).push(run);
            progress(
              `token ${alg} c=${connections} run ${repetition}/${repetitions} ${target.name}: ${formatNumber(run.requestsPerSecond)} tokens/s, ` +
                `p99 ${run.p99Ms} ms${run.non2xx || run.errors ? `, ${run.non2xx} non-2xx, ${run.errors} errors` : ''}`,
            );
          }
        }
        for (const [name, targetRuns] of runs) results.push(summarizeRuns({ alg, connections, target: name, runs: targetRuns }));
      }
    } finally {
      await Promise.all(running.map(({ server }) => server.stop()));
    }
  }
  return results;
}

function summarizeRuns({ alg, connections, target, runs }) {
  return {
    alg,
    connections,
    target,
    tokensPerSecond: summarize(runs.map((r) => r.requestsPerSecond)),
    p50Ms: summarize(runs.map((r) => r.p50Ms)),
    p99Ms: summarize(runs.map((r) => r.p99Ms)),
    peakRssMiB: summarize(runs.map((r) => r.peakRssBytes / 2 ** 20)),
    cpuMicrosPerToken: summarize(runs.map((r) => r.cpuMicrosPerRequest)),
    failedRequests: runs.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  };
}

export function tokenEndpointTable(results) {
  const lines = [];
  for (const alg of [...new Set(results.map((r) => r.alg))]) {
    for (const connections of [...new Set(results.map((r) => r.connections))]) {
      const rows = results.filter((r) => r.alg === alg && r.connections === connections);
      if (rows.length === 0) continue;
      const referenceBest = Math.max(...rows.filter((r) => r.target.startsWith('reference')).map((r) => r.tokensPerSecond.median));
      lines.push(`#### ${alg}, ${connections} connections`, '');
      lines.push('| server | tokens/s median (min–max) | vs reference best | p50 ms | p99 ms | peak RSS MiB | CPU µs/token | failed |');
      lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const row of rows) {
        const t = row.tokensPerSecond;
        lines.push(
          `| ${row.target} | ${formatNumber(t.median)} (${formatNumber(t.min)}–${formatNumber(t.max)}) | ${formatNumber((100 * t.median) / referenceBest)}% | ` +
            `${formatNumber(row.p50Ms.median, 1)} | ${formatNumber(row.p99Ms.median, 1)} | ${formatNumber(row.peakRssMiB.max)} | ` +
            `${formatNumber(row.cpuMicrosPerToken.median)} | ${row.failedRequests} |`,
        );
      }
      lines.push('');
    }
  }
  return lines.join('\n');
}
