import { DEFAULT_MAX_TOKEN_LENGTH, type BearerOptions } from './bearer-token.js';
import type { EmitEvent, ResourceServerEvent } from './events.js';
import type { IntrospectionOptions } from './introspection.js';
import type { IntrospectionCache } from './introspection-cache.js';
import { ASYMMETRIC_ALGORITHMS, importSharedSecret, isJwsAlgorithm, resolveVerifyOn, type JwsAlgorithm, type VerificationKey, type VerifyOn } from './jws.js';
import { createDpopNonces, createOptionChecks, DEFAULT_DPOP_ALGORITHMS, describeValue, DPOP_ALGORITHMS, safeListener } from '@m2m-auth/sdk-core';
import type { DpopPolicy } from './verify/proof-of-possession.js';
import type { MtlsPolicy } from './verify/certificate-binding.js';
import { createPresentedThumbprint, proxyTrustFromList, type ProxyTrust } from './client-certificate.js';
import type { ProviderPreset } from './presets.js';
import type { AuthoritiesOptions } from './principal.js';
import { createMemoryReplayStore, type ReplayStore } from './replay-store.js';

export interface VerifierOptions {
  /** A provider preset (`presets.auth0({...})` …); explicit options below override it. */
  preset?: ProviderPreset;
  /** The one issuer whose tokens are accepted (exact `iss`). */
  issuer?: string;
  /** Several trusted issuers (each with its own keys from discovery). */
  issuers?: readonly string[];
  /** This API's identifier: `aud` must contain it (or one of them). */
  audience?: string | readonly string[];
  /** When the provider puts no `aud` in access tokens (Cognito): the accepted client ids. */
  allowedClientIds?: readonly string[];
  /** Accepted algorithms. Default: every asymmetric one. HS* only with `sharedSecret`. */
  algorithms?: readonly JwsAlgorithm[];
  /** JWKS location; default from the issuer's discovery document. Only with a single issuer. */
  jwksUri?: string;
  /** An HMAC secret for HS256/384/512 tokens — only for issuers that sign with a shared secret. */
  sharedSecret?: string | Buffer;
  /** Allowed clock skew for exp, nbf and iat. Default 5 s. */
  clockToleranceSeconds?: number;
  /** Claims that must be present, or present with this exact value. */
  requiredClaims?: readonly string[] | Readonly<Record<string, string | number | boolean>>;
  /** Require header `typ: at+jwt` (RFC 9068). Default true, except in presets of providers that do not set it. */
  requireTyp?: boolean;
  /** The claim that names the caller. Default `sub`. */
  principalClaim?: string;
  authorities?: AuthoritiesOptions;
  /** RFC 7662 introspection, for opaque tokens or for checking revocation. */
  introspection?: IntrospectionOptions;
  /** Verified-token cache. Default `{ maxEntries: 10000 }`; `false` checks every signature. */
  cache?: { maxEntries?: number } | false;
  /** Refuse a token whose `jti` was seen before (one-time tokens). `true` = in-memory store. */
  replayDetection?: boolean | ReplayStore;
  jwks?: { cooldownSeconds?: number; timeoutMs?: number; prefetch?: boolean };
  /** Where signatures are checked. Default `auto`: on the threadpool when the machine has more than one core (see `resolveVerifyOn`). */
  verifyOn?: VerifyOn;
  /** The realm in WWW-Authenticate challenges. Default `api`. */
  realm?: string;
  bearer?: BearerOptions;
  /** DPoP-bound tokens (RFC 9449) are always accepted with their proof, and refused as bearer tokens; this tunes how. */
  dpop?: DpopOptions;
  /** Certificate-bound tokens (RFC 8705) are always accepted with their certificate, and refused without it; this tunes how. */
  mtls?: MtlsOptions;
  onEvent?: (event: ResourceServerEvent) => void;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  now?: () => number;
}

