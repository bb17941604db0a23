import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  createMemoryIntrospectionCache,
  createMemoryReplayStore,
  createVerifier,
  extractBearerToken,
  presets,
  toHttpResponse,
  type IntrospectionAnswer,
  type IntrospectionCache,
  type ResourceServerEvent,
} from '../src/index.js';
import { resolveVerifyOn } from '../src/core/jws.js';
import { claims, createClock, makeKey, mint, nowSeconds, startIssuer } from './helpers.js';

describe('bearer token extraction (RFC 6750 §2)', () => {
  it('takes the token from the Authorization header, scheme case-insensitive', () => {
    expect(extractBearerToken({ authorization: 'Bearer abc.def-ghi_~+/=' })).toBe('abc.def-ghi_~+/=');
    expect(extractBearerToken({ authorization: 'bearer abc' })).toBe('abc');
  });

  it('treats no header, or another scheme, as no token', () => {
    expect(extractBearerToken({})).toBeUndefined();
    expect(extractBearerToken({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
  });

  it('refuses malformed bearer headers as invalid_request', () => {
    for (const header of ['Bearer', 'Bearer ', 'Bearer  abc', 'Bearer a b', 'Bearer abc=def', 'Bearer ab"c']) {
      expect(() => extractBearerToken({ authorization: header }), header).toThrowError(expect.objectContaining({ code: 'invalid_request' }));
    }
  });

  it('reads body and query tokens only when enabled, and refuses a token in two places', () => {
    expect(extractBearerToken({ queryToken: 'abc' })).toBeUndefined();
    expect(extractBearerToken({ queryToken: 'abc' }, { allowQuery: true })).toBe('abc');
    expect(extractBearerToken({ bodyToken: 'abc' }, { allowBody: true })).toBe('abc');
    expect(() => extractBearerToken({ authorization: 'Bearer abc', queryToken: 'abc' }, { allowQuery: true })).toThrowError(
      expect.objectContaining({ code: 'invalid_request', description: 'The request must carry its access token in exactly one place.' }),
    );
    expect(() => extractBearerToken({ queryToken: ['a', 'b'] }, { allowQuery: true })).toThrowError(expect.objectContaining({ code: 'invalid_request' }));
  });
});

describe('RFC 6750 responses', () => {
  it('quotes and escapes challenge parameters, and keeps them printable ASCII', () => {
    const error = new AuthError('invalid_token', 'bad "token" \\ here\nnext', 'malformed_token');
    expect(toHttpResponse(error, 'my "realm"').headers['www-authenticate']).toBe(
      'Bearer realm="my \\"realm\\"", error="invalid_token", error_description="bad \\"token\\" \\\\ here?next"',
    );
  });
});

describe('verifier options', () => {
  it('refuses configurations that would be unsafe or ambiguous', () => {
    expect(() => createVerifier({ audience: 'x' })).toThrow(/issuer/);
    expect(() => createVerifier({ issuer: 'https://a.example' })).toThrow(/audience/);
    expect(() => createVerifier({ issuer: 'https://a.example', audience: 'x', algorithms: ['HS256'] })).toThrow(/sharedSecret/);
  });

  it('accepts HS256 only with an explicit shared secret', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const verifier = createVerifier({ issuer: 'https://a.example', audience: 'https://payments.example', sharedSecret: secret, now: createClock().now });
    const { SignJWT } = await import('jose');
    const token = await new SignJWT(claims('https://a.example')).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(Buffer.from(secret));
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'orders-service' });
    const wrong = await new SignJWT(claims('https://a.example')).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(Buffer.from(`${secret}x`));
    await expect(verifier.verify(wrong)).rejects.toMatchObject({ reason: 'bad_signature' });
  });

  it('checks every asymmetric algorithm the same wherever the signature runs (auto, threadpool, event loop)', async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
      const key = await makeKey(alg);
      const issuer = await startIssuer({ keys: [key] });
      try {
        const token = await mint(key, claims(issuer.issuer));
        const tampered = `${token.slice(0, -6)}${token.slice(-6, -5) === 'A' ? 'B' : 'A'}${token.slice(-5)}`;
        for (const verifyOn of ['auto', 'threadpool', 'event-loop'] as const) {
          const verifier = createVerifier({ issuer: issuer.issuer, audience: 'https://payments.example', now: createClock().now, verifyOn, cache: false });
          await expect(verifier.verify(token), `${alg} ${verifyOn}`).resolves.toMatchObject({ subject: 'orders-service' });
          await expect(verifier.verify(tampered), `${alg} ${verifyOn}`).rejects.toMatchObject({ reason: 'bad_signature' });
        }
      } finally {
        await issuer.close();
      }
    }
  });

  it('a cached token is served only to the exact same token: a forgery ending in its signature is still checked', async () => {
    const key = await makeKey('RS256');
    const issuer = await startIssuer({ keys: [key] });
    try {
      const verifier = createVerifier({ issuer: issuer.issuer, audience: 'https://payments.example', now: createClock().now });
      const token = await mint(key, claims(issuer.issuer, { scope: 'payments:read' }));
      await expect(verifier.check({ authorization: `Bearer ${token}` })).resolves.toMatchObject({ scopes: ['payments:read'] });
      // Same signature (so the same last characters the cache files entries under), another payload.
      const [header, , signature] = token.split('.');
      const forgedPayload = Buffer.from(JSON.stringify(claims(issuer.issuer, { scope: 'payments:write' }))).toString('base64url');
      const forged = `${header}.${forgedPayload}.${signature}`;
      await expect((async () => verifier.check({ authorization: `Bearer ${forged}` }))()).rejects.toMatchObject({ reason: 'bad_signature' });
      await expect(verifier.verify(forged)).rejects.toMatchObject({ reason: 'bad_signature' });
      // The genuine token is still served from the cache, synchronously.
      expect(verifier.check({ authorization: `Bearer ${token}` })).toMatchObject({ scopes: ['payments:read'] });
    } finally {
      await issuer.close();
    }
  });

  it('verifyOn auto: the threadpool when there is a core to spare, else the event loop', () => {
    expect(resolveVerifyOn('auto', 2)).toBe('threadpool');
    expect(resolveVerifyOn('auto', 1)).toBe('event-loop');
    expect(resolveVerifyOn('event-loop', 8)).toBe('event-loop');
    expect(resolveVerifyOn('threadpool', 1)).toBe('threadpool');
  });

  it('check() answers without a promise when no I/O or threadpool hop is needed, and throws AuthError synchronously', async () => {
    const rsaKey = await makeKey('RS256');
    const issuer = await startIssuer({ keys: [rsaKey] });
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: createClock().now,
        cache: false,
        verifyOn: 'event-loop',
      });
      const token = await mint(rsaKey, claims(issuer.issuer));
      const first = verifier.check({ authorization: `Bearer ${token}` });
      expect(first).toBeInstanceOf(Promise); // keys not loaded yet: one JWKS fetch
      await first;
      const second = verifier.check({ authorization: `Bearer ${token}` });
      expect(second).not.toBeInstanceOf(Promise);
      expect(second).toMatchObject({ subject: 'orders-service', scopes: ['payments:read', 'payments:write'] });
      expect(() => verifier.check({ authorization: `Bearer ${token.slice(0, -4)}AAAA` })).toThrowError(expect.objectContaining({ reason: 'bad_signature' }));
      expect(() => verifier.check({})).toThrowError(expect.objectContaining({ code: 'missing_token' }));
      // On the threadpool the same check answers with a promise, resolving to the same principal.
      const pooled = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: createClock().now,
        cache: false,
        verifyOn: 'threadpool',
      });
      await pooled.prefetch();
      const fromPool = pooled.check({ authorization: `Bearer ${token}` });
      expect(fromPool).toBeInstanceOf(Promise);
      await expect(fromPool).resolves.toMatchObject({ subject: 'orders-service' });
    } finally {
      await issuer.close();
    }
  });

  it('maps scopes and roles to authorities with a configurable prefix', async () => {
    const key = await makeKey('ES256');
    const issuer = await startIssuer({ keys: [key] });
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: createClock().now,
        authorities: { scopeClaims: ['scope'], roleClaims: ['roles'], scopePrefix: 'SCOPE_', rolePrefix: 'ROLE_' },
        principalClaim: 'client_id',
      });
      const principal = await verifier.verify(await mint(key, claims(issuer.issuer, { roles: ['Payments.Admin'], sub: 'ignored' })));
      expect(principal.subject).toBe('orders-service');
      expect(principal.authorities).toEqual(['SCOPE_payments:read', 'SCOPE_payments:write', 'ROLE_Payments.Admin']);
      expect(Object.isFrozen(principal)).toBe(true);
      expect(Object.isFrozen(principal.scopes)).toBe(true);
    } finally {
      await issuer.close();
    }
  });

  it('detects a replayed jti when asked to (one-time tokens)', async () => {
    const key = await makeKey('ES256');
    const issuer = await startIssuer({ keys: [key] });
    const clock = createClock();
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: clock.now,
        replayDetection: createMemoryReplayStore({ now: clock.now }),
      });
      const token = await mint(key, claims(issuer.issuer));
      await expect(verifier.verify(token)).resolves.toBeDefined();
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token', reason: 'replayed' });
    } finally {
      await issuer.close();
    }
  });

  it('remembers a jti while the token is still accepted: until exp plus the clock tolerance', async () => {
    const key = await makeKey('ES256');
    const issuer = await startIssuer({ keys: [key] });
    const clock = createClock();
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: clock.now,
        clockToleranceSeconds: 5,
        replayDetection: true,
      });
      const token = await mint(key, claims(issuer.issuer, { exp: nowSeconds() + 60 }));
      await expect(verifier.verify(token)).resolves.toBeDefined();
      clock.advance(63_000); // past exp, inside the tolerance: the token is still accepted, so the replay must be seen
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token', reason: 'replayed' });
      clock.advance(3_000);
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token', reason: 'expired' });
    } finally {
      await issuer.close();
    }
  });

  it('refuses with 503 when the replay store cannot answer (fail closed), and accepts once it can', async () => {
    const key = await makeKey('ES256');
    const issuer = await startIssuer({ keys: [key] });
    const clock = createClock();
    const memory = createMemoryReplayStore({ now: clock.now });
    let isDown = true;
    const events: ResourceServerEvent[] = [];
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: clock.now,
        onEvent: (event) => events.push(event),
        replayDetection: { checkAndRemember: async (id, exp) => (isDown ? Promise.reject(new Error('connection refused')) : memory.checkAndRemember(id, exp)) },
      });
      const token = await mint(key, claims(issuer.issuer));
      const error = await verifier.verify(token).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'temporarily_unavailable', reason: 'replay_store_unavailable', status: 503 });
      expect((error as AuthError).cause).toMatchObject({ message: 'connection refused' });
      expect(toHttpResponse(error as AuthError, 'api')).toMatchObject({ status: 503, headers: { 'retry-after': '5' } });
      expect(events).toContainEqual(expect.objectContaining({ type: 'token.rejected', reason: 'replay_store_unavailable' }));
      isDown = false;
      await expect(verifier.verify(token)).resolves.toBeDefined();
      await expect(verifier.verify(token)).rejects.toMatchObject({ reason: 'replayed' });
    } finally {
      await issuer.close();
    }
  });

  it('reports JWKS refreshes and failures as events', async () => {
    const key = await makeKey('ES256');
    const issuer = await startIssuer({ keys: [key] });
    const events: unknown[] = [];
    try {
      const verifier = createVerifier({ issuer: issuer.issuer, audience: 'https://payments.example', now: createClock().now, onEvent: (e) => events.push(e) });
      await verifier.prefetch();
      expect(events).toContainEqual({ type: 'jwks.refreshed', jwksUri: issuer.jwksUri, keyCount: 1 });
    } finally {
      await issuer.close();
    }
  });
});

