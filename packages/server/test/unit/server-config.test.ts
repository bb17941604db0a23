import { describe, expect, it } from 'vitest';
import { join, resolve } from 'node:path';
import { ConfigError, DEFAULT_CONNECTION_LIMITS, resolveConnectionConfig, resolveServerConfig } from '../../src/config/server-config.js';
import { parseDatabaseUrl, redactDatabaseUrl } from '../../src/storage/open-storage.js';

describe('resolveServerConfig', () => {
  it('defaults to a loopback bind with an http issuer that names the port', () => {
    const config = resolveServerConfig({}, {});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8080, issuer: 'http://127.0.0.1:8080', workers: 1, logLevel: 'info' });
  });

  it('chooses where ES256/EdDSA signatures run: auto by default, or as told', () => {
    expect(resolveServerConfig({}, {}).signOn).toBe('auto');
    expect(resolveServerConfig({ signOn: 'event-loop' }, {}).signOn).toBe('event-loop');
    expect(resolveServerConfig({}, { M2M_AUTH_SIGN_ON: 'threadpool' }).signOn).toBe('threadpool');
    expect(() => resolveServerConfig({ signOn: 'gpu' }, {})).toThrowError(/sign-on \/ M2M_AUTH_SIGN_ON: must be one of auto, threadpool, event-loop/);
  });

  it('tunes DPoP: nonces off and a 60 s proof window by default, either from flags, environment or file', () => {
    expect(resolveServerConfig({}, {}).dpop).toEqual({ requireNonce: false, proofWindowSeconds: 60 });
    expect(resolveServerConfig({ dpopNonce: true }, { M2M_AUTH_DPOP_PROOF_WINDOW: '120' }).dpop).toEqual({ requireNonce: true, proofWindowSeconds: 120 });
    expect(resolveServerConfig({}, {}, { dpopNonce: 'true' }).dpop.requireNonce).toBe(true);
    expect(() => resolveServerConfig({ dpopProofWindow: '0' }, {})).toThrowError(/dpop-proof-window \/ M2M_AUTH_DPOP_PROOF_WINDOW: must be a whole number/);
  });

  it('turns mutual TLS on with --mtls-ca (flag, environment or file), on the TLS listener or one of its own; off by default', () => {
    const tls = { tlsCert: 'server.pem', tlsKey: 'server-key.pem' };
    expect(resolveServerConfig({}, {}).mutualTls).toBeUndefined();
    expect(resolveServerConfig({ ...tls, mtlsCa: 'ca.pem' }, {}).mutualTls).toEqual({ caPath: resolve('ca.pem'), listener: undefined });
    expect(resolveServerConfig({ trustProxy: '10.0.0.1' }, { M2M_AUTH_MTLS_CA: '/etc/ca.pem' }).mutualTls?.caPath).toBe('/etc/ca.pem');
    expect(resolveServerConfig(tls, {}, { mtlsCa: 'ca.pem', mtlsPort: '8443', mtlsUrl: 'https://mtls.auth.example/' }).mutualTls).toEqual({
      caPath: resolve('ca.pem'),
      listener: { port: 8443, publicUrl: 'https://mtls.auth.example' },
    });
  });

  it('refuses mutual TLS that no certificate could reach: no TLS and no trusted proxy, a listener without TLS, aliases without a CA', () => {
    expect(() => resolveServerConfig({ mtlsCa: 'ca.pem' }, {})).toThrowError(/--mtls-ca \/ M2M_AUTH_MTLS_CA: client certificates reach the server/);
    expect(() => resolveServerConfig({ mtlsCa: 'ca.pem', trustProxy: '1', mtlsPort: '8443' }, {})).toThrowError(/mutual-TLS listener serves TLS/);
    expect(() => resolveServerConfig({ mtlsPort: '8443' }, {})).toThrowError(/need --mtls-ca/);
    expect(() => resolveServerConfig({ mtlsCa: 'ca.pem', trustProxy: '1', mtlsUrl: 'https://mtls.example' }, {})).toThrowError(/give --mtls-port too/);
    expect(() => resolveServerConfig({ mtlsCa: 'ca.pem', tlsCert: 'c', tlsKey: 'k', mtlsPort: 'x', mtlsUrl: 'http://mtls.example' }, {})).toThrowError(
      /must be a port number[\s\S]*must be an https URL/,
    );
  });

  it('places the admin API: main listener by default, its own address, or off; contradictions refused', () => {
    expect(resolveServerConfig({}, {}).adminApi).toBe('main-listener');
    expect(resolveServerConfig({ adminPort: '9444' }, {}).adminApi).toEqual({ host: '127.0.0.1', port: 9444 });
    expect(resolveServerConfig({}, { M2M_AUTH_ADMIN_HOST: '10.0.0.5' }).adminApi).toEqual({ host: '10.0.0.5', port: 0 });
    expect(resolveServerConfig({ adminApi: false }, {}).adminApi).toBe(false);
    expect(resolveServerConfig({}, { M2M_AUTH_ADMIN_API: 'false' }).adminApi).toBe(false);
    expect(() => resolveServerConfig({ adminApi: false, adminPort: '9444' }, {})).toThrowError(/contradict/);
    expect(() => resolveServerConfig({ adminPort: 'x' }, {})).toThrowError(/admin-port/);
    expect(resolveServerConfig({}, {}).auditRetentionDays).toBe(90);
    expect(() => resolveServerConfig({ auditRetentionDays: '0' }, {})).toThrowError(/audit-retention-days/);
    expect(resolveServerConfig({}, {}).usageRetentionDays).toBe(35);
    expect(resolveServerConfig({}, {}).usageCounting).toBe(true);
    expect(resolveServerConfig({ usageCounting: false }, {}).usageCounting).toBe(false);
    expect(resolveServerConfig({}, { M2M_AUTH_USAGE_COUNTING: 'false' }).usageCounting).toBe(false);
    expect(resolveServerConfig({}, { M2M_AUTH_USAGE_RETENTION_DAYS: '7' }).usageRetentionDays).toBe(7);
    expect(() => resolveServerConfig({ usageRetentionDays: '401' }, {})).toThrowError(/usage-retention-days.*from 1 to 400/);
  });

  it('takes flags over environment over file', () => {
    const config = resolveServerConfig(
      { port: '9001' },
      { M2M_AUTH_PORT: '9002', M2M_AUTH_LOG_LEVEL: 'warn' },
      { port: 9003, logLevel: 'error', host: '127.0.0.2' },
    );
    expect(config).toMatchObject({ port: 9001, logLevel: 'warn', host: '127.0.0.2' });
  });

  it('refuses a non-https issuer off loopback unless --insecure-http', () => {
    expect(() => resolveServerConfig({ issuer: 'http://auth.example.com' }, {})).toThrowError(/not https/);
    expect(resolveServerConfig({ issuer: 'http://auth.example.com', insecureHttp: true }, {}).issuer).toBe('http://auth.example.com');
    expect(resolveServerConfig({ issuer: 'https://auth.example.com/' }, {}).issuer).toBe('https://auth.example.com');
  });

  it('reports every bad value at once', () => {
    try {
      resolveServerConfig({ port: 'eighty', logLevel: 'loud', tlsCert: 'cert.pem', host: '0.0.0.0' }, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/port/);
      expect(problems).toMatch(/log-level/);
      expect(problems).toMatch(/tls-cert and --tls-key/);
      expect(problems).toMatch(/issuer.*required when binding 0\.0\.0\.0/);
    }
  });

  it('traces when an OTLP endpoint is given (flag, standard env or file) or OTEL_TRACES_EXPORTER=otlp; none turns it off', () => {
    expect(resolveServerConfig({}, {}).tracing).toBeUndefined();
    expect(resolveServerConfig({ otelExporterOtlpEndpoint: 'http://collector:4318' }, {}).tracing).toEqual({ otlpEndpoint: 'http://collector:4318' });
    expect(resolveServerConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example' }).tracing).toEqual({ otlpEndpoint: 'https://otlp.example' });
    expect(resolveServerConfig({}, {}, { otelExporterOtlpEndpoint: 'http://127.0.0.1:4318' }).tracing).toEqual({ otlpEndpoint: 'http://127.0.0.1:4318' });
    expect(resolveServerConfig({}, { OTEL_TRACES_EXPORTER: 'otlp' }).tracing).toEqual({ otlpEndpoint: undefined });
    expect(resolveServerConfig({}, { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toBeUndefined();
    expect(() => resolveServerConfig({}, { OTEL_TRACES_EXPORTER: 'jaeger' })).toThrowError(
      /--otel-traces-exporter \/ OTEL_TRACES_EXPORTER: must be otlp or none/,
    );
    expect(() => resolveServerConfig({ otelExporterOtlpEndpoint: 'collector:4318' }, {})).toThrowError(
      /--otel-exporter-otlp-endpoint \/ OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('drains for --shutdown-drain-seconds on SIGTERM: none by default, at most five minutes', () => {
    expect(resolveServerConfig({}, {}).shutdownDrainSeconds).toBe(0);
    expect(resolveServerConfig({}, { M2M_AUTH_SHUTDOWN_DRAIN_SECONDS: '10' }).shutdownDrainSeconds).toBe(10);
    expect(() => resolveServerConfig({ shutdownDrainSeconds: '301' }, {})).toThrowError(/--shutdown-drain-seconds \/ M2M_AUTH_SHUTDOWN_DRAIN_SECONDS/);
  });

  it('bounds what a connection may hold: timeouts and a connection cap, each from flags, env or file', () => {
    expect(resolveServerConfig({}, {}).limits).toEqual(DEFAULT_CONNECTION_LIMITS);
    const config = resolveServerConfig(
      { requestTimeout: '8000' },
      { M2M_AUTH_HEADERS_TIMEOUT: '4000', M2M_AUTH_MAX_CONNECTIONS: '100' },
      { keepAliveTimeout: 1000 },
    );
    expect(config.limits).toEqual({ headersTimeoutMs: 4000, requestTimeoutMs: 8000, keepAliveTimeoutMs: 1000, maxConnections: 100 });
    expect(() => resolveServerConfig({ requestTimeout: 'soon' }, {})).toThrowError(
      /request-timeout \/ M2M_AUTH_REQUEST_TIMEOUT: must be a whole number of milliseconds/,
    );
    expect(() => resolveServerConfig({ maxConnections: '0' }, {})).toThrowError(/max-connections/);
    expect(() => resolveServerConfig({ headersTimeout: '20000', requestTimeout: '10000' }, {})).toThrowError(/headers-timeout .* must not exceed/);
  });

  it('bounds the token-exchange delegation chain: 4 actors by default, 1 to 16 from flags, env or file', () => {
    expect(resolveServerConfig({}, {}).maxDelegationChain).toBe(4);
    expect(resolveServerConfig({ exchangeMaxChain: '2' }, { M2M_AUTH_EXCHANGE_MAX_CHAIN: '6' }).maxDelegationChain).toBe(2);
    expect(resolveServerConfig({}, { M2M_AUTH_EXCHANGE_MAX_CHAIN: '6' }, { exchangeMaxChain: 3 }).maxDelegationChain).toBe(6);
    expect(resolveServerConfig({}, {}, { exchangeMaxChain: 1 }).maxDelegationChain).toBe(1);
    for (const bad of ['0', '17', 'many'])
      expect(() => resolveServerConfig({ exchangeMaxChain: bad }, {})).toThrowError(
        /exchange-max-chain \/ M2M_AUTH_EXCHANGE_MAX_CHAIN: must be a whole number of actors from 1 to 16/,
      );
  });
});

describe('database and Redis settings', () => {
  it('defaults to SQLite inside the data directory, which also holds master.key', () => {
    expect(resolveServerConfig({}, {}).database).toEqual({
      url: `sqlite:${resolve('./m2m-auth-data/m2m-auth.db')}`,
      poolSize: 10,
      connectTimeoutMs: 5_000,
      statementTimeoutMs: 10_000,
    });
    const moved = resolveConnectionConfig({ dataDir: '/srv/auth' }, {});
    expect(moved).toMatchObject({ dataDir: '/srv/auth', database: { url: `sqlite:${join('/srv/auth', 'm2m-auth.db')}` }, redisUrl: undefined });
  });

  it('takes one URL and the pool settings from flags, environment or file, alike for serve and the CLI', () => {
    const env = { M2M_AUTH_DATABASE_URL: 'postgres://auth@db.internal/m2m', M2M_AUTH_DATABASE_POOL_SIZE: '25', M2M_AUTH_REDIS_URL: 'redis://cache:6379' };
    const file = { databaseStatementTimeoutMs: 2_000, databaseConnectTimeoutMs: 1_000 };
    const expected = {
      database: { url: 'postgres://auth@db.internal/m2m', poolSize: 25, connectTimeoutMs: 1_000, statementTimeoutMs: 2_000 },
      redisUrl: 'redis://cache:6379',
    };
    expect(resolveServerConfig({}, env, file)).toMatchObject(expected);
    expect(resolveConnectionConfig({}, env, file)).toMatchObject(expected);
    expect(resolveConnectionConfig({ databaseUrl: 'sqlite:./other.db' }, env).database.url).toBe('sqlite:./other.db');
  });

  it('reports a bad URL, pool size or Redis URL with the rest', () => {
    try {
      resolveServerConfig({ databaseUrl: 'mysql://db/x', databasePoolSize: '0', redisUrl: 'http://cache', port: 'x' }, {});
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/--database-url \/ M2M_AUTH_DATABASE_URL: unsupported database URL "mysql:\/\/db\/x"/);
      expect(problems).toMatch(/--database-pool-size \/ M2M_AUTH_DATABASE_POOL_SIZE: must be a whole number from 1 to 1000/);
      expect(problems).toMatch(/--redis-url \/ M2M_AUTH_REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
      expect(problems).toMatch(/port/);
    }
  });
});

describe('parseDatabaseUrl', () => {
  it('names the adapter and where its data lives', () => {
    expect(parseDatabaseUrl('sqlite:./data/m2m.db')).toEqual({ kind: 'sqlite', path: './data/m2m.db' });
    expect(parseDatabaseUrl('sqlite:///var/lib/m2m.db')).toEqual({ kind: 'sqlite', path: '/var/lib/m2m.db' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:' });
    expect(parseDatabaseUrl('memory:')).toEqual({ kind: 'memory' });
    expect(parseDatabaseUrl('postgresql://u:p@h:5432/db')).toEqual({ kind: 'postgres', connectionString: 'postgresql://u:p@h:5432/db' });
    expect(() => parseDatabaseUrl('sqlite:')).toThrowError(/names no file/);
  });

  it('bounds the shared state: per-client allowances and the entries of counters and buckets, defaults or as told', () => {
    expect(resolveServerConfig({}, {}).stateLimits).toEqual({
      allowance: { revocations: 10_000, assertions: 100_000, opaqueTokens: 100_000 },
      maxEntries: 100_000,
    });
    const told = resolveServerConfig(
      { stateRevocationsPerClient: '500', stateOpaqueTokensPerClient: '300' },
      { M2M_AUTH_STATE_ASSERTIONS_PER_CLIENT: '2000', M2M_AUTH_STATE_MAX_ENTRIES: '5000' },
    );
    expect(told.stateLimits).toEqual({ allowance: { revocations: 500, assertions: 2000, opaqueTokens: 300 }, maxEntries: 5000 });
    expect(() => resolveServerConfig({ stateRevocationsPerClient: '0' }, {})).toThrowError(
      /--state-revocations-per-client \/ M2M_AUTH_STATE_REVOCATIONS_PER_CLIENT: must be a whole number from 1/,
    );
  });

  it('never repeats a password in a message or a banner', () => {
    expect(redactDatabaseUrl('postgres://auth:s3cret@db/m2m')).toBe('postgres://auth:***@db/m2m');
    expect(() => parseDatabaseUrl('ftp://auth:s3cret@db')).toThrowError(/^(?!.*s3cret)/);
  });
});
