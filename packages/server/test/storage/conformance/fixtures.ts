import type {
  ApiRecord,
  ClientGrantRecord,
  ClientRecord,
  ClientSecretRecord,
  ExchangePolicyRecord,
  FederatedCredentialRecord,
  SigningKeyRecord,
  Storage,
  TrustedIssuerRecord,
} from '../../../src/storage/types.js';

/** How the suite reaches an adapter. */
export interface ConformanceHarness {
  /** A handle on a fresh, empty database. */
  makeStorage(): Promise<Storage>;
  /**
   * Another handle on the database behind `storage`, as a second server instance or the CLI
   * would open it (its own connection where the adapter has connections). Closed by the suite.
   */
  connectAgain(storage: Storage): Promise<Storage>;
  /** The instant records are stamped from. Default: a fixed one, so failures reproduce. */
  now?: () => number;
}

export type RecordBuilders = ReturnType<typeof recordBuilders>;

/** Plain records stamped relative to T0, so tests name time as offsets, never as wall-clock. */
export function recordBuilders(T0: number) {
  const api = (identifier: string, createdAt = T0): ApiRecord => ({
    identifier,
    name: `API ${identifier}`,
    scopes: [
      { value: 'read:things', description: 'Read things' },
      { value: 'write:things', description: '' },
    ],
    signingAlg: 'RS256',
    tokenTtlSeconds: 900,
    tokenFormat: 'jwt',
    createdAt,
    updatedAt: createdAt,
  });
  const client = (clientId: string, createdAt = T0): ClientRecord => ({
    clientId,
    name: `client ${clientId}`,
    description: 'a service',
    defaultApi: null,
    isEnabled: true,
    grantTypes: ['client_credentials'],
    tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post'],
    jwks: null,
    createdAt,
    updatedAt: createdAt,
  });
  const secret = (id: string, clientId: string, createdAt = T0): ClientSecretRecord => ({
    id,
    clientId,
    hash: `hash-${id}`,
    hint: id.slice(-4),
    createdAt,
    expiresAt: null,
  });
  const grant = (id: string, clientId: string, apiIdentifier: string, createdAt = T0): ClientGrantRecord => ({
    id,
    clientId,
    apiIdentifier,
    scopes: ['read:things'],
    tokenTtlSeconds: null,
    createdAt,
    updatedAt: createdAt,
  });
  const key = (kid: string, createdAt = T0, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
    kid,
    alg: 'RS256',
    status: 'active',
    encryptedPrivateKey: `v1.ciphertext-${kid}`,
    publicJwk: { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: 'abc', e: 'AQAB' },
    apiIdentifier: null,
    createdAt,
    rotatedAt: null,
    ...overrides,
  });
  const trustedIssuer = (issuer: string, createdAt = T0, overrides: Partial<TrustedIssuerRecord> = {}): TrustedIssuerRecord => ({
    issuer,
    kind: 'oidc',
    jwksUri: null,
    jwks: null,
    tokenReuse: 'refuse',
    maxTokenLifetimeSeconds: 3600,
    isShared: false,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  });
  const federatedCredential = (
    id: string,
    clientId: string,
    issuer: string,
    subject: string,
    createdAt = T0,
    overrides: Partial<FederatedCredentialRecord> = {},
  ): FederatedCredentialRecord => ({
    id,
    clientId,
    issuer,
    subject,
    subjectMatch: 'exact',
    audiences: [],
    claims: {},
    description: '',
    createdAt,
    ...overrides,
  });
  /** A policy letting `clientId` exchange tokens of `subject` (a client id or `*`; `{ issuer }` for a trusted issuer's JWTs) for `apiIdentifier`. */
  const exchangePolicy = (
    id: string,
    clientId: string,
    subject: string | { issuer: string },
    apiIdentifier: string,
    createdAt = T0,
    overrides: Partial<ExchangePolicyRecord> = {},
  ): ExchangePolicyRecord => ({
    id,
    clientId,
    subjectClientId: typeof subject === 'string' ? subject : null,
    subjectIssuer: typeof subject === 'string' ? null : subject.issuer,
    apiIdentifier,
    scopes: null,
    description: '',
    createdAt,
    ...overrides,
  });
  return { api, client, secret, grant, key, trustedIssuer, federatedCredential, exchangePolicy };
}

/** Resolves once `isDone()` holds; the bound only turns a hang into a failure, it times nothing. */
export async function eventually(isDone: () => Promise<boolean> | boolean, what: string, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await isDone())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
