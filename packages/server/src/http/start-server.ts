import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Storage } from '../storage/types.js';
import { openStorage, StorageAccessError } from '../storage/open-storage.js';
import { generateMasterKey, parseMasterKey } from '../keys/master-key.js';
import { openMasterKey } from '../keys/open-master-key.js';
import { createRuntime, type ServerRuntime } from '../runtime/create-runtime.js';
import type { SignOn } from '../tokens/jws-signer.js';
import type { Admin } from '../admin/admin.js';
import { DATABASE_FILE, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../config/server-config.js';
import { createLogger } from './logger.js';
import { buildApp } from './app.js';
import { httpErrorAnswer, pathOf } from './error-answers.js';

export interface StartServerOptions {
  /** `memory` (tests), `sqlite` (default; `<dataDir>/m2m-auth.db`), or an opened Storage. */
  storage?: 'memory' | 'sqlite' | Storage;
  dataDir?: string;
  host?: string;
  /** 0 picks a free port; the issuer then follows it. */
  port?: number;
  /** Defaults to http(s)://host:port. */
  issuer?: string;
  /** base64url master key; else M2M_AUTH_MASTER_KEY; else `<dataDir>/master.key` (memory: random). */
  masterKey?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  trustProxy?: boolean;
  /** Serve Prometheus metrics at /metrics. */
  exposeMetrics?: boolean;
  /** A pino logger, or a level; tests pass 'silent'. */
  logger?: Logger | string;
  clock?: () => number;
  revisionCheckIntervalMs?: number;
  /** Where ECDSA and EdDSA signatures run; default as in createRuntime. */
  signOn?: SignOn;
  /** Timeouts and the connection cap; each missing one takes its default. */
  limits?: Partial<ConnectionLimits>;
}

export interface RunningServer {
  readonly url: string;
  readonly issuer: string;
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
  const storage = await resolveStorage(options.storage ?? 'sqlite', dataDir);
  let server: Server | undefined;
  try {
    const masterKey = await resolveMasterKey(options, storage, dataDir);
    const tls = options.tls && { cert: toBuffer(options.tls.cert), key: toBuffer(options.tls.key) };
    const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
    const serverOptions = {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for expired requests (default 30 s, which would stretch the timeouts).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    };
    server = tls ? createHttpsServer({ ...tls, ...serverOptions }) : createHttpServer(serverOptions);
    server.maxConnections = limits.maxConnections;
    let handle: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
    server.on('request', (request: IncomingMessage, response: ServerResponse) => (handle ? handle(request, response) : answerStarting(request, response)));

    const host = options.host ?? '127.0.0.1';
    await listen(server, options.port ?? 8080, host);
    const { port } = server.address() as AddressInfo;
    const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const issuer = (options.issuer ?? url).replace(/\/+$/, '');

    const runtime = createRuntime({
      storage,
      masterKey,
      issuer,
      logger,
      ...(options.clock ? { now: options.clock } : {}),
      ...(options.revisionCheckIntervalMs !== undefined ? { revisionCheckIntervalMs: options.revisionCheckIntervalMs } : {}),
      ...(options.signOn ? { signOn: options.signOn } : {}),
    });
    const created = await runtime.admin.ensureSigningKeys().catch((cause: unknown) => {
      throw (options.storage ?? 'sqlite') !== 'sqlite' ? cause : new StorageAccessError(join(dataDir, DATABASE_FILE), 'write signing keys to', cause);
    });
    if (created.length > 0) logger.info({ event: 'key.created', kids: created.map((key) => key.kid) }, 'signing keys generated');

    let appHandler: typeof handle;
    const httpServer = server;
    const app = buildApp(runtime, {
      logger,
      trustProxy: options.trustProxy ?? false,
      exposeMetrics: options.exposeMetrics ?? false,
      serverFactory: (handler) => {
        appHandler = handler;
        return httpServer;
      },
    });
    await app.ready();
    handle = appHandler;
    logger.info({ event: 'server.listening', url, issuer, storage: storage.kind }, 'm2m-auth listening');

    let closing: Promise<void> | undefined;
    return {
      url,
      issuer,
      admin: runtime.admin,
      runtime,
      close: () =>
        (closing ??= (async () => {
          // We own the socket (we listened before Fastify existed), so we close it: stop
          // accepting, drop idle keep-alive sockets, let in-flight requests finish.
          const socketClosed = closeServer(httpServer);
          httpServer.closeIdleConnections();
          await app.close();
          await socketClosed;
          await storage.close();
        })()),
    };
  } catch (error) {
    if (server) await closeServer(server);
    await storage.close();
    throw error;
  }
}

/** Before the app is ready: 503 and "try again in a second", in the format the path promises. */
function answerStarting(request: IncomingMessage, response: ServerResponse) {
  const answer = httpErrorAnswer(pathOf(request.url), 503, 'The server is starting; try again shortly.', { 'retry-after': '1' });
  response.writeHead(answer.status, {
    'content-type': 'application/json',
    ...answer.headers,
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(answer.body),
    connection: 'close',
  });
  response.end(answer.body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

async function resolveStorage(choice: 'memory' | 'sqlite' | Storage, dataDir: string): Promise<Storage> {
  if (typeof choice === 'object') return choice;
  if (choice === 'memory') return openStorage({ kind: 'memory' });
  return openStorage({ kind: 'sqlite', path: join(dataDir, DATABASE_FILE) });
}

async function resolveMasterKey(options: StartServerOptions, storage: Storage, dataDir: string): Promise<Buffer> {
  const configured = options.masterKey || process.env.M2M_AUTH_MASTER_KEY || undefined;
  if (!configured && options.storage === 'memory') return parseMasterKey(generateMasterKey());
  return openMasterKey({ configured, dataDir, storage });
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
      cause.code === 'EADDRINUSE' ? 'the port is already in use; pick another with --port'
      : cause.code === 'EACCES' ? 'not allowed (ports below 1024 need privileges); pick another with --port'
      : cause.code === 'EADDRNOTAVAIL' ? 'this machine has no such address; check --host'
      : cause.message;
    super(`cannot listen on ${host}:${port}: ${reason}`, { cause });
    this.code = cause.code;
  }
}

function toBuffer(value: string | Buffer): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return value.includes('-----BEGIN') ? Buffer.from(value) : readFileSync(value);
}
