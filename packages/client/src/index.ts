// Public surface of @m2m-auth/client.
export { createTokenClient, type TokenClient, type TokenSource } from './token-client.js';
export type {
  TokenClientOptions,
  TokenRequestOptions,
  ExchangeTokenOptions,
  ClientPreset,
  AuthMethod,
  AudienceStyle,
  SecretSource,
  PrivateKeySource,
  ClientAssertionOptions,
  ClientAssertionSource,
  ClientAssertionType,
  DpopKeyPair,
  MtlsOptions,
  PemSource,
} from './token-client-options.js';
export type { ClientCertificateTransport } from './mtls.js';
export type { DpopProver } from './dpop.js';
export { fileAssertion } from './file-assertion.js';
export { githubActionsAssertion, type GitHubActionsAssertionOptions } from './github-actions-assertion.js';
export { createAuthFetch, type AuthFetchOptions } from './auth-fetch.js';
export { AccessToken } from './access-token.js';
export { TokenClientError, isTokenClientError, isOAuthError, type TokenClientErrorCode } from './errors.js';
export { presets } from './presets.js';
export type { TokenClientEvent, TokenClientListener } from './events.js';
export type { RetryPolicy } from './retry.js';
