import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Storage } from '../storage/types.js';
import type { DatabasePoolOptions } from '../storage/open-storage.js';
import { openFoundation, type FoundationOptions } from '../boot/open-foundation.js';
import { createRuntime, type RuntimeOptions, type ServerRuntime } from '../boot/create-runtime.js';
import type { SharedState, StateLimits } from '../state/types.js';
import { openSharedState } from '../state/open-state.js';
import { isResilientState } from '../state/resilient-state.js';
import { clusterMetricsCollector } from '../observability/cluster-metrics.js';
import { startTracing, type RunningTracing, type TracingOptions } from '../observability/start-tracing.js';
import type { SignOn } from '../tokens/jws-signer.js';
import type { Admin } from '../admin/admin.js';
import { DATABASE_FILE, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../config/server-config.js';
import { createLogger } from './logger.js';
import { buildAdminApp, buildApp, type AppOptions } from './app.js';
import { DEFAULT_CONSOLE_DIR, loadConsoleAssets } from './console/console-assets.js';
import { ADMIN_PREFIX } from './admin/admin-routes.js';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '../admin/audit.js';
import { httpErrorAnswer, pathOf } from './error-answers.js';
import { cacheHeaders } from './cache-policy.js';
import type { TrustProxy } from '../config/trust-proxy.js';
import { parseCaBundle } from '../config/mtls-ca.js';

export interface StartServerOptions {
  /** `memory` (tests), `sqlite` (`<dataDir>/m2m-auth.db`), or an opened Storage; else `databaseUrl` decides. */
  storage?: 'memory' | 'sqlite' | Storage;
  /** `sqlite:<path>` or `postgres://…`; default M2M_AUTH_DATABASE_URL, else SQLite in `dataDir`. */
  databaseUrl?: string;
  /** Pool size and timeouts for a networked database. */
  database?: DatabasePoolOptions;
  /** Shared security state in Redis (every instance); default M2M_AUTH_REDIS_URL, else `<dataDir>/state.db`. */
  redisUrl?: string;
  /** Default home of the SQLite database and of master.key. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port; the issuer then follows it. */
  port?: number;
  /** Defaults to http(s)://host:port. */
  issuer?: string;
  /** base64url master key; else M2M_AUTH_MASTER_KEY; else `<dataDir>/master.key` (memory: random). */
  masterKey?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Mutual TLS (RFC 8705): `ca`, the CAs of tls_client_auth (PEM, or a path to it). Client
   * certificates are asked for on the main TLS listener, or on a listener of its own when `port`
   * is given (0 picks a free one; `url`, its public base URL, defaults to https://host:port), and
   * taken from a trusted proxy's Client-Cert header on either.
   */
  mutualTls?: { ca: string | Buffer; port?: number; url?: string };
  trustProxy?: TrustProxy;
  /** Serve Prometheus metrics at /metrics. */
  exposeMetrics?: boolean;
  /** Under `serve --workers N`: metrics of the whole cluster, from the primary. */
  clusterMetrics?: boolean;
  /** A pino logger, or a level; tests pass 'silent'. */
  logger?: Logger | string;
  clock?: () => number;
  revisionCheckIntervalMs?: number;
  /** Clients kept in memory, each with its secrets and grants (default 100,000). */
  registryCacheEntries?: number;
  /** Where ECDSA and EdDSA signatures run; default as in createRuntime. */
  signOn?: SignOn;
  /** Timeouts and the connection cap; each missing one takes its default. */
  limits?: Partial<ConnectionLimits>;
  /** Shared security state; default: `<dataDir>/state.db` with SQLite storage, else this process's memory. */
  state?: SharedState;
  /** Bounds of the shared state it opens: `maxEntries` and the per-client `allowance` (state/types.ts). */
  stateLimits?: StateLimits;
  /** Passed to createRuntime (failure limits, rate limits, key rotation, …). */
  lifecycle?: Pick<
    RuntimeOptions,
    'failureLimits' | 'secretUsageFlushMs' | 'keyRotation' | 'keyRotationCheckMs' | 'rateLimits' | 'usage' | 'maxDelegationChain' | 'dpop'
  >;
  /**
   * The admin API: on the main listener (true, the default), off (false), or on its own
   * address and port (port 0 picks a free one).
   */
  adminApi?: boolean | { host: string; port: number };
  /** The web console's build, served at /console wherever the admin API is (default: the package's dist/console). */
  consoleDir?: string;
  /** Audit events older than this many days are deleted, at start and daily (default 90). */
  auditRetentionDays?: number;
  /** Longest lifetime of an admin token (default and most: ADMIN_TOKEN_TTL_SECONDS). */
  adminTokenMaxTtlSeconds?: number;
  /** OpenTelemetry traces exported over OTLP/HTTP; off when absent (the SDK is not even loaded). */
  tracing?: TracingOptions;
  /**
   * On close, how long /readyz answers 503 while the listener still serves, before it stops
   * accepting: the time a load balancer needs to take the instance out (default 0).
   */
  shutdownDrainMs?: number;
}

export interface RunningServer {
  readonly url: string;
  /** Where the admin API answers: `${url}/admin/v1`, its own listener's, or undefined when off. */
  readonly adminUrl: string | undefined;
  readonly issuer: string;
  /** The mutual-TLS listener's URL, when it has its own. */
  readonly mtlsUrl: string | undefined;
  readonly admin: Admin;
  readonly runtime: ServerRuntime;
  close(): Promise<void>;
}

/**
 * Opens storage, checks the master key against it, makes sure signing keys exist, and serves.
 * The socket listens before the app is built, so with port 0 the issuer can name the real port;
 * until the app is ready every request is answered 503 with Retry-After, never left hanging.
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const logger = typeof options.logger === 'object' ? options.logger : createLogger(options.logger ?? 'info');
  const dataDir = options.dataDir ?? './m2m-auth-data';
  const clock = options.clock ?? Date.now;
  const foundation = await openFoundation({
    storage: storageChoice(options, dataDir),
    dataDir,
    masterKey: options.masterKey || process.env.M2M_AUTH_MASTER_KEY,
    actor: 'server',
    now: clock,
  });
  const { storage, masterKey } = foundation;
  let state: SharedState | undefined;
  let listener: Listener | undefined;
  let admin: Awaited<ReturnType<typeof listenAdmin>> | undefined;
  let mtlsListener: Listener | undefined;
  let tracing: RunningTracing | undefined;
  try {
    tracing = options.tracing ? await startTracing(options.tracing) : undefined;
    const redisUrl = options.redisUrl ?? (options.storage === 'memory' ? undefined : process.env.M2M_AUTH_REDIS_URL);
    state =
      options.state ??
      openSharedState(
        redisUrl
          ? { kind: 'redis', url: redisUrl }
          : options.storage === undefined || options.storage === 'sqlite'
            ? { kind: 'sqlite', dataDir }
            : { kind: 'memory' },
        clock,
        options.stateLimits,
      );
    if (!options.state && !redisUrl && storage.kind === 'postgres') {
      // PostgreSQL is how several instances share a registry; without Redis they share no state.
      logger.warn(
        { event: 'shared_state.per_process' },
        'PostgreSQL without --redis-url: revocations, replay checks, rate limits and opaque tokens are kept in this process only (lost on restart, unknown to other instances); give every instance the same Redis',
      );
    }
    const tls = options.tls && { cert: toBuffer(options.tls.cert), key: toBuffer(options.tls.key) };
    const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
    const mutualTls = options.mutualTls && { ...options.mutualTls, trustedCas: parseCaBundle(toBuffer(options.mutualTls.ca)) };
    if (mutualTls?.port !== undefined && !tls) throw new Error('a mutual-TLS listener of its own serves TLS: give tls (cert and key) too');
    // Certificates are asked for where mutual TLS is served: its own listener, else the main one.
    const askCertificates = mutualTls && tls && { ca: mutualTls.trustedCas.map((ca) => ca.toString()) };
    listener = createListener(tls, limits, mutualTls?.port === undefined ? askCertificates : undefined);
    const server = listener.server;
    const host = options.host ?? '127.0.0.1';
    await listen(server, options.port ?? 8080, host);
    const { port } = server.address() as AddressInfo;
    const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const issuer = (options.issuer ?? url).replace(/\/+$/, '');
    let mtlsUrl: string | undefined;
    if (mutualTls?.port !== undefined) {
      mtlsListener = createListener(tls, limits, askCertificates);
      await listen(mtlsListener.server, mutualTls.port, host);
      const mtlsPort = (mtlsListener.server.address() as AddressInfo).port;
      mtlsUrl = (mutualTls.url ?? `https://${host.includes(':') ? `[${host}]` : host}:${mtlsPort}`).replace(/\/+$/, '');
    }

    const runtime = createRuntime({
      storage,
      masterKey,
      issuer,
      logger,
      ...(options.clock ? { now: options.clock } : {}),
      ...(options.revisionCheckIntervalMs !== undefined ? { revisionCheckIntervalMs: options.revisionCheckIntervalMs } : {}),
      ...(options.signOn ? { signOn: options.signOn } : {}),
      ...(options.registryCacheEntries !== undefined ? { registryCacheEntries: options.registryCacheEntries } : {}),
      ...options.lifecycle,
      ...(options.adminTokenMaxTtlSeconds !== undefined ? { adminTokenMaxTtlSeconds: options.adminTokenMaxTtlSeconds } : {}),
      ...(tracing ? { tracer: tracing.tracer } : {}),
      ...(mutualTls ? { mutualTls: { trustedCas: mutualTls.trustedCas, ...(mtlsUrl ? { aliasBaseUrl: mtlsUrl } : {}) } } : {}),
      state,
    });
    // Redis gets a moment to answer before the first request; without it the server serves anyway
    // (its outage policy applies and the wait's end is logged as unavailable).
    if (isResilientState(state)) await state.health.waitUntilAvailable(SHARED_STATE_START_WAIT_MS);
    const { createdKeys, addedAdminScopes } = await foundation.prepare();
    // What start-up wrote reaches this process's cache before the first request, not at the next poll.
    if (createdKeys.length + addedAdminScopes.length > 0) await runtime.registry.refresh();
    if (createdKeys.length > 0) logger.info({ event: 'key.created', kids: createdKeys.map((key) => key.kid) }, 'signing keys generated');
    if (addedAdminScopes.length > 0)
      logger.info({ event: 'admin.upgraded', addedScopes: addedAdminScopes }, 'built-in admin API given new admin scopes (full admins hold them too)');

    const mainListener = listener;
    const adminChoice = options.adminApi ?? true;
    const consoleAssets = adminChoice === false ? undefined : loadConsoleAssets(options.consoleDir ?? DEFAULT_CONSOLE_DIR);
    if (adminChoice !== false && !consoleAssets)
      logger.info({ event: 'console.absent' }, 'this build has no web console: /console answers 404 (the admin API is unaffected)');
    let isShuttingDown = false;
    const app = buildApp(runtime, {
      isShuttingDown: () => isShuttingDown,
      logger,
      trustProxy: options.trustProxy ?? false,
      exposeMetrics: options.exposeMetrics ?? false,
      ...(options.clusterMetrics ? { collectMetrics: clusterMetricsCollector(runtime.metrics.registry) } : {}),
      adminApi: adminChoice === true,
      console: consoleAssets,
      serverFactory: (handler) => mainListener.serveWhenReady(handler),
    });
    await app.ready();
    mainListener.ready();
    // The OAuth endpoints again, for clients with certificates (RFC 8705 §5): no admin API, no metrics.
    const mtls = mtlsListener && { listener: mtlsListener, app: await serveMutualTls(mtlsListener, runtime, logger, options.trustProxy, () => isShuttingDown) };
    admin =
      typeof adminChoice === 'object'
        ? await listenAdmin(runtime, adminChoice, { logger, trustProxy: options.trustProxy ?? false, console: consoleAssets }, tls, limits)
        : undefined;
    const adminListener = admin;
    const adminUrl = admin ? `${admin.url}${ADMIN_PREFIX}` : adminChoice === true ? `${url}${ADMIN_PREFIX}` : undefined;
    const stopPruning = scheduleAuditPruning(runtime.admin, options.auditRetentionDays, logger);
    logger.info({ event: 'server.listening', url, adminUrl, ...(mtlsUrl ? { mtlsUrl } : {}), issuer, storage: storage.kind }, 'm2m-auth listening');

    let closing: Promise<void> | undefined;
    const runningTracing = tracing;
    const drainMs = options.shutdownDrainMs ?? 0;
    return {
      url,
      adminUrl,
      issuer,
      mtlsUrl,
      admin: runtime.admin,
      runtime,
      close: () =>
        (closing ??= (async () => {
          isShuttingDown = true;
          if (drainMs > 0) {
            logger.info({ event: 'server.draining', seconds: drainMs / 1000 }, '/readyz answers 503; still serving until the drain ends');
            await new Promise((resolve) => setTimeout(resolve, drainMs));
          }
          stopPruning();
          await adminListener?.close();
          await mtls?.listener.close(() => mtls.app.close());
          await mainListener.close(() => app.close());
          await runtime.close();
          // After the last request: its spans are sent before the process exits.
          await runningTracing?.shutdown();
          await state!.close();
          await foundation.close();
        })()),
    };
  } catch (error) {
    await admin?.close();
    await mtlsListener?.close();
    await listener?.close();
    await tracing?.shutdown();
    await state?.close();
    await foundation.close();
    throw error;
  }
}

const SHARED_STATE_START_WAIT_MS = 3000;

function storageChoice(options: StartServerOptions, dataDir: string): FoundationOptions['storage'] {
  const choice = options.storage;
  if (typeof choice === 'object' || choice === 'memory') return choice;
  const url = (choice === undefined ? (options.databaseUrl ?? process.env.M2M_AUTH_DATABASE_URL) : undefined) ?? `sqlite:${join(dataDir, DATABASE_FILE)}`;
  return { url, ...options.database };
}

interface Listener {
  readonly server: Server;
  /** For Fastify's serverFactory: requests go to `handler` once `ready()` is called. */
  serveWhenReady(handler: (request: IncomingMessage, response: ServerResponse) => void): Server;
  ready(): void;
  /** Stops accepting, drops idle keep-alive sockets, lets in-flight requests finish. */
  close(closeApp?: () => Promise<void>): Promise<void>;
}

/**
 * A socket with the connection limits that answers 503 until its app is ready. We listen before
 * Fastify exists (so port 0 can name the issuer), so we own the socket and close it ourselves.
 */
function createListener(tls: { cert: Buffer; key: Buffer } | undefined, limits: ConnectionLimits, askCertificates?: { ca: string[] }): Listener {
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node looks for expired requests (default 30 s, which would stretch the timeouts).
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  };
  // Asked, not required: a client without a certificate is served as before, and a self-signed one
  // reaches client authentication (`authorized` says whether the chain led to a --mtls-ca CA).
  const clientCertificates = askCertificates ? { requestCert: true, rejectUnauthorized: false, ca: askCertificates.ca } : {};
  const server = tls ? createHttpsServer({ ...tls, ...clientCertificates, ...serverOptions }) : createHttpServer(serverOptions);
  server.maxConnections = limits.maxConnections;
  let pending: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  let handle: typeof pending;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => (handle ? handle(request, response) : answerStarting(request, response)));
  return {
    server,
    serveWhenReady(handler) {
      pending = handler;
      return server;
    },
    ready() {
      handle = pending;
    },
    async close(closeApp) {
      const closed = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      server.closeIdleConnections();
      await closeApp?.();
      await closed;
    },
  };
}

