import { DependencyUnavailableError } from '../errors/dependency-unavailable.js';
/**
 * Storage contracts. Every adapter (memory, SQLite, later PostgreSQL) implements these and passes
 * the one conformance suite in `storage/conformance/`.
 *
 * Rules for every store:
 * - Records are plain data (no class instances, no Dates): times are epoch milliseconds.
 * - "Not found" is `undefined`, never an exception.
 * - A uniqueness clash throws `StorageConflictError`.
 * - A networked store that cannot be reached throws `StorageUnavailableError`.
 * - Every method is async, so a networked adapter fits the same contract.
 * - Every successful write bumps the store's revision (see `RevisionSource`) and records which
 *   record it touched (`ChangeFeed`), so long-running readers (the server's caches) notice writes
 *   made by another process such as the CLI, and refresh only what changed.
 * - A write that names a missing parent record (a secret or grant for an unknown client, a grant
 *   on an unknown API) throws `StorageReferenceError` and changes nothing.
 * - Lists are ordered by `createdAt`, ties broken by the record's key (ascending), so a keyset
 *   cursor (`after`) pages through them without gaps or repeats while records are added.
 * - `transaction(work)` runs `work` against a handle whose writes all commit together when it
 *   resolves, or none of them when it throws (the error is rethrown). Other writes through the
 *   same Storage wait until it ends.
 */

import type { LeaseStore, SecretUsageStore } from './lifecycle-types.js';

export type SigningAlgorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'HS256';
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'];

/**
 * What an API's access tokens are: RFC 9068 JWTs its resource servers verify offline, or opaque
 * handles they introspect (docs/opaque-tokens.md).
 */
export type TokenFormat = 'jwt' | 'opaque';
export const TOKEN_FORMATS: readonly TokenFormat[] = ['jwt', 'opaque'];

export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  /** RFC 8705 §2.1: a certificate of a trusted CA with the client's registered subject DN or DNS name. */
  | 'tls_client_auth'
  /** RFC 8705 §2.2: a self-signed certificate registered in the client's `jwks` (`x5c`). */
  | 'self_signed_tls_client_auth';

export interface ApiScope {
  value: string;
  description: string;
}

