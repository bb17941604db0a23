import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { readConfigFile, resolveServerConfig, type ConfigSource, type ServerConfig } from '../config/server-config.js';
import { readCaBundle } from '../config/mtls-ca.js';
import type { RunningServer } from '../http/start-server.js';
import { withConnections } from './cli-context.js';
import { redactDatabaseUrl } from '../storage/open-storage.js';
import { signOnFor } from '../tokens/jws-signer.js';
import { action } from './output.js';
import { bootstrapOnFirstStart, describeBootstrapped, BOOTSTRAP_SECRET_ENV } from './admin-command.js';
import type { BootstrappedAdmin } from '../admin/admin.js';
import { connectionFlags } from './connection-flags.js';
import { hasConsoleBuild } from '../http/console/console-assets.js';

const ADMIN_PREFIX = '/admin/v1';

interface ServeFlags extends ConfigSource {
  config?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the authorization server')
    .option('--port <port>', 'TCP port (default 8080; env M2M_AUTH_PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1; env M2M_AUTH_HOST)')
    .option('--issuer <url>', 'public base URL, the tokens’ iss (env M2M_AUTH_ISSUER)')
    .option('--data-dir <dir>', 'data directory: default SQLite database and master.key (default ./m2m-auth-data; env M2M_AUTH_DATA_DIR)')
    .option('--database-url <url>', 'sqlite:<path> or postgres://user@host/db (default sqlite:<data-dir>/m2m-auth.db; env M2M_AUTH_DATABASE_URL)')
    .option('--database-pool-size <n>', 'PostgreSQL connections per process (default 10; env M2M_AUTH_DATABASE_POOL_SIZE)')
    .option('--database-connect-timeout-ms <ms>', 'PostgreSQL connect timeout (default 5000; env M2M_AUTH_DATABASE_CONNECT_TIMEOUT_MS)')
    .option('--database-statement-timeout-ms <ms>', 'PostgreSQL statement timeout (default 10000; env M2M_AUTH_DATABASE_STATEMENT_TIMEOUT_MS)')
    .option('--redis-url <url>', 'redis://… shared state across instances (env M2M_AUTH_REDIS_URL)')
    .option(
      '--registry-cache-entries <n>',
      'clients kept in memory per process, each with its secrets and grants (default 100000; env M2M_AUTH_REGISTRY_CACHE_ENTRIES)',
    )
    .option('--tls-cert <path>', 'serve HTTPS with this PEM certificate (env M2M_AUTH_TLS_CERT)')
    .option('--tls-key <path>', 'PEM private key for --tls-cert (env M2M_AUTH_TLS_KEY)')
    .option('--insecure-http', 'allow a non-https issuer on a non-loopback host (env M2M_AUTH_INSECURE_HTTP)')
    .option(
      '--trust-proxy <hops|addresses>',
      'behind proxies: their number (e.g. 1) or addresses/CIDRs (e.g. 10.0.0.0/8,192.168.1.5); the client address is the one they saw (env M2M_AUTH_TRUST_PROXY)',
    )
    .option('--key-rotation-days <days>', 'rotate signing keys on this schedule, 0 = never (default 90; env M2M_AUTH_KEY_ROTATION_DAYS)')
    .option(
      '--key-prepublish-seconds <s>',
      'publish the next key this long before it signs, ≥ the JWKS max-age 300 (default 3600; env M2M_AUTH_KEY_PREPUBLISH_SECONDS)',
    )
    .option(
      '--key-retention-seconds <s>',
      'keep a key published this long after it stops signing, ≥ longest token TTL + 60 (default 86460; env M2M_AUTH_KEY_RETENTION_SECONDS)',
    )
    .option('--rate-limit-client <rate>', 'token requests per client, e.g. 100/s or 600/min,burst=100 (env M2M_AUTH_RATE_LIMIT_CLIENT)')
    .option('--rate-limit-address <rate>', 'token requests per source address, e.g. 50/s (env M2M_AUTH_RATE_LIMIT_ADDRESS)')
    .option(
      '--state-revocations-per-client <n>',
      'unexpired revoked tokens one client may hold; past it its revocations answer 429 (default 10000; env M2M_AUTH_STATE_REVOCATIONS_PER_CLIENT)',
    )
    .option(
      '--state-assertions-per-client <n>',
      'unexpired used client assertions and DPoP proofs one client may hold; past it they answer 429 (default 100000; env M2M_AUTH_STATE_ASSERTIONS_PER_CLIENT)',
    )
    .option(
      '--state-opaque-tokens-per-client <n>',
      'unexpired opaque access tokens one client may hold; past it its token requests for opaque APIs answer 429 (default 100000; env M2M_AUTH_STATE_OPAQUE_TOKENS_PER_CLIENT)',
    )
    .option(
      '--state-max-entries <n>',
      'unexpired failure counters, and rate-limit buckets, kept at most; a new one is refused beyond (default 100000; env M2M_AUTH_STATE_MAX_ENTRIES)',
    )
    .option('--dpop-nonce', 'require a server nonce in every DPoP proof (RFC 9449 §8), valid on every instance (env M2M_AUTH_DPOP_NONCE)')
    .option('--dpop-proof-window <s>', 'how far a DPoP proof’s iat may be from now, either way (default 60; env M2M_AUTH_DPOP_PROOF_WINDOW)')
    .option(
      '--mtls-ca <pem file>',
      'mutual TLS (RFC 8705): CAs whose client certificates tls_client_auth accepts; client certificates are asked for on the TLS listener and read from a --trust-proxy Client-Cert header (env M2M_AUTH_MTLS_CA)',
    )
    .option(
      '--mtls-port <port>',
      'ask for client certificates on a TLS listener of its own on this port instead, named in discovery’s mtls_endpoint_aliases (env M2M_AUTH_MTLS_PORT)',
    )
    .option('--mtls-url <url>', 'public https base URL of the --mtls-port listener (default https://<host>:<mtls-port>; env M2M_AUTH_MTLS_URL)')
    .option('--metrics', 'serve Prometheus metrics at /metrics (env M2M_AUTH_METRICS)')
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug, trace, silent (env M2M_AUTH_LOG_LEVEL)')
    .option('--workers <n>', 'worker processes sharing the port (default 1; env M2M_AUTH_WORKERS)')
    .option('--sign-on <where>', 'where ES256/EdDSA signatures run: auto (default), threadpool, event-loop (env M2M_AUTH_SIGN_ON)')
    .option('--headers-timeout <ms>', 'time to receive the request headers, then 408 (default 10000; env M2M_AUTH_HEADERS_TIMEOUT)')
    .option('--request-timeout <ms>', 'time to receive the whole request, then 408 (default 15000; env M2M_AUTH_REQUEST_TIMEOUT)')
    .option('--keep-alive-timeout <ms>', 'idle time before a keep-alive connection is closed (default 5000; env M2M_AUTH_KEEP_ALIVE_TIMEOUT)')
    .option('--max-connections <n>', 'open connections at most, more are closed at once (default 2048; env M2M_AUTH_MAX_CONNECTIONS)')
    .option('--admin-api', 'serve the admin API at /admin/v1 (default; env M2M_AUTH_ADMIN_API)')
    .option('--no-admin-api', 'do not serve the admin API (env M2M_AUTH_ADMIN_API=false)')
    .option('--admin-host <host>', 'serve the admin API on its own address instead of the main listener (env M2M_AUTH_ADMIN_HOST)')
    .option('--admin-port <port>', 'port of that own listener (default: a free one; env M2M_AUTH_ADMIN_PORT)')
    .option(
      '--admin-token-max-ttl <seconds>',
      'longest lifetime of an admin token, 30 to 300: can be lowered, never raised (default 300; env M2M_AUTH_ADMIN_TOKEN_MAX_TTL)',
    )
    .option('--audit-retention-days <days>', 'delete audit events older than this (default 90; env M2M_AUTH_AUDIT_RETENTION_DAYS)')
    .option('--usage-retention-days <days>', 'keep daily token usage counts this many days, hourly ones 48 h (default 35; env M2M_AUTH_USAGE_RETENTION_DAYS)')
    .option('--usage-counting', 'count tokens per client and API (default; env M2M_AUTH_USAGE_COUNTING)')
    .option('--no-usage-counting', 'do not count tokens per client and API (quotas still apply; env M2M_AUTH_USAGE_COUNTING=false)')
    .option(
      '--otel-exporter-otlp-endpoint <url>',
      'send OpenTelemetry traces over OTLP/HTTP to this receiver, e.g. http://otel-collector:4318 (env OTEL_EXPORTER_OTLP_ENDPOINT)',
    )
    .option('--otel-traces-exporter <otlp|none>', 'otlp: trace (to the endpoint, default http://localhost:4318); none: do not (env OTEL_TRACES_EXPORTER)')
    .option(
      '--shutdown-drain-seconds <s>',
      'on SIGTERM, answer /readyz 503 this long while still serving, then stop accepting (default 0; env M2M_AUTH_SHUTDOWN_DRAIN_SECONDS)',
    )
    .option(
      '--exchange-max-chain <n>',
      'token exchange: the longest act chain of an exchanged token, the new actor included, 1 to 16 (default 4; env M2M_AUTH_EXCHANGE_MAX_CHAIN)',
    )
    .addOption(new Option('--config <file>', 'JSON file with the same settings').env('M2M_AUTH_CONFIG'))
    .action(
      action(async (flags: ServeFlags) => {
        const { config: configFile, ...rest } = flags;
        const config = resolveServerConfig(rest, process.env, configFile ? readConfigFile(configFile) : {});
        if (config.mutualTls) readCaBundle(config.mutualTls.caPath);
        if (config.workers > 1 && cluster.isPrimary) return runPrimary(config);
        await runServer(config);
      }),
    );
}

