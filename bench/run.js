#!/usr/bin/env node
// npm run bench [-- --suite token,resource,client,clients,instances,federation,opaque,tracing,usage,dpop,mtls] [--instances 1,3] [--quick] [--active-clients 10,10000,100000] [--databases sqlite,postgres] [--repetitions N] [--duration S]
// Loopback only, bounded in time; prints markdown tables and writes bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runTokenEndpointSuite, tokenEndpointTable } from './token-endpoint/suite.js';
import { tokenEndpointPlot } from './lib/svg-plot.js';

const { values: flags } = parseArgs({
  options: {
    suite: { type: 'string', default: 'token,resource,client' },
    quick: { type: 'boolean', default: false },
    repetitions: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string', default: '10,50' },
    algs: { type: 'string', default: 'ES256,RS256' },
    targets: { type: 'string' },
    'active-clients': { type: 'string', default: '10,10000,100000' },
    instances: { type: 'string', default: '1,3' },
    databases: { type: 'string', default: 'sqlite,postgres' },
  },
});

const suites = new Set(flags.suite.split(','));
const repetitions = Number(flags.repetitions ?? (flags.quick ? 1 : 5));
const durationSeconds = Number(flags.duration ?? (flags.quick ? 2 : 3));
const startedAt = Date.now();
const progress = (message) => process.stderr.write(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node.js ${process.version}, ${process.platform}`;
const output = [
  `Machine: ${machine}`,
  `Command: npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  `Repetitions: ${repetitions} × ${durationSeconds} s, interleaved`,
  '',
];
const results = { machine, startedAt: new Date(startedAt).toISOString(), repetitions, durationSeconds };
const resultsDirectory = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDirectory, { recursive: true });

if (suites.has('token')) {
  results.tokenEndpoint = await runTokenEndpointSuite({
    algs: flags.algs.split(','),
    connectionCounts: flags.connections.split(',').map(Number),
    repetitions,
    durationSeconds,
    warmupSeconds: 1,
    only: flags.targets?.split(','),
    progress,
  });
  output.push('### Token endpoint', '', tokenEndpointTable(results.tokenEndpoint));
  writeFileSync(`${resultsDirectory}token-endpoint.svg`, tokenEndpointPlot(results.tokenEndpoint));
}

if (suites.has('resource')) {
  const { runResourceServerSuite, resourceServerTable } = await import('./resource-server/suite.js');
  results.resourceServer = await runResourceServerSuite({
    algs: flags.algs.split(','),
    repetitions,
    durationSeconds,
    progress,
    only: flags.targets?.split(','),
  });
  output.push('### Resource server', '', resourceServerTable(results.resourceServer));
}

if (suites.has('client')) {
  const { runClientSuite, clientTable } = await import('./client/suite.js');
  results.client = await runClientSuite({ progress });
  output.push('### Client SDK', '', clientTable(results.client));
}

if (suites.has('clients')) {
  const { runActiveClientsSuite, activeClientsTable } = await import('./active-clients/suite.js');
  results.activeClients = await runActiveClientsSuite({
    clientCounts: flags['active-clients'].split(',').map(Number),
    databases: flags.databases.split(','),
    alg: flags.algs.split(',')[0],
    connections: Number(flags.connections.split(',').at(-1)),
    durationSeconds,
    progress,
  });
  output.push('### Active clients', '', activeClientsTable(results.activeClients));
}

if (suites.has('instances')) {
  const { runInstancesSuite, instancesTable } = await import('./active-clients/suite.js');
  results.instances = await runInstancesSuite({
    instanceCounts: flags.instances.split(',').map(Number),
    alg: flags.algs.split(',')[0],
    connections: Number(flags.connections.split(',').at(-1)),
    durationSeconds,
    progress,
  });
  output.push('### Instances (PostgreSQL + Redis)', '', instancesTable(results.instances));
}

if (suites.has('federation')) {
  const { runFederationSuite, federationTable } = await import('./federation/suite.js');
  results.federation = await runFederationSuite({ connections: Number(flags.connections.split(',').at(-1)), repetitions, durationSeconds, progress });
  output.push('### Federated client authentication', '', federationTable(results.federation));
}

if (suites.has('opaque')) {
  const { runOpaqueTokensSuite, opaqueTokensTable } = await import('./opaque-tokens/suite.js');
  results.opaqueTokens = await runOpaqueTokensSuite({
    // The two stores an opaque token can live in: the SQLite state file, and Redis.
    databases: flags.databases === 'sqlite,postgres' ? ['sqlite', 'postgres+redis'] : flags.databases.split(','),
    connections: Number(flags.connections.split(',').at(-1)),
    repetitions,
    durationSeconds,
    progress,
  });
  output.push('### Opaque tokens against JWTs', '', opaqueTokensTable(results.opaqueTokens));
}

if (suites.has('tracing')) {
  const { runTracingSuite, tracingTable } = await import('./tracing/suite.js');
  results.tracing = await runTracingSuite({ connections: Number(flags.connections.split(',').at(-1)), repetitions, durationSeconds, progress });
  output.push('### Tracing (OpenTelemetry) off and on', '', tracingTable(results.tracing));
}

if (suites.has('usage')) {
  const { runUsageSuite, usageTable } = await import('./usage/suite.js');
  results.usage = await runUsageSuite({ connections: Number(flags.connections.split(',').at(-1)), repetitions, durationSeconds, progress });
  output.push('### Usage counting and quotas', '', usageTable(results.usage));
}

if (suites.has('dpop')) {
  const { runDpopSuite, dpopTable } = await import('./dpop/suite.js');
  results.dpop = await runDpopSuite({ connections: Number(flags.connections.split(',').at(-1)), repetitions, durationSeconds, progress });
  output.push('### DPoP against bearer tokens', '', dpopTable(results.dpop));
}

if (suites.has('mtls')) {
  const { runMtlsSuite, mtlsTable } = await import('./mtls/suite.js');
  results.mtls = await runMtlsSuite({ connections: Number(flags.connections.split(',').at(-1)), repetitions, durationSeconds, progress });
  output.push('### Mutual TLS against secrets', '', mtlsTable(results.mtls));
}

writeFileSync(`${resultsDirectory}latest.json`, JSON.stringify(results, null, 2));
writeFileSync(`${resultsDirectory}latest.md`, output.join('\n'));
process.stdout.write(`\n${output.join('\n')}\n`);
progress(`done; results in bench/results/latest.{md,json}${suites.has('token') ? ' and token-endpoint.svg' : ''}`);
