import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/http/start-server.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';
import { basic, form } from '../helpers/test-app.js';

/** A span as OTLP/HTTP JSON carries it (ids in hex, attributes as typed values). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}
const SERVER_KIND = 2;
const attributesOf = (span: OtlpSpan) => Object.fromEntries(span.attributes.map(({ key, value }) => [key, Object.values(value)[0]]));

/**
 * Traces end to end: a real server exports to an OTLP/HTTP receiver on 127.0.0.1 (what a
 * collector would be), and the span tree of each path is read back from what it received.
 */
describe('OpenTelemetry traces over OTLP/HTTP', () => {
  let receiver: Server;
  const bodies: string[] = [];
  const spans: OtlpSpan[] = [];
  let server: RunningServer;
  const api = 'https://orders.example';
  let client: { clientId: string; clientSecret: string };
  let accessToken: string;
  let adminToken: string;
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const unsampledTraceId = randomBytes(16).toString('hex');

  const post = (path: string, params: Record<string, string>, authorization: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization, ...headers },
      body: form(params),
    });

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        expect(request.url).toBe('/v1/traces');
        expect(request.headers['content-type']).toBe('application/json');
        bodies.push(body);
        const parsed = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const resource of parsed.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    server = await startServer({
      storage: 'memory',
      port: 0,
      logger: 'silent',
      tracing: { otlpEndpoint: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` },
      // A per-client rate limit, so the token path calls the shared state too.
      lifecycle: { rateLimits: { perClient: { capacity: 100, refillPerSecond: 100 } } },
    });
    await server.admin.createApi({ identifier: api, scopes: ['read'] });
    const created = await server.admin.createClient({ name: 'traced-service', introspectApis: [api] });
    client = { clientId: created.clientId, clientSecret: created.clientSecret! };
    await server.admin.createGrant({ clientId: client.clientId, apiIdentifier: api, scopes: ['read'] });
    const admin = await server.admin.bootstrapAdminClient();

    // The requests whose traces are checked below, then close: the last spans are sent on close.
    const auth = basic(client.clientId, client.clientSecret);
    const issued = await post('/oauth/token', { grant_type: 'client_credentials', audience: api }, auth, { traceparent: `00-${traceId}-${callerSpanId}-01` });
    expect(issued.status).toBe(200);
    accessToken = ((await issued.json()) as { access_token: string }).access_token;
    expect((await post('/oauth/token', { grant_type: 'client_credentials', audience: 'https://unknown.example' }, auth)).status).toBe(400);
    const unsampled = `00-${unsampledTraceId}-${randomBytes(8).toString('hex')}-00`;
    expect((await post('/oauth/token', { grant_type: 'client_credentials', audience: api }, auth, { traceparent: unsampled })).status).toBe(200);
    expect((await post('/oauth/introspect', { token: accessToken }, auth)).status).toBe(200);
    expect((await post('/oauth/revoke', { token: accessToken }, auth)).status).toBe(200);
    const adminIssued = await post(
      '/oauth/token',
      { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER },
      basic(admin.clientId, admin.clientSecret),
    );
    adminToken = ((await adminIssued.json()) as { access_token: string }).access_token;
    expect((await fetch(`${server.url}/admin/v1/clients`, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await server.close();
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const serverSpan = (route: string, predicate: (span: OtlpSpan) => boolean = () => true) => {
    const found = spans.filter((span) => span.kind === SERVER_KIND && attributesOf(span)['http.route'] === route && predicate(span));
    expect(found.length, `server spans for ${route}`).toBeGreaterThan(0);
    return found[0]!;
  };
  /** Every span below `root`, in its trace. */
  const descendants = (root: OtlpSpan): OtlpSpan[] => {
    const children = spans.filter((span) => span.traceId === root.traceId && span.parentSpanId === root.spanId);
    return [...children, ...children.flatMap(descendants)];
  };
  const named = (list: OtlpSpan[], name: string | RegExp) => list.filter((span) => (typeof name === 'string' ? span.name === name : name.test(span.name)));

  it('continues the caller’s trace: the token request’s server span is a child of its traceparent', () => {
    const root = serverSpan('/oauth/token', (span) => span.traceId === traceId);
    expect(root.parentSpanId).toBe(callerSpanId);
    expect(root.name).toBe('POST /oauth/token');
    expect(attributesOf(root)).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'oauth.client_id': client.clientId,
      'oauth.grant_type': 'client_credentials',
      'oauth.audience': api,
      'm2m_auth.result': 'issued',
    });
  });

  it('has child spans for authentication, the grant, signing, storage and the shared state', () => {
    const root = serverSpan('/oauth/token', (span) => span.traceId === traceId);
    const below = descendants(root);
    const [authentication] = named(below, 'client authentication');
    expect(authentication?.parentSpanId).toBe(root.spanId);
    expect(attributesOf(authentication!)).toMatchObject({ 'oauth.client_auth_method': 'client_secret_basic', 'oauth.client_id': client.clientId });
    const [grant] = named(below, 'grant client_credentials');
    expect(grant?.parentSpanId).toBe(root.spanId);
    expect(attributesOf(grant!)).toMatchObject({ 'oauth.grant_type': 'client_credentials', 'oauth.audience': api });
    const [signing] = named(below, 'token signing');
    expect(signing?.parentSpanId).toBe(grant!.spanId);
    expect(attributesOf(signing!)).toMatchObject({ 'jws.alg': 'RS256' });
    // The first request of a client loads it from storage into the registry cache.
    expect(named(below, /^storage /).map((span) => attributesOf(span)['db.operation.name'])).toContain('getClient');
    expect(named(below, /^storage /).every((span) => attributesOf(span)['db.system.name'] === 'memory')).toBe(true);
    expect(named(below, 'shared state take')).toHaveLength(1);
  });

  it('starts a new trace without a traceparent, and records an OAuth error by its code', () => {
    const failed = serverSpan('/oauth/token', (span) => attributesOf(span)['http.response.status_code'] === 400);
    expect(failed.traceId).not.toBe(traceId);
    expect(failed.parentSpanId ?? '').toBe('');
    expect(attributesOf(failed)).toMatchObject({ 'oauth.error': 'invalid_target', 'm2m_auth.result': 'failed', 'oauth.client_id': client.clientId });
    const [grant] = named(descendants(failed), 'grant client_credentials');
    expect(attributesOf(grant!)['error.type']).toBe('invalid_target');
    expect(grant!.status?.code).toBe(2);
  });

  it('records nothing of a request whose caller did not sample its trace (traceparent flags 00)', () => {
    expect(spans.filter((span) => span.traceId === unsampledTraceId)).toEqual([]);
  });

  it('traces introspection and revocation with their shared-state checks', () => {
    const introspection = serverSpan('/oauth/introspect');
    expect(attributesOf(introspection)).toMatchObject({ 'm2m_auth.result': 'active' });
    expect(named(descendants(introspection), 'client authentication')).toHaveLength(1);
    expect(named(descendants(introspection), 'shared state isTokenRevoked')).toHaveLength(1);
    const revocation = serverSpan('/oauth/revoke');
    expect(attributesOf(revocation)).toMatchObject({ 'm2m_auth.result': 'revoked', 'oauth.client_id': client.clientId });
    expect(named(descendants(revocation), 'shared state revokeToken')).toHaveLength(1);
  });

  it('traces the admin API: the operation and its storage calls below the request', () => {
    const list = serverSpan('/admin/v1/clients');
    const [operation] = named(descendants(list), 'admin listClients');
    expect(operation?.parentSpanId).toBe(list.spanId);
    expect(named(descendants(operation!), 'storage listClients')).toHaveLength(1);
  });

  it('leaves probes out, and never sends a secret or a token', () => {
    expect(spans.some((span) => attributesOf(span)['http.route'] === '/readyz')).toBe(false);
    const sent = bodies.join('\n');
    for (const secret of [client.clientSecret, accessToken, adminToken, accessToken.split('.')[2]!, basic(client.clientId, client.clientSecret)]) {
      expect(sent).not.toContain(secret);
    }
  });
});
