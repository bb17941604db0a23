import { describe, expect, it } from 'vitest';
import { createAuthFetch, createTokenClient, isOAuthError, isTokenClientError, presets, TokenClientError, type TokenClientOptions } from '../src/index.js';
import { useBearerAuth } from '../src/axios.js';

const valid: TokenClientOptions = { tokenEndpoint: 'https://auth.example/token', clientId: 'orders-service', clientSecret: 's3cret' };
/** What a JavaScript caller can pass: anything. */
const js = <T>(value: unknown) => value as T;
const configurationError = (message: string | RegExp) => {
  const matcher = typeof message === 'string' ? message : expect.stringMatching(message);
  return expect.objectContaining({ name: 'TokenClientError', code: 'configuration_error', message: matcher });
};

describe('createTokenClient options are checked at set-up, each mistake named', () => {
  const cases: Array<[string, unknown, string | RegExp]> = [
    ['options not an object', 'https://auth.example', 'createTokenClient: the options must be an object (got a string).'],
    [
      'no clientId',
      { tokenEndpoint: valid.tokenEndpoint, clientSecret: 'x' },
      'createTokenClient: clientId is required: the client id the provider knows this service by.',
    ],
    ['clientId of the wrong type', { ...valid, clientId: 42 }, 'createTokenClient: clientId must be a non-empty string (got number).'],
    ['empty clientSecret', { ...valid, clientSecret: '' }, 'createTokenClient: clientSecret must be a non-empty string (got an empty string).'],
    [
      'no credentials',
      { tokenEndpoint: valid.tokenEndpoint, clientId: 'x' },
      'createTokenClient: clientSecret, privateKey, clientAssertion or mtls is required.',
    ],
    ['no endpoint', { clientId: 'x', clientSecret: 'y' }, 'createTokenClient: issuer, tokenEndpoint or a preset is required.'],
    ['empty issuer', { ...valid, tokenEndpoint: undefined, issuer: '' }, 'createTokenClient: issuer must be a non-empty string (got an empty string).'],
    [
      'tokenEndpoint not a URL',
      { ...valid, tokenEndpoint: 'auth.example/token' },
      'createTokenClient: tokenEndpoint must be an absolute http(s) URL (got a string that is not a URL).',
    ],
    [
      'tokenEndpoint of the wrong type',
      { ...valid, tokenEndpoint: new URL('https://auth.example/token') },
      'createTokenClient: tokenEndpoint must be a non-empty string (got object).',
    ],
    [
      'privateKey a string that is not PEM',
      { ...valid, clientSecret: undefined, privateKey: 'not-a-key' },
      /^createTokenClient: privateKey must be a PKCS#8 PEM .* \(got a string that is not a PKCS#8 PEM\)\.$/,
    ],
    ['privateKey a number', { ...valid, clientSecret: undefined, privateKey: 1 }, /^createTokenClient: privateKey must be .* \(got number\)\.$/],
    ['assertionAlg none', { ...valid, assertionAlg: 'none' }, "createTokenClient: assertionAlg is 'none': a client assertion must be signed."],
    [
      'assertionAlg HS256',
      { ...valid, assertionAlg: 'HS256' },
      'createTokenClient: assertionAlg is HS256: private_key_jwt signs with a private key; client_secret_jwt (HS*) is not supported.',
    ],
    ['assertionAlg unknown', { ...valid, assertionAlg: 'RS1' }, /^createTokenClient: assertionAlg must be one of 'RS256', .*'EdDSA' \(got another string\)\.$/],
    [
      'authMethod unknown',
      { ...valid, authMethod: 'basic' },
      `createTokenClient: authMethod must be one of 'client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth' (got another string).`,
    ],
    ['private_key_jwt without a key', { ...valid, authMethod: 'private_key_jwt' }, "createTokenClient: authMethod 'private_key_jwt' needs privateKey."],
    ['empty audience', { ...valid, audience: '' }, 'createTokenClient: audience must be a non-empty string (got an empty string).'],
    [
      'resource not a URI',
      { ...valid, resource: 'payments' },
      'createTokenClient: resource must be an absolute URI (RFC 8707) (got a string that is not one).',
    ],
    [
      'empty scope string',
      { ...valid, scope: '' },
      'createTokenClient: scope must be a space-separated string or an array of scope values (got an empty string; leave it out for the default scopes).',
    ],
    ['scope of the wrong type', { ...valid, scope: 5 }, /^createTokenClient: scope must be a space-separated string .* \(got number;/],
    [
      'scope array with a space',
      { ...valid, scope: ['a b'] },
      'createTokenClient: scope[0] must be a scope value: printable ASCII without spaces, quotes or backslashes (got a string).',
    ],
    [
      'extraParams overriding grant_type',
      { ...valid, extraParams: { grant_type: 'password' } },
      'createTokenClient: extraParams.grant_type is set by the SDK and cannot be overridden.',
    ],
    ['extraParams with a number', { ...valid, extraParams: { tenant: 1 } }, 'createTokenClient: extraParams.tenant must be a string (got number).'],
    [
      'refreshAhead.fraction above 1',
      { ...valid, refreshAhead: { fraction: 2 } },
      'createTokenClient: refreshAhead.fraction must be a number ≥ 0 ≤ 1 (got 2).',
    ],
    ['negative expiryMarginSeconds', { ...valid, expiryMarginSeconds: -5 }, 'createTokenClient: expiryMarginSeconds must be a number ≥ 0 (got -5).'],
    ['retry.maxAttempts zero', { ...valid, retry: { maxAttempts: 0 } }, 'createTokenClient: retry.maxAttempts must be an integer ≥ 1 (got 0).'],
    ['retry.maxDelayMs negative', { ...valid, retry: { maxDelayMs: -1 } }, 'createTokenClient: retry.maxDelayMs must be a number ≥ 0 (got -1).'],
    ['retry misspelt', { ...valid, retry: { attempts: 3 } }, /^createTokenClient: retry has unknown option "attempts"/],
    ['negative timeoutMs', { ...valid, timeoutMs: -1 }, 'createTokenClient: timeoutMs must be a number > 0 (got -1).'],
    ['timeoutMs as a string', { ...valid, timeoutMs: '1000' }, 'createTokenClient: timeoutMs must be a number > 0 (got a string).'],
    ['backgroundRefresh as a string', { ...valid, backgroundRefresh: 'no' }, 'createTokenClient: backgroundRefresh must be true or false (got a string).'],
    ['fetch not a function', { ...valid, fetch: 'node-fetch' }, 'createTokenClient: fetch must be a function (got a string).'],
    ['a misspelt option', { ...valid, clientSecrets: 'x' }, /^createTokenClient: options has unknown option "clientSecrets" \(known: issuer, tokenEndpoint, /],
    [
      'the preset factory instead of a preset',
      { ...valid, tokenEndpoint: undefined, preset: presets.auth0 },
      'createTokenClient: preset must be a preset object: call the preset, e.g. presets.auth0({ domain }) (got a function).',
    ],
    ['an http endpoint off loopback', { ...valid, tokenEndpoint: 'http://auth.example/token' }, /refusing to send credentials to http:\/\/auth.example/],
  ];

  for (const [name, options, message] of cases) {
    it(name, () => {
      expect(() => createTokenClient(js(options))).toThrowError(configurationError(message));
    });
  }

  it('a secret put in the wrong option never appears in the message', () => {
    const secret = 'super-secret-value-0123456789';
    for (const options of [
      { ...valid, clientId: [secret] },
      { ...valid, audience: { secret } },
      { ...valid, clientSecret: undefined, privateKey: secret },
      { ...valid, authMethod: secret },
    ]) {
      const error = (() => {
        try {
          createTokenClient(js(options));
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error?.message).toMatch(/^createTokenClient: /);
      expect(error?.message).not.toContain(secret.slice(0, 12));
    }
  });

  it('per-call options: for() throws at set-up, getToken() rejects (never a synchronous throw from a promise API)', async () => {
    const client = createTokenClient({ ...valid, fetch: () => Promise.reject(new Error('no network in this test')) });
    try {
      expect(() => client.for(js({ scope: '' }))).toThrowError(configurationError(/^for: scope must be a space-separated string/));
      expect(() => client.for(js({ audiance: 'x' }))).toThrowError(configurationError(/^for: options has unknown option "audiance"/));
      const pending = client.getToken(js({ audience: 42 }));
      await expect(pending).rejects.toEqual(configurationError('getToken: audience must be a non-empty string (got number).'));
    } finally {
      client.close();
    }
  });

  it('createAuthFetch and useBearerAuth refuse what is not a token client, an axios instance or valid options', () => {
    const client = createTokenClient(valid);
    try {
      expect(() => createAuthFetch(js(null))).toThrowError(
        configurationError('createAuthFetch: needs a token client from createTokenClient() or a handle from client.for() (got null).'),
      );
      expect(() => createAuthFetch(js({ getToken: 'x' }))).toThrowError(configurationError(/^createAuthFetch: needs a token client/));
      expect(() => createAuthFetch(client, js({ fetch: 'x' }))).toThrowError(configurationError('createAuthFetch: fetch must be a function (got a string).'));
      expect(() => createAuthFetch(client, js({ scope: [''] }))).toThrowError(configurationError(/^createAuthFetch: scope\[0\] must be a scope value/));
      expect(() => useBearerAuth(js({}), client)).toThrowError(
        configurationError('useBearerAuth: needs an axios instance (axios.create() or axios itself) as its first argument.'),
      );
      expect(() => useBearerAuth(js(undefined), client)).toThrowError(configurationError(/^useBearerAuth: needs an axios instance/));
    } finally {
      client.close();
    }
  });

  it('the presets check their own options when called', () => {
    expect(() => presets.auth0(js(undefined))).toThrowError(configurationError('presets.auth0: needs an options object (got undefined).'));
    expect(() => presets.keycloak(js({ baseUrl: 'https://sso.example' }))).toThrowError(
      configurationError('presets.keycloak: realm is required: it names where the provider is.'),
    );
    expect(() => presets.entra(js({ tenantId: '' }))).toThrowError(
      configurationError('presets.entra: tenantId must be a non-empty string (got an empty string).'),
    );
    expect(() => presets.okta(js({ domain: 'x.okta.com', authorizationServerId: 3 }))).toThrowError(
      configurationError('presets.okta: authorizationServerId must be a non-empty string (got number).'),
    );
  });
});

describe('error type guards survive two copies of the package', () => {
  /** A TokenClientError from another installed copy: same shape, another class. */
  class TokenClientErrorFromOtherCopy extends Error {
    override readonly name = 'TokenClientError';
    constructor(
      readonly code: string,
      message: string,
      readonly error?: string,
    ) {
      super(message);
    }
  }

  it('isTokenClientError and isOAuthError match on name and code, not on the class', () => {
    const refused = new TokenClientErrorFromOtherCopy('oauth_error', 'token request refused: invalid_scope', 'invalid_scope');
    expect(isTokenClientError(new TokenClientError('closed', 'closed'))).toBe(true);
    expect(isTokenClientError(refused)).toBe(true);
    expect(isTokenClientError({ name: 'TokenClientError', code: 'provider_unavailable', message: 'down' })).toBe(true);
    expect(isOAuthError(refused)).toBe(true);
    expect(isOAuthError(refused, 'invalid_scope')).toBe(true);
    expect(isOAuthError(refused, 'invalid_client')).toBe(false);
    expect(isOAuthError(new TokenClientErrorFromOtherCopy('provider_unavailable', 'down'))).toBe(false);
    expect(isTokenClientError({ name: 'TokenClientError', code: 'no_such_code', message: 'x' })).toBe(false);
    expect(isTokenClientError({ name: 'Error', code: 'closed', message: 'x' })).toBe(false);
    expect(isTokenClientError(Object.assign(new Error('x'), { code: 'closed' }))).toBe(false);
    for (const value of [null, undefined, 'TokenClientError', 0]) expect(isTokenClientError(value)).toBe(false);
  });
});
