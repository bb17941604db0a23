import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseUrlError, parseDatabaseUrl, type OpenStorageOptions } from '../storage/open-storage.js';
import { DEFAULT_MAX_DELEGATION_CHAIN, DEFAULT_REGISTRY_CACHE_ENTRIES, MAX_DELEGATION_CHAIN_LIMIT, MIN_TOKEN_TTL_SECONDS } from '../protocol/limits.js';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js';
import { DEFAULT_KEY_ROTATION_POLICY, keyRotationPolicyProblems, type KeyRotationPolicy } from '../keys/rotation-policy.js';
import { JWKS_MAX_AGE_SECONDS } from '../keys/jwks-max-age.js';
import { parseRateLimit, type RateLimits } from './rate-limits.js';
import { ADMIN_TOKEN_TTL_SECONDS } from '../admin/built-in-admin-api.js';
import { DEFAULT_CLIENT_ALLOWANCE, DEFAULT_MAX_STATE_ENTRIES, type StateLimits } from '../state/types.js';
import { DEFAULT_DPOP_PROOF_WINDOW_SECONDS } from '../sender-constraint/token-endpoint-dpop.js';
import { DEFAULT_USAGE_RETENTION_DAYS, MAX_USAGE_RETENTION_DAYS } from '../usage/usage-windows.js';

/** Everything `serve` needs, validated. Sources, highest first: flags, environment, config file, defaults. */
export interface ServerConfig {
  host: string;
  port: number;
  issuer: string;
  /** False when the issuer was derived from host and port (then port 0 means: follow the real port). */
  isIssuerExplicit: boolean;
  /** Default home of the SQLite database and of master.key. */
  dataDir: string;
  /** Which database, and how to talk to it (the server and every CLI command resolve it alike). */
  database: OpenStorageOptions;
  /** Shared state across instances (rate limits, replay, revocations) when set; validated, `redis://` or `rediss://`. */
  redisUrl: string | undefined;
  tls: { certPath: string; keyPath: string } | undefined;
  insecureHttp: boolean;
  logLevel: string;
  workers: number;
  /** Which X-Forwarded-For hops to believe (see config/trust-proxy.ts). */
  trustProxy: TrustProxy;
  metrics: boolean;
  /** Where ECDSA/EdDSA signatures run; `auto` decides from the worker count and the cores. */
  signOn: 'auto' | 'threadpool' | 'event-loop';
  /** Clients each process keeps in memory with their secrets and grants (least recently used go first). */
  registryCacheEntries: number;
  limits: ConnectionLimits;
  /** Off, on the main listener (default), or on its own address so it need not be public. */
  adminApi: false | 'main-listener' | { host: string; port: number };
  /** Longest lifetime of an admin token, at most ADMIN_TOKEN_TTL_SECONDS: configurable downwards only. */
  adminTokenMaxTtlSeconds: number;
  /** Audit events older than this are deleted (daily). */
  auditRetentionDays: number;
  /** Daily usage counts are kept this many days (hourly ones 48 h, or less when this is shorter). */
  usageRetentionDays: number;
  /** Count tokens per client and API (default true); quotas apply either way. */
  usageCounting: boolean;
  /** Token exchange: the longest `act` chain an exchanged token may carry, the new actor included. */
  maxDelegationChain: number;
  /** Scheduled signing-key rotation, checked against the JWKS cache lifetime and token lifetimes. */
  keyRotation: KeyRotationPolicy;
  /** Token-request rate limits (token buckets shared by the workers); undefined = none. */
  rateLimits: RateLimits;
  /** Bounds of the shared state: per-client allowances of revocations and used assertions, entries of counters and buckets. */
  stateLimits: Required<StateLimits>;
  /** DPoP at the token endpoint: how fresh a proof must be, and whether every proof must carry a server nonce. */
  dpop: { proofWindowSeconds: number; requireNonce: boolean };
  /**
   * Mutual TLS (RFC 8705), on when `--mtls-ca` is given: the CA bundle's path, and a listener of its
   * own (`--mtls-port`, public as `--mtls-url`) when client certificates are not asked for on the main one.
   */
  mutualTls: { caPath: string; listener: { port: number; publicUrl: string | undefined } | undefined } | undefined;
  /**
   * OpenTelemetry traces over OTLP/HTTP, or undefined (off). On when an endpoint is given, or
   * OTEL_TRACES_EXPORTER=otlp (the exporter's default endpoint then); OTEL_TRACES_EXPORTER=none
   * turns it off whatever else is set.
   */
  tracing: { otlpEndpoint: string | undefined } | undefined;
  /** On SIGTERM, seconds /readyz answers 503 while the listener still serves, before it closes. */
  shutdownDrainSeconds: number;
}

