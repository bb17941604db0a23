import { AuthError } from './errors.js';
import { createOptionChecks, describeValue } from '@m2m-auth/sdk-core';
import type { Principal } from './principal.js';

export interface ScopeRequirement {
  /** `all` (default): every listed value; `any`: at least one. */
  match?: 'all' | 'any';
}

/** A requirement parsed once at set-up; throws AuthError (403 insufficient_scope) per request. */
export type PrincipalCheck = (principal: Principal) => void;

const fail = (message: string): never => {
  throw new TypeError(message);
};
const checks = createOptionChecks(fail);

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * `'read:orders write:orders'` (the space-separated form of RFC 6749 §3.3, as in
 * express-oauth2-jwt-bearer) or `['read:orders', 'write:orders']`, as a list. An empty or
 * malformed requirement is a set-up mistake: a route that requires nothing must not look as if it
 * required something, so it throws a TypeError naming `name` instead of letting every token through.
 */
export function parseRequirement(value: unknown, name: string): readonly string[] {
  const list = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(list) || list.length === 0 || (typeof value === 'string' && value.trim() === '')) {
    return fail(`${name} must be a space-separated string or a non-empty array of scope values (got ${describeValue(value)}).`);
  }
  for (const [index, item] of list.entries()) {
    const where = typeof value === 'string' ? `${name} (value ${index + 1} of ${JSON.stringify(value.slice(0, 80))})` : `${name}[${index}]`;
    if (typeof item !== 'string' || !SCOPE_TOKEN.test(item)) {
      fail(
        `${where} must be a scope value: printable ASCII without spaces, quotes or backslashes (got ${describeValue(item)}${typeof item === 'string' && item !== '' ? ` ${JSON.stringify(item.slice(0, 40))}` : ''}).`,
      );
    }
  }
  return Object.freeze([...new Set(list as string[])]);
}

function parseMatch(options: unknown, name: string): 'all' | 'any' {
  const record = checks.object(options, `${name} options`, ['match', 'realm']);
  return checks.oneOf(record?.match, `${name} option match`, ['all', 'any'] as const) ?? 'all';
}

/** `checkScopes` compiled once: the route's requirement is parsed and checked at set-up, not per request. */
export function createScopeCheck(required: unknown, options?: ScopeRequirement, name = 'scopes'): PrincipalCheck {
  return createCheck('scopes', required, options, name);
}

/**
 * The same over `principal.authorities`: scopes (with `scopePrefix`) and the roles or permissions
 * of `roleClaims` (Entra app roles, Auth0 RBAC permissions). Refused with 403 insufficient_scope
 * without a `scope` attribute: a role is not something the client can ask for in a token request.
 */
export function createAuthorityCheck(required: unknown, options?: ScopeRequirement, name = 'authorities'): PrincipalCheck {
  return createCheck('authorities', required, options, name);
}

function createCheck(kind: 'scopes' | 'authorities', required: unknown, options: unknown, name: string): PrincipalCheck {
  const values = parseRequirement(required, name);
  const match = parseMatch(options, name);
  const description = `The access token needs ${match === 'any' ? 'one of ' : ''}the ${kind}: ${values.join(' ')}.`;
  const inChallenge = kind === 'scopes' ? values : [];
  return (principal) => {
    if (!satisfies(kind === 'scopes' ? principal.scopes : principal.authorities, values, match)) {
      throw new AuthError('insufficient_scope', description, 'insufficient_scope', inChallenge);
    }
  };
}

/** Throws insufficient_scope (403, with the needed scopes in the challenge) unless the principal has them. */
export function checkScopes(principal: Principal, required: string | readonly string[], options: ScopeRequirement = {}): void {
  createScopeCheck(required, options, 'checkScopes: required')(principal);
}

/** Throws insufficient_scope (403) unless the principal has the authorities (scopes, roles, permissions). */
export function checkAuthorities(principal: Principal, required: string | readonly string[], options: ScopeRequirement = {}): void {
  createAuthorityCheck(required, options, 'checkAuthorities: required')(principal);
}

/** What an adapter's requireScopes/requireAuthorities needs, built at set-up. */
export interface RouteRequirement {
  readonly check: PrincipalCheck;
  /** The route's own realm; undefined = the realm of the verifier that accepted the token. */
  readonly realm: string | undefined;
}

export function createRouteRequirement(kind: 'scopes' | 'authorities', required: unknown, options: unknown, name: string): RouteRequirement {
  const check = createCheck(kind, required, options, name);
  const realm = checks.string((options as { realm?: unknown } | undefined)?.realm, `${name} option realm`);
  return { check, realm };
}

function satisfies(granted: readonly string[], required: readonly string[], match: 'all' | 'any'): boolean {
  return match === 'any' ? required.some((value) => granted.includes(value)) : required.every((value) => granted.includes(value));
}