export interface DpopOptions {
  /** Accept only DPoP-bound tokens: a bearer token is refused with a DPoP challenge. Default false. */
  required?: boolean;
  /** Algorithms a proof may be signed with. Default ES256, RS256, PS256, EdDSA. */
  algorithms?: readonly Exclude<JwsAlgorithm, 'HS256' | 'HS384' | 'HS512'>[];
  /** How far a proof's iat may be from now, either way. Default 60 s. */
  proofWindowSeconds?: number;
  /** Where used proofs are remembered (each is accepted once): in memory by default; `createRedisReplayStore()` across instances. */
  replayStore?: ReplayStore;
  /**
   * Server nonces (RFC 9449 §9): every proof must carry the current one, handed out in a
   * `use_dpop_nonce` answer. Give every instance the same secret (32 bytes or more) so each accepts
   * the others' nonces; nothing is stored.
   */
  nonce?: { secret: string | Uint8Array; lifetimeSeconds?: number };
  /**
   * The public origin clients address (`https://api.example`): `htu` is checked against it and the
   * request's path, instead of the request's scheme and Host (for a proxy that is not trusted or
   * rewrites Host). Default: the request's, as the framework reports it (honouring its trust-proxy setting).
   */
  origin?: string;
}

export interface MtlsOptions {
  /** Accept only certificate-bound tokens (`cnf.x5t#S256`): any other is refused. Default false. */
  required?: boolean;
  /**
   * TLS-terminating proxies whose `Client-Cert` header (RFC 9440) carries the client's certificate:
   * IP addresses and CIDR ranges of the peers (`['10.0.0.0/8']`), or a function of the peer's
   * address. From these peers the header is the certificate (their own TLS certificate is not);
   * from any other, the header is ignored. Default: none — the header is never believed.
   */
  trustedProxies?: readonly string[] | ((remoteAddress: string) => boolean);
}