/**
 * What one connection may hold. Node's defaults (a request may take 300 s, no connection cap)
 * let a client that sends a byte a second keep a socket for five minutes; a token request is a
 * few hundred bytes, so the bounds here are tight and each is configurable.
 */
export interface ConnectionLimits {
  /** Time to receive the request line and headers (then 408). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (then 408). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed at once. */
  maxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 2_048,
};

export type ConfigSource = Partial<Record<keyof ConfigInput, string | number | boolean | undefined>>;

interface ConfigInput {
  host: string;
  port: string;
  issuer: string;
  dataDir: string;
  databaseUrl: string;
  redisUrl: string;
  databasePoolSize: string;
  databaseConnectTimeoutMs: string;
  databaseStatementTimeoutMs: string;
  tlsCert: string;
  tlsKey: string;
  insecureHttp: string;
  logLevel: string;
  workers: string;
  trustProxy: string;
  metrics: string;
  signOn: string;
  registryCacheEntries: string;
  headersTimeout: string;
  requestTimeout: string;
  keepAliveTimeout: string;
  maxConnections: string;
  adminApi: string;
  adminHost: string;
  adminPort: string;
  adminTokenMaxTtl: string;
  auditRetentionDays: string;
  usageRetentionDays: string;
  usageCounting: string;
  exchangeMaxChain: string;
  keyRotationDays: string;
  keyPrepublishSeconds: string;
  keyRetentionSeconds: string;
  rateLimitClient: string;
  rateLimitAddress: string;
  stateRevocationsPerClient: string;
  stateAssertionsPerClient: string;
  stateOpaqueTokensPerClient: string;
  stateMaxEntries: string;
  dpopNonce: string;
  dpopProofWindow: string;
  mtlsCa: string;
  mtlsPort: string;
  mtlsUrl: string;
  otelExporterOtlpEndpoint: string;
  otelTracesExporter: string;
  shutdownDrainSeconds: string;
}

export const DEFAULT_DATA_DIR = './m2m-auth-data';
/** The SQLite database inside the data directory, shared by the server and the CLI. */
export const DATABASE_FILE = 'm2m-auth.db';
export const DEFAULT_PORT = 8080;
export const DATABASE_DEFAULTS = { poolSize: 10, connectTimeoutMs: 5_000, statementTimeoutMs: 10_000 } as const;