async function runServer(config: ServerConfig) {
  // Loaded here, not at the top: the cluster primary and the other CLI commands never need the
  // HTTP stack (Fastify alone is ~18 MiB resident).
  const [{ createLogger }, { createBatchedLogDestination }, { startServer }] = await Promise.all([
    import('../http/logger.js'),
    import('../http/log-destination.js'),
    import('../http/start-server.js'),
  ]);
  const stdout = createBatchedLogDestination();
  const logger = createLogger(config.logLevel, stdout.stream);
  process.once('exit', () => stdout.flush());
  // Handled from the start, so a signal during start-up also exits through the flush above.
  // eslint-disable-next-line prefer-const -- declared before the signal handlers that read it, assigned once started
  let server: RunningServer | undefined;
  const shutdown = (signal: string) => {
    logger.info({ event: 'server.stopping', signal }, 'shutting down');
    (server?.close() ?? Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  server = await startServer({
    databaseUrl: config.database.url,
    database: config.database,
    ...(config.redisUrl ? { redisUrl: config.redisUrl } : {}),
    dataDir: config.dataDir,
    host: config.host,
    port: config.port,
    ...(config.isIssuerExplicit || config.port !== 0 ? { issuer: config.issuer } : {}),
    trustProxy: config.trustProxy,
    stateLimits: config.stateLimits,
    lifecycle: {
      keyRotation: config.keyRotation,
      rateLimits: config.rateLimits,
      usage: { retentionDays: config.usageRetentionDays, isCounting: config.usageCounting },
      maxDelegationChain: config.maxDelegationChain,
      dpop: config.dpop,
    },
    exposeMetrics: config.metrics,
    clusterMetrics: config.metrics && cluster.isWorker,
    // auto: the threadpool while cores outnumber the workers, else inline (see signOnFor).
    signOn: config.signOn === 'auto' ? signOnFor(config.workers) : config.signOn,
    registryCacheEntries: config.registryCacheEntries,
    adminApi: config.adminApi === 'main-listener' ? true : config.adminApi,
    adminTokenMaxTtlSeconds: config.adminTokenMaxTtlSeconds,
    auditRetentionDays: config.auditRetentionDays,
    ...(config.tracing ? { tracing: config.tracing } : {}),
    shutdownDrainMs: config.shutdownDrainSeconds * 1000,
    logger,
    limits: config.limits,
    ...(config.tls ? { tls: { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) } } : {}),
    ...(config.mutualTls
      ? {
          mutualTls: {
            ca: readCaBundle(config.mutualTls.caPath),
            ...(config.mutualTls.listener ? { port: config.mutualTls.listener.port } : {}),
            ...(config.mutualTls.listener?.publicUrl ? { url: config.mutualTls.listener.publicUrl } : {}),
          },
        }
      : {}),
  });
  if (cluster.isPrimary) {
    const bootstrapped = await bootstrapOnFirstStart(server.admin);
    printBanner({ ...config, issuer: server.issuer }, server.url, server.adminUrl, bootstrapped);
  }
}

/** The primary creates the keys once, then forks workers that share the listening port. */
async function runPrimary(config: ServerConfig) {
  const bootstrapped = await withConnections(config, ({ admin }) => bootstrapOnFirstStart(admin), { mayCreate: true });
  if (config.metrics) (await import('../observability/cluster-metrics.js')).serveClusterMetrics();
  for (let i = 0; i < config.workers; i++) cluster.fork();
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (!stopping && code !== 0) {
      process.stderr.write(`worker ${worker.process.pid} exited with ${code}; restarting\n`);
      cluster.fork();
    }
  });
  // The banner waits for the first worker to listen: "running" must mean connections are accepted.
  cluster.once('listening', (_worker, address) => {
    const url = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
    const adminUrl =
      config.adminApi === 'main-listener'
        ? `${url}${ADMIN_PREFIX}`
        : config.adminApi
          ? `(own listener on ${config.adminApi.host}:${config.adminApi.port})`
          : undefined;
    printBanner({ ...config, issuer: config.isIssuerExplicit || config.port !== 0 ? config.issuer : url }, url, adminUrl, bootstrapped);
  });
  // Each worker shuts down on its own (drain, then close, then let its requests finish); the
  // primary exits after the last. Disconnecting them instead would close their listeners at once.
  const stop = () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    let running = workers.length;
    if (running === 0) process.exit(0);
    cluster.on('exit', () => {
      if (--running === 0) process.exit(0);
    });
    for (const worker of workers) worker.process.kill('SIGTERM');
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/**
 * The banner goes to stderr, for the person who started the server; the log (stdout) never holds
 * the bootstrap secret.
 */