describe('introspection failures', () => {
  it('fails closed with 503 when the endpoint is down, and caches answers by token hash', async () => {
    const key = await makeKey('ES256');
    const issuer = await startIssuer({ keys: [key] });
    const clock = createClock();
    let calls = 0;
    let status = 500;
    issuer.onIntrospect(() => {
      calls += 1;
      return status === 200
        ? {
            status,
            body: {
              active: true,
              iss: issuer.issuer,
              aud: 'https://payments.example',
              exp: nowSeconds() + 600,
              scope: 'payments:read',
              client_id: 'orders-service',
              sub: 'orders-service',
            },
          }
        : { status, body: { error: 'down' } };
    });
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: clock.now,
        introspection: { endpoint: `${issuer.base}/introspect`, clientId: 'rs', clientSecret: 'rs-secret' },
      });
      await expect(verifier.verify('opaque-token-1')).rejects.toMatchObject({ code: 'temporarily_unavailable', status: 503 });
      status = 200;
      await expect(verifier.verify('opaque-token-1')).resolves.toMatchObject({ subject: 'orders-service', source: 'introspection' });
      const before = calls;
      await verifier.verify('opaque-token-1');
      expect(calls).toBe(before); // cached
      clock.advance(61_000);
      await verifier.verify('opaque-token-1');
      expect(calls).toBe(before + 1); // active answers live at most cacheTtlSeconds
    } finally {
      await issuer.close();
    }
  });
});

