/**
 * The vocabulary of the token client: what a caller passes to createTokenClient and getToken/for,
 * and the value types those options name. It sits below every module that speaks it (the option
 * checks, the presets, the cache, the request, the client itself) and imports none of them, so
 * the client's import graph has no cycle, type-only imports included.
 */
import type { CryptoKey, JWK, KeyObject } from 'jose';
import type { TokenClientListener } from './events.js';
import type { RetryPolicy } from './retry.js';

/**
 * How an API identifier travels: Auth0's `audience` parameter, RFC 8707 `resource`, Entra's
 * `scope=<resource>/.default`, Cognito's `<resource-server>/<scope>` scope names, or not at all.
 */
export type AudienceStyle = 'audience' | 'resource' | 'entra-default-scope' | 'cognito-scope-prefix' | 'none';
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A value, or a function that fetches it (from a secrets manager) when needed. */
export type SecretSource = string | (() => string | Promise<string>);
export type PrivateKeySource =
  JWK | string | CryptoKey | KeyObject | (() => JWK | string | CryptoKey | KeyObject | Promise<JWK | string | CryptoKey | KeyObject>);

/**
 * Where a platform token (a Kubernetes service-account token, a GitHub Actions OIDC token, a SPIFFE
 * JWT-SVID) comes from. `read` is called for each token request, so a source keeps its own cache
 * (a file's identity, a token's exp); `forget` drops it after invalid_client, when the platform
 * token may have just rotated.
 */
export interface ClientAssertionSource {
  read(): string | Promise<string>;
  forget?(): void;
}

/** RFC 7523 `jwt-bearer`, or `jwt-spiffe` for a SPIFFE JWT-SVID (draft-ietf-oauth-spiffe-client-auth). */
export type ClientAssertionType = 'jwt-bearer' | 'jwt-spiffe';

/** Secretless client authentication: the workload's platform token is the client assertion. */
export interface ClientAssertionOptions {
  /** fileAssertion(path), githubActionsAssertion({ audience }), or a function (may be async) returning the token. */
  source: ClientAssertionSource | (() => string | Promise<string>);
  /** Default 'jwt-bearer'. */
  type?: ClientAssertionType;
}

export interface ClientPreset {
  readonly name: string;
  /** Either a token endpoint, or an issuer whose metadata names it. */
  readonly tokenEndpoint?: string;
  readonly issuer?: string;
  readonly audience: AudienceStyle;
  readonly authMethod?: AuthMethod;
}

export interface TokenClientOptions {
  /** Issuer URL: the token endpoint and auth methods come from its metadata (fetched once). */
  issuer?: string;
  /** Or the token endpoint itself. */
  tokenEndpoint?: string;
  /** Provider conventions (`presets.auth0({ domain })` …); explicit options win. */
  preset?: ClientPreset;
  /** Required, except with clientAssertion, where it is sent when set (the platform token names the workload). */
  clientId?: string;
  /** The secret, or an async function that reads it (re-read once after invalid_client). */
  clientSecret?: SecretSource;
  /** For private_key_jwt (RFC 7523): a JWK, a PKCS#8 PEM, a key object, or a function returning one. */
  privateKey?: PrivateKeySource;
  assertionAlg?: string;
  assertionKid?: string;
  /** Instead of a secret or key: a platform token as the client assertion, read from its source for each token request. */
  clientAssertion?: ClientAssertionOptions;
  /** Default: private_key_jwt with a privateKey, else the preset's, else client_secret_basic when offered. */
  authMethod?: AuthMethod;
  /** Defaults for getToken(): the API to call and the scopes wanted. */
  audience?: string;
  resource?: string;
  scope?: string | readonly string[];
  extraParams?: Readonly<Record<string, string>>;
  /** Refresh when max(minSeconds, fraction × lifetime) remain, minus up to jitterFraction of that. Defaults 60 s, 0.2, 0.1. */
  refreshAhead?: { minSeconds?: number; fraction?: number; jitterFraction?: number };
  /** A token is not handed out in its last seconds (it could expire in transit). Default 5 s. */
  expiryMarginSeconds?: number;
  /** Refresh on a timer too, not only when a caller asks after the refresh point. Default true. */
  backgroundRefresh?: boolean;
  retry?: RetryPolicy;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Allow http: off loopback (never in production). Default false. */
  allowInsecureHttp?: boolean;
  onEvent?: TokenClientListener;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; tests pass a fake clock. */
  clock?: () => number;
  /** How to wait between retries; tests pass a fake. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface TokenRequestOptions {
  scope?: string | readonly string[];
  audience?: string;
  resource?: string;
  extraParams?: Readonly<Record<string, string>>;
}

/** RFC 8693: the token to exchange and what for. */
export interface ExchangeTokenOptions extends Omit<TokenRequestOptions, 'extraParams'> {
  /** The token this service received (the subject), to trade for one on the API it calls next. */
  subjectToken: string;
  /** Default `urn:ietf:params:oauth:token-type:access_token`. */
  subjectTokenType?: string;
  /** Optional: a token naming who acts (RFC 8693 §2.1); without it, this client is the actor. */
  actorToken?: string;
  actorTokenType?: string;
}
