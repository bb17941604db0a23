import { jsonResponse, type EndpointResponse } from '../protocol/endpoint-response.js';
import { toOAuthResponse } from './to-oauth-response.js';

/** Every OAuth error answer, whatever the endpoint: RFC 6749 JSON, never cached. */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): EndpointResponse {
  const wire = toOAuthResponse(error);
  return jsonResponse(wire.status, wire.body, { ...headers, ...wire.headers });
}
