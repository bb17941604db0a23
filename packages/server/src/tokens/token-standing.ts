import type { JWTPayload } from 'jose';
import type { RegisteredClient, RegisteredGrant } from '../storage/types.js';
import type { RevokedTokenStore } from '../state/types.js';
import { revokedTokenKey } from './verify-own-token.js';

/** The reads that tell whether one of our tokens still stands (the registry cache provides them). */
export interface TokenStandingDirectory {
  client(clientId: string): Promise<RegisteredClient | undefined>;
  grant(clientId: string, apiIdentifier: string): Promise<RegisteredGrant | undefined>;
}

export interface TokenStandingDeps {
  registry: TokenStandingDirectory;
  revoked: Pick<RevokedTokenStore, 'isTokenRevoked'>;
}

/**
 * What offline verification cannot know about a token we issued and verified: whether it was
 * revoked, and whether its client is still enabled and its grant still covers its scopes.
 * Introspection answers with it; token exchange accepts a subject token only when it holds.
 */
export async function tokenStillStands(deps: TokenStandingDeps, claims: JWTPayload): Promise<boolean> {
  if (await deps.revoked.isTokenRevoked(revokedTokenKey(String(claims.jti)))) return false;
  const clientId = String(claims.client_id);
  const client = await deps.registry.client(clientId);
  if (!client?.isEnabled) return false;
  const grant = await deps.registry.grant(clientId, String(claims.aud));
  if (!grant) return false;
  const granted = new Set(grant.scopes);
  return scopesOf(claims).every((scope) => granted.has(scope));
}

export function scopesOf(claims: JWTPayload): string[] {
  return typeof claims.scope === 'string' && claims.scope !== '' ? claims.scope.split(' ') : [];
}