describe('a pluggable introspection cache', () => {
  const active = (issuer: string, exp: number) => ({
    active: true,
    iss: issuer,
    aud: 'https://payments.example',
    exp,
    client_id: 'orders-service',
    sub: 'orders-service',
  });

  it('is given the token hash, never the token, and TTLs bounded by exp, cacheTtlSeconds and inactiveTtlSeconds', async () => {
    const issuer = await startIssuer({ keys: [await makeKey('ES256')] });
    const clock = createClock();
    const writes: Array<{ key: string; answer: IntrospectionAnswer; ttlMs: number }> = [];
    const memory = createMemoryIntrospectionCache({ now: clock.now });
    const cache: IntrospectionCache = {
      get: (key) => memory.get(key),
      set: (key, answer, ttlMs) => void (writes.push({ key, answer, ttlMs }), memory.set(key, answer, ttlMs)),
    };
    issuer.onIntrospect((_req, body) => ({
      status: 200,
      body: new URLSearchParams(body).get('token') === 'short-lived' ? active(issuer.issuer, nowSeconds() + 20) : { active: false },
    }));
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: clock.now,
        introspection: { endpoint: `${issuer.base}/introspect`, clientId: 'rs', clientSecret: 'rs-secret', cache, cacheTtlSeconds: 60, inactiveTtlSeconds: 7 },
      });
      await expect(verifier.verify('short-lived')).resolves.toMatchObject({ source: 'introspection' });
      await expect(verifier.verify('revoked')).rejects.toMatchObject({ reason: 'inactive' });
      await expect(verifier.verify('revoked')).rejects.toMatchObject({ reason: 'inactive' }); // the cached null, not a miss
      expect(writes).toEqual([
        { key: createHash('sha256').update('short-lived').digest('base64url'), answer: expect.objectContaining({ active: true }), ttlMs: 20_000 },
        { key: createHash('sha256').update('revoked').digest('base64url'), answer: null, ttlMs: 7_000 },
      ]);
    } finally {
      await issuer.close();
    }
  });

  it('falls through to introspection when the cache fails (availability), and reports it', async () => {
    const issuer = await startIssuer({ keys: [await makeKey('ES256')] });
    const events: ResourceServerEvent[] = [];
    let calls = 0;
    issuer.onIntrospect(() => ((calls += 1), { status: 200, body: active(issuer.issuer, nowSeconds() + 600) }));
    const broken: IntrospectionCache = {
      get: () => Promise.reject(new Error('cache down')),
      set: () => {
        throw new Error('cache down');
      },
    };
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: 'https://payments.example',
        now: createClock().now,
        onEvent: (event) => events.push(event),
        introspection: { endpoint: `${issuer.base}/introspect`, clientId: 'rs', clientSecret: 'rs-secret', cache: broken },
      });
      await expect(verifier.verify('opaque-token')).resolves.toMatchObject({ subject: 'orders-service' });
      await expect(verifier.verify('opaque-token')).resolves.toMatchObject({ subject: 'orders-service' });
      expect(calls).toBe(2);
      expect(events.filter((event) => event.type === 'introspection.cache_failed')).toHaveLength(4); // two reads, two writes
      expect(events).toContainEqual({ type: 'introspection.cache_failed', message: 'cache down' });
    } finally {
      await issuer.close();
    }
  });
});

