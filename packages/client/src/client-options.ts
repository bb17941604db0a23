import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describeValue } from '@m2m-auth/sdk-core';
import { optionChecks } from './option-checks.js';
import { algorithmOf } from './dpop.js';
import type { AudienceStyle, AuthMethod, ClientAssertionType, ExchangeTokenOptions, TokenClientOptions, TokenRequestOptions } from './token-client-options.js';

const OPTION_NAMES = [
  'issuer',
  'tokenEndpoint',
  'preset',
  'clientId',
  'clientSecret',
  'privateKey',
  'assertionAlg',
  'assertionKid',
  'clientAssertion',
  'authMethod',
  'dpop',
  'mtls',
  'audience',
  'resource',
  'scope',
  'extraParams',
  'refreshAhead',
  'expiryMarginSeconds',
  'backgroundRefresh',
  'retry',
  'timeoutMs',
  'allowInsecureHttp',
  'onEvent',
  'fetch',
  'clock',
  'sleep',
  'random',
] as const satisfies ReadonlyArray<keyof TokenClientOptions>;
const REQUEST_NAMES = ['scope', 'audience', 'resource', 'extraParams'] as const satisfies ReadonlyArray<keyof TokenRequestOptions>;
const AUTH_METHODS: readonly AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];
const CERTIFICATE_METHODS: readonly AuthMethod[] = ['tls_client_auth', 'self_signed_tls_client_auth'];
const ASSERTION_TYPES: readonly ClientAssertionType[] = ['jwt-bearer', 'jwt-spiffe'];
/** What a platform token replaces: the credentials and the ways of sending them. */
const NOT_WITH_CLIENT_ASSERTION = ['clientSecret', 'privateKey', 'assertionAlg', 'assertionKid', 'authMethod'] as const;
const AUDIENCE_STYLES: readonly AudienceStyle[] = ['audience', 'resource', 'entra-default-scope', 'cognito-scope-prefix', 'none'];
/** What jose signs a client assertion with (RFC 7523 private_key_jwt: asymmetric only). */
const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
/** Parameters the SDK sets itself: an extraParams entry must not replace them. */
const RESERVED_PARAMETERS = ['grant_type', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];
/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Every option of createTokenClient, checked once at set-up for JavaScript callers as much as
 * TypeScript ones; the types say what each must be, this says it to a caller who did not compile.
 */
