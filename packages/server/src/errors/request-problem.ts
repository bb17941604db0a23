import { echo } from './echo.js';

/**
 * Problems the HTTP framework finds before an operation runs: a body or query that fails its
 * schema, a body too large, another media type, JSON that does not parse. The error is read by
 * shape (Fastify's `code` and `validation` members), so errors/ knows no framework.
 */
export interface SchemaViolation {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

export interface RequestError {
  code?: string;
  statusCode?: number;
  validation?: SchemaViolation[];
  validationContext?: string;
}

/** A problem (problem-details.ts renders it). */
export interface RequestProblem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export interface RequestLimits {
  /** The body limit of the route, named in the 413 answer. */
  bodyLimitBytes?: number;
}

export function requestProblem(error: unknown, limits: RequestLimits = {}): RequestProblem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode, validation, validationContext } = error as RequestError;
  if (Array.isArray(validation)) return validationProblem(validation, validationContext ?? 'body');
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      status: 413,
      code: 'body-too-large',
      title: 'Request body too large',
      ...(limits.bodyLimitBytes ? { detail: `The body must be at most ${limits.bodyLimitBytes} bytes` } : {}),
    };
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return { status: 415, code: 'unsupported-media-type', title: 'Unsupported media type', detail: 'Send application/json' };
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500 && code?.startsWith('FST_ERR_CTP')) {
    return { status: 400, code: 'malformed-body', title: 'The body is not valid JSON', detail: 'The request body could not be parsed as JSON' };
  }
  return undefined;
}

/**
 * A schema violation as problem details. Field names and paths come from the caller's input (an
 * unknown key, the keys on the way to a value), so they go out through the same bounded,
 * withholding echo as the OAuth endpoints' (found by the attack probe: a 4 MB unknown key came
 * back three times); the messages are the validator's own, about the schema, never the value.
 */
function validationProblem(violations: SchemaViolation[], context: string): RequestProblem {
  const errors = violations.map((violation) => {
    const path = violation.instancePath
      .replace(/^\//, '')
      .split('/')
      .filter(Boolean)
      .map((segment) => echo(segment.replaceAll('~1', '/').replaceAll('~0', '~')))
      .join('.');
    const member =
      violation.keyword === 'additionalProperties'
        ? violation.params.additionalProperty
        : violation.keyword === 'required'
          ? violation.params.missingProperty
          : undefined;
    const field = typeof member === 'string' ? `${path ? `${path}.` : ''}${echo(member)}` : path || context;
    const message =
      violation.keyword === 'additionalProperties'
        ? 'is not a known field'
        : violation.keyword === 'required'
          ? 'is required'
          : (violation.message ?? 'is not valid');
    return { field, message };
  });
  return { status: 400, code: 'validation-failed', title: 'The request is not valid', detail: errors.map((e) => `${e.field} ${e.message}`).join('; '), errors };
}
