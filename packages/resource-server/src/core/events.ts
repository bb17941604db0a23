import type { RejectionReason } from './errors.js';

/**
 * What the SDK reports, so a service can count rejections and alert on a spike without the SDK
 * depending on a metrics library. Events never carry the token.
 */
export type ResourceServerEvent =
  | { type: 'token.accepted'; issuer: string | undefined; clientId: string | undefined; cached: boolean }
  | { type: 'token.rejected'; reason: RejectionReason; code: string; issuer: string | undefined; clientId: string | undefined }
  | { type: 'jwks.refreshed'; jwksUri: string; keyCount: number }
  | { type: 'jwks.refresh_failed'; jwksUri: string | undefined; message: string }
  | { type: 'introspection.failed'; message: string }
  /** The introspection cache could not be read or written; the token was introspected instead. */
  | { type: 'introspection.cache_failed'; message: string };

export type EmitEvent = (event: ResourceServerEvent) => void;
