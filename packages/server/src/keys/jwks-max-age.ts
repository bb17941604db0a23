/**
 * How long verifiers may cache our JWKS (Cache-Control max-age on /.well-known/jwks.json). Key
 * rotation publishes a new key at least this long before it signs (keys/rotation-policy.ts).
 */
export const JWKS_MAX_AGE_SECONDS = 300;