describe('introspection endpoint from discovery', () => {
  it('is taken from the issuer metadata, and never from a document that names another issuer (RFC 8414 §3.3)', async () => {
    const introspected: string[] = [];
    const server = createServer((req, res) => {
      const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      res.setHeader('content-type', 'application/json');
      if (req.url === '/good/.well-known/oauth-authorization-server')
        return res.end(JSON.stringify({ issuer: `${host}/good`, introspection_endpoint: `${host}/good/introspect` }));
      if (req.url === '/evil/.well-known/oauth-authorization-server')
        return res.end(JSON.stringify({ issuer: 'https://elsewhere.example', introspection_endpoint: `${host}/evil/introspect` }));
      if (req.url?.endsWith('/introspect')) {
        introspected.push(req.url);
        return res.end(JSON.stringify({ active: true, iss: `${host}/good`, aud: 'https://payments.example', exp: nowSeconds() + 60, sub: 'orders-service' }));
      }
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const options = { audience: 'https://payments.example', now: createClock().now, introspection: { clientId: 'rs', clientSecret: 'rs-secret' } };
      await expect(createVerifier({ ...options, issuer: `${base}/good` }).verify('opaque-token')).resolves.toMatchObject({
        subject: 'orders-service',
        source: 'introspection',
      });
      await expect(createVerifier({ ...options, issuer: `${base}/evil` }).verify('opaque-token')).rejects.toMatchObject({
        code: 'temporarily_unavailable',
        reason: 'introspection_unavailable',
      });
      expect(introspected).toEqual(['/good/introspect']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('provider presets with tokens shaped like each provider', () => {
  const cases = [
    {
      name: 'Keycloak',
      preset: (base: string) => presets.keycloak({ baseUrl: base, realm: 'shop', audience: 'payments-api' }),
      issuerPath: '/realms/shop',
      claims: (iss: string) => ({
        iss,
        aud: ['payments-api', 'account'],
        azp: 'orders-service',
        sub: 'service-account-uuid',
        typ: 'Bearer',
        scope: 'profile payments:read',
        exp: nowSeconds() + 300,
        iat: nowSeconds(),
      }),
      header: { typ: 'JWT' },
      expected: { subject: 'orders-service', clientId: 'orders-service', scopes: ['profile', 'payments:read'] },
    },
    {
      name: 'Auth0',
      preset: (base: string) => presets.auth0({ domain: base, audience: 'https://payments.example' }),
      issuerPath: '/',
      claims: (iss: string) => ({
        iss,
        aud: 'https://payments.example',
        azp: 'AbC123',
        sub: 'AbC123@clients',
        gty: 'client-credentials',
        scope: 'payments:read',
        permissions: ['payments:read'],
        exp: nowSeconds() + 300,
        iat: nowSeconds(),
      }),
      header: { typ: 'JWT' },
      expected: { subject: 'AbC123', clientId: 'AbC123', scopes: ['payments:read'], authorities: ['payments:read'] },
    },
    {
      name: 'Entra ID v2',
      preset: (base: string) => ({ ...presets.entra({ tenantId: 'tenant-1', audience: 'api://payments' }), issuer: `${base}/tenant-1/v2.0` }),
      issuerPath: '/tenant-1/v2.0',
      claims: (iss: string) => ({
        iss,
        aud: 'api://payments',
        azp: 'app-guid',
        sub: 'sp-object-id',
        roles: ['Payments.Read'],
        ver: '2.0',
        exp: nowSeconds() + 300,
        iat: nowSeconds(),
        nbf: nowSeconds(),
      }),
      header: { typ: 'JWT' },
      expected: { subject: 'app-guid', clientId: 'app-guid', scopes: [], authorities: ['Payments.Read'] },
    },
    {
      name: 'Entra ID v1',
      preset: (base: string) => ({ ...presets.entra({ tenantId: 'tenant-1', audience: 'api://payments', version: 1 }), issuer: `${base}/tenant-1/` }),
      issuerPath: '/tenant-1/',
      claims: (iss: string) => ({
        iss,
        aud: 'api://payments',
        appid: 'app-guid',
        sub: 'sp-object-id',
        roles: ['Payments.Read'],
        ver: '1.0',
        exp: nowSeconds() + 300,
        iat: nowSeconds(),
      }),
      header: { typ: 'JWT' },
      expected: { subject: 'app-guid', clientId: 'app-guid', authorities: ['Payments.Read'] },
    },
    {
      name: 'Cognito',
      preset: (base: string) => ({
        ...presets.cognito({ region: 'eu-west-1', userPoolId: 'eu-west-1_AbC', clientIds: ['cognito-client'] }),
        issuer: `${base}/eu-west-1_AbC`,
      }),
      issuerPath: '/eu-west-1_AbC',
      claims: (iss: string) => ({
        iss,
        client_id: 'cognito-client',
        sub: 'cognito-client',
        token_use: 'access',
        scope: 'payments/read',
        exp: nowSeconds() + 300,
        iat: nowSeconds(),
      }),
      header: { typ: undefined },
      expected: { subject: 'cognito-client', clientId: 'cognito-client', scopes: ['payments/read'] },
    },
    {
      name: 'Okta',
      preset: (base: string) => presets.okta({ domain: base, authorizationServerId: 'aus1', audience: 'api://payments' }),
      issuerPath: '/oauth2/aus1',
      claims: (iss: string) => ({
        iss,
        aud: 'api://payments',
        cid: '0oa-client',
        sub: '0oa-client',
        scp: ['payments:read'],
        ver: 1,
        exp: nowSeconds() + 300,
        iat: nowSeconds(),
      }),
      header: { typ: undefined },
      expected: { subject: '0oa-client', clientId: '0oa-client', scopes: ['payments:read'] },
    },
  ];

  for (const c of cases) {
    it(`${c.name}: accepts the provider's access token and maps its claims`, async () => {
      const key = await makeKey('RS256', `${c.name}-key`);
      const issuer = await startIssuer({ keys: [key] });
      try {
        const base = issuer.base;
        const preset = { ...c.preset(base), jwksUri: issuer.jwksUri };
        const verifier = createVerifier({ preset, now: createClock().now });
        const principal = await verifier.verify(await mint(key, c.claims(preset.issuer), c.header));
        expect(principal).toMatchObject(c.expected);
      } finally {
        await issuer.close();
      }
    });
  }

  it('Entra in a national cloud: issuer and keys from the authority, as the client preset takes it', async () => {
    const key = await makeKey('RS256');
    const issuer = await startIssuer({ keys: [key], issuerPath: '/tenant-1/v2.0' });
    try {
      // The stand-in is the authority; only its JWKS path differs from Entra's.
      const preset = presets.entra({ tenantId: 'tenant-1', audience: 'api://payments', authority: issuer.base });
      expect([preset.issuer, preset.jwksUri]).toEqual([`${issuer.base}/tenant-1/v2.0`, `${issuer.base}/tenant-1/discovery/v2.0/keys`]);
      const verifier = createVerifier({ preset: { ...preset, jwksUri: issuer.jwksUri }, now: createClock().now });
      const claims = {
        iss: preset.issuer,
        aud: 'api://payments',
        azp: 'app-guid',
        sub: 'sp',
        roles: ['Payments.Read'],
        exp: nowSeconds() + 300,
        iat: nowSeconds(),
      };
      expect(await verifier.verify(await mint(key, claims, { typ: 'JWT' }))).toMatchObject({ clientId: 'app-guid', authorities: ['Payments.Read'] });
      // A token of the global cloud's issuer is not one of this cloud's.
      const global = { ...claims, iss: 'https://login.microsoftonline.com/tenant-1/v2.0' };
      await expect(verifier.verify(await mint(key, global, { typ: 'JWT' }))).rejects.toMatchObject({ reason: 'wrong_issuer' });
    } finally {
      await issuer.close();
    }
  });

  it('Entra: the issuers and keys of the global, US Government and China clouds, v2 and v1', () => {
    const at = (authority: string | undefined, version: 1 | 2) => {
      const preset = presets.entra({ tenantId: 't', audience: 'api://x', version, ...(authority ? { authority } : {}) });
      return [preset.issuer, preset.jwksUri];
    };
    expect(at(undefined, 2)).toEqual(['https://login.microsoftonline.com/t/v2.0', 'https://login.microsoftonline.com/t/discovery/v2.0/keys']);
    expect(at(undefined, 1)).toEqual(['https://sts.windows.net/t/', 'https://login.microsoftonline.com/t/discovery/v2.0/keys']);
    expect(at('login.microsoftonline.us', 2)).toEqual(['https://login.microsoftonline.us/t/v2.0', 'https://login.microsoftonline.us/t/discovery/v2.0/keys']);
    expect(at('https://login.microsoftonline.us/', 1)).toEqual(['https://sts.windows.net/t/', 'https://login.microsoftonline.us/t/discovery/v2.0/keys']);
    expect(at('login.partner.microsoftonline.cn', 2)).toEqual([
      'https://login.partner.microsoftonline.cn/t/v2.0',
      'https://login.partner.microsoftonline.cn/t/discovery/v2.0/keys',
    ]);
    expect(at('login.partner.microsoftonline.cn', 1)).toEqual([
      'https://sts.chinacloudapi.cn/t/',
      'https://login.partner.microsoftonline.cn/t/discovery/v2.0/keys',
    ]);
    // v1 tokens name an STS host of their own, known for these clouds only: not guessed for others.
    expect(() => at('login.example.net', 1)).toThrowError(/presets\.entra: the issuer of version 1 tokens from login\.example\.net is not known/);
  });

  it('Cognito: an ID token (token_use=id) or another app client is refused', async () => {
    const key = await makeKey('RS256');
    const issuer = await startIssuer({ keys: [key] });
    try {
      const preset = {
        ...presets.cognito({ region: 'eu-west-1', userPoolId: 'pool', clientIds: ['cognito-client'] }),
        issuer: `${issuer.base}/pool`,
        jwksUri: issuer.jwksUri,
      };
      const verifier = createVerifier({ preset, now: createClock().now });
      const base = { iss: preset.issuer, client_id: 'cognito-client', exp: nowSeconds() + 300, iat: nowSeconds() };
      await expect(verifier.verify(await mint(key, { ...base, token_use: 'id' }))).rejects.toMatchObject({ reason: 'wrong_token_use' });
      await expect(verifier.verify(await mint(key, { ...base, token_use: 'access', client_id: 'other' }))).rejects.toMatchObject({ reason: 'wrong_audience' });
    } finally {
      await issuer.close();
    }
  });
});

describe('delegation (RFC 8693 act)', () => {
  it('exposes the chain of actors on the principal, the current actor first; none for a token the subject obtained itself', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const verifier = createVerifier({ issuer: 'https://a.example', audience: 'https://payments.example', sharedSecret: secret, now: createClock().now });
    const { SignJWT } = await import('jose');
    const sign = (extra: Record<string, unknown>) =>
      new SignJWT(claims('https://a.example', extra)).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(Buffer.from(secret));
    const exchanged = await sign({
      client_id: 'ledger-service',
      act: { sub: 'ledger-service', client_id: 'ledger-service', act: { sub: 'payment-service', client_id: 'payment-service' } },
    });
    const principal = await verifier.verify(exchanged);
    expect(principal.subject).toBe('orders-service');
    expect(principal.clientId).toBe('ledger-service');
    expect(principal.actors).toEqual([
      { subject: 'ledger-service', clientId: 'ledger-service', issuer: undefined },
      { subject: 'payment-service', clientId: 'payment-service', issuer: undefined },
    ]);
    expect((await verifier.verify(await sign({}))).actors).toEqual([]);
  });
});
