import { problemFrom } from './problem.ts';

/**
 * The console's only way to the server: the admin API, same origin, with the session's bearer
 * token. No cookies travel (credentials: 'omit') and no answer is cached by the browser.
 */
export const ADMIN_BASE = '/admin/v1';

export type Query = Record<string, string | number | boolean | undefined>;

export interface AdminClient {
  get<T>(path: string, query?: Query): Promise<T>;
  send<T>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, query?: Query): Promise<T>;
}

export interface AdminClientOptions {
  /** The current access token; undefined once signed out. */
  token: () => string | undefined;
  /** A 401 means the token is gone (expired, revoked): the session ends. */
  onUnauthorized: () => void;
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  async function request<T>(method: string, path: string, body: unknown, query: Query | undefined): Promise<T> {
    const token = options.token();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${ADMIN_BASE}${path}${queryString(query)}`, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 401) options.onUnauthorized();
    if (!response.ok) throw await problemFrom(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
  return {
    get: (path, query) => request('GET', path, undefined, query),
    send: (method, path, body, query) => request(method, path, body, query),
  };
}

export function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** A path segment: identifiers are URLs (https://orders.example), so they are percent-encoded whole. */
export const segment = (value: string) => encodeURIComponent(value);