/** The options after checking and defaulting: what the verification pipeline reads. */
export interface ResolvedVerifierOptions {
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  readonly allowedClientIds: readonly string[] | undefined;
  readonly jwksUri: string | undefined;
  readonly sharedKey: VerificationKey | undefined;
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  readonly toleranceSeconds: number;
  readonly requireTyp: boolean;
  readonly principalClaim: string;
  readonly authorities: AuthoritiesOptions;
  readonly requiredClaims: ReadonlyArray<readonly [string, unknown]>;
  readonly verifyOn: 'threadpool' | 'event-loop';
  readonly realm: string;
  readonly bearer: BearerOptions & { maxLength: number };
  readonly replayStore: ReplayStore | undefined;
  readonly dpop: DpopPolicy;
  readonly mtls: MtlsPolicy;
  /** Size of the verified-token caches; undefined = no cache. */
  readonly cacheEntries: number | undefined;
  readonly jwks: { readonly cooldownMs: number; readonly timeoutMs: number; readonly prefetch: boolean };
  readonly introspection: IntrospectionOptions | undefined;
  readonly emit: EmitEvent;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

const OPTION_NAMES = [
  'preset',
  'issuer',
  'issuers',
  'audience',
  'allowedClientIds',
  'algorithms',
  'jwksUri',
  'sharedSecret',
  'clockToleranceSeconds',
  'requiredClaims',
  'requireTyp',
  'principalClaim',
  'authorities',
  'introspection',
  'cache',
  'replayDetection',
  'jwks',
  'verifyOn',
  'realm',
  'bearer',
  'dpop',
  'mtls',
  'onEvent',
  'fetch',
  'now',
] as const satisfies ReadonlyArray<keyof VerifierOptions>;
const PRESET_NAMES = [
  'name',
  'issuer',
  'jwksUri',
  'audience',
  'requireTyp',
  'principalClaim',
  'authorities',
  'requiredClaims',
  'allowedClientIds',
] as const satisfies ReadonlyArray<keyof ProviderPreset>;
const ALGORITHMS: readonly JwsAlgorithm[] = [...ASYMMETRIC_ALGORITHMS, 'HS256', 'HS384', 'HS512'];

const fail = (message: string): never => {
  throw new TypeError(`createVerifier: ${message}`);
};
const check = createOptionChecks(fail);

/**
 * Checks every option once, when the verifier is made, and fills in the defaults. A JavaScript
 * caller's wrong type, an empty issuer, a bad URL, a negative timeout, an algorithm this SDK does
 * not have (or `none`) fails here, with the option's name — not on the first request.
 */
export function resolveVerifierOptions(input: VerifierOptions): ResolvedVerifierOptions {
  if (typeof input === 'function' || input === null || typeof input !== 'object' || Array.isArray(input))
    fail(`the options must be an object (got ${describeValue(input)}).`);
  const options = check.object(input, 'options', OPTION_NAMES) as VerifierOptions;
  const preset = resolvePreset(options.preset);

  const explicitIssuers = check.stringList(options.issuers, 'issuers')?.map((issuer, i) => check.url(issuer, `issuers[${i}]`)!) ?? [];
  const issuer = check.url(options.issuer, 'issuer');
  const issuers = [...new Set([...explicitIssuers, ...(issuer ? [issuer] : preset && !options.issuers ? [preset.issuer] : [])])];
  if (issuers.length === 0) fail('an issuer is required (issuer, issuers, or a preset).');

  const audiences = audienceList(options.audience, 'audience') ?? preset?.audience ?? [];
  const allowedClientIds = check.stringList(options.allowedClientIds, 'allowedClientIds') ?? preset?.allowedClientIds;
  if (audiences.length === 0 && !allowedClientIds?.length) fail('an audience is required (audience, or allowedClientIds for providers without aud).');

  const jwksUri = check.url(options.jwksUri, 'jwksUri') ?? (preset?.jwksUri && issuers.length === 1 ? preset.jwksUri : undefined);
  if (options.jwksUri !== undefined && issuers.length > 1) fail('jwksUri needs a single issuer; several issuers use discovery.');

  const algorithms = resolveAlgorithms(options.algorithms, options.sharedSecret !== undefined);
  const sharedKey = resolveSharedKey(options.sharedSecret, algorithms);
  const cacheEntries = resolveCache(options.cache);
  const replayStore = resolveReplayStore(options.replayDetection, check.function<() => number>(options.now, 'now') ?? Date.now);
  const jwks = check.object(options.jwks, 'jwks', ['cooldownSeconds', 'timeoutMs', 'prefetch']) ?? {};
  const bearer = check.object(options.bearer, 'bearer', ['allowBody', 'allowQuery', 'maxLength']) ?? {};
  const now = options.now ?? Date.now;

  return {
    issuers,
    audiences,
    allowedClientIds,
    jwksUri,
    sharedKey,
    algorithms,
    toleranceSeconds: check.number(options.clockToleranceSeconds, 'clockToleranceSeconds', { min: 0 }) ?? 5,
    requireTyp: check.boolean(options.requireTyp, 'requireTyp') ?? preset?.requireTyp ?? true,
    principalClaim: check.string(options.principalClaim, 'principalClaim') ?? preset?.principalClaim ?? 'sub',
    authorities: resolveAuthorities(options.authorities, 'authorities') ?? preset?.authorities ?? {},
    requiredClaims: resolveRequiredClaims(options.requiredClaims, 'requiredClaims') ?? preset?.requiredClaims ?? [],
    verifyOn: resolveVerifyOn(check.oneOf(options.verifyOn, 'verifyOn', ['auto', 'threadpool', 'event-loop'] as const) ?? 'auto'),
    realm: check.string(options.realm, 'realm') ?? 'api',
    bearer: {
      allowBody: check.boolean(bearer.allowBody, 'bearer.allowBody') ?? false,
      allowQuery: check.boolean(bearer.allowQuery, 'bearer.allowQuery') ?? false,
      maxLength: check.number(bearer.maxLength, 'bearer.maxLength', { min: 1, integer: true }) ?? DEFAULT_MAX_TOKEN_LENGTH,
    },
    // A replay check must see every presentation, so it turns the verified-token cache off.
    replayStore,
    dpop: resolveDpop(options.dpop, now),
    mtls: resolveMtls(options.mtls),
    cacheEntries: replayStore ? undefined : cacheEntries,
    jwks: {
      cooldownMs: (check.number(jwks.cooldownSeconds, 'jwks.cooldownSeconds', { min: 0 }) ?? 30) * 1000,
      timeoutMs: check.number(jwks.timeoutMs, 'jwks.timeoutMs', { above: 0 }) ?? 5000,
      prefetch: check.boolean(jwks.prefetch, 'jwks.prefetch') ?? false,
    },
    introspection: resolveIntrospection(options.introspection),
    emit: safeListener<ResourceServerEvent>(check.function(options.onEvent, 'onEvent')),
    fetch: check.function<typeof fetch>(options.fetch, 'fetch') ?? globalThis.fetch,
    now,
  };
}

interface ResolvedPreset {
  issuer: string;
  jwksUri: string | undefined;
  audience: string[] | undefined;
  requireTyp: boolean;
  principalClaim: string;
  authorities: AuthoritiesOptions;
  requiredClaims: Array<readonly [string, unknown]> | undefined;
  allowedClientIds: string[] | undefined;
}

function resolvePreset(value: unknown): ResolvedPreset | undefined {
  if (typeof value === 'function') fail('preset must be a preset object: call the preset, e.g. presets.auth0({ domain, audience }) (got a function).');
  const preset = check.object(value, 'preset', PRESET_NAMES);
  if (!preset) return undefined;
  check.string(preset.name, 'preset.name');
  return {
    issuer: check.required(check.url(preset.issuer, 'preset.issuer'), 'preset.issuer', 'a preset names its issuer'),
    jwksUri: check.url(preset.jwksUri, 'preset.jwksUri'),
    audience: audienceList(preset.audience, 'preset.audience'),
    requireTyp: check.boolean(preset.requireTyp, 'preset.requireTyp') ?? true,
    principalClaim: check.string(preset.principalClaim, 'preset.principalClaim') ?? 'sub',
    authorities: resolveAuthorities(preset.authorities, 'preset.authorities') ?? {},
    requiredClaims: resolveRequiredClaims(preset.requiredClaims, 'preset.requiredClaims'),
    allowedClientIds: check.stringList(preset.allowedClientIds, 'preset.allowedClientIds'),
  };
}

function audienceList(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [check.string(value, name)!];
  if (!Array.isArray(value)) return fail(`${name} must be a non-empty string or a non-empty array of strings (got ${describeValue(value)}).`);
  return check.stringList(value, name);
}

function resolveAlgorithms(value: unknown, hasSharedSecret: boolean): ReadonlySet<JwsAlgorithm> {
  if (value === undefined) return new Set(hasSharedSecret ? ['HS256'] : ASYMMETRIC_ALGORITHMS);
  if (!Array.isArray(value) || value.length === 0) fail(`algorithms must be a non-empty array of JWS algorithms (got ${describeValue(value)}).`);
  (value as unknown[]).forEach((alg, i) => {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') fail(`algorithms[${i}] is 'none': unsigned tokens are never accepted.`);
    if (!isJwsAlgorithm(alg))
      return fail(
        `algorithms[${i}] must be one of ${ALGORITHMS.join(', ')} (got ${typeof alg === 'string' && alg !== '' ? 'another string' : describeValue(alg)}).`,
      );
    if (alg.startsWith('HS') && !hasSharedSecret)
      fail(`algorithms[${i}] is ${alg}, which needs an explicit sharedSecret; a key from a JWKS is never used as an HMAC secret.`);
  });
  return new Set(value as JwsAlgorithm[]);
}

function resolveSharedKey(value: unknown, algorithms: ReadonlySet<JwsAlgorithm>): VerificationKey | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) fail(`sharedSecret must be a string or a Buffer (got ${describeValue(value)}).`);
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) : (value as Uint8Array).length;
  if (bytes < 32) fail(`sharedSecret must be at least 32 bytes (got ${bytes}).`);
  return importSharedSecret(value as string | Uint8Array, [...algorithms]);
}

