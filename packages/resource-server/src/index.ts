// Public surface of @m2m-auth/resource-server: the framework-free core. Adapters live in
// '@m2m-auth/resource-server/express' and '@m2m-auth/resource-server/fastify'.
export { createVerifier, type Verifier, type VerifierOptions } from './core/verifier.js';
export type { DpopOptions, MtlsOptions } from './core/verifier-options.js';
export { AuthError, isAuthError, toHttpResponse, type AuthErrorCode, type RejectionReason, type AuthHttpResponse, type DpopChallenge } from './core/errors.js';
export { extractBearerToken, extractAccessToken, type BearerSources, type BearerOptions, type ClientSocket, type PresentedToken } from './core/bearer-token.js';
export { checkScopes, checkAuthorities, type ScopeRequirement } from './core/requirements.js';
export { presets, type ProviderPreset } from './core/presets.js';
export type { Principal, Actor, AuthoritiesOptions } from './core/principal.js';
export type { ResourceServerEvent } from './core/events.js';
export { createMemoryReplayStore, type ReplayStore } from './core/replay-store.js';
export type { IntrospectionOptions } from './core/introspection.js';
export { createMemoryIntrospectionCache, type IntrospectionCache, type IntrospectionAnswer } from './core/introspection-cache.js';
export type { JwsAlgorithm, VerifyOn } from './core/jws.js';
