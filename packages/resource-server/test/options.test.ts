import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import * as expressAdapter from '../src/express.js';
import * as fastifyAdapter from '../src/fastify.js';
import {
  AuthError,
  checkAuthorities,
  checkScopes,
  createVerifier,
  isAuthError,
  presets,
  toHttpResponse,
  type Principal,
  type Verifier,
  type VerifierOptions,
} from '../src/index.js';

const ISSUER = 'https://auth.example';
const AUDIENCE = 'https://payments.example';
const valid: VerifierOptions = { issuer: ISSUER, audience: AUDIENCE };
/** What a JavaScript caller can pass: anything. */
const js = <T>(value: unknown) => value as T;

describe('scope requirements are checked when the route is set up', () => {
  const adapters = { express: expressAdapter, fastify: fastifyAdapter };

  for (const [name, adapter] of Object.entries(adapters)) {
    it(`${name}: requireScopes and requireAuthorities take a space-separated string or an array`, () => {
      expect(typeof adapter.requireScopes('read:orders')).toBe('function');
      expect(typeof adapter.requireScopes('read:orders write:orders', { match: 'any' })).toBe('function');
      expect(typeof adapter.requireScopes(['read:orders'])).toBe('function');
      expect(typeof adapter.requireAuthorities('Orders.Read')).toBe('function');
      expect(typeof adapter.requireAuthorities(['SCOPE_read', 'ROLE_admin'], { realm: 'orders' })).toBe('function');
    });

    it(`${name}: an empty or malformed requirement throws at set-up, naming the function`, () => {
      const bad: Array<[unknown, RegExp]> = [
        ['', /requireScopes must be a space-separated string or a non-empty array of scope values \(got an empty string\)/],
        ['   ', /requireScopes must be .* \(got a blank string\)/],
        [[], /requireScopes must be .* \(got an empty array\)/],
        [undefined, /requireScopes must be .* \(got undefined\)/],
        [null, /requireScopes must be .* \(got null\)/],
        [42, /requireScopes must be .* \(got number\)/],
        [{ scope: 'read' }, /requireScopes must be .* \(got object\)/],
        ['read:orders  write:orders', /requireScopes \(value 2 of "read:orders  write:orders"\) must be a scope value: .* \(got an empty string\)/],
        [['read:orders write:orders'], /requireScopes\[0\] must be a scope value: printable ASCII without spaces/],
        [['read:orders', 7], /requireScopes\[1\] must be a scope value: .* \(got number\)/],
        [['read"orders'], /requireScopes\[0\] must be a scope value/],
      ];
      for (const [value, message] of bad) {
        expect(() => adapter.requireScopes(js(value)), String(value)).toThrowError(new RegExp(message.source));
        expect(() => adapter.requireScopes(js(value)), String(value)).toThrowError(TypeError);
      }
      expect(() => adapter.requireAuthorities(js(''))).toThrowError(/requireAuthorities must be a space-separated string/);
      expect(() => adapter.requireScopes('read', js({ match: 'some' }))).toThrowError(
        "requireScopes option match must be one of 'all', 'any' (got another string).",
      );
      expect(() => adapter.requireScopes('read', js({ realm: '' }))).toThrowError(
        'requireScopes option realm must be a non-empty string (got an empty string).',
      );
      expect(() => adapter.requireScopes('read', js({ mtach: 'any' }))).toThrowError(/requireScopes options has unknown option "mtach"/);
      expect(() => adapter.requireScopes('read', js('any'))).toThrowError(/requireScopes options must be an object \(got a string\)/);
    });

    it(`${name}: requireAuth refuses what is neither options nor a verifier, at set-up`, () => {
      expect(() => adapter.requireAuth(js(null))).toThrowError('requireAuth needs verifier options or a verifier from createVerifier() (got null).');
      expect(() => adapter.requireAuth(js(ISSUER))).toThrowError('requireAuth needs verifier options or a verifier from createVerifier() (got string).');
      expect(() => adapter.requireAuth(js({ verify: 'yes' }))).toThrowError('requireAuth was given something that is not a verifier from createVerifier().');
      expect(() => adapter.requireAuth(js({ issuer: ISSUER, audience: '' }))).toThrowError(
        'createVerifier: audience must be a non-empty string (got an empty string).',
      );
    });
  }

  it('checkScopes and checkAuthorities (the core, for other frameworks) refuse an empty requirement instead of passing', () => {
    const principal = { scopes: ['read:orders'], authorities: ['read:orders', 'Orders.Admin'] } as unknown as Principal;
    expect(() => checkScopes(principal, '')).toThrowError(/checkScopes: required must be a space-separated string/);
    expect(() => checkScopes(principal, [])).toThrowError(TypeError);
    expect(() => checkAuthorities(principal, js(undefined))).toThrowError(/checkAuthorities: required must be/);
    expect(() => checkScopes(principal, 'read:orders')).not.toThrow();
    expect(() => checkScopes(principal, 'read:orders write:orders')).toThrowError(
      expect.objectContaining({ code: 'insufficient_scope', requiredScopes: ['read:orders', 'write:orders'] }),
    );
    expect(() => checkScopes(principal, 'read:orders write:orders', { match: 'any' })).not.toThrow();
    expect(() => checkAuthorities(principal, 'Orders.Admin')).not.toThrow();
    expect(() => checkAuthorities(principal, ['Orders.Owner'])).toThrowError(
      expect.objectContaining({ code: 'insufficient_scope', description: 'The access token needs the authorities: Orders.Owner.', requiredScopes: [] }),
    );
  });
});