export function checkTokenClientOptions(input: unknown): TokenClientOptions {
  const check = optionChecks('createTokenClient');
  if (input === null || typeof input !== 'object' || Array.isArray(input)) check.fail(`the options must be an object (got ${describeValue(input)}).`);
  const options = check.object(input, 'options', OPTION_NAMES)!;
  check.url(options.issuer, 'issuer');
  check.url(options.tokenEndpoint, 'tokenEndpoint');
  checkPreset(check, options.preset);
  const clientId = check.string(options.clientId, 'clientId');
  if (options.clientAssertion === undefined) check.required(clientId, 'clientId', 'the client id the provider knows this service by');
  if (typeof options.clientSecret !== 'function') check.string(options.clientSecret, 'clientSecret');
  checkPrivateKey(check, options.privateKey);
  const alg = options.assertionAlg;
  if (typeof alg === 'string' && alg.toLowerCase() === 'none') check.fail("assertionAlg is 'none': a client assertion must be signed.");
  if (typeof alg === 'string' && alg.startsWith('HS'))
    check.fail(`assertionAlg is ${alg}: private_key_jwt signs with a private key; client_secret_jwt (HS*) is not supported.`);
  check.oneOf(alg, 'assertionAlg', ASSERTION_ALGORITHMS);
  check.string(options.assertionKid, 'assertionKid');
  const method = check.oneOf(options.authMethod, 'authMethod', AUTH_METHODS);
  checkClientAssertion(check, options);
  checkMtls(check, options.mtls);
  if (options.clientSecret === undefined && options.privateKey === undefined && options.clientAssertion === undefined && options.mtls === undefined)
    check.fail('clientSecret, privateKey, clientAssertion or mtls is required.');
  if (method === 'private_key_jwt' && options.privateKey === undefined) check.fail("authMethod 'private_key_jwt' needs privateKey.");
  const isCertificateMethod = method !== undefined && CERTIFICATE_METHODS.includes(method);
  if (isCertificateMethod && options.mtls === undefined) check.fail(`authMethod '${method}' needs mtls (the client certificate).`);
  if (method && method !== 'private_key_jwt' && !isCertificateMethod && options.clientSecret === undefined)
    check.fail(`authMethod '${method}' needs clientSecret.`);
  checkDpop(check, options.dpop);
  checkRequest(check, options, '');
  const refreshAhead = check.object(options.refreshAhead, 'refreshAhead', ['minSeconds', 'fraction', 'jitterFraction']) ?? {};
  check.number(refreshAhead.minSeconds, 'refreshAhead.minSeconds', { min: 0 });
  check.number(refreshAhead.fraction, 'refreshAhead.fraction', { min: 0, max: 1 });
  check.number(refreshAhead.jitterFraction, 'refreshAhead.jitterFraction', { min: 0, max: 1 });
  check.number(options.expiryMarginSeconds, 'expiryMarginSeconds', { min: 0 });
  check.boolean(options.backgroundRefresh, 'backgroundRefresh');
  const retry = check.object(options.retry, 'retry', ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'maxElapsedMs']) ?? {};
  check.number(retry.maxAttempts, 'retry.maxAttempts', { min: 1, integer: true });
  check.number(retry.baseDelayMs, 'retry.baseDelayMs', { min: 0 });
  check.number(retry.maxDelayMs, 'retry.maxDelayMs', { min: 0 });
  check.number(retry.maxElapsedMs, 'retry.maxElapsedMs', { min: 0 });
  check.number(options.timeoutMs, 'timeoutMs', { above: 0 });
  check.boolean(options.allowInsecureHttp, 'allowInsecureHttp');
  for (const name of ['onEvent', 'fetch', 'clock', 'sleep', 'random'] as const) check.function(options[name], name);
  return options as unknown as TokenClientOptions;
}

/** The per-call options of getToken/for/createAuthFetch/useBearerAuth. */
export function checkTokenRequest(where: string, input: unknown, extraNames: readonly string[] = []): TokenRequestOptions {
  const check = optionChecks(where);
  const request = check.object(input, 'options', [...REQUEST_NAMES, ...extraNames]) ?? {};
  checkRequest(check, request, '');
  return request as TokenRequestOptions;
}

/** exchangeToken's options: a target like any token request, and the tokens to exchange. */
export function checkExchangeRequest(input: unknown): ExchangeTokenOptions {
  const where = 'exchangeToken';
  const check = optionChecks(where);
  const request = check.object(input, 'options', [...REQUEST_NAMES.filter((name) => name !== 'extraParams'), ...EXCHANGE_NAMES]) ?? {};
  checkRequest(check, request, '');
  const subjectToken = check.string(request.subjectToken, 'subjectToken');
  if (!subjectToken) check.fail('subjectToken is required: the token to exchange.');
  check.string(request.subjectTokenType, 'subjectTokenType');
  check.string(request.actorToken, 'actorToken');
  check.string(request.actorTokenType, 'actorTokenType');
  if (request.actorTokenType !== undefined && request.actorToken === undefined) check.fail('actorTokenType needs actorToken.');
  return request as unknown as ExchangeTokenOptions;
}
const EXCHANGE_NAMES = ['subjectToken', 'subjectTokenType', 'actorToken', 'actorTokenType'] as const satisfies ReadonlyArray<keyof ExchangeTokenOptions>;