function resolveCache(value: unknown): number | undefined {
  if (value === false) return undefined;
  if (value === true) fail('cache must be false or { maxEntries } (got true; leave it out for the default cache).');
  const cache = check.object(value, 'cache', ['maxEntries']);
  return check.number(cache?.maxEntries, 'cache.maxEntries', { min: 1, integer: true }) ?? 10_000;
}

function resolveReplayStore(value: unknown, now: () => number): ReplayStore | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return createMemoryReplayStore({ now });
  if (typeof value !== 'object' || value === null || typeof (value as ReplayStore).checkAndRemember !== 'function') {
    return fail(`replayDetection must be true, false or a ReplayStore with checkAndRemember() (got ${describeValue(value)}).`);
  }
  return value as ReplayStore;
}

function resolveDpop(value: unknown, now: () => number): DpopPolicy {
  const dpop = check.object(value, 'dpop', ['required', 'algorithms', 'proofWindowSeconds', 'replayStore', 'nonce', 'origin']) ?? {};
  const algorithms = dpop.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    fail(`dpop.algorithms must be a non-empty array of JWS algorithms (got ${describeValue(algorithms)}).`);
  (algorithms as unknown[]).forEach((alg, i) => {
    if (!(DPOP_ALGORITHMS as readonly unknown[]).includes(alg))
      fail(`dpop.algorithms[${i}] must be one of ${DPOP_ALGORITHMS.join(', ')}: a proof is signed with an asymmetric key (got ${describeValue(alg)}).`);
  });
  const replayStore = dpop.replayStore as ReplayStore | undefined;
  if (replayStore !== undefined && (typeof replayStore !== 'object' || replayStore === null || typeof replayStore.checkAndRemember !== 'function'))
    fail(`dpop.replayStore must be a ReplayStore with checkAndRemember() (got ${describeValue(replayStore)}).`);
  const nonce = check.object(dpop.nonce, 'dpop.nonce', ['secret', 'lifetimeSeconds']);
  let nonces: DpopPolicy['nonces'];
  if (nonce) {
    const secret = nonce.secret;
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) fail(`dpop.nonce.secret must be a string or a Buffer (got ${describeValue(secret)}).`);
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret as Uint8Array);
    if (bytes.length < 32) fail(`dpop.nonce.secret must be at least 32 bytes (got ${bytes.length}).`);
    const lifetimeSeconds = check.number(nonce.lifetimeSeconds, 'dpop.nonce.lifetimeSeconds', { min: 1 });
    nonces = createDpopNonces({ secret: bytes, now, ...(lifetimeSeconds !== undefined ? { lifetimeSeconds } : {}) });
  }
  const origin = check.url(dpop.origin, 'dpop.origin');
  return {
    algorithms: new Set(algorithms as string[]),
    algs: (algorithms as string[]).join(' '),
    windowSeconds: check.number(dpop.proofWindowSeconds, 'dpop.proofWindowSeconds', { above: 0 }) ?? 60,
    replayStore: replayStore ?? createMemoryReplayStore({ now }),
    nonces,
    required: check.boolean(dpop.required, 'dpop.required') ?? false,
    origin: origin === undefined ? undefined : new URL(origin).origin,
  };
}

