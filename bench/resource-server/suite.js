import { fileURLToPath } from 'node:url';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { runLoad } from '../lib/load.js';
import { watchProcessTree } from '../lib/process-stats.js';
import { formatNumber, summarize } from '../lib/stats.js';
import { AUDIENCE, startM2mAuth } from '../token-endpoint/targets.js';

const appServer = fileURLToPath(new URL('./app-server.js', import.meta.url));

/** Every (app, route) pair measured; all run interleaved against the same token. */
const ROUTES = [
  { app: 'express', label: 'Express', path: '/public', kind: 'public' },
  { app: 'express', label: 'Express', path: '/protected', kind: 'm2m-auth, cache on' },
  { app: 'express', label: 'Express', path: '/protected-uncached', kind: 'm2m-auth, cache off' },
  { app: 'express', label: 'Express', path: '/jwt-bearer', kind: 'express-oauth2-jwt-bearer' },
  { app: 'express', label: 'Express', path: '/jose', kind: 'jose by hand' },
  { app: 'express', label: 'Express', path: '/reference', kind: 'bare verify reference' },
  { app: 'fastify', label: 'Fastify', path: '/public', kind: 'public' },
  { app: 'fastify', label: 'Fastify', path: '/protected', kind: 'm2m-auth, cache on' },
  { app: 'fastify', label: 'Fastify', path: '/protected-uncached', kind: 'm2m-auth, cache off' },
  { app: 'fastify', label: 'Fastify', path: '/reference', kind: 'bare verify reference' },
  { app: 'node-http', label: 'node:http', path: '/public', kind: 'public' },
  { app: 'node-http', label: 'node:http', path: '/reference', kind: 'bare verify reference' },
];

/**
 * Protected-route throughput. One m2m-auth server issues the token (as real callers do, one token
 * reused for its lifetime); each app runs in its own process; runs are interleaved.
 */
export async function runResourceServerSuite({ algs = ['RS256', 'ES256'], connections = 10, repetitions, durationSeconds, progress, only }) {
  const results = [];
  const routes = only ? ROUTES.filter((r) => only.some((name) => `${r.app}${r.path}`.startsWith(name))) : ROUTES;
  for (const alg of algs) {
    const issuer = await startM2mAuth({ alg, port: await freePort(), workers: 1 });
    const apps = new Map();
    try {
      const tokenResponse = await fetch(issuer.request.url, issuer.request);
      const { access_token: token } = await tokenResponse.json();
      if (!token) throw new Error(`no token from m2m-auth: ${tokenResponse.status}`);
      const issuerUrl = new URL(issuer.request.url).origin;
      for (const app of new Set(routes.map((r) => r.app))) {
        progress(`resource server ${alg}: starting ${app}`);
        const port = await freePort();
        apps.set(
          app,
          await startChildServer({
            command: process.execPath,
            args: [appServer],
            env: { APP: app, ISSUER: issuerUrl, AUDIENCE, PORT: String(port) },
            readyLine: true,
          }),
        );
      }
      const request = (route) => ({ url: `${apps.get(route.app).info.url}${route.path}`, headers: { authorization: `Bearer ${token}` } });
      for (const route of routes) await checkAnswers(request(route), route);
      // Warm-up also fetches and caches each app's JWKS, so no run measures a cold start.
      for (const route of routes) await runLoad({ ...request(route), connections, durationSeconds: 1 });
      const runs = new Map(routes.map((route) => [route, []]));
      for (let repetition = 1; repetition <= repetitions; repetition += 1) {
        for (const route of routes) {
          const watch = watchProcessTree(apps.get(route.app).pid);
          const load = await runLoad({ ...request(route), connections, durationSeconds });
          const usage = watch.stop();
          runs.get(route).push({ ...load, cpuMicrosPerRequest: (usage.cpuSeconds * 1e6) / Math.max(load.total, 1) });
          progress(
            `resource ${alg} run ${repetition}/${repetitions} ${route.label} ${route.path}: ${formatNumber(load.requestsPerSecond)} req/s, p99 ${load.p99Ms} ms`,
          );
        }
      }
      for (const [route, routeRuns] of runs) {
        results.push({
          alg,
          connections,
          app: route.app,
          label: route.label,
          path: route.path,
          kind: route.kind,
          requestsPerSecond: summarize(routeRuns.map((r) => r.requestsPerSecond)),
          p99Ms: summarize(routeRuns.map((r) => r.p99Ms)),
          cpuMicrosPerRequest: summarize(routeRuns.map((r) => r.cpuMicrosPerRequest)),
          failedRequests: routeRuns.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
        });
      }
    } finally {
      await Promise.all([...apps.values()].map((app) => app.stop()));
      await issuer.stop();
    }
  }
  return results;
}

/** A benchmark of fast 401s would be worthless: each route must accept the token first. */
async function checkAnswers(request, route) {
  const response = await fetch(request.url, { headers: request.headers });
  if (response.status !== 200) throw new Error(`${route.label} ${route.path} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  if (route.kind !== 'public') {
    const refused = await fetch(request.url);
    if (refused.status !== 401) throw new Error(`${route.label} ${route.path} let a request without a token through (${refused.status})`);
  }
}

export function resourceServerTable(results) {
  const lines = [];
  for (const alg of [...new Set(results.map((r) => r.alg))]) {
    const rows = results.filter((r) => r.alg === alg);
    const publicOf = (app) => rows.find((r) => r.app === app && r.kind === 'public')?.requestsPerSecond.median;
    lines.push(`#### ${alg}, ${rows[0].connections} connections`, '');
    lines.push('| app | route | req/s median (min–max) | vs same app /public | p99 ms | CPU µs/req | failed |');
    lines.push('|---|---|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      const r = row.requestsPerSecond;
      const own = publicOf(row.app);
      lines.push(
        `| ${row.label} | ${row.path} (${row.kind}) | ${formatNumber(r.median)} (${formatNumber(r.min)}–${formatNumber(r.max)}) | ` +
          `${own ? `${formatNumber(r.median / own, 2)}×` : '–'} | ${formatNumber(row.p99Ms.median, 1)} | ${formatNumber(row.cpuMicrosPerRequest.median)} | ${row.failedRequests} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}
