import { DependencyUnavailableError } from '../errors/dependency-unavailable.js';
import type { TokenInspection } from '../tokens/inspect-token.js';
import type { AdminContext } from './admin-context.js';

export interface TokenInspectionOperations {
  /** What this server knows of a token (issued here, signature, revoked, expired, active, and why not); never logged, never stored. */
  inspectToken(token: string): Promise<TokenInspection>;
}

export function createTokenInspectionOperations({ deps }: AdminContext): TokenInspectionOperations {
  return {
    async inspectToken(token) {
      if (!deps.inspectToken)
        throw new DependencyUnavailableError('admin opened without a token inspector', 'Tokens are inspected by a running server, not this admin.');
      return deps.inspectToken(token);
    },
  };
}
