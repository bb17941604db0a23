import { STATUS_CODES } from 'node:http';
import { problemResponse } from '../errors/problem-details.js';
import { OAuthError, invalidRequest } from '../errors/oauth-error.js';
import { type EndpointResponse } from '../protocol/endpoint-response.js';
import { errorResponse } from '../errors/error-response.js';
import { cacheHeaders } from './cache-policy.js';

/**
 * Answers decided by HTTP rather than by an endpoint (no route, wrong method, a body that cannot
 * be parsed or is too large, a timeout, a server still starting), in the format the path
 * promises: RFC 6749 §5.2 JSON under /oauth/ (token, introspection, revocation), RFC 9457
 * problem details everywhere else; never cached (http/cache-policy.ts).
 */
export function isOAuthPath(path: string): boolean {
  return path.startsWith('/oauth/');
}

const PROBLEM_CODES: Record<number, string> = {
  400: 'bad-request',
  404: 'not-found',
  405: 'method-not-allowed',
  408: 'request-timeout',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  431: 'request-header-fields-too-large',
  500: 'server-error',
  503: 'service-unavailable',
};

export function httpErrorAnswer(path: string | undefined, status: number, description: string, headers: Record<string, string> = {}): EndpointResponse {
  if (path !== undefined && isOAuthPath(path)) {
    if (status === 503) return errorResponse(new OAuthError('temporarily_unavailable', description, { status, headers }));
    return errorResponse(status >= 500 ? undefined : invalidRequest(description, { status, headers }));
  }
  const title = STATUS_CODES[status] ?? 'Error';
  return problemResponse(
    { status, code: PROBLEM_CODES[status] ?? 'error', title, ...(status >= 500 && status !== 503 ? {} : { detail: description }) },
    headers,
  );
}

/** The path of a request target, without the query; undefined when it is not origin-form. */
export function pathOf(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith('/')) return undefined;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** For answers written on the socket before Fastify has a request (parse errors, timeouts). */
export function toRawHttpResponse(answer: EndpointResponse, options: { withBody?: boolean } = {}): string {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...answer.headers,
    ...cacheHeaders(),
    'x-content-type-options': 'nosniff',
    'content-length': String(Buffer.byteLength(answer.body)),
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${options.withBody === false ? '' : answer.body}`;
}
