/** A framework-free answer: the HTTP layer writes it as is, with Content-Type application/json. */
export interface EndpointResponse {
  status: number;
  headers: Record<string, string>;
  /** Serialised JSON. */
  body: string;
}

/** RFC 6749 §5.1: token responses, and errors from the token endpoint, must not be cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): EndpointResponse {
  return { status, headers, body: JSON.stringify(body) };
}
