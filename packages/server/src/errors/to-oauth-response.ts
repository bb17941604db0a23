import { OAuthError } from './oauth-error.js';

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description?: string };
}

/**
 * The single place that decides what an error puts on the wire. An OAuthError goes out as
 * RFC 6749 §5.2 JSON; anything else becomes a bare `server_error` so no internal message,
 * stack or secret ever reaches a client.
 */
export function toOAuthResponse(error: unknown): WireResponse {
  if (error instanceof OAuthError) {
    return {
      status: error.status,
      headers: { ...error.headers },
      body: { error: error.error, error_description: error.description },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: 'server_error', error_description: 'The server could not complete the request.' },
  };
}