/** Before the app is ready: 503 and "try again in a second", in the format the path promises. */
function answerStarting(request: IncomingMessage, response: ServerResponse) {
  const answer = httpErrorAnswer(pathOf(request.url), 503, 'The server is starting; try again shortly.', { 'retry-after': '1' });
  response.writeHead(answer.status, {
    'content-type': 'application/json',
    ...answer.headers,
    ...cacheHeaders(),
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(answer.body),
    connection: 'close',
  });
  response.end(answer.body);
}

/** The OAuth endpoints and discovery on the mutual-TLS listener, once its app is ready. */
async function serveMutualTls(listener: Listener, runtime: ServerRuntime, logger: Logger, trustProxy: TrustProxy | undefined, isShuttingDown: () => boolean) {
  const app = buildApp(runtime, {
    isShuttingDown,
    logger,
    trustProxy: trustProxy ?? false,
    adminApi: false,
    serverFactory: (handler) => listener.serveWhenReady(handler),
  });
  await app.ready();
  listener.ready();
  return app;
}

/** The admin API on its own socket, so the token endpoint's listener need not expose it. */
async function listenAdmin(
  runtime: ServerRuntime,
  where: { host: string; port: number },
  appOptions: Pick<AppOptions, 'logger' | 'trustProxy' | 'console'>,
  tls: { cert: Buffer; key: Buffer } | undefined,
  limits: ConnectionLimits,
) {
  const listener = createListener(tls, limits);
  await listen(listener.server, where.port, where.host);
  const { port } = listener.server.address() as AddressInfo;
  const app = buildAdminApp(runtime, { ...appOptions, serverFactory: (handler) => listener.serveWhenReady(handler) });
  try {
    await app.ready();
  } catch (error) {
    await listener.close();
    throw error;
  }
  listener.ready();
  return {
    url: `${tls ? 'https' : 'http'}://${where.host.includes(':') ? `[${where.host}]` : where.host}:${port}`,
    close: () => listener.close(() => app.close()),
  };
}

