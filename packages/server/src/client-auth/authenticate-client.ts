import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import type { ClientAuthMethod, RegisteredClient } from '../storage/types.js';
import { FAILED, type AuthenticatedClient, type ClientDirectory } from './authenticated-client.js';
import type { AssertionReplayStore } from '../state/types.js';
import { OAuthError } from '../errors/oauth-error.js';
import { clientSecretMatches } from '../secrets/client-secret.js';
import { invalidClient, type PresentedCredentials } from './client-credentials.js';
import type { FailureLimiter } from './failure-limiter.js';
import { isStorableText } from '../protocol/storable-text.js';
import { claimedIdentity } from '../federation/platform-token.js';
import { authenticateFederated, type FederatedAuthDeps } from './federated-authentication.js';
import { useAssertionOnce } from './assertion-replay.js';
import { authenticateWithCertificate, type MutualTlsAuthDeps } from './tls-client-auth.js';

export type { FederatedAuthDeps, FederatedOutcome } from './federated-authentication.js';
export type { AuthenticatedClient, ClientAuthenticator, ClientDirectory } from './authenticated-client.js';

export interface ClientAuthDeps {
  registry: ClientDirectory;
  secretPepper: Buffer;
  now: () => number;
  limiter: FailureLimiter;
  /** Values accepted as `aud` of a private_key_jwt assertion: the issuer and the endpoint URLs. */
  assertionAudiences: readonly string[];
  /** Shared by every worker and kept across restarts, so an assertion is accepted once per deployment. */
  assertionReplay: AssertionReplayStore;
  /** Told which secret authenticated (last-used times); never on the answer's critical path. */
  onSecretUsed?: (clientId: string, secretId: string) => void;
  /** Workload identity federation: platform tokens of trusted issuers instead of a secret. */
  federation?: FederatedAuthDeps;
  /** Mutual TLS (RFC 8705 §2): the CAs of tls_client_auth. Without it no certificate authenticates. */
  mutualTls?: MutualTlsAuthDeps;
}

/** Compared against when the client does not exist, so unknown and known ids take the same time. */
const DUMMY_HASH = Buffer.alloc(32).toString('base64url');

/**
 * Checks presented credentials against storage; returns the authenticated client or throws
 * invalid_client (or, past the failure limits, 429). The credentials are always checked: a correct
 * one is never refused because someone else failed, and a success writes nothing.
 */
export async function authenticateClient(deps: ClientAuthDeps, credentials: PresentedCredentials, remoteAddress: string): Promise<AuthenticatedClient> {
  const clientId = failureKeyOf(credentials);
  try {
    // Before any lookup: PostgreSQL cannot even be asked for such an id (see storable-text.ts).
    if (!isStorableText(clientId)) throw invalidClient(FAILED, 'client id holds a NUL character');
    return await verifyCredentials(deps, credentials, clientId);
  } catch (error) {
    if (error instanceof OAuthError && error.error === 'invalid_client') {
      throw (await deps.limiter.recordFailure(remoteAddress, clientId)) ?? error;
    }
    throw error;
  }
}

/** Whose failures a failed attempt counts against: the client id, or the platform identity a federated token claims. */
function failureKeyOf(credentials: PresentedCredentials): string {
  switch (credentials.method) {
    case 'private_key_jwt':
      return credentials.clientId ?? assertionSubject(credentials.assertion);
    case 'federated': {
      if (credentials.clientId !== undefined) return credentials.clientId;
      const claimed = claimedIdentity(credentials.assertion, credentials.profile);
      return claimed ? `${claimed.issuer} ${claimed.subject}` : '';
    }
    default:
      return credentials.clientId;
  }
}

