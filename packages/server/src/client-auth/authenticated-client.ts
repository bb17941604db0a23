import type { RegisteredClient, RegisteredSecret } from '../storage/types.js';
import type { PresentedCredentials } from './client-credentials.js';

/** The reads client authentication needs (the registry cache provides them, storage would do). */
export interface ClientDirectory {
  client(clientId: string): Promise<RegisteredClient | undefined>;
  clientSecrets(clientId: string): Promise<readonly RegisteredSecret[]>;
}

/** Who authenticated, and with what (`secret:<id>`, `private_key_jwt`, `federated:<credential id>`), for the token.issued line. */
export interface AuthenticatedClient {
  client: RegisteredClient;
  credential: string;
}

/** The one description every failed authentication gets: which check failed goes to the log only. */
export const FAILED = 'Client authentication failed.';

/**
 * Client authentication as the endpoints call it: `authenticateClient` bound to its dependencies
 * where the system is composed, so a decorator (a trace span) can be put around it there.
 */
export type ClientAuthenticator = (credentials: PresentedCredentials, remoteAddress: string) => Promise<AuthenticatedClient>;
