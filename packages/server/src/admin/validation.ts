import {
  QUOTA_MODES,
  SIGNING_ALGORITHMS,
  TOKEN_FORMATS,
  type ApiScope,
  type ClientAuthMethod,
  type ClientQuota,
  type QuotaMode,
  type SigningAlgorithm,
  type TokenFormat,
} from '../storage/types.js';
import { validationFailed } from '../errors/admin-error.js';
import { isValidScopeToken } from '../grants/scope.js';
import { echo } from '../errors/echo.js';
import { MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS } from '../protocol/limits.js';

const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];

/** An API identifier is the token's `aud`: an absolute URI without a fragment. */
export function validateApiIdentifier(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
    throw validationFailed('identifier', 'identifier must be an absolute URI of at most 512 characters, e.g. https://orders.example');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw validationFailed('identifier', `identifier must be an absolute URI, e.g. https://orders.example (got ${shown(value)})`);
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
      throw validationFailed('scopes', `invalid scope ${shown(scope?.value)}: printable ASCII without spaces, quotes or backslashes`);
    }
    if (scope.value.endsWith('/.default')) throw validationFailed('scopes', 'a scope may not end with /.default (reserved)');
    return { value: scope.value, description: typeof scope.description === 'string' ? scope.description : '' };
  });
  const seen = new Set<string>();
  for (const scope of scopes) {
    if (seen.has(scope.value)) throw validationFailed('scopes', `scope ${echo(scope.value)} is listed twice`);
    seen.add(scope.value);
  }
  return scopes;
}

export function validateSigningAlg(value: unknown): SigningAlgorithm {
  if (!SIGNING_ALGORITHMS.includes(value as SigningAlgorithm)) {
    throw validationFailed('signingAlg', `alg must be one of ${SIGNING_ALGORITHMS.join(', ')} (got ${shown(value)})`);
  }
  return value as SigningAlgorithm;
}

export function validateTokenFormat(value: unknown, field = 'tokenFormat'): TokenFormat {
  if (!TOKEN_FORMATS.includes(value as TokenFormat)) {
    throw validationFailed(field, `token format must be one of ${TOKEN_FORMATS.join(', ')} (got ${shown(value)})`);
  }
  return value as TokenFormat;
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

/**
 * A client's JWK Set is accepted only as flat public keys of bounded size: the members RFC 7517/7518
 * define for RSA, EC and OKP public keys, each a short string (key_ops a short list, ext a boolean),
 * at most MAX_JWKS_KEYS keys, no private member, no nested value. Found by the attack probe: a
 * value nested 5,000 deep inside a key overflowed the stack (a 500), and at 1,000–3,000 it was
 * stored and then `export` failed; nothing but the key material has any use here.
 */
export const MAX_JWKS_KEYS = 20;
/** An RSA-8192 modulus is 1,366 base64url characters. */
export const MAX_JWK_MEMBER_CHARS = 2048;
export const JWK_COMMON_MEMBERS = ['kty', 'use', 'alg', 'kid', 'key_ops', 'ext', 'x5t', 'x5t#S256'] as const;
export const JWK_PUBLIC_MEMBERS = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] } as const;
/**
 * Every member a stored JWK may have, in the order keys are stored and the admin API's schema
 * lists them (its answers are serialised in schema order): a key reads the same from a local data
 * directory and through a remote server, whatever order it was sent in.
 */
export const JWK_MEMBER_ORDER: readonly string[] = [...JWK_COMMON_MEMBERS, ...new Set(Object.values(JWK_PUBLIC_MEMBERS).flat()), 'x5c'];

/** A JWK Set with each key's members in JWK_MEMBER_ORDER (a database such as PostgreSQL's jsonb may hand them back in its own). */
export function inMemberOrder<T extends { keys: Record<string, unknown>[] } | null>(jwks: T): T {
  if (!jwks) return jwks;
  return { ...jwks, keys: jwks.keys.map(orderedJwk) };
}

function orderedJwk(key: Record<string, unknown>): Record<string, unknown> {
  const known = JWK_MEMBER_ORDER.filter((member) => Object.hasOwn(key, member));
  // Members the order does not name stay, after the known ones: reading must not drop anything.
  const rest = Object.keys(key).filter((member) => !JWK_MEMBER_ORDER.includes(member));
  return Object.fromEntries([...known, ...rest].map((member) => [member, key[member]]));
}
const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** What a JWK Set may hold: a client's keys (the default), or a trusted issuer's (trusted-issuers.ts). */
export interface JwksRules {
  maxKeys: number;
  /** The wire name problems are reported under. */
  field: string;
  /** X.509 chains (`x5c`) beside the keys, as a SPIFFE bundle carries them for its X.509-SVID keys. */
  allowsCertificates?: boolean;
}
// Certificates beside a client's keys: self_signed_tls_client_auth registers them so (RFC 8705 §2.2).
const CLIENT_JWKS: JwksRules = { maxKeys: MAX_JWKS_KEYS, field: 'jwks', allowsCertificates: true };
/** An X.509 chain of a JWK: a few base64 DER certificates. */
export const MAX_CHAIN_CERTIFICATES = 10;
export const MAX_CERTIFICATE_CHARS = 16_384;