async function verifyCredentials(deps: ClientAuthDeps, credentials: PresentedCredentials, clientId: string): Promise<AuthenticatedClient> {
  if (credentials.method === 'federated') return authenticateFederated(deps, credentials);
  const client = await deps.registry.client(clientId);
  // The method that passed (for a certificate, the client's registration says which) and what it names on the token.issued line.
  let method: ClientAuthMethod;
  let credential: string;
  if (credentials.method === 'mutual_tls') {
    if (!deps.mutualTls) throw invalidClient(FAILED, 'mutual TLS is not configured');
    if (!client) throw invalidClient(FAILED, 'unknown client');
    method = authenticateWithCertificate(deps.mutualTls, client, credentials.certificate);
    credential = method;
  } else if (credentials.method === 'private_key_jwt') {
    if (!client?.jwks) throw invalidClient(FAILED, client ? 'client has no registered keys' : 'unknown client', client?.clientId);
    await verifyAssertion(deps, client, credentials.assertion);
    method = credential = 'private_key_jwt';
  } else {
    const secrets = client ? await deps.registry.clientSecrets(clientId) : [];
    const now = deps.now();
    // Every live secret is compared (rotation keeps two), each in constant time.
    let matched: string | undefined;
    for (const secret of secrets) {
      if (secret.expiresAt !== null && secret.expiresAt <= now) continue;
      if (clientSecretMatches(deps.secretPepper, credentials.secret, secret.hash)) matched = secret.id;
    }
    if (!client) clientSecretMatches(deps.secretPepper, credentials.secret, DUMMY_HASH);
    // Named either way (undefined for an unknown id), so both paths do the same work.
    if (!client || matched === undefined) throw invalidClient(FAILED, client ? 'secret mismatch' : 'unknown client', client?.clientId);
    deps.onSecretUsed?.(client.clientId, matched);
    method = credentials.method;
    credential = `secret:${matched}`;
  }
  if (!client.tokenEndpointAuthMethods.includes(method)) {
    throw invalidClient(`This client may not authenticate with ${method}.`, undefined, client.clientId);
  }
  if (!client.isEnabled) throw invalidClient('This client is disabled.', undefined, client.clientId);
  return { client, credential };
}

function assertionSubject(assertion: string): string {
  try {
    const { sub, iss } = decodeJwt(assertion);
    if (typeof sub === 'string' && sub === iss) return sub;
  } catch {
    // fall through: a malformed assertion is an authentication failure, not a server error
  }
  throw invalidClient('client_assertion must be a JWT whose iss and sub are the client_id.');
}

const ASSERTION_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const MAX_ASSERTION_LIFETIME_S = 300;

/** RFC 7523 §3: iss = sub = client_id, aud names this server, exp required, jti used once. */
async function verifyAssertion(deps: ClientAuthDeps, client: RegisteredClient, assertion: string) {
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(client.jwks as JSONWebKeySet), {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: client.clientId,
      subject: client.clientId,
      audience: [...deps.assertionAudiences],
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(deps.now()),
      clockTolerance: 5,
    }));
  } catch (error) {
    throw invalidClient(FAILED, `client_assertion rejected: ${(error as Error).message}`, client.clientId);
  }
  const nowS = Math.floor(deps.now() / 1000);
  if (payload.exp! - nowS > MAX_ASSERTION_LIFETIME_S) {
    throw invalidClient(`client_assertion must expire within ${MAX_ASSERTION_LIFETIME_S} seconds.`, undefined, client.clientId);
  }
  // Hashed: the jti is the caller's string, of any length.
  const replayKey = createHash('sha256').update(`${client.clientId}\n${payload.jti}`).digest('base64url');
  // Over this client's own allowance of unexpired used assertions: refused (fail closed) without
  // recording it, so its retry after Retry-After is a first use; no other client is affected.
  const isFirstUse = await useAssertionOnce(deps.assertionReplay, `as:${replayKey}`, payload.exp! * 1000, client.clientId);
  if (!isFirstUse) {
    throw invalidClient('client_assertion was already used (jti replay).', undefined, client.clientId);
  }
}