const DAY_MS = 86_400_000;

/** Old audit events go at start and then daily; several workers pruning the same rows is harmless. */
function scheduleAuditPruning(admin: Admin, retentionDays: number | undefined, logger: Logger): () => void {
  const prune = () =>
    admin.pruneAuditEvents(retentionDays).then(
      (removed) =>
        removed > 0 &&
        logger.info({ event: 'audit.pruned', removed, retentionDays: retentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS }, 'old audit events deleted'),
      (error: unknown) => logger.warn({ event: 'audit.prune_failed', err: error }, 'could not prune audit events'),
    );
  void prune();
  const timer = setInterval(prune, DAY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** A listen failure names the address it was for (EACCES here means the port, not a file). */
function listen(server: Server, port: number, host: string) {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ListenError(host, port, error)));
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly code: string | undefined;
  constructor(
    readonly host: string,
    readonly port: number,
    cause: NodeJS.ErrnoException,
  ) {
    const reason =
      cause.code === 'EADDRINUSE'
        ? 'the port is already in use; pick another with --port'
        : cause.code === 'EACCES'
          ? 'not allowed (ports below 1024 need privileges); pick another with --port'
          : cause.code === 'EADDRNOTAVAIL'
            ? 'this machine has no such address; check --host'
            : cause.message;
    super(`cannot listen on ${host}:${port}: ${reason}`, { cause });
    this.code = cause.code;
  }
}

function toBuffer(value: string | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return value.includes('-----BEGIN') ? Buffer.from(value) : readFileSync(value);
}
