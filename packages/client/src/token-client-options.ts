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
/**
 * `tls_client_auth` / `self_signed_tls_client_auth` (RFC 8705 §2): the client certificate of the
 * `mtls` option is the credential; the request carries only `client_id`. The two send the same
 * request; they differ in how the server checks the certificate (a CA it trusts, or one it has on file).
 */
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';

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

/** A DPoP key pair of the application's own (WebCrypto keys: `crypto.subtle.generateKey`, or imported). */
export interface DpopKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** PEM text, or its bytes (a Buffer read from a file). */
export type PemSource = string | Uint8Array;

/**
 * The client certificate presented in every TLS handshake with the token endpoint and, through
 * createAuthFetch / useBearerAuth, with the APIs (mutual TLS, RFC 8705).
 */
export interface MtlsOptions {
  /** The client certificate, PEM (a chain may follow it: leaf first). */
  cert: PemSource;
  /** Its private key, PEM (PKCS#8, PKCS#1 or SEC1). */
  key: PemSource;
  /** For an encrypted key. */
  passphrase?: string;
  /** CA certificates to trust for the servers' certificates, instead of Node's bundled roots (a private PKI). */
  ca?: PemSource | readonly PemSource[];
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
  /**
   * Default: private_key_jwt with a privateKey, else the preset's, else with `mtls` and no secret
   * tls_client_auth (self_signed_tls_client_auth when the provider offers only that), else
   * client_secret_basic when offered.
   */
  authMethod?: AuthMethod;
  /**
   * DPoP (RFC 9449): tokens bound to a key this client holds, so a leaked token is useless. `true`:
   * a fresh non-extractable ES256 key per client instance; or a key pair you supply. Every token
   * request carries a proof (a `use_dpop_nonce` answer is retried once with the server's nonce),
   * and createAuthFetch / useBearerAuth send `Authorization: DPoP …` with a proof per call.
   */
  dpop?: true | DpopKeyPair;
  /**
   * Mutual TLS (RFC 8705): present this client certificate to the token endpoint (the issuer's
   * `mtls_endpoint_aliases.token_endpoint` when discovery names one) and, through createAuthFetch /
   * useBearerAuth, to the APIs — so a certificate-bound token (`cnf.x5t#S256`) works there. Also
   * the credential itself with `authMethod: 'tls_client_auth'` (the default without a secret or key).
   */
  mtls?: MtlsOptions;
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
  /**
   * The fetch to use. With `mtls`, it is called with the certificate's undici `dispatcher` in its
   * init: pass init on (to globalThis.fetch or undici's fetch) for the certificate to be presented.
   * Default globalThis.fetch, or with `mtls` undici's own fetch.
   */
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
