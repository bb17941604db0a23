import { AuthError } from './errors.js';
import type { Principal } from './principal.js';

export interface ScopeRequirement {
  /** `all` (default): every listed scope; `any`: at least one. */
  match?: 'all' | 'any';
}

/** Throws insufficient_scope (403, with the needed scopes in the challenge) unless the principal has them. */
export function checkScopes(principal: Principal, required: readonly string[], options: ScopeRequirement = {}): void {
  if (required.length === 0) return;
  const granted = principal.scopes;
  const ok = options.match === 'any' ? required.some((s) => granted.includes(s)) : required.every((s) => granted.includes(s));
  if (!ok) {
    const description = options.match === 'any' ? `The access token needs one of the scopes: ${required.join(' ')}.` : `The access token needs the scopes: ${required.join(' ')}.`;
    throw new AuthError('insufficient_scope', description, 'insufficient_scope', required);
  }
}
