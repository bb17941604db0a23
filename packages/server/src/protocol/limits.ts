/**
 * Limits and reserved values every layer speaks of: the admin operations validate against them,
 * the token path and key rotation rely on them, configuration defaults to them. Kept here, below
 * all of them, so none has to import another layer for a number.
 */

/** Token lifetimes an API or grant may set (seconds). Short by default (RFC 9700 §2.2). */
export const DEFAULT_TOKEN_TTL_SECONDS = 900;
export const MAX_TOKEN_TTL_SECONDS = 86_400;
export const MIN_TOKEN_TTL_SECONDS = 30;

/** The wildcard of a client's introspection permission (RFC 7662 §4): every API. */
export const ANY_API = '*';

/**
 * Token exchange: the longest `act` chain (the new actor included). By default the caller and
 * three hops behind it; a server may allow from 1 (an exchanged token is never exchanged again)
 * to MAX_DELEGATION_CHAIN_LIMIT.
 */
export const DEFAULT_MAX_DELEGATION_CHAIN = 4;
export const MAX_DELEGATION_CHAIN_LIMIT = 16;

/** Clients each process keeps in its registry cache, each with its secrets and grants. */
export const DEFAULT_REGISTRY_CACHE_ENTRIES = 100_000;
