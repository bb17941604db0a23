import { SIGNING_ALGORITHMS, type ApiScope, type ClientAuthMethod, type SigningAlgorithm } from '../storage/types.js';
import { validationFailed } from '../errors/admin-error.js';
import { isValidScopeToken } from '../grants/scope.js';

export const DEFAULT_TOKEN_TTL_SECONDS = 900;
export const MAX_TOKEN_TTL_SECONDS = 86_400;
export const MIN_TOKEN_TTL_SECONDS = 30;
const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

/** An API identifier is the token's `aud`: an absolute URI without a fragment. */
export function validateApiIdentifier(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
    throw validationFailed('identifier', 'identifier must be an absolute URI of at most 512 characters, e.g. https://orders.example');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw validationFailed('identifier', `identifier must be an absolute URI, e.g. https://orders.example (got ${JSON.stringify(value)})`);
  }
  if (url.hash || value.includes('#')) throw validationFailed('identifier', 'identifier must not contain a fragment (#)');
  if (/\s/.test(value)) throw validationFailed('identifier', 'identifier must not contain white space');
  return value;
}

export function validateScopes(value: unknown): ApiScope[] {
  const list = Array.isArray(value) ? value : [];
  if (!Array.isArray(value)) throw validationFailed('scopes', 'scopes must be a list');
  const scopes = list.map((entry): ApiScope => {
    const scope = typeof entry === 'string' ? { value: entry, description: '' } : (entry as ApiScope);
    if (typeof scope?.value !== 'string' || !isValidScopeToken(scope.value) || scope.value.length > 128) {
      throw validationFailed('scopes', `invalid scope ${JSON.stringify(scope?.value)}: printable ASCII without spaces, quotes or backslashes`);
    }
    if (scope.value.endsWith('/.default')) throw validationFailed('scopes', 'a scope may not end with /.default (reserved)');
    return { value: scope.value, description: typeof scope.description === 'string' ? scope.description : '' };
  });
  const seen = new Set<string>();
  for (const scope of scopes) {
    if (seen.has(scope.value)) throw validationFailed('scopes', `scope ${scope.value} is listed twice`);
    seen.add(scope.value);
  }
  return scopes;
}

export function validateSigningAlg(value: unknown): SigningAlgorithm {
  if (!SIGNING_ALGORITHMS.includes(value as SigningAlgorithm)) {
    throw validationFailed('signingAlg', `alg must be one of ${SIGNING_ALGORITHMS.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as SigningAlgorithm;
}

export function validateTokenTtl(value: unknown, field = 'tokenTtlSeconds'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_TOKEN_TTL_SECONDS || value > MAX_TOKEN_TTL_SECONDS) {
    throw validationFailed(field, `token TTL must be a whole number of seconds from ${MIN_TOKEN_TTL_SECONDS} to ${MAX_TOKEN_TTL_SECONDS}`);
  }
  return value;
}

export function validateName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 200) {
    throw validationFailed(field, `${field} must be a non-empty string of at most 200 characters`);
  }
  return value.trim();
}

export function validateAuthMethods(value: unknown): ClientAuthMethod[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((method) => !AUTH_METHODS.includes(method))) {
    throw validationFailed('tokenEndpointAuthMethods', `auth methods must be a non-empty list of ${AUTH_METHODS.join(', ')}`);
  }
  return [...new Set(value as ClientAuthMethod[])];
}

export function validateJwks(value: unknown): { keys: Record<string, unknown>[] } {
  const keys = (value as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw validationFailed('jwks', 'jwks must be a JWK Set: {"keys": [...]}');
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || !('kty' in key)) throw validationFailed('jwks', 'every JWK needs a kty');
    if ('d' in key || 'k' in key) throw validationFailed('jwks', 'jwks must contain public keys only');
  }
  return { keys: keys as Record<string, unknown>[] };
}

export function validateDescription(value: unknown): string {
  if (typeof value !== 'string' || value.length > 1000) throw validationFailed('description', 'description must be a string of at most 1000 characters');
  return value;
}

/** Client ids travel in Basic credentials and URLs: keep a supplied one to URL-safe characters. */
export function validateClientId(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._~-]{1,128}$/.test(value)) {
    throw validationFailed('client_id', 'client_id must be 1 to 128 letters, digits or . _ ~ -');
  }
  return value;
}

export function validateBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw validationFailed(field, `${field} must be true or false`);
  return value;
}
