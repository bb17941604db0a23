// @m2m-auth/client/axios: the same behaviour as createAuthFetch, as axios interceptors.
// Typed structurally, so the SDK does not depend on axios (the application brings its own).
import { checkTokenSource, isDpopBound, isNonceChallenge, tokenWasRejected } from './auth-fetch.js';
import { checkTokenRequest } from './client-options.js';
import { optionChecks } from './option-checks.js';
import type { TokenClient, TokenSource } from './token-client.js';
import type { TokenRequestOptions } from './token-client-options.js';

/** The parts of an axios request config this touches. */
interface RequestConfigLike {
  headers?: unknown;
  data?: unknown;
  method?: string;
  url?: string;
  baseURL?: string;
  /** Set on the retried request, so a second 401 is handed to the caller. */
  m2mAuthRetried?: boolean;
  /** Node's HTTP adapter connects with it: the client certificate's, with mtls. */
  httpsAgent?: unknown;
}

interface AxiosErrorLike {
  config?: RequestConfigLike;
  response?: { status: number; headers?: unknown };
}

interface AxiosResponseLike {
  config?: RequestConfigLike;
  headers?: unknown;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- axios' own handler types are generic over its config; `any` is what lets every axios 1.x instance match. */
/** The parts of an axios instance this uses (axios 1.x). */
export interface AxiosInstanceLike {
  interceptors: {
    request: { use(onFulfilled: (config: any) => any): number; eject(id: number): void };
    response: { use(onFulfilled: ((response: any) => any) | null | undefined, onRejected: (error: any) => any): number; eject(id: number): void };
  };
  request(config: any): Promise<unknown>;
  /** axios 1.x: the full URL a config is sent to (baseURL joined, params added). */
  getUri?(config?: any): string;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Adds `Authorization: Bearer <token>` to every request of an axios instance — for a DPoP-bound
 * token `Authorization: DPoP <token>` and a proof for that method and URL — and, on a 401 whose
 * WWW-Authenticate says `invalid_token` (or names no error), drops that token and retries the
 * request exactly once with a fresh one (on `use_dpop_nonce`, once with the server's nonce) — not
 * on 403, and not when the body is a stream that cannot be sent twice. With the client's `mtls`,
 * requests go through an https.Agent that presents its certificate (axios' Node HTTP adapter),
 * unless the request or instance names its own `httpsAgent`. Returns a function that removes both
 * interceptors.
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

  const dpop = tokens.dpop;
  const urlOf = (config: RequestConfigLike) => (typeof axios.getUri === 'function' ? axios.getUri(config) : joinUrl(config.baseURL, config.url));

  const mtls = tokens.mtls;
  const requestId = axios.interceptors.request.use(async (config: RequestConfigLike) => {
    // A certificate-bound token (RFC 8705) is good only over a connection that presents its certificate;
    // an httpsAgent the application set (on the instance or the request) is its own choice and is kept.
    if (mtls && config.httpsAgent === undefined) config.httpsAgent = mtls.httpsAgent;
    const token = await tokens.getToken();
    if (dpop && isDpopBound(token)) {
      setHeader(config, 'Authorization', `DPoP ${token.accessToken}`);
      setHeader(config, 'DPoP', await dpop.proof({ method: (config.method ?? 'get').toUpperCase(), url: urlOf(config), accessToken: token.accessToken }));
    } else {
      setHeader(config, 'Authorization', `Bearer ${token.accessToken}`);
    }
    return config;
  });

  const rememberNonce = (config: RequestConfigLike | undefined, headers: unknown) => {
    if (dpop && config) dpop.rememberNonce(urlOf(config), headerValue(headers, 'dpop-nonce'));
  };
  const responseId = axios.interceptors.response.use(
    dpop
      ? (response: AxiosResponseLike) => {
          rememberNonce(response?.config, response?.headers);
          return response;
        }
      : undefined,
    async (error: AxiosErrorLike) => {
      const config = error?.config;
      const response = error?.response;
      if (response) rememberNonce(config, response.headers);
      if (!config || !response || response.status !== 401 || config.m2mAuthRetried || !isReplayable(config.data)) throw error;
      const challenge = headerValue(response.headers, 'www-authenticate') ?? null;
      const sent = headerValue(config.headers, 'authorization');
      const wantsNonce =
        dpop !== undefined && sent?.slice(0, 5).toLowerCase() === 'dpop ' && isNonceChallenge(challenge) && headerValue(response.headers, 'dpop-nonce');
      if (!wantsNonce) {
        if (!tokenWasRejected(challenge)) throw error;
        const scheme = /^(Bearer|DPoP) /i.exec(sent ?? '');
        if (scheme) tokens.invalidate(sent!.slice(scheme[0].length));
      }
      config.m2mAuthRetried = true;
      return axios.request(config); // the request interceptor puts the token (and a new proof) on it
    },
  );

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

/** axios' own joining of baseURL and a relative url (combineURLs), for an instance without getUri. */
function joinUrl(baseURL: string | undefined, url: string | undefined): string {
  if (!baseURL || (url && /^([a-z][a-z\d+\-.]*:)?\/\//i.test(url))) return url ?? '';
  return url ? `${baseURL.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}` : baseURL;
}

/** A stream (anything with pipe, or an async iterable) cannot be sent a second time. */
function isReplayable(data: unknown): boolean {
  if (data === null || typeof data !== 'object') return true;
  if (typeof (data as { pipe?: unknown }).pipe === 'function') return false;
  return !(data instanceof ReadableStream) && !(Symbol.asyncIterator in data);
}