function describeMutualTls({ caPath, listener }: NonNullable<ServerConfig['mutualTls']>): string {
  const where = listener ? `its own listener, ${listener.publicUrl ?? `port ${listener.port}`}` : 'this listener and trusted proxies';
  return `client certificates on ${where} (CAs: ${caPath})`;
}

function printBanner(config: ServerConfig, url: string, adminUrl: string | undefined, bootstrapped: BootstrappedAdmin | undefined) {
  const isSecretSupplied = Boolean(process.env[BOOTSTRAP_SECRET_ENV]);
  // The CLI commands must reach this server's database and master key, PostgreSQL included.
  const next = connectionFlags(config);
  // The console is served wherever the admin API is, when the package was built with it.
  const consoleUrl = adminUrl?.endsWith(ADMIN_PREFIX) && hasConsoleBuild() ? `${adminUrl.slice(0, -ADMIN_PREFIX.length)}/console` : undefined;
  process.stderr.write(
    [
      '',
      `m2m-auth is running${config.workers > 1 ? ` with ${config.workers} workers` : ''}`,
      `  issuer:     ${config.issuer}`,
      `  listening:  ${url}`,
      `  token:      ${config.issuer}/oauth/token`,
      `  jwks:       ${config.issuer}/.well-known/jwks.json`,
      `  database:   ${redactDatabaseUrl(config.database.url)}`,
      `  admin API:  ${adminUrl ?? 'off'}`,
      ...(consoleUrl ? [`  console:    ${consoleUrl}`] : []),
      ...(config.mutualTls ? [`  mutual TLS: ${describeMutualTls(config.mutualTls)}`] : []),
      `  data dir:   ${config.dataDir}`,
      '',
      ...(bootstrapped
        ? [
            'First start: an admin client for the admin API was created.' + (isSecretSupplied ? '' : ' Its secret is shown only now — store it:'),
            ...describeBootstrapped(bootstrapped, isSecretSupplied)
              .split('\n')
              .map((line) => `  ${line}`),
            '',
            ...(consoleUrl ? [`Open ${consoleUrl} in a browser and sign in with this client id and secret.`, ''] : []),
          ]
        : []),
      'Next steps (in another terminal):',
      `  npx --no-install m2m-auth apis create --identifier https://orders.example --scopes read:orders,write:orders ${next.flags}`,
      `  npx --no-install m2m-auth clients create --name billing-service ${next.flags}`,
      `  npx --no-install m2m-auth grants create --client <client_id> --api https://orders.example --scopes read:orders ${next.flags}`,
      ...(next.note ? [`  (${next.note})`] : []),
      `  curl -s -u '<client_id>:<client_secret>' -d grant_type=client_credentials -d audience=https://orders.example ${config.issuer}/oauth/token`,
      '',
    ].join('\n') + '\n',
  );
}
