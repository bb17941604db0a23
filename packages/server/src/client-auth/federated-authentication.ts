import { createHash } from 'node:crypto';
import { OAuthError } from '../errors/oauth-error.js';
import type { IssuerKeyCache } from '../federation/issuer-keys.js';
import type { VerifiedTokenCache } from '../federation/verified-token-cache.js';
import {
  matchFederatedCredential,
  PlatformTokenRejected,
  verifyPlatformToken,
  type FederationDirectory,
  type PlatformTokenFailure,
} from '../federation/platform-token.js';
import { invalidClient, type PresentedCredentials } from './client-credentials.js';
import { useAssertionOnce } from './assertion-replay.js';
import type { AssertionReplayStore } from '../state/types.js';
import { FAILED, type AuthenticatedClient, type ClientDirectory } from './authenticated-client.js';

export interface FederatedAuthDeps {
  directory: FederationDirectory;
  keys: IssuerKeyCache;
  /** Reused platform tokens (Kubernetes, SPIFFE) verified once per token, not once per request. */
  verified?: VerifiedTokenCache;
  /** This server's issuer identifier: the audience a federated credential expects unless it names its own. */
  serverIssuer: string;
  /** Told of every federated authentication (metrics by issuer and result). */
  onOutcome?: (outcome: FederatedOutcome) => void;
}

export interface FederatedOutcome {
  /** The trusted issuer the token named; undefined when it named none we trust. */
  issuer: string | undefined;
  result: 'success' | PlatformTokenFailure | 'keys_unavailable';
}

/**
 * A platform token instead of a secret: verified against its trusted issuer, matched to exactly one
 * federated credential, of an enabled client, and (when its issuer refuses reuse) never seen
 * before anywhere in the deployment. Every refusal is the same invalid_client to the caller; the
 * reason goes to the log and the metrics.
 */
export async function authenticateFederated(
  deps: { federation?: FederatedAuthDeps | undefined; registry: ClientDirectory; now: () => number; assertionReplay: AssertionReplayStore },
  credentials: PresentedCredentials & { method: 'federated' },
): Promise<AuthenticatedClient> {
  const federation = deps.federation;
  if (!federation) throw invalidClient(FAILED, 'workload identity federation is not configured');
  let issuer: string | undefined;
  try {
    const verified = await verifyPlatformToken({ ...federation, now: deps.now }, credentials.assertion, credentials.profile);
    issuer = verified.issuer.issuer;
    const credential = await matchFederatedCredential(federation.directory, verified, {
      clientId: credentials.clientId,
      serverIssuer: federation.serverIssuer,
    });
    const client = await deps.registry.client(credential.clientId);
    if (!client?.isEnabled) throw new PlatformTokenRejected('client_disabled', 'the client of the matching credential is disabled or gone', issuer);
    if (verified.issuer.tokenReuse === 'refuse') {
      // Keyed by the token's jti, or the whole token when it has none: either way, used once.
      const id = typeof verified.payload.jti === 'string' ? `jti\n${verified.payload.jti}` : `token\n${credentials.assertion}`;
      const replayKey = createHash('sha256').update(`${issuer}\n${id}`).digest('base64url');
      const isFirstUse = await useAssertionOnce(deps.assertionReplay, `fa:${replayKey}`, verified.payload.exp! * 1000, client.clientId);
      if (!isFirstUse) throw new PlatformTokenRejected('replayed', 'the platform token was already used and its issuer refuses reuse', issuer);
    }
    federation.onOutcome?.({ issuer, result: 'success' });
    return { client, credential: `federated:${credential.id}` };
  } catch (error) {
    if (error instanceof PlatformTokenRejected) {
      federation.onOutcome?.({ issuer: error.issuer, result: error.reason });
      throw invalidClient(FAILED, `federated assertion rejected (${error.reason}): ${error.detail}`);
    }
    if (!(error instanceof OAuthError)) federation.onOutcome?.({ issuer, result: 'keys_unavailable' });
    throw error;
  }
}