export function validateJwks(value: unknown, rules: JwksRules = CLIENT_JWKS): { keys: Record<string, unknown>[] } {
  const keys = (value as { keys?: unknown })?.keys;
  if (!isPlainObject(value) || Object.keys(value).some((member) => member !== 'keys') || !Array.isArray(keys) || keys.length === 0) {
    throw validationFailed(rules.field, `${rules.field} must be a JWK Set: {"keys": [...]}, with no other member`);
  }
  if (keys.length > rules.maxKeys) throw validationFailed(rules.field, `${rules.field} may hold at most ${rules.maxKeys} keys`);
  return { keys: keys.map((key, index) => validateJwk(key, `${rules.field}.keys[${index}]`, rules)) };
}

function validateJwk(key: unknown, at: string, rules: JwksRules): Record<string, unknown> {
  const { field } = rules;
  if (!isPlainObject(key)) throw validationFailed(field, `${at} must be a JWK object`);
  if (JWK_PRIVATE_MEMBERS.some((member) => member in key)) throw validationFailed(field, `${field} must contain public keys only`);
  const kty = key.kty as keyof typeof JWK_PUBLIC_MEMBERS;
  if (kty === ('oct' as string)) throw validationFailed(field, `${at} is a symmetric key (kty oct): ${field} must contain public keys only`);
  if (typeof kty !== 'string' || !Object.hasOwn(JWK_PUBLIC_MEMBERS, kty))
    throw validationFailed(field, `${at}.kty must be ${Object.keys(JWK_PUBLIC_MEMBERS).join(', ')}`);
  const allowed: readonly string[] = [...JWK_COMMON_MEMBERS, ...JWK_PUBLIC_MEMBERS[kty], ...(rules.allowsCertificates ? ['x5c'] : [])];
  for (const [member, memberValue] of Object.entries(key)) {
    if (!allowed.includes(member))
      throw validationFailed(field, `${at} has a member ${echo(member)} that a ${kty} public key does not have (allowed: ${allowed.join(', ')})`);
    const isValid =
      member === 'ext'
        ? typeof memberValue === 'boolean'
        : member === 'key_ops'
          ? Array.isArray(memberValue) && memberValue.length <= 8 && memberValue.every((op) => typeof op === 'string' && op.length <= 32)
          : member === 'x5c'
            ? Array.isArray(memberValue) &&
              memberValue.length <= MAX_CHAIN_CERTIFICATES &&
              memberValue.every((certificate) => typeof certificate === 'string' && certificate.length <= MAX_CERTIFICATE_CHARS)
            : typeof memberValue === 'string' && memberValue.length <= MAX_JWK_MEMBER_CHARS;
    if (!isValid)
      throw validationFailed(
        field,
        `${at}.${member} must be ${
          member === 'ext'
            ? 'true or false'
            : member === 'key_ops'
              ? 'a list of at most 8 short strings'
              : member === 'x5c'
                ? `a list of at most ${MAX_CHAIN_CERTIFICATES} base64 certificates`
                : `a string of at most ${MAX_JWK_MEMBER_CHARS} characters`
        }`,
      );
  }
  const missing = JWK_PUBLIC_MEMBERS[kty].filter((member) => typeof key[member] !== 'string');
  if (missing.length > 0) throw validationFailed(field, `${at} (${kty}) needs ${missing.join(', ')}`);
  return orderedJwk(key);
}

/**
 * A value the caller sent, as a message may show it: a string through the bounded, withholding
 * echo the OAuth endpoints use (a pasted secret is not sent back, a megabyte is cut); anything
 * else only by its kind (serialising it could be as large, or as deep, as the caller liked).
 */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(echo(value));
  return value === null
    ? 'null'
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object'
        ? 'an object'
        : typeof value === 'undefined'
          ? 'nothing'
          : String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/** The most a quota may allow per window: beyond it a quota limits nothing real. */
export const MAX_QUOTA = 1_000_000_000;

/** A quota change as a record: the limits and mode given, or null to remove the quota. */
export type QuotaChangeInput = { perHour?: number | null; perDay?: number | null; mode?: QuotaMode } | null;

/**
 * A client's quota after a change: the limits and mode given replace the current ones, a limit
 * set to null goes, and a quota left with no limit is removed (null). Mode defaults to enforce.
 */
export function resolveQuota(current: ClientQuota | undefined, change: QuotaChangeInput): ClientQuota | null {
  if (change === null) return null;
  const limit = (value: unknown, field: string): number | null => {
    if (value === null) return null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_QUOTA) {
      throw validationFailed(field, `${field} must be a whole number of tokens from 1 to ${MAX_QUOTA}, or null for no limit`);
    }
    return value;
  };
  const perHour = limit(change.perHour !== undefined ? change.perHour : (current?.perHour ?? null), 'quota.per_hour');
  const perDay = limit(change.perDay !== undefined ? change.perDay : (current?.perDay ?? null), 'quota.per_day');
  const mode = change.mode ?? current?.mode ?? 'enforce';
  if (!QUOTA_MODES.includes(mode)) throw validationFailed('quota.mode', `quota mode must be ${QUOTA_MODES.join(' or ')}`);
  if (perHour === null && perDay === null) return null;
  return { perHour, perDay, mode };
}
