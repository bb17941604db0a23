import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONNECTION_LIMITS, resolveServerConfig } from '../../src/config/server-config.js';

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
  });

  it('takes flags over environment over file', () => {
    const config = resolveServerConfig({ port: '9001' }, { M2M_AUTH_PORT: '9002', M2M_AUTH_LOG_LEVEL: 'warn' }, { port: 9003, logLevel: 'error', host: '127.0.0.2' });
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

  it('bounds what a connection may hold: timeouts and a connection cap, each from flags, env or file', () => {
    expect(resolveServerConfig({}, {}).limits).toEqual(DEFAULT_CONNECTION_LIMITS);
    const config = resolveServerConfig({ requestTimeout: '8000' }, { M2M_AUTH_HEADERS_TIMEOUT: '4000', M2M_AUTH_MAX_CONNECTIONS: '100' }, { keepAliveTimeout: 1000 });
    expect(config.limits).toEqual({ headersTimeoutMs: 4000, requestTimeoutMs: 8000, keepAliveTimeoutMs: 1000, maxConnections: 100 });
    expect(() => resolveServerConfig({ requestTimeout: 'soon' }, {})).toThrowError(/request-timeout \/ M2M_AUTH_REQUEST_TIMEOUT: must be a whole number of milliseconds/);
    expect(() => resolveServerConfig({ maxConnections: '0' }, {})).toThrowError(/max-connections/);
    expect(() => resolveServerConfig({ headersTimeout: '20000', requestTimeout: '10000' }, {})).toThrowError(/headers-timeout .* must not exceed/);
  });
});
