/** A framework-free answer: the HTTP layer writes it as is, with Content-Type application/json. */
export interface EndpointResponse {
  status: number;
  headers: Record<string, string>;
  /** Serialised JSON. */
  body: string;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): EndpointResponse {
  return { status, headers, body: JSON.stringify(body) };
}
