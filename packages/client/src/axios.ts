// @m2m-auth/client/axios: the same behaviour as createAuthFetch, as axios interceptors.
// Typed structurally, so the SDK does not depend on axios (the application brings its own).
import { checkTokenSource, tokenWasRejected } from './auth-fetch.js';
import { checkTokenRequest } from './client-options.js';
import { optionChecks } from './option-checks.js';
import type { TokenClient, TokenSource } from './token-client.js';
import type { TokenRequestOptions } from './token-client-options.js';

/** The parts of an axios request config this touches. */
interface RequestConfigLike {
  headers?: unknown;
  data?: unknown;
  /** Set on the retried request, so a second 401 is handed to the caller. */
  m2mAuthRetried?: boolean;
}

interface AxiosErrorLike {
  config?: RequestConfigLike;
  response?: { status: number; headers?: unknown };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- axios' own handler types are generic over its config; `any` is what lets every axios 1.x instance match. */
/** The parts of an axios instance this uses (axios 1.x). */
export interface AxiosInstanceLike {
  interceptors: {
    request: { use(onFulfilled: (config: any) => any): number; eject(id: number): void };
    response: { use(onFulfilled: ((response: any) => any) | null | undefined, onRejected: (error: any) => any): number; eject(id: number): void };
  };
  request(config: any): Promise<unknown>;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Adds `Authorization: Bearer <token>` to every request of an axios instance and, on a 401 whose
 * WWW-Authenticate says `invalid_token` (or names no error), drops that token and retries the
 * request exactly once with a fresh one — not on 403, and not when the body is a stream that
 * cannot be sent twice. Returns a function that removes both interceptors.
 */
export function useBearerAuth(axios: AxiosInstanceLike, source: TokenClient | TokenSource, options: TokenRequestOptions = {}): () => void {
  const interceptors = (axios as Partial<AxiosInstanceLike> | null)?.interceptors;
  if (
    typeof interceptors?.request?.use !== 'function' ||
    typeof interceptors.response?.use !== 'function' ||
    typeof (axios as AxiosInstanceLike).request !== 'function'
  ) {
    optionChecks('useBearerAuth').fail('needs an axios instance (axios.create() or axios itself) as its first argument.');
  }
  checkTokenSource('useBearerAuth', source);
  const request = checkTokenRequest('useBearerAuth', options);
  const tokens: TokenSource = 'for' in source ? source.for(request) : source;

  const requestId = axios.interceptors.request.use(async (config: RequestConfigLike) => {
    const { accessToken } = await tokens.getToken();
    setHeader(config, 'Authorization', `Bearer ${accessToken}`);
    return config;
  });

  const responseId = axios.interceptors.response.use(undefined, async (error: AxiosErrorLike) => {
    const config = error?.config;
    const response = error?.response;
    if (!config || !response || response.status !== 401 || config.m2mAuthRetried || !isReplayable(config.data)) throw error;
    if (!tokenWasRejected(headerValue(response.headers, 'www-authenticate') ?? null)) throw error;
    const sent = headerValue(config.headers, 'authorization');
    if (sent?.startsWith('Bearer ')) tokens.invalidate(sent.slice(7));
    config.m2mAuthRetried = true;
    return axios.request(config); // the request interceptor puts the fresh token on it
  });

  return () => {
    axios.interceptors.request.eject(requestId);
    axios.interceptors.response.eject(responseId);
  };
}

/** axios 1.x hands interceptors an AxiosHeaders instance (with set/get); plain objects also occur. */
function setHeader(config: RequestConfigLike, name: string, value: string): void {
  const headers = config.headers as { set?: (name: string, value: string) => void } | Record<string, unknown> | undefined;
  if (headers && typeof (headers as { set?: unknown }).set === 'function') (headers as { set: (n: string, v: string) => void }).set(name, value);
  else config.headers = { ...(headers as Record<string, unknown> | undefined), [name]: value };
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const getter = (headers as { get?: unknown }).get;
  if (typeof getter === 'function') {
    const value = (getter as (n: string) => unknown).call(headers, name);
    if (typeof value === 'string') return value;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/** A stream (anything with pipe, or an async iterable) cannot be sent a second time. */
function isReplayable(data: unknown): boolean {
  if (data === null || typeof data !== 'object') return true;
  if (typeof (data as { pipe?: unknown }).pipe === 'function') return false;
  return !(data instanceof ReadableStream) && !(Symbol.asyncIterator in data);
}