function resolveMtls(value: unknown): MtlsPolicy {
  const mtls = check.object(value, 'mtls', ['required', 'trustedProxies']) ?? {};
  return {
    required: check.boolean(mtls.required, 'mtls.required') ?? false,
    presentedThumbprint: createPresentedThumbprint(resolveTrustedProxies(mtls.trustedProxies)),
  };
}

function resolveTrustedProxies(value: unknown): ProxyTrust | undefined {
  if (value === undefined || typeof value === 'function') return value as ProxyTrust | undefined;
  if (!Array.isArray(value))
    return fail(`mtls.trustedProxies must be an array of IP addresses and CIDR ranges, or a function of the peer address (got ${describeValue(value)}).`);
  const entries = check.stringList(value, 'mtls.trustedProxies')!;
  const trust = proxyTrustFromList(entries);
  if (typeof trust !== 'function')
    return fail(`mtls.trustedProxies[${trust.invalid}] must be an IP address or a CIDR range such as 10.0.0.0/8 (got a string that is not one).`);
  return trust;
}

function resolveAuthorities(value: unknown, name: string): AuthoritiesOptions | undefined {
  const authorities = check.object(value, name, ['scopeClaims', 'roleClaims', 'scopePrefix', 'rolePrefix']);
  if (!authorities) return undefined;
  for (const prefix of ['scopePrefix', 'rolePrefix'] as const) {
    if (authorities[prefix] !== undefined && typeof authorities[prefix] !== 'string')
      fail(`${name}.${prefix} must be a string (got ${describeValue(authorities[prefix])}).`);
  }
  const scopeClaims = check.stringList(authorities.scopeClaims, `${name}.scopeClaims`);
  const roleClaims = check.stringList(authorities.roleClaims, `${name}.roleClaims`);
  return {
    ...(scopeClaims ? { scopeClaims } : {}),
    ...(roleClaims ? { roleClaims } : {}),
    ...(authorities.scopePrefix !== undefined ? { scopePrefix: authorities.scopePrefix as string } : {}),
    ...(authorities.rolePrefix !== undefined ? { rolePrefix: authorities.rolePrefix as string } : {}),
  };
}

