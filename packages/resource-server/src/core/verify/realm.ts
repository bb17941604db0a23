import type { Principal } from '../principal.js';

/**
 * The realm of the verifier that accepted each principal, so a scope check after `requireAuth`
 * answers with that verifier's realm. Set once per verified token (a cached principal is the same
 * object), so a cache hit costs nothing.
 */
const realms = new WeakMap<Principal, string>();

export function rememberRealm(principal: Principal, realm: string): void {
  realms.set(principal, realm);
}

/** The realm of the verifier that accepted this principal, when one of ours did. */
export function realmOf(principal: Principal): string | undefined {
  return realms.get(principal);
}
