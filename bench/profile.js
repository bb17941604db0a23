#!/usr/bin/env node
// npm run bench:profile [-- --target m2m-auth] [--alg ES256] [--connections 10] [--seconds 6]
// Runs one token server under load with `node --cpu-prof`, then prints where each token's CPU goes
// and writes bench/results/profile-<target>-<alg>.{cpuprofile,svg} (the .cpuprofile opens in Chrome
// DevTools or speedscope; the SVG is a flame graph). Loopback only, bounded in time.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from './lib/free-port.js';
import { runLoad } from './lib/load.js';
import { formatNumber } from './lib/stats.js';
import { breakdown, flameGraphSvg, loadProfile } from './lib/cpu-profile.js';
import { checkTokenResponse, tokenTargets } from './token-endpoint/targets.js';

const { values: flags } = parseArgs({
  options: {
    target: { type: 'string', default: 'm2m-auth' },
    alg: { type: 'string', default: 'ES256' },
    connections: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '6' },
  },
});

// One process each: a cluster would write one profile per worker.
const target = tokenTargets.find((t) => t.name === flags.target && !t.name.includes('×'));
if (!target) {
  const names = tokenTargets.filter((t) => !t.name.includes('×')).map((t) => t.name);
  process.stderr.write(`unknown --target ${flags.target}; one of: ${names.join(', ')}\n`);
  process.exit(2);
}
const progress = (message) => process.stderr.write(`${message}\n`);
const profileDirectory = mkdtempSync(join(tmpdir(), 'm2m-auth-profile-'));
const connections = Number(flags.connections);
const seconds = Number(flags.seconds);

progress(`starting ${target.name} (${flags.alg}) with --cpu-prof`);
const server = await target.start({ alg: flags.alg, port: await freePort(), nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profileDirectory] });
let load;
let window;
try {
  await checkTokenResponse(server.request, flags.alg);
  progress('warming up for 1 s');
  await runLoad({ ...server.request, connections, durationSeconds: 1 });
  progress(`measuring for ${seconds} s at ${connections} connections`);
  // process.hrtime and V8's profile timestamps read the same monotonic clock: only the samples
  // taken during the measured run are counted.
  const from = Number(process.hrtime.bigint() / 1000n);
  load = await runLoad({ ...server.request, connections, durationSeconds: seconds });
  window = { fromMicros: from, toMicros: Number(process.hrtime.bigint() / 1000n) };
} finally {
  await server.stop(); // the profile is written as the process exits
}

const file = readdirSync(profileDirectory).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error(`${target.name} wrote no profile (did it exit cleanly on SIGTERM?)`);
const raw = readFileSync(join(profileDirectory, file), 'utf8');
rmSync(profileDirectory, { recursive: true, force: true });
const loaded = loadProfile(JSON.parse(raw), window);
const { busyMicrosPerRequest, rows } = breakdown(loaded, load.total);

const resultsDirectory = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDirectory, { recursive: true });
const base = `profile-${target.name.replace(/[^a-z0-9]+/gi, '-')}-${flags.alg}`;
writeFileSync(join(resultsDirectory, `${base}.cpuprofile`), raw);
const title = `${target.name}, ${flags.alg}, ${connections} connections: ${formatNumber(load.requestsPerSecond)} tokens/s, busy ${busyMicrosPerRequest.toFixed(1)} µs per token`;
writeFileSync(join(resultsDirectory, `${base}.svg`), flameGraphSvg(loaded, { title }));

const lines = [
  `${title} (${formatNumber(load.total)} tokens in ${seconds} s${load.non2xx || load.errors ? `, ${load.non2xx} non-2xx, ${load.errors} errors` : ''})`,
  '',
  '| µs/token | share | what |',
  '|---:|---:|---|',
  ...rows
    .filter((row) => row.microsPerRequest >= 0.05)
    .map((row) => `| ${row.microsPerRequest.toFixed(2)} | ${(row.share * 100).toFixed(1)}% | ${row.category} |`),
  '',
  'Main thread only: work on the libuv threadpool (RSA signatures; ES256/EdDSA when signed there) is not in the profile.',
  `Flame graph: bench/results/${base}.svg; profile: bench/results/${base}.cpuprofile`,
];
process.stdout.write(`${lines.join('\n')}\n`);