/** Every setting: its config-file key (the flag's name in camelCase) and its environment variable. */
export const CONFIG_ENVIRONMENT: Readonly<Record<keyof ConfigInput, string>> = {
  host: 'M2M_AUTH_HOST',
  port: 'M2M_AUTH_PORT',
  issuer: 'M2M_AUTH_ISSUER',
  dataDir: 'M2M_AUTH_DATA_DIR',
  databaseUrl: 'M2M_AUTH_DATABASE_URL',
  redisUrl: 'M2M_AUTH_REDIS_URL',
  databasePoolSize: 'M2M_AUTH_DATABASE_POOL_SIZE',
  databaseConnectTimeoutMs: 'M2M_AUTH_DATABASE_CONNECT_TIMEOUT_MS',
  databaseStatementTimeoutMs: 'M2M_AUTH_DATABASE_STATEMENT_TIMEOUT_MS',
  tlsCert: 'M2M_AUTH_TLS_CERT',
  tlsKey: 'M2M_AUTH_TLS_KEY',
  insecureHttp: 'M2M_AUTH_INSECURE_HTTP',
  logLevel: 'M2M_AUTH_LOG_LEVEL',
  workers: 'M2M_AUTH_WORKERS',
  trustProxy: 'M2M_AUTH_TRUST_PROXY',
  metrics: 'M2M_AUTH_METRICS',
  signOn: 'M2M_AUTH_SIGN_ON',
  registryCacheEntries: 'M2M_AUTH_REGISTRY_CACHE_ENTRIES',
  headersTimeout: 'M2M_AUTH_HEADERS_TIMEOUT',
  requestTimeout: 'M2M_AUTH_REQUEST_TIMEOUT',
  keepAliveTimeout: 'M2M_AUTH_KEEP_ALIVE_TIMEOUT',
  maxConnections: 'M2M_AUTH_MAX_CONNECTIONS',
  adminApi: 'M2M_AUTH_ADMIN_API',
  adminHost: 'M2M_AUTH_ADMIN_HOST',
  adminPort: 'M2M_AUTH_ADMIN_PORT',
  adminTokenMaxTtl: 'M2M_AUTH_ADMIN_TOKEN_MAX_TTL',
  auditRetentionDays: 'M2M_AUTH_AUDIT_RETENTION_DAYS',
  usageRetentionDays: 'M2M_AUTH_USAGE_RETENTION_DAYS',
  usageCounting: 'M2M_AUTH_USAGE_COUNTING',
  exchangeMaxChain: 'M2M_AUTH_EXCHANGE_MAX_CHAIN',
  keyRotationDays: 'M2M_AUTH_KEY_ROTATION_DAYS',
  keyPrepublishSeconds: 'M2M_AUTH_KEY_PREPUBLISH_SECONDS',
  keyRetentionSeconds: 'M2M_AUTH_KEY_RETENTION_SECONDS',
  rateLimitClient: 'M2M_AUTH_RATE_LIMIT_CLIENT',
  rateLimitAddress: 'M2M_AUTH_RATE_LIMIT_ADDRESS',
  stateRevocationsPerClient: 'M2M_AUTH_STATE_REVOCATIONS_PER_CLIENT',
  stateAssertionsPerClient: 'M2M_AUTH_STATE_ASSERTIONS_PER_CLIENT',
  stateOpaqueTokensPerClient: 'M2M_AUTH_STATE_OPAQUE_TOKENS_PER_CLIENT',
  stateMaxEntries: 'M2M_AUTH_STATE_MAX_ENTRIES',
  dpopNonce: 'M2M_AUTH_DPOP_NONCE',
  dpopProofWindow: 'M2M_AUTH_DPOP_PROOF_WINDOW',
  mtlsCa: 'M2M_AUTH_MTLS_CA',
  mtlsPort: 'M2M_AUTH_MTLS_PORT',
  mtlsUrl: 'M2M_AUTH_MTLS_URL',
  // The OpenTelemetry variables by their standard names: a collector sidecar or an operator that
  // injects them configures m2m-auth like any other instrumented service.
  otelExporterOtlpEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  otelTracesExporter: 'OTEL_TRACES_EXPORTER',
  shutdownDrainSeconds: 'M2M_AUTH_SHUTDOWN_DRAIN_SECONDS',
};

