// Public surface of @m2m-auth/client.
export { createTokenClient, type TokenClient, type TokenClientOptions, type TokenRequestOptions, type TokenSource } from './token-client.js';
export { createAuthFetch, type AuthFetchOptions } from './auth-fetch.js';
export { AccessToken } from './access-token.js';
export { TokenClientError, isTokenClientError, isOAuthError, type TokenClientErrorCode } from './errors.js';
export { presets, type ClientPreset, type AuthMethod, type AudienceStyle } from './presets.js';
export type { TokenClientEvent, TokenClientListener } from './events.js';
export type { RetryPolicy } from './retry.js';
export type { SecretSource, PrivateKeySource } from './client-authentication.js';
