// How long `apply` takes for a document of 1,000 clients, each with a grant, on SQLite: the first
// apply (everything created), the idempotent second apply (empty plan), and one that updates every
// client. In process through the admin operation (what the CLI and the admin API call), then once
// through the real CLI (process start, YAML parsing and printing included).
//
//   npm run build && node bench/admin/apply-1000.js [--clients 1000] [--runs 5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { createAdmin, openStorage } from '../../packages/server/dist/index.js';
import { createMasterKeyFile, deriveSecrets, readMasterKeyFile } from '../../packages/server/dist/keys/master-key.js';
import { DATABASE_FILE } from '../../packages/server/dist/config/server-config.js';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, runs: { type: 'string', default: '5' } } });
const clientCount = Number(values.clients);
const runs = Number(values.runs);
const CLI = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));

function makeDocument(description = '') {
  return {
    version: 1,
    apis: [{ identifier: 'https://orders.example', scopes: ['read:orders', 'write:orders'] }],
    clients: Array.from({ length: clientCount }, (_, i) => ({ name: `service-${i}`, description })),
    grants: Array.from({ length: clientCount }, (_, i) => ({ client: `service-${i}`, api: 'https://orders.example', scopes: ['read:orders'] })),
  };
}

/** Wall time, and the process's CPU time, which a busy shared host inflates much less. */
async function timed(work) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: (used.user + used.system) / 1000, result };
}

async function inProcessRun() {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-apply-'));
  const storage = await openStorage({ kind: 'sqlite', path: join(dataDir, DATABASE_FILE) });
  try {
    const { keyEncryptionKey, secretPepper } = deriveSecrets(readMasterKeyFile(dataDir) ?? createMasterKeyFile(dataDir));
    const admin = createAdmin({ storage, kek: keyEncryptionKey, secretPepper, now: Date.now, actor: 'bench' });
    await admin.ensureSigningKeys();
    const first = await timed(() => admin.applyConfig(makeDocument()));
    if (first.result.plan.changes.length !== 2 * clientCount + 1) throw new Error('first apply did not create everything');
    const second = await timed(() => admin.applyConfig(makeDocument()));
    if (second.result.plan.changes.length !== 0) throw new Error('second apply was not empty');
    const updates = await timed(() => admin.applyConfig(makeDocument('updated')));
    if (updates.result.plan.changes.length !== clientCount) throw new Error('update apply did not update every client');
    return { first, second, updates };
  } finally {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function cliRun() {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-apply-cli-'));
  try {
    const file = join(dataDir, 'm2m-auth.yaml');
    writeFileSync(file, YAML.stringify(makeDocument()));
    const apply = () => {
      const start = process.hrtime.bigint();
      execFileSync(process.execPath, [CLI, 'apply', '-f', file, '--json', '--data-dir', join(dataDir, 'data')], { stdio: ['ignore', 'ignore', 'ignore'] });
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    execFileSync(process.execPath, [CLI, 'init', '--data-dir', join(dataDir, 'data')], { stdio: 'ignore' }); // database, master key and keys made here, not timed
    return { first: apply(), second: apply() };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
const row = (label, key) => `| ${label} | ${spread(samples.map((s) => s[key].ms))} | ${spread(samples.map((s) => s[key].cpuMs))} |`;

const samples = [];
for (let run = 0; run < runs; run++) samples.push(await inProcessRun());
const cli = cliRun();

console.log(
  `load average at the end: ${loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')} on ${availableParallelism()} cores\n`,
);
console.log(`apply: ${clientCount} clients, each with a grant, on SQLite (${runs} runs, fresh database each; ms)\n`);
console.log('| in process (admin.applyConfig) | wall ms, median (min–max) | CPU ms, median (min–max) |\n|---|---|---|');
console.log(row(`first apply (1 API, ${clientCount} clients and ${clientCount} grants created)`, 'first'));
console.log(row('second apply (empty plan)', 'second'));
console.log(row(`apply updating all ${clientCount} clients`, 'updates'));
console.log(`\nthrough the CLI, one run (process start and YAML included): first ${cli.first.toFixed(0)} ms, second ${cli.second.toFixed(0)} ms`);