const SIGN_ON = ['auto', 'threadpool', 'event-loop'] as const;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/** Keys of the optional JSON config file (M2M_AUTH_CONFIG or --config), same names as the flags. */
export function readConfigFile(path: string): ConfigSource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError([`config file ${path}: ${(error as Error).message}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError([`config file ${path}: must be a JSON object`]);
  const unknown = Object.keys(parsed).filter((key) => !(key in CONFIG_ENVIRONMENT));
  if (unknown.length > 0)
    throw new ConfigError(unknown.map((key) => `config file ${path}: unknown setting "${key}" (known: ${Object.keys(CONFIG_ENVIRONMENT).join(', ')})`));
  return parsed as ConfigSource;
}

export function envSource(env: NodeJS.ProcessEnv): ConfigSource {
  const source: ConfigSource = {};
  for (const [key, name] of Object.entries(CONFIG_ENVIRONMENT) as [keyof ConfigInput, string][]) {
    if (env[name] !== undefined && env[name] !== '') source[key] = env[name];
  }
  return source;
}

/** Merges the sources and validates every value, reporting all problems at once. */
export function resolveServerConfig(flags: ConfigSource, env: NodeJS.ProcessEnv, file: ConfigSource = {}): ServerConfig {
  const pick = picker(flags, env, file);
  const problems: string[] = [];

  const host = pick('host') ?? '127.0.0.1';
  const port = parseInteger(pick('port') ?? String(DEFAULT_PORT), 0, 65_535);
  if (port === undefined) problems.push(`${where('port')}: must be a port number from 0 to 65535 (got ${JSON.stringify(pick('port'))})`);
  const workers = parseInteger(pick('workers') ?? '1', 1, 64);
  if (workers === undefined) problems.push(`${where('workers')}: must be a whole number from 1 to 64`);
  const logLevel = pick('logLevel') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`${where('logLevel')}: must be one of ${LOG_LEVELS.join(', ')}`);
  const insecureHttp = parseBoolean(pick('insecureHttp'), where('insecureHttp'), problems);
  const trustProxyParsed = parseTrustProxy(pick('trustProxy'));
  if ('problem' in trustProxyParsed) problems.push(`${where('trustProxy')}: ${trustProxyParsed.problem}`);
  const trustProxy = 'trustProxy' in trustProxyParsed ? trustProxyParsed.trustProxy : false;
  const metrics = parseBoolean(pick('metrics'), where('metrics'), problems);
  const signOn = pick('signOn') ?? 'auto';
  if (!(SIGN_ON as readonly string[]).includes(signOn)) problems.push(`${where('signOn')}: must be one of ${SIGN_ON.join(', ')}`);

  const limits = resolveLimits(pick, where, problems);
  const adminApiEnabled = pick('adminApi') === undefined ? true : parseBoolean(pick('adminApi'), where('adminApi'), problems);
  const adminHost = pick('adminHost');
  const adminPortText = pick('adminPort');
  const adminPort = adminPortText === undefined ? undefined : parseInteger(adminPortText, 0, 65_535);
  if (adminPortText !== undefined && adminPort === undefined)
    problems.push(`${where('adminPort')}: must be a port number from 0 to 65535 (got ${JSON.stringify(adminPortText)})`);
  if (!adminApiEnabled && (adminHost !== undefined || adminPortText !== undefined))
    problems.push('--admin-host/--admin-port and --no-admin-api contradict each other: give one or the other');
  const adminApi: ServerConfig['adminApi'] = !adminApiEnabled
    ? false
    : adminHost !== undefined || adminPort !== undefined
      ? { host: adminHost ?? host, port: adminPort ?? 0 }
      : 'main-listener';
  const adminTokenMaxTtlSeconds = parseInteger(pick('adminTokenMaxTtl') ?? String(ADMIN_TOKEN_TTL_SECONDS), MIN_TOKEN_TTL_SECONDS, ADMIN_TOKEN_TTL_SECONDS);
  if (adminTokenMaxTtlSeconds === undefined) {
    problems.push(
      `${where('adminTokenMaxTtl')}: must be a whole number of seconds from ${MIN_TOKEN_TTL_SECONDS} to ${ADMIN_TOKEN_TTL_SECONDS} (admin tokens are short-lived: the maximum can be lowered, never raised)`,
    );
  }
  const auditRetentionDays = parseInteger(pick('auditRetentionDays') ?? '90', 1, 36_500);
  if (auditRetentionDays === undefined) problems.push(`${where('auditRetentionDays')}: must be a whole number of days from 1 to 36500`);
  const usageRetentionDays = parseInteger(pick('usageRetentionDays') ?? String(DEFAULT_USAGE_RETENTION_DAYS), 1, MAX_USAGE_RETENTION_DAYS);
  const usageCounting = pick('usageCounting') === undefined ? true : parseBoolean(pick('usageCounting'), where('usageCounting'), problems);
  if (usageRetentionDays === undefined) problems.push(`${where('usageRetentionDays')}: must be a whole number of days from 1 to ${MAX_USAGE_RETENTION_DAYS}`);
  const maxDelegationChain = parseInteger(pick('exchangeMaxChain') ?? String(DEFAULT_MAX_DELEGATION_CHAIN), 1, MAX_DELEGATION_CHAIN_LIMIT);
  if (maxDelegationChain === undefined)
    problems.push(
      `${where('exchangeMaxChain')}: must be a whole number of actors from 1 to ${MAX_DELEGATION_CHAIN_LIMIT} (the longest act chain of an exchanged token)`,
    );
  const keyRotation = {
    rotateEveryMs: parseWhole(pick('keyRotationDays'), DEFAULT_KEY_ROTATION_POLICY.rotateEveryMs / 86_400_000, where('keyRotationDays'), problems) * 86_400_000,
    prepublishMs: parseWhole(pick('keyPrepublishSeconds'), DEFAULT_KEY_ROTATION_POLICY.prepublishMs / 1000, where('keyPrepublishSeconds'), problems) * 1000,
    retainAfterMs: parseWhole(pick('keyRetentionSeconds'), DEFAULT_KEY_ROTATION_POLICY.retainAfterMs / 1000, where('keyRetentionSeconds'), problems) * 1000,
  };
  for (const problem of keyRotationPolicyProblems(keyRotation, JWKS_MAX_AGE_SECONDS))
    problems.push(`key rotation (--key-rotation-days, --key-prepublish-seconds, --key-retention-seconds): ${problem}`);
  const rateLimits: RateLimits = {};
  for (const [key, field] of [
    ['rateLimitClient', 'perClient'],
    ['rateLimitAddress', 'perAddress'],
  ] as const) {
    const value = pick(key);
    if (value === undefined) continue;
    const parsed = parseRateLimit(value);
    if (typeof parsed === 'string') problems.push(`${where(key)}: ${parsed}`);
    else rateLimits[field] = parsed;
  }

  const stateNumber = (key: 'stateRevocationsPerClient' | 'stateAssertionsPerClient' | 'stateOpaqueTokensPerClient' | 'stateMaxEntries', fallback: number) => {
    const value = parseInteger(pick(key) ?? String(fallback), 1, 100_000_000);
    if (value === undefined) problems.push(`${where(key)}: must be a whole number from 1 to 100000000`);
    return value ?? fallback;
  };
  const stateLimits = {
    allowance: {
      revocations: stateNumber('stateRevocationsPerClient', DEFAULT_CLIENT_ALLOWANCE.revocations),
      assertions: stateNumber('stateAssertionsPerClient', DEFAULT_CLIENT_ALLOWANCE.assertions),
      opaqueTokens: stateNumber('stateOpaqueTokensPerClient', DEFAULT_CLIENT_ALLOWANCE.opaqueTokens),
    },
    maxEntries: stateNumber('stateMaxEntries', DEFAULT_MAX_STATE_ENTRIES),
  };

  const dpop = {
    proofWindowSeconds: parseInteger(pick('dpopProofWindow') ?? String(DEFAULT_DPOP_PROOF_WINDOW_SECONDS), 1, 3_600) ?? DEFAULT_DPOP_PROOF_WINDOW_SECONDS,
    requireNonce: parseBoolean(pick('dpopNonce'), where('dpopNonce'), problems),
  };
  if (pick('dpopProofWindow') !== undefined && parseInteger(pick('dpopProofWindow')!, 1, 3_600) === undefined)
    problems.push(`${where('dpopProofWindow')}: must be a whole number of seconds from 1 to 3600`);

  const certPath = pick('tlsCert');
  const keyPath = pick('tlsKey');
  if ((certPath === undefined) !== (keyPath === undefined)) problems.push('--tls-cert and --tls-key go together: give both or neither');
  const tls = certPath && keyPath ? { certPath: resolve(certPath), keyPath: resolve(keyPath) } : undefined;

  const issuer = pick('issuer') ?? defaultIssuer(host, port ?? DEFAULT_PORT, tls !== undefined, problems);
  validateIssuer(issuer, insecureHttp, problems);
  const mutualTls = resolveMutualTls(pick, { hasTls: tls !== undefined, hasTrustedProxy: trustProxy !== false && trustProxy !== 0 }, problems);

  const tracing = resolveTracing(pick, problems);
  const shutdownDrainSeconds = parseInteger(pick('shutdownDrainSeconds') ?? '0', 0, 300);
  if (shutdownDrainSeconds === undefined) problems.push(`${where('shutdownDrainSeconds')}: must be a whole number of seconds from 0 to 300`);

  const connections = resolveConnections(pick, problems);
  const registryCacheEntries = parseInteger(pick('registryCacheEntries') ?? String(DEFAULT_REGISTRY_CACHE_ENTRIES), 1_000, 100_000_000);
  if (registryCacheEntries === undefined) problems.push(`${where('registryCacheEntries')}: must be a whole number from 1000 to 100000000`);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host,
    port: port!,
    issuer: issuer.replace(/\/+$/, ''),
    isIssuerExplicit: pick('issuer') !== undefined,
    ...connections,
    tls,
    insecureHttp,
    logLevel,
    workers: workers!,
    trustProxy,
    metrics,
    signOn: signOn as ServerConfig['signOn'],
    registryCacheEntries: registryCacheEntries!,
    limits,
    adminApi,
    adminTokenMaxTtlSeconds: adminTokenMaxTtlSeconds!,
    auditRetentionDays: auditRetentionDays!,
    usageRetentionDays: usageRetentionDays!,
    usageCounting,
    maxDelegationChain: maxDelegationChain!,
    keyRotation,
    rateLimits,
    stateLimits,
    dpop,
    mutualTls,
    tracing,
    shutdownDrainSeconds: shutdownDrainSeconds!,
  };
}

/**
 * Mutual TLS needs a TLS connection whose certificate reaches the server: its own listener's
 * (--tls-cert/--tls-key) or a terminating proxy's Client-Cert header (--trust-proxy). A listener
 * of its own is TLS, so it needs the server's certificate too.
 */
function resolveMutualTls(pick: Pick, context: { hasTls: boolean; hasTrustedProxy: boolean }, problems: string[]): ServerConfig['mutualTls'] {
  const caPath = pick('mtlsCa');
  const portText = pick('mtlsPort');
  const publicUrl = pick('mtlsUrl');
  if (caPath === undefined) {
    if (portText !== undefined || publicUrl !== undefined) problems.push('--mtls-port and --mtls-url need --mtls-ca: mutual TLS is on only with trusted CAs');
    return undefined;
  }
  if (!context.hasTls && !context.hasTrustedProxy) {
    problems.push(
      `${where('mtlsCa')}: client certificates reach the server over its own TLS (--tls-cert/--tls-key) or from a TLS-terminating proxy in --trust-proxy that forwards them (Client-Cert); give one`,
    );
  }
  const port = portText === undefined ? undefined : parseInteger(portText, 0, 65_535);
  if (portText !== undefined && port === undefined)
    problems.push(`${where('mtlsPort')}: must be a port number from 0 to 65535 (got ${JSON.stringify(portText)})`);
  if (portText !== undefined && !context.hasTls) problems.push(`${where('mtlsPort')}: the mutual-TLS listener serves TLS: give --tls-cert and --tls-key`);
  if (publicUrl !== undefined) {
    if (portText === undefined) problems.push(`${where('mtlsUrl')}: names the public URL of the --mtls-port listener; give --mtls-port too`);
    if (!/^https:\/\/[^/?#]+(\/[^?#]*)?$/.test(publicUrl)) problems.push(`${where('mtlsUrl')}: must be an https URL without query or fragment`);
  }
  return { caPath: resolve(caPath), listener: port === undefined ? undefined : { port, publicUrl: publicUrl?.replace(/\/+$/, '') } };
}

const TRACES_EXPORTERS = ['otlp', 'none'];

function resolveTracing(pick: Pick, problems: string[]): ServerConfig['tracing'] {
  const endpoint = pick('otelExporterOtlpEndpoint');
  if (endpoint !== undefined && !isHttpUrl(endpoint))
    problems.push(`${where('otelExporterOtlpEndpoint')}: must be the http(s) URL of an OTLP/HTTP receiver, e.g. http://otel-collector:4318`);
  const exporter = pick('otelTracesExporter');
  if (exporter !== undefined && !TRACES_EXPORTERS.includes(exporter))
    problems.push(`${where('otelTracesExporter')}: must be otlp or none (traces are sent over OTLP/HTTP only)`);
  if (exporter === 'none' || (exporter === undefined && endpoint === undefined)) return undefined;
  return { otlpEndpoint: endpoint };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** What the CLI commands share with `serve`: where the data is, from the same sources. */
export interface ConnectionConfig {
  dataDir: string;
  database: OpenStorageOptions;
  redisUrl: string | undefined;
}

/** The data directory, database and Redis settings alone, for the CLI's data commands. */
export function resolveConnectionConfig(flags: ConfigSource, env: NodeJS.ProcessEnv, file: ConfigSource = {}): ConnectionConfig {
  const problems: string[] = [];
  const connections = resolveConnections(picker(flags, env, file), problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return connections;
}

type Pick = (key: keyof ConfigInput) => string | undefined;

function picker(flags: ConfigSource, env: NodeJS.ProcessEnv, file: ConfigSource): Pick {
  const fromEnv = envSource(env);
  return (key) => {
    const value = flags[key] ?? fromEnv[key] ?? file[key];
    return value === undefined ? undefined : String(value);
  };
}

const where = (key: keyof ConfigInput) => `--${kebab(key)} / ${CONFIG_ENVIRONMENT[key]}`;

/** `--data-dir` keeps meaning the default SQLite location, so the URL defaults to a file in it. */
function resolveConnections(pick: Pick, problems: string[]): ConnectionConfig {
  const dataDir = resolve(pick('dataDir') ?? DEFAULT_DATA_DIR);
  const url = pick('databaseUrl') ?? `sqlite:${join(dataDir, DATABASE_FILE)}`;
  try {
    parseDatabaseUrl(url);
  } catch (error) {
    if (!(error instanceof DatabaseUrlError)) throw error;
    problems.push(`${where('databaseUrl')}: ${error.message}`);
  }
  const number = (key: keyof ConfigInput, fallback: number, min: number, max: number) => {
    const value = parseInteger(pick(key) ?? String(fallback), min, max);
    if (value === undefined) problems.push(`${where(key)}: must be a whole number from ${min} to ${max}`);
    return value ?? fallback;
  };
  const database: OpenStorageOptions = {
    url,
    poolSize: number('databasePoolSize', DATABASE_DEFAULTS.poolSize, 1, 1_000),
    connectTimeoutMs: number('databaseConnectTimeoutMs', DATABASE_DEFAULTS.connectTimeoutMs, 1, 600_000),
    // 0 would mean "no limit" to PostgreSQL; a hung statement must not hold a connection forever.
    statementTimeoutMs: number('databaseStatementTimeoutMs', DATABASE_DEFAULTS.statementTimeoutMs, 1, 3_600_000),
  };
  const redisUrl = pick('redisUrl');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^/]/i.test(redisUrl)) problems.push(`${where('redisUrl')}: must be a redis:// or rediss:// URL`);
  return { dataDir, database, redisUrl };
}

function resolveLimits(pick: (key: keyof ConfigInput) => string | undefined, where: (key: keyof ConfigInput) => string, problems: string[]): ConnectionLimits {
  const read = (key: keyof ConfigInput, fallback: number, min: number, max: number, unit: string) => {
    const value = pick(key);
    if (value === undefined) return fallback;
    const parsed = parseInteger(value, min, max);
    if (parsed === undefined) problems.push(`${where(key)}: must be a whole number of ${unit} from ${min} to ${max} (got ${JSON.stringify(value)})`);
    return parsed ?? fallback;
  };
  const defaults = DEFAULT_CONNECTION_LIMITS;
  const limits = {
    headersTimeoutMs: read('headersTimeout', defaults.headersTimeoutMs, 100, 600_000, 'milliseconds'),
    requestTimeoutMs: read('requestTimeout', defaults.requestTimeoutMs, 100, 600_000, 'milliseconds'),
    keepAliveTimeoutMs: read('keepAliveTimeout', defaults.keepAliveTimeoutMs, 0, 600_000, 'milliseconds'),
    maxConnections: read('maxConnections', defaults.maxConnections, 1, 1_000_000, 'connections'),
  };
  // Node refuses a headers timeout longer than the request timeout (the headers are part of it).
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    problems.push(`${where('headersTimeout')}: must not exceed ${where('requestTimeout')} (${limits.headersTimeoutMs} > ${limits.requestTimeoutMs})`);
  return limits;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function defaultIssuer(host: string, port: number, isTls: boolean, problems: string[]): string {
  if (host === '0.0.0.0' || host === '::') {
    problems.push(`--issuer / M2M_AUTH_ISSUER: required when binding ${host}: the public URL clients use, e.g. https://auth.example.com`);
    return 'https://invalid.invalid';
  }
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${isTls ? 'https' : 'http'}://${hostPart}:${port}`;
}

function validateIssuer(issuer: string, insecureHttp: boolean, problems: string[]) {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    problems.push(`--issuer / M2M_AUTH_ISSUER: must be an absolute URL (got ${JSON.stringify(issuer)})`);
    return;
  }
  if (url.search || url.hash) problems.push('--issuer / M2M_AUTH_ISSUER: must not have a query or fragment (RFC 8414 §2)');
  if (url.protocol === 'http:' && !insecureHttp && !isLoopbackHost(url.hostname)) {
    problems.push(
      `--issuer / M2M_AUTH_ISSUER: ${issuer} is not https; use https (with --tls-cert/--tls-key or a TLS proxy), or pass --insecure-http for a test network`,
    );
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push('--issuer / M2M_AUTH_ISSUER: must be an http(s) URL');
  }
}

function parseInteger(value: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const number = Number(value);
  return number >= min && number <= max ? number : undefined;
}

function parseWhole(value: string | undefined, fallback: number, name: string, problems: string[]): number {
  if (value === undefined) return fallback;
  if (/^\d+$/.test(value)) return Number(value);
  problems.push(`${name}: must be a whole number (got ${JSON.stringify(value)})`);
  return fallback;
}

function parseBoolean(value: string | undefined, name: string, problems: string[]): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  problems.push(`${name}: must be true or false`);
  return false;
}

function kebab(key: string) {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
