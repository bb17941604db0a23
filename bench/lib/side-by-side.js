import { watchProcessTree } from './process-stats.js';
import { formatNumber, summarize } from './stats.js';

/**
 * Variants of one request measured side by side in one run, the way the DPoP and mutual-TLS
 * suites compare a sender-constrained request with its plain one. Each variant is
 * `{ side, name, pid }` (pid: the process whose CPU it costs) and `load(variant, seconds)` runs it,
 * answering `{ requestsPerSecond, total, p99Ms, failed }`. Every variant is warmed up (and must
 * answer without failures) before any is measured; each repetition then starts one variant further
 * on, so none always runs first or after the same one.
 */
export async function measureSideBySide({ suite, variants, load, connections, repetitions, durationSeconds, progress }) {
  for (const variant of variants) {
    const check = await load(variant, 1);
    if (check.failed > 0) throw new Error(`${suite} bench: ${variant.side} ${variant.name} answered ${check.failed} failures while warming up`);
  }
  const runs = new Map(variants.map((variant) => [variant, []]));
  for (let repetition = 1; repetition <= repetitions; repetition += 1) {
    const shift = (repetition - 1) % variants.length;
    for (const variant of [...variants.slice(shift), ...variants.slice(0, shift)]) {
      const watch = watchProcessTree(variant.pid);
      const run = await load(variant, durationSeconds);
      const usage = watch.stop();
      runs.get(variant).push({ ...run, cpuMicrosPerRequest: (usage.cpuSeconds * 1e6) / Math.max(run.total, 1) });
      progress(
        `${suite} run ${repetition}/${repetitions} ${variant.side}, ${variant.name}: ${formatNumber(run.requestsPerSecond)} req/s${run.failed ? `, ${run.failed} failed` : ''}`,
      );
    }
  }
  return [...runs].map(([variant, variantRuns]) => ({
    side: variant.side,
    name: variant.name,
    connections,
    requestsPerSecond: summarize(variantRuns.map((r) => r.requestsPerSecond)),
    p99Ms: summarize(variantRuns.map((r) => r.p99Ms)),
    cpuMicrosPerRequest: summarize(variantRuns.map((r) => r.cpuMicrosPerRequest)),
    failed: variantRuns.reduce((sum, r) => sum + r.failed, 0),
  }));
}

/** The results as a Markdown table; the first variant of each side is that side's baseline. */
export function sideBySideTable(results, { setup, baselineLabel }) {
  const lines = [
    `${results[0].connections} ${setup}`,
    '',
    `| where | request | req/s median (min–max) | ${baselineLabel} | p99 ms | CPU µs/request | failed |`,
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const baseline = new Map();
  for (const row of results) {
    if (!baseline.has(row.side)) baseline.set(row.side, row.requestsPerSecond.median);
    const r = row.requestsPerSecond;
    lines.push(
      `| ${row.side} | ${row.name} | ${formatNumber(r.median)} (${formatNumber(r.min)}–${formatNumber(r.max)}) | ${formatNumber((100 * r.median) / baseline.get(row.side))}% | ` +
        `${formatNumber(row.p99Ms.median, 1)} | ${formatNumber(row.cpuMicrosPerRequest.median)} | ${row.failed} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