function resolveRequiredClaims(value: unknown, name: string): Array<readonly [string, unknown]> | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return check.stringList(value, name)!.map((claim) => [claim, undefined] as const);
  const claims = check.object(value, name);
  return Object.entries(claims!).map(([claim, expected]) => {
    if (!['string', 'number', 'boolean'].includes(typeof expected))
      fail(`${name}.${claim} must be a string, number or boolean (got ${describeValue(expected)}).`);
    return [claim, expected] as const;
  });
}

function resolveIntrospection(value: unknown): IntrospectionOptions | undefined {
  const introspection = check.object(value, 'introspection', [
    'endpoint',
    'clientId',
    'clientSecret',
    'mode',
    'cacheTtlSeconds',
    'inactiveTtlSeconds',
    'timeoutMs',
    'maxEntries',
    'cache',
  ]);
  if (!introspection) return undefined;
  const endpoint = check.url(introspection.endpoint, 'introspection.endpoint');
  const timeoutMs = check.number(introspection.timeoutMs, 'introspection.timeoutMs', { above: 0 });
  const maxEntries = check.number(introspection.maxEntries, 'introspection.maxEntries', { min: 1, integer: true });
  const cache = introspection.cache as IntrospectionCache | undefined;
  if (cache !== undefined && (typeof cache !== 'object' || cache === null || typeof cache.get !== 'function' || typeof cache.set !== 'function')) {
    fail(`introspection.cache must be an IntrospectionCache with get() and set() (got ${describeValue(cache)}).`);
  }
  return {
    ...(endpoint ? { endpoint } : {}),
    clientId: check.required(
      check.string(introspection.clientId, 'introspection.clientId'),
      'introspection.clientId',
      'introspection authenticates as a client',
    ),
    clientSecret: check.required(
      check.string(introspection.clientSecret, 'introspection.clientSecret'),
      'introspection.clientSecret',
      'introspection authenticates as a client',
    ),
    mode: check.oneOf(introspection.mode, 'introspection.mode', ['fallback', 'always'] as const) ?? 'fallback',
    cacheTtlSeconds: check.number(introspection.cacheTtlSeconds, 'introspection.cacheTtlSeconds', { min: 0 }) ?? 60,
    inactiveTtlSeconds: check.number(introspection.inactiveTtlSeconds, 'introspection.inactiveTtlSeconds', { min: 0 }) ?? 10,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxEntries !== undefined ? { maxEntries } : {}),
    ...(cache ? { cache } : {}),
  };
}