function checkRequest(check: ReturnType<typeof optionChecks>, options: Record<string, unknown>, prefix: string): void {
  check.string(options.audience, `${prefix}audience`);
  const resource = check.string(options.resource, `${prefix}resource`);
  if (resource !== undefined && !URL.canParse(resource)) check.fail(`${prefix}resource must be an absolute URI (RFC 8707) (got a string that is not one).`);
  checkScope(check, options.scope, `${prefix}scope`);
  const extra = check.object(options.extraParams, `${prefix}extraParams`);
  for (const [name, value] of Object.entries(extra ?? {})) {
    if (RESERVED_PARAMETERS.includes(name)) check.fail(`${prefix}extraParams.${name} is set by the SDK and cannot be overridden.`);
    if (typeof value !== 'string') check.fail(`${prefix}extraParams.${name} must be a string (got ${describeValue(value)}).`);
  }
}

function checkScope(check: ReturnType<typeof optionChecks>, value: unknown, name: string): void {
  if (value === undefined) return;
  const list = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(list) || (typeof value === 'string' && value.trim() === '')) {
    check.fail(`${name} must be a space-separated string or an array of scope values (got ${describeValue(value)}; leave it out for the default scopes).`);
  }
  (list as unknown[]).forEach((item, index) => {
    if (typeof item !== 'string' || !SCOPE_TOKEN.test(item)) {
      check.fail(
        `${name}${typeof value === 'string' ? ` (value ${index + 1})` : `[${index}]`} must be a scope value: printable ASCII without spaces, quotes or backslashes (got ${describeValue(item)}).`,
      );
    }
  });
}

function checkPreset(check: ReturnType<typeof optionChecks>, value: unknown): void {
  if (typeof value === 'function') check.fail('preset must be a preset object: call the preset, e.g. presets.auth0({ domain }) (got a function).');
  const preset = check.object(value, 'preset', ['name', 'tokenEndpoint', 'issuer', 'audience', 'authMethod']);
  if (!preset) return;
  check.string(preset.name, 'preset.name');
  check.url(preset.tokenEndpoint, 'preset.tokenEndpoint');
  check.url(preset.issuer, 'preset.issuer');
  if (preset.tokenEndpoint === undefined && preset.issuer === undefined) check.fail('preset needs a tokenEndpoint or an issuer.');
  check.oneOf(preset.audience, 'preset.audience', AUDIENCE_STYLES);
  check.oneOf(preset.authMethod, 'preset.authMethod', AUTH_METHODS);
}

function checkClientAssertion(check: ReturnType<typeof optionChecks>, options: Record<string, unknown>): void {
  const assertion = check.object(options.clientAssertion, 'clientAssertion', ['source', 'type']);
  if (!assertion) return;
  const source = assertion.source;
  const isSource = typeof source === 'function' || (typeof source === 'object' && source !== null && typeof (source as { read?: unknown }).read === 'function');
  if (!isSource)
    check.fail(
      `clientAssertion.source must be fileAssertion(path), githubActionsAssertion({ audience }), an object with read() or a function returning the token (got ${describeValue(source)}).`,
    );
  check.function((source as { forget?: unknown }).forget, 'clientAssertion.source.forget');
  check.oneOf(assertion.type, 'clientAssertion.type', ASSERTION_TYPES);
  const alongside = NOT_WITH_CLIENT_ASSERTION.filter((name) => options[name] !== undefined);
  if (alongside.length > 0) check.fail(`clientAssertion is the whole credential: leave out ${alongside.join(', ')}.`);
}

