import { isAdminError } from './admin-error.js';
import { isDependencyUnavailable } from './dependency-unavailable.js';
import type { EndpointResponse } from '../protocol/endpoint-response.js';
import { requestProblem, type RequestLimits } from './request-problem.js';

/**
 * RFC 9457 problem details: the wire format of every answer that is not an OAuth endpoint's
 * (admin API, unknown routes, health). `type` is a stable URN per error, so scripts can branch on
 * it; `title` is the same for every instance of a type; `detail` explains this occurrence.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_PREFIX = 'urn:m2m-auth:problem:';

export interface Problem {
  status: number;
  /** Short stable code, e.g. `validation-failed`; becomes `urn:m2m-auth:problem:<code>`. */
  code: string;
  title: string;
  detail?: string;
  /** For validation errors: which input failed and why. */
  errors?: { field: string; message: string }[];
  /** Extra members (RFC 9457 §3.2); never a secret or a token. */
  extensions?: Record<string, unknown>;
}

/** The content type every problem answer carries (its cache policy and nosniff are HTTP's: http/). */
export const PROBLEM_HEADERS = { 'content-type': PROBLEM_CONTENT_TYPE } as const;

export function problemType(code: string): string {
  return `${TYPE_PREFIX}${code}`;
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): EndpointResponse {
  const body = {
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    ...(problem.detail !== undefined ? { detail: problem.detail } : {}),
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...problem.extensions,
  };
  return { status: problem.status, headers: { ...PROBLEM_HEADERS, ...headers }, body: JSON.stringify(body) };
}

const TITLES: Record<string, string> = {
  'validation-failed': 'The request is not valid',
  'not-found': 'Not found',
  conflict: 'Conflict',
  forbidden: 'Forbidden',
  'insufficient-scope': 'Insufficient scope',
  'server-error': 'The server could not complete the request',
  'service-unavailable': 'Service Unavailable',
};

/**
 * The one place that turns a thrown value into a problem answer. An AdminError keeps its code and
 * message; a request the framework refused (schema, size, media type, JSON) says why
 * (request-problem.ts); a database out of reach is a 503 with Retry-After; anything else becomes a
 * bare `server-error` with nothing internal sent.
 */
export function toProblemResponse(error: unknown, limits: RequestLimits = {}): EndpointResponse {
  const refused = requestProblem(error, limits);
  if (refused) return problemResponse(refused);
  if (isAdminError(error)) {
    const code = error.code.replaceAll('_', '-');
    return problemResponse({
      status: error.status,
      code,
      title: TITLES[code] ?? 'Error',
      detail: error.message,
      ...(error.field ? { errors: [{ field: error.field, message: error.message }] } : {}),
      ...(error.extensions ? { extensions: error.extensions } : {}),
    });
  }
  if (isDependencyUnavailable(error)) {
    // As at the token endpoint: a 503 to retry, nothing about the database or Redis in the body.
    return problemResponse(
      { status: 503, code: 'service-unavailable', title: TITLES['service-unavailable']!, detail: error.description },
      { 'retry-after': String(error.retryAfterSeconds) },
    );
  }
  return problemResponse({ status: 500, code: 'server-error', title: TITLES['server-error']! });
}