/** A protected resource (an "API" in Auth0's terms): the `aud` of the tokens issued for it. */
export interface ApiRecord {
  /** Absolute URI, unique; becomes the token's `aud`. */
  identifier: string;
  name: string;
  scopes: ApiScope[];
  signingAlg: SigningAlgorithm;
  tokenTtlSeconds: number;
  /** `jwt` for rows written before the format existed. */
  tokenFormat: TokenFormat;
  /**
   * Only sender-constrained tokens are issued for it (DPoP's `cnf.jkt` now, mutual TLS's
   * `cnf.x5t#S256` beside it): a request without a proof of possession is refused. Absent = false.
   */
  requireSenderConstrained?: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ClientRecord {
  clientId: string;
  name: string;
  description: string;
  /** API identifier used when a token request names no audience. */
  defaultApi: string | null;
  isEnabled: boolean;
  grantTypes: string[];
  tokenEndpointAuthMethods: ClientAuthMethod[];
  /** Public JWK Set for private_key_jwt (RFC 7523), null when the client uses secrets only. */
  jwks: { keys: Record<string, unknown>[] } | null;
  /** API identifiers (or `*`) whose tokens this client may introspect (RFC 7662 §4); absent = none. */
  introspectApis?: string[];
  /** Most tokens this client may get per hour and per day (usage/client-quota.ts); absent = no quota. */
  quota?: ClientQuota;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request of this client must carry a DPoP proof. Absent = false. */
  dpopBoundAccessTokens?: boolean;
  /** RFC 8705 §2.1.2 `tls_client_auth_subject_dn`: the RFC 4514 subject its certificate must have (compared normalised). Absent = none. */
  tlsClientAuthSubjectDn?: string;
  /** RFC 8705 §2.1.2 `tls_client_auth_san_dns`: DNS names, one of which its certificate must carry. Absent = none. */
  tlsClientAuthSanDns?: string[];
  /** RFC 8705 §3.4 `tls_client_certificate_bound_access_tokens`: every token request must present its TLS client certificate. Absent = false. */
  tlsClientCertificateBoundAccessTokens?: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * `enforce`: past a limit the token endpoint answers 429 until the window ends. `observe`: tokens
 * are issued anyway and what would have been refused is counted and logged (to size a quota
 * before enforcing it).
 */
export type QuotaMode = 'enforce' | 'observe';
export const QUOTA_MODES: readonly QuotaMode[] = ['enforce', 'observe'];

/** A client's token quota: at least one of the two limits is set (null: no limit for that window). */
export interface ClientQuota {
  perHour: number | null;
  perDay: number | null;
  mode: QuotaMode;
}

/**
 * What the request path reads of a client (authentication, grants, introspection): the registry
 * cache keeps only this, so names, descriptions and timestamps cost no memory per cached client.
 */
export type RegisteredClient = Readonly<
  Pick<
    ClientRecord,
    | 'clientId'
    | 'isEnabled'
    | 'defaultApi'
    | 'grantTypes'
    | 'tokenEndpointAuthMethods'
    | 'jwks'
    | 'introspectApis'
    | 'quota'
    | 'dpopBoundAccessTokens'
    | 'tlsClientAuthSubjectDn'
    | 'tlsClientAuthSanDns'
    | 'tlsClientCertificateBoundAccessTokens'
  >
>;
/** What authenticating with a secret reads: which one matched, its hash and its expiry. */
export type RegisteredSecret = Readonly<Pick<ClientSecretRecord, 'id' | 'hash' | 'expiresAt'>>;
/** What issuing and checking a token reads of a grant. */
export type RegisteredGrant = Readonly<Pick<ClientGrantRecord, 'scopes' | 'tokenTtlSeconds'>>;

/** A client secret is stored only as a peppered HMAC; the raw secret is shown once at creation. */
export interface ClientSecretRecord {
  id: string;
  clientId: string;
  /** base64url HMAC-SHA-256(pepper, secret). */
  hash: string;
  /** The last 4 characters of the secret, so operators can tell secrets apart. */
  hint: string;
  createdAt: number;
  /** After this instant the secret no longer authenticates (used during rotation); null = never. */
  expiresAt: number | null;
}

/** Auth0-style client grant: which scopes of which API a client may request. */
export interface ClientGrantRecord {
  id: string;
  clientId: string;
  apiIdentifier: string;
  scopes: string[];
  /** Overrides the API's token TTL for this client; null = the API's. */
  tokenTtlSeconds: number | null;
  createdAt: number;
  updatedAt: number;
}

export type SigningKeyStatus = 'pending' | 'active' | 'published' | 'retired';

/**
 * A signing key. `pending`: published ahead of signing (scheduled rotation); `active`: signs new tokens (one per algorithm and owner); `published`: no longer
 * signs but stays in the JWKS so tokens it signed still verify; `retired`: gone from the JWKS.
 */
export interface SigningKeyRecord {
  kid: string;
  alg: SigningAlgorithm;
  status: SigningKeyStatus;
  /** Private key material (PKCS#8 PEM, or raw secret for HS256), encrypted: see keys/key-encryption. */
  encryptedPrivateKey: string;
  /** Public JWK (with kid, alg, use); null for HS256 keys, which are never published. */
  publicJwk: Record<string, unknown> | null;
  /** Set for HS256 keys: the one API allowed to use this shared secret. */
  apiIdentifier: string | null;
  createdAt: number;
  /** When the key stopped signing (rotation); null while active. */
  rotatedAt: number | null;
}

export interface AuditEventRecord {
  id: string;
  at: number;
  /** e.g. `token.issued`, `client.created`, `key.rotated`. */
  type: string;
  /** Who did it: a client id, `cli`, `admin-api`. */
  actor: string;
  /** Plain data that never contains a secret or a token. */
  data: Record<string, unknown>;
}

/** What an issuer is: it sets the defaults of the fields below (federation/issuer-kinds.ts). */
export type TrustedIssuerKind = 'oidc' | 'kubernetes' | 'spiffe';
/** Whether a platform token may authenticate more than once within its lifetime. */
export type TokenReusePolicy = 'refuse' | 'allow';

/**
 * An identity provider whose tokens a client may present instead of a secret (workload identity
 * federation): a Kubernetes cluster, a CI service, any OIDC issuer, a SPIFFE trust domain.
 */
export interface TrustedIssuerRecord {
  /** The `iss` of its tokens (an https URL, http only on loopback); for SPIFFE `spiffe://trust-domain`. Unique. */
  issuer: string;
  kind: TrustedIssuerKind;
  /** Where its JWKS is fetched; null = from its discovery document (never for SPIFFE). */
  jwksUri: string | null;
  /** Keys configured inline (a cluster's JWKS file, a SPIFFE bundle): when set, nothing is fetched. */
  jwks: { keys: Record<string, unknown>[] } | null;
  tokenReuse: TokenReusePolicy;
  /** The longest lifetime (exp - iat, or exp - now) a token of this issuer may have to be accepted. */
  maxTokenLifetimeSeconds: number;
  /**
   * Many tenants share this issuer (GitHub Actions, GitLab.com): a subject prefix on it must also
   * carry a claim condition, so no credential covers every tenant.
   */
  isShared: boolean;
  createdAt: number;
  updatedAt: number;
}

export type SubjectMatch = 'exact' | 'prefix';

/**
 * Entra's "federated identity credential": tokens of `issuer` whose `sub` is `subject` (or, with
 * `subjectMatch: 'prefix'`, starts with it) and whose `aud` holds one of `audiences` authenticate
 * as `clientId`, when every claim condition holds.
 */
export interface FederatedCredentialRecord {
  id: string;
  clientId: string;
  issuer: string;
  subject: string;
  subjectMatch: SubjectMatch;
  /** Accepted `aud` values; empty = this server's issuer identifier. */
  audiences: string[];
  /** Claims the token must carry with exactly these values (e.g. `repository_owner`). */
  claims: Record<string, string>;
  description: string;
  createdAt: number;
}

/** What authenticating with a federated assertion reads of a credential. */
export type RegisteredFederatedCredential = Readonly<
  Pick<FederatedCredentialRecord, 'id' | 'clientId' | 'issuer' | 'subject' | 'subjectMatch' | 'audiences' | 'claims'>
>;

/**
 * Token exchange (RFC 8693) is off until a policy allows it: `clientId` may exchange tokens of
 * `subjectClientId` (a client id, or `*` for any of this server's clients) — or, with
 * `subjectIssuer`, JWTs of that trusted issuer — for tokens on `apiIdentifier`, with at most
 * `scopes` (null: no ceiling beyond the rules every exchange follows).
 */
export interface ExchangePolicyRecord {
  id: string;
  clientId: string;
  /** A client id or `*`; null when the policy is for a trusted issuer's JWTs instead. */
  subjectClientId: string | null;
  /** A trusted issuer whose JWTs may be exchanged; null for this server's own tokens. */
  subjectIssuer: string | null;
  apiIdentifier: string;
  scopes: string[] | null;
  description: string;
  createdAt: number;
}

/** How errors and plans name a policy: `client ← subject → api`. */
export function exchangePolicyKey(policy: Pick<ExchangePolicyRecord, 'clientId' | 'subjectClientId' | 'subjectIssuer' | 'apiIdentifier'>): string {
  return `${policy.clientId} ← ${policy.subjectClientId ?? policy.subjectIssuer} → ${policy.apiIdentifier}`;
}

/** What the exchange grant reads of a policy. */
export type RegisteredExchangePolicy = Readonly<Pick<ExchangePolicyRecord, 'id' | 'subjectClientId' | 'subjectIssuer' | 'apiIdentifier' | 'scopes'>>;

export class StorageConflictError extends Error {
  override readonly name = 'StorageConflictError';
  constructor(
    readonly entity: string,
    readonly key: string,
  ) {
    super(`${entity} ${key} already exists`);
  }
}

/** A uniqueness clash's sibling: the record a write refers to does not exist. */
export class StorageReferenceError extends Error {
  override readonly name = 'StorageReferenceError';
  constructor(
    readonly entity: string,
    readonly key: string,
  ) {
    super(`${entity} ${key} does not exist`);
  }
}

/**
 * The store cannot be reached right now (connection refused or cut, a connect or statement
 * timeout): nothing the caller sent was wrong, and the same call may succeed shortly. A networked
 * adapter throws it for connection-level failures only, never for a constraint or a bad value,
 * so the wire formats can answer 503 with Retry-After instead of a 500. `cause` is for the log.
 */
export class StorageUnavailableError extends DependencyUnavailableError {
  override readonly name = 'StorageUnavailableError';
  constructor(options: { cause: unknown }) {
    super('the database cannot be reached', 'The server cannot reach its database right now; retry shortly.', options);
  }
}

/** Matches by shape, so an error from another copy of the package still counts. */
export function isStorageUnavailable(error: unknown): error is StorageUnavailableError {
  return (error as { name?: unknown } | null)?.name === 'StorageUnavailableError';
}

/**
 * Keyset paging for lists ordered by (createdAt, key): `after` is the position of the last record
 * of the previous page. Without `limit` every record after the position is returned.
 */
export interface PageOptions {
  limit?: number;
  after?: { createdAt: number; key: string };
}

export interface AuditEventQuery {
  limit?: number;
  type?: string;
  actor?: string;
  /** Inclusive lower bound on `at` (epoch ms). */
  since?: number;
  /** Exclusive upper bound on `at` (epoch ms). */
  until?: number;
  /** Newest-first paging: events strictly older than this position (at, then id). */
  before?: { at: number; id: string };
}

export type ApiPatch = Partial<Pick<ApiRecord, 'name' | 'scopes' | 'signingAlg' | 'tokenTtlSeconds' | 'tokenFormat' | 'requireSenderConstrained'>>;
/** `quota: null` removes the client's quota; `null` (or an empty list) removes a TLS subject or DNS names. */
export type ClientPatch = Partial<
  Pick<
    ClientRecord,
    | 'name'
    | 'description'
    | 'defaultApi'
    | 'isEnabled'
    | 'grantTypes'
    | 'tokenEndpointAuthMethods'
    | 'jwks'
    | 'introspectApis'
    | 'dpopBoundAccessTokens'
    | 'tlsClientCertificateBoundAccessTokens'
  > & {
    quota: ClientQuota | null;
    tlsClientAuthSubjectDn: string | null;
    tlsClientAuthSanDns: string[] | null;
  }
>;
export type TrustedIssuerPatch = Partial<Pick<TrustedIssuerRecord, 'jwksUri' | 'jwks' | 'tokenReuse' | 'maxTokenLifetimeSeconds' | 'isShared'>>;
export type ClientGrantPatch = Partial<Pick<ClientGrantRecord, 'scopes' | 'tokenTtlSeconds'>>;

export interface ApiStore {
  createApi(api: ApiRecord): Promise<void>;
  getApi(identifier: string): Promise<ApiRecord | undefined>;
  listApis(page?: PageOptions): Promise<ApiRecord[]>;
  /** Returns the updated record, or undefined when there is no such API. */
  updateApi(identifier: string, patch: ApiPatch, now: number): Promise<ApiRecord | undefined>;
  /** Deletes the API and every client grant and exchange policy on it. Returns false when there was none. */
  deleteApi(identifier: string): Promise<boolean>;
}

export interface ClientStore {
  createClient(client: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  listClients(page?: PageOptions): Promise<ClientRecord[]>;
  updateClient(clientId: string, patch: ClientPatch, now: number): Promise<ClientRecord | undefined>;
  /** Deletes the client with its secrets, grants, federated credentials and exchange policies (its own). Returns false when there was none. */
  deleteClient(clientId: string): Promise<boolean>;

  addClientSecret(secret: ClientSecretRecord): Promise<void>;
  /** All secrets of the client, expired ones included, oldest first. */
  listClientSecrets(clientId: string): Promise<ClientSecretRecord[]>;
  /** Sets expiresAt of one secret (rotation). Returns false when there is no such secret. */
  expireClientSecret(clientId: string, secretId: string, expiresAt: number): Promise<boolean>;
  deleteClientSecret(clientId: string, secretId: string): Promise<boolean>;
}

export interface ClientGrantStore {
  /** Throws StorageConflictError when the client already has a grant on that API. */
  createGrant(grant: ClientGrantRecord): Promise<void>;
  getGrant(id: string): Promise<ClientGrantRecord | undefined>;
  findGrant(clientId: string, apiIdentifier: string): Promise<ClientGrantRecord | undefined>;
  /** Filters are ANDed; no filter lists all grants. Ordered by (createdAt, id). */
  listGrants(filter?: { clientId?: string; apiIdentifier?: string } & PageOptions): Promise<ClientGrantRecord[]>;
  updateGrant(id: string, patch: ClientGrantPatch, now: number): Promise<ClientGrantRecord | undefined>;
  deleteGrant(id: string): Promise<boolean>;
}

/**
 * Trusted issuers and the federated credentials that name them. Deleting a client deletes its
 * credentials; deleting an issuer deletes every credential of that issuer.
 */
export interface FederationStore {
  createTrustedIssuer(issuer: TrustedIssuerRecord): Promise<void>;
  getTrustedIssuer(issuer: string): Promise<TrustedIssuerRecord | undefined>;
  /** Ordered by (createdAt, issuer). */
  listTrustedIssuers(page?: PageOptions): Promise<TrustedIssuerRecord[]>;
  updateTrustedIssuer(issuer: string, patch: TrustedIssuerPatch, now: number): Promise<TrustedIssuerRecord | undefined>;
  deleteTrustedIssuer(issuer: string): Promise<boolean>;

  /**
   * Throws StorageReferenceError when the client or the issuer does not exist, StorageConflictError
   * when the client already has a credential with the same issuer, subject and subjectMatch.
   */
  addFederatedCredential(credential: FederatedCredentialRecord): Promise<void>;
  /** Filters are ANDed. Ordered by (createdAt, id). */
  listFederatedCredentials(filter?: { clientId?: string; issuer?: string } & PageOptions): Promise<FederatedCredentialRecord[]>;
  /**
   * The credentials a token of `issuer` with this `sub` may match: those whose subject equals it
   * (`exact`) or is a prefix of it (`prefix`), of every client. Ordered by (createdAt, id).
   */
  findFederatedCredentials(issuer: string, subject: string): Promise<FederatedCredentialRecord[]>;
  deleteFederatedCredential(clientId: string, id: string): Promise<boolean>;
}

/** Token-exchange policies; deleting the client or the API they name deletes them. */
export interface ExchangePolicyStore {
  /**
   * Throws StorageReferenceError when the client, the API or (when set) the subject issuer does
   * not exist, StorageConflictError on the same (clientId, subjectClientId, subjectIssuer, apiIdentifier).
   */
  addExchangePolicy(policy: ExchangePolicyRecord): Promise<void>;
  getExchangePolicy(id: string): Promise<ExchangePolicyRecord | undefined>;
  /** Filters are ANDed. Ordered by (createdAt, id). */
  listExchangePolicies(filter?: { clientId?: string; apiIdentifier?: string } & PageOptions): Promise<ExchangePolicyRecord[]>;
  deleteExchangePolicy(id: string): Promise<boolean>;
}

export interface SigningKeyStore {
  createKey(key: SigningKeyRecord): Promise<void>;
  getKey(kid: string): Promise<SigningKeyRecord | undefined>;
  /** Ordered by createdAt, oldest first. */
  listKeys(): Promise<SigningKeyRecord[]>;
  /** Changes status (and rotatedAt when leaving `active`). Returns false when there is no such key. */
  setKeyStatus(kid: string, status: SigningKeyStatus, now: number): Promise<boolean>;
}

export interface AuditLogStore {
  appendAuditEvent(event: AuditEventRecord): Promise<void>;
  /** Newest first: by `at` descending, ties by id descending. Default limit 100. */
  listAuditEvents(query?: AuditEventQuery): Promise<AuditEventRecord[]>;
  /** Deletes events older than `before` (epoch ms); returns how many went. */
  pruneAuditEvents(before: number): Promise<number>;
}

export interface RevisionSource {
  /**
   * A number that changes whenever any store was written, by this process or another one
   * sharing the database. Cheap enough to poll every second.
   */
  currentRevision(): Promise<number>;
}

/** Which registry record a write touched; `key` is what caches are keyed by. */
export type RegistryChange =
  | { entity: 'api'; key: string }
  | { entity: 'client'; key: string }
  /** key: the client id whose secrets changed. */
  | { entity: 'client_secret'; key: string }
  /** key: `${clientId}\n${apiIdentifier}`. */
  | { entity: 'client_grant'; key: string }
  | { entity: 'signing_key'; key: string }
  /** key: the issuer. */
  | { entity: 'trusted_issuer'; key: string }
  /** key: the issuer of the credential (the registry drops its whole federated lookup on any). */
  | { entity: 'federated_credential'; key: string }
  /** key: the client id of the exchanging client. */
  | { entity: 'exchange_policy'; key: string };

/**
 * How a long-running reader (the server's registry cache) learns of writes made anywhere — this
 * process, another instance, the CLI — without asking on every request.
 */
export interface ChangeFeed {
  /**
   * Calls `listener` soon after registry writes commit, from any handle on the database
   * (PostgreSQL: LISTEN/NOTIFY; SQLite: a background revision poll; memory: at once). Calls may
   * coalesce several writes, or come without a change (after a reconnect); readers then ask
   * `changesSince`. Returns the function that stops the calls.
   */
  watchChanges(listener: () => void): () => void;
  /**
   * The writes after `revision`, oldest first, and the revision they bring the reader to.
   * `undefined` when the history no longer reaches back that far (it is bounded): the reader
   * must then treat everything as changed.
   */
  changesSince(revision: number): Promise<{ revision: number; changes: RegistryChange[] } | undefined>;
}

/** How many changes every adapter keeps: a reader further behind reloads everything. */
export const CHANGE_HISTORY_LENGTH = 10_000;

/** The registry stores, as seen inside a transaction. */
export interface RegistryStores extends ApiStore, ClientStore, ClientGrantStore, FederationStore, ExchangePolicyStore, SigningKeyStore, AuditLogStore {}

export interface TransactionalStore {
  /**
   * Runs `work` atomically: every write it makes through `tx` commits when it resolves, none when
   * it throws. Not reentrant: inside `work`, use `tx`, never the outer Storage (that would wait
   * for the transaction to end).
   */
  transaction<T>(work: (tx: RegistryStores) => Promise<T>): Promise<T>;
}

/** Everything the server needs from a database, as one handle. */
export interface Storage extends RegistryStores, TransactionalStore, RevisionSource, ChangeFeed, SecretUsageStore, LeaseStore {
  /** Human-readable adapter name for logs and `readyz`: `memory`, `sqlite`, `postgres`. */
  readonly kind: string;
  /** Resolves when the database answers; rejects otherwise (used by `/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