function checkDpop(check: ReturnType<typeof optionChecks>, value: unknown): void {
  if (value === undefined || value === true) return;
  const expected = 'dpop must be true (a key made for this client) or { privateKey, publicKey } as WebCrypto keys';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) check.fail(`${expected} (got ${describeValue(value)}).`);
  const pair = check.object(value, 'dpop', ['privateKey', 'publicKey']);
  // A WebCrypto key (Node 20 has the class as a global, not on node:crypto's webcrypto).
  const isCryptoKey = (key: unknown, type: string) =>
    key instanceof (globalThis as unknown as { CryptoKey: new () => { type: string } }).CryptoKey && (key as { type: string }).type === type;
  if (!pair || !isCryptoKey(pair.privateKey, 'private') || !isCryptoKey(pair.publicKey, 'public')) {
    check.fail(`${expected} (got ${describeValue(value)}).`);
  }
  try {
    algorithmOf(pair!.privateKey as Parameters<typeof algorithmOf>[0]);
  } catch (error) {
    check.fail((error as Error).message.replace(/^a DPoP key/, 'dpop.privateKey'));
  }
}

/**
 * The certificate and key are parsed here, and must belong together, so a wrong file fails at
 * set-up rather than as a TLS alert on the first request. Messages say what is wrong with which
 * option and never quote it, nor the parser's own message (which may).
 */
function checkMtls(check: ReturnType<typeof optionChecks>, value: unknown): void {
  const mtls = check.object(value, 'mtls', ['cert', 'key', 'passphrase', 'ca']);
  if (!mtls) return;
  const passphrase = check.string(mtls.passphrase, 'mtls.passphrase');
  const cert = parsePem(check, mtls.cert, 'mtls.cert', 'a PEM certificate ("-----BEGIN CERTIFICATE-----")', (pem) => new X509Certificate(pem));
  const key = parsePem(check, mtls.key, 'mtls.key', 'a PEM private key ("-----BEGIN PRIVATE KEY-----")', (pem) => {
    // PKCS#8 `ENCRYPTED PRIVATE KEY`, or a traditional PEM's `Proc-Type: 4,ENCRYPTED`.
    if (passphrase === undefined && /ENCRYPTED/.test(pem.toString('latin1', 0, 200))) check.fail('mtls.key is encrypted: give its mtls.passphrase.');
    return createPrivateKey(passphrase === undefined ? pem : { key: pem, passphrase });
  });
  if (!cert.checkPrivateKey(key)) check.fail("mtls.key is not the private key of mtls.cert's certificate.");
  const ca = mtls.ca;
  const cas = ca === undefined ? [] : typeof ca === 'string' || ca instanceof Uint8Array ? [ca] : ca;
  if (!Array.isArray(cas) || (ca !== undefined && cas.length === 0))
    check.fail(`mtls.ca must be a PEM certificate or a non-empty array of them (got ${describeValue(ca)}).`);
  (cas as unknown[]).forEach((item, index) =>
    parsePem(check, item, Array.isArray(ca) ? `mtls.ca[${index}]` : 'mtls.ca', 'a PEM certificate', (pem) => new X509Certificate(pem)),
  );
}

function parsePem<T>(check: ReturnType<typeof optionChecks>, value: unknown, name: string, what: string, parse: (pem: Buffer) => T): T {
  if (typeof value !== 'string' && !(value instanceof Uint8Array))
    return check.fail(`${name} must be ${what} as a string or Buffer (got ${describeValue(value)}).`);
  try {
    return parse(Buffer.from(value));
  } catch (error) {
    if ((error as { name?: unknown }).name === 'TokenClientError') throw error;
    return check.fail(
      `${name} must be ${what} (got ${typeof value === 'string' ? 'a string' : 'bytes'} that ${typeof value === 'string' ? 'is' : 'are'} not one).`,
    );
  }
}

function checkPrivateKey(check: ReturnType<typeof optionChecks>, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (typeof value === 'string') {
    if (!value.includes('-----BEGIN PRIVATE KEY-----'))
      check.fail(
        'privateKey must be a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), a JWK, a key object or a function returning one (got a string that is not a PKCS#8 PEM).',
      );
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    check.fail(`privateKey must be a PKCS#8 PEM, a JWK, a key object or a function returning one (got ${describeValue(value)}).`);
  }
}