describe('createVerifier options are checked at set-up, each mistake named', () => {
  const cases: Array<[string, unknown, string | RegExp]> = [
    ['options not an object', 'https://auth.example', 'createVerifier: the options must be an object (got a string).'],
    ['options null', null, 'createVerifier: the options must be an object (got null).'],
    ['no issuer', { audience: AUDIENCE }, 'createVerifier: an issuer is required (issuer, issuers, or a preset).'],
    ['empty issuer', { ...valid, issuer: '' }, 'createVerifier: issuer must be a non-empty string (got an empty string).'],
    ['issuer of the wrong type', { ...valid, issuer: 42 }, 'createVerifier: issuer must be a non-empty string (got number).'],
    ['issuer not a URL', { ...valid, issuer: 'auth.example' }, 'createVerifier: issuer must be an absolute http(s) URL (got a string that is not a URL).'],
    ['issuer not http(s)', { ...valid, issuer: 'ftp://auth.example' }, 'createVerifier: issuer must be an absolute http(s) URL (got a ftp: URL).'],
    [
      'issuers with an empty entry',
      { audience: AUDIENCE, issuers: [ISSUER, ''] },
      'createVerifier: issuers[1] must be a non-empty string (got an empty string).',
    ],
    ['issuers not an array', { audience: AUDIENCE, issuers: ISSUER }, 'createVerifier: issuers must be a non-empty array of non-empty strings (got a string).'],
    ['no audience', { issuer: ISSUER }, 'createVerifier: an audience is required (audience, or allowedClientIds for providers without aud).'],
    ['empty audience', { ...valid, audience: '' }, 'createVerifier: audience must be a non-empty string (got an empty string).'],
    ['empty audience list', { ...valid, audience: [] }, 'createVerifier: audience must be a non-empty array of non-empty strings (got an empty array).'],
    [
      'audience of the wrong type',
      { ...valid, audience: 1 },
      'createVerifier: audience must be a non-empty string or a non-empty array of strings (got number).',
    ],
    [
      'allowedClientIds with a number',
      { issuer: ISSUER, allowedClientIds: [1] },
      'createVerifier: allowedClientIds[0] must be a non-empty string (got number).',
    ],
    ['jwksUri not a URL', { ...valid, jwksUri: '/jwks' }, 'createVerifier: jwksUri must be an absolute http(s) URL (got a string that is not a URL).'],
    [
      'jwksUri with several issuers',
      { audience: AUDIENCE, issuers: [ISSUER, 'https://b.example'], jwksUri: 'https://a.example/jwks' },
      'createVerifier: jwksUri needs a single issuer; several issuers use discovery.',
    ],
    ['algorithm none', { ...valid, algorithms: ['RS256', 'none'] }, "createVerifier: algorithms[1] is 'none': unsigned tokens are never accepted."],
    ['unknown algorithm', { ...valid, algorithms: ['RS257'] }, /^createVerifier: algorithms\[0\] must be one of RS256, .*HS512 \(got another string\)\.$/],
    ['algorithms not an array', { ...valid, algorithms: 'RS256' }, 'createVerifier: algorithms must be a non-empty array of JWS algorithms (got a string).'],
    ['empty algorithms', { ...valid, algorithms: [] }, 'createVerifier: algorithms must be a non-empty array of JWS algorithms (got an empty array).'],
    ['HS256 without a secret', { ...valid, algorithms: ['HS256'] }, /^createVerifier: algorithms\[0\] is HS256, which needs an explicit sharedSecret/],
    ['short shared secret', { ...valid, sharedSecret: 'short' }, 'createVerifier: sharedSecret must be at least 32 bytes (got 5).'],
    ['shared secret of the wrong type', { ...valid, sharedSecret: 12345 }, 'createVerifier: sharedSecret must be a string or a Buffer (got number).'],
    ['negative clock tolerance', { ...valid, clockToleranceSeconds: -1 }, 'createVerifier: clockToleranceSeconds must be a number ≥ 0 (got -1).'],
    ['clock tolerance as a string', { ...valid, clockToleranceSeconds: '5' }, 'createVerifier: clockToleranceSeconds must be a number ≥ 0 (got a string).'],
    ['NaN clock tolerance', { ...valid, clockToleranceSeconds: Number.NaN }, 'createVerifier: clockToleranceSeconds must be a number ≥ 0 (got NaN).'],
    ['requireTyp as a string', { ...valid, requireTyp: 'false' }, 'createVerifier: requireTyp must be true or false (got a string).'],
    ['empty principalClaim', { ...valid, principalClaim: '' }, 'createVerifier: principalClaim must be a non-empty string (got an empty string).'],
    [
      'requiredClaims value an object',
      { ...valid, requiredClaims: { token_use: { is: 'access' } } },
      'createVerifier: requiredClaims.token_use must be a string, number or boolean (got object).',
    ],
    ['requiredClaims as a string', { ...valid, requiredClaims: 'jti' }, 'createVerifier: requiredClaims must be an object (got a string).'],
    [
      'authorities.roleClaims as a string',
      { ...valid, authorities: { roleClaims: 'roles' } },
      'createVerifier: authorities.roleClaims must be a non-empty array of non-empty strings (got a string).',
    ],
    [
      'authorities.scopePrefix as a number',
      { ...valid, authorities: { scopePrefix: 1 } },
      'createVerifier: authorities.scopePrefix must be a string (got number).',
    ],
    [
      'introspection without credentials',
      { ...valid, introspection: { endpoint: 'https://auth.example/introspect' } },
      'createVerifier: introspection.clientId is required: introspection authenticates as a client.',
    ],
    [
      'introspection mode unknown',
      { ...valid, introspection: { clientId: 'a', clientSecret: 'b', mode: 'sometimes' } },
      `createVerifier: introspection.mode must be one of 'fallback', 'always' (got another string).`,
    ],
    [
      'introspection cache without set()',
      { ...valid, introspection: { clientId: 'a', clientSecret: 'b', cache: { get() {} } } },
      'createVerifier: introspection.cache must be an IntrospectionCache with get() and set() (got object).',
    ],
    [
      'introspection negative timeout',
      { ...valid, introspection: { clientId: 'a', clientSecret: 'b', timeoutMs: -5 } },
      'createVerifier: introspection.timeoutMs must be a number > 0 (got -5).',
    ],
    ['cache: true', { ...valid, cache: true }, 'createVerifier: cache must be false or { maxEntries } (got true; leave it out for the default cache).'],
    ['cache.maxEntries zero', { ...valid, cache: { maxEntries: 0 } }, 'createVerifier: cache.maxEntries must be an integer ≥ 1 (got 0).'],
    ['cache.maxEntries fractional', { ...valid, cache: { maxEntries: 1.5 } }, 'createVerifier: cache.maxEntries must be an integer ≥ 1 (got 1.5).'],
    [
      'replayDetection a string',
      { ...valid, replayDetection: 'memory' },
      'createVerifier: replayDetection must be true, false or a ReplayStore with checkAndRemember() (got a string).',
    ],
    ['negative JWKS timeout', { ...valid, jwks: { timeoutMs: -1 } }, 'createVerifier: jwks.timeoutMs must be a number > 0 (got -1).'],
    ['zero JWKS timeout', { ...valid, jwks: { timeoutMs: 0 } }, 'createVerifier: jwks.timeoutMs must be a number > 0 (got 0).'],
    ['negative JWKS cooldown', { ...valid, jwks: { cooldownSeconds: -30 } }, 'createVerifier: jwks.cooldownSeconds must be a number ≥ 0 (got -30).'],
    [
      'JWKS option misspelt',
      { ...valid, jwks: { timeout: 100 } },
      /^createVerifier: jwks has unknown option "timeout" \(known: cooldownSeconds, timeoutMs, prefetch\)\.$/,
    ],
    ['verifyOn unknown', { ...valid, verifyOn: 'gpu' }, `createVerifier: verifyOn must be one of 'auto', 'threadpool', 'event-loop' (got another string).`],
    ['empty realm', { ...valid, realm: '' }, 'createVerifier: realm must be a non-empty string (got an empty string).'],
    ['bearer.maxLength negative', { ...valid, bearer: { maxLength: -1 } }, 'createVerifier: bearer.maxLength must be an integer ≥ 1 (got -1).'],
    ['bearer.allowQuery a string', { ...valid, bearer: { allowQuery: 'yes' } }, 'createVerifier: bearer.allowQuery must be true or false (got a string).'],
    ['onEvent not a function', { ...valid, onEvent: 'log' }, 'createVerifier: onEvent must be a function (got a string).'],
    ['fetch not a function', { ...valid, fetch: {} }, 'createVerifier: fetch must be a function (got object).'],
    ['now not a function', { ...valid, now: 0 }, 'createVerifier: now must be a function (got number).'],
    ['a misspelt option', { ...valid, audiance: AUDIENCE }, /^createVerifier: options has unknown option "audiance" \(known: preset, issuer, /],
    [
      'the preset factory instead of a preset',
      { preset: presets.auth0 },
      'createVerifier: preset must be a preset object: call the preset, e.g. presets.auth0({ domain, audience }) (got a function).',
    ],
    [
      'a hand-made preset with an empty audience',
      { preset: { ...presets.m2mAuth({ issuer: ISSUER, audience: AUDIENCE }), audience: '' } },
      'createVerifier: preset.audience must be a non-empty string (got an empty string).',
    ],
    [
      'a hand-made preset without an issuer',
      { preset: { name: 'mine', audience: AUDIENCE } },
      'createVerifier: preset.issuer is required: a preset names its issuer.',
    ],
  ];

  for (const [name, options, message] of cases) {
    it(name, () => {
      expect(() => createVerifier(js(options))).toThrowError(TypeError);
      expect(() => createVerifier(js(options))).toThrowError(message);
    });
  }

  it('the presets check their own options when called', () => {
    expect(() => presets.auth0(js(undefined))).toThrowError('presets.auth0: needs an options object (got undefined).');
    expect(() => presets.auth0(js({ domain: 'tenant.auth0.com', audience: '' }))).toThrowError(
      'presets.auth0: audience must be a non-empty string (got an empty string).',
    );
    expect(() => presets.entra(js({ tenantId: 't', audience: 'api://x', version: '2' }))).toThrowError('presets.entra: version must be 1 or 2 (got a string).');
    expect(() => presets.entra(js({ tenantId: 't', audience: 'api://x', authority: 5 }))).toThrowError(
      'presets.entra: authority must be a non-empty string (got number).',
    );
    expect(() => presets.cognito(js({ region: 'eu-west-1', userPoolId: 'pool', clientIds: [] }))).toThrowError(
      'presets.cognito: clientIds must be a non-empty array of non-empty strings (got an empty array).',
    );
    expect(() => presets.keycloak(js({ baseUrl: 'https://sso.example', realm: 'shop', audience: 'api', realms: 'x' }))).toThrowError(
      /presets.keycloak: options has unknown option "realms"/,
    );
    expect(() => presets.okta(js({ domain: 'x.okta.com', audience: 'api', authorizationServerId: 7 }))).toThrowError(
      'presets.okta: authorizationServerId must be a non-empty string (got number).',
    );
  });

  it('a secret put in the wrong option never appears in the message', () => {
    const secret = 'super-secret-value-0123456789-abcdef';
    for (const options of [
      { ...valid, realm: [secret] },
      { ...valid, verifyOn: 123 },
      { ...valid, sharedSecret: secret.slice(0, 10) },
      { ...valid, issuer: secret },
    ]) {
      let message = '';
      try {
        createVerifier(js(options));
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^createVerifier: /);
      expect(message).not.toContain(secret.slice(0, 10));
    }
  });

  it('valid options, every kind, are accepted', () => {
    expect(() =>
      createVerifier({
        issuers: [ISSUER, 'http://127.0.0.1:8080'],
        audience: [AUDIENCE],
        algorithms: ['ES256', 'EdDSA', 'HS256'],
        sharedSecret: Buffer.alloc(32, 1),
        clockToleranceSeconds: 0,
        requiredClaims: { token_use: 'access' },
        requireTyp: false,
        principalClaim: 'azp',
        authorities: { scopeClaims: ['scp'], roleClaims: ['roles'], scopePrefix: '', rolePrefix: 'ROLE_' },
        introspection: { clientId: 'rs', clientSecret: 'secret', mode: 'always', timeoutMs: 100 },
        cache: { maxEntries: 1 },
        replayDetection: false,
        jwks: { cooldownSeconds: 0, timeoutMs: 1, prefetch: false },
        verifyOn: 'event-loop',
        realm: 'orders',
        bearer: { allowBody: true, allowQuery: false, maxLength: 4096 },
        onEvent: () => undefined,
        fetch: globalThis.fetch,
        now: Date.now,
      }),
    ).not.toThrow();
    expect(() => createVerifier({ preset: presets.cognito({ region: 'eu-west-1', userPoolId: 'pool', clientIds: ['c'] }) })).not.toThrow();
  });
});

describe('error type guards survive two copies of the package', () => {
  /** What an AuthError from another installed copy looks like: the same shape, another class. */
  class AuthErrorFromOtherCopy extends Error {
    override readonly name = 'AuthError';
    readonly status = 401;
    constructor(
      readonly code: string,
      readonly description: string,
      readonly reason: string,
      readonly requiredScopes: readonly string[] = [],
    ) {
      super(description);
    }
  }

  it('isAuthError matches on name and code, not on the class', () => {
    expect(isAuthError(new AuthError('invalid_token', 'x', 'expired'))).toBe(true);
    expect(isAuthError(new AuthErrorFromOtherCopy('invalid_token', 'The access token expired.', 'expired'))).toBe(true);
    expect(
      isAuthError({ name: 'AuthError', code: 'insufficient_scope', description: 'd', reason: 'insufficient_scope', requiredScopes: ['a'], status: 403 }),
    ).toBe(true);
    expect(isAuthError(new Error('AuthError'))).toBe(false);
    expect(isAuthError({ name: 'AuthError', code: 'not_a_code', description: 'd', reason: 'expired', requiredScopes: [] })).toBe(false);
    expect(isAuthError({ name: 'TypeError', code: 'invalid_token', description: 'd', reason: 'expired', requiredScopes: [] })).toBe(false);
    expect(isAuthError({ name: 'AuthError', code: 'invalid_token', reason: 'expired', requiredScopes: [] })).toBe(false);
    for (const value of [null, undefined, 'AuthError', 401]) expect(isAuthError(value)).toBe(false);
  });

  it('toHttpResponse answers a second-copy error like its own (status from the code)', () => {
    const foreign = new AuthErrorFromOtherCopy('insufficient_scope', 'The access token needs the scopes: a.', 'insufficient_scope', ['a']);
    expect(toHttpResponse(foreign as unknown as AuthError, 'api')).toEqual(
      toHttpResponse(new AuthError('insufficient_scope', 'The access token needs the scopes: a.', 'insufficient_scope', ['a']), 'api'),
    );
  });

  /** A verifier (e.g. from another copy, shared between packages) whose check throws a second-copy error. */
  const foreignVerifier = (error: unknown): Verifier => ({
    verify: async () => Promise.reject(error),
    authenticate: async () => Promise.reject(error),
    check: () => {
      throw error;
    },
    prefetch: async () => undefined,
    realm: 'orders',
    acceptsBodyToken: false,
    acceptsQueryToken: false,
  });

  it('the Express and Fastify adapters answer a second-copy AuthError per RFC 6750, not with a 500', async () => {
    const error = new AuthErrorFromOtherCopy('invalid_token', 'The access token expired.', 'expired');
    const expected = {
      status: 401,
      challenge: 'Bearer realm="orders", error="invalid_token", error_description="The access token expired."',
      body: { error: 'invalid_token', error_description: 'The access token expired.' },
    };

    const app = express();
    app.get('/', expressAdapter.requireAuth(foreignVerifier(error)), (_req, res) => res.json({ ok: true }));
    const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const fastify = Fastify();
    await fastify.register(fastifyAdapter.resourceServer);
    fastify.get('/', { preHandler: fastifyAdapter.requireAuth(foreignVerifier(error)) }, async () => ({ ok: true }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    try {
      for (const port of [(server.address() as AddressInfo).port, (fastify.server.address() as AddressInfo).port]) {
        const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: 'Bearer abc' } });
        expect({ status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.json() }).toEqual(expected);
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fastify.close();
    }
  });
});
