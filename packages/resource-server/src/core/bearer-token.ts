import { AuthError, invalidRequest } from './errors.js';

/** RFC 6750 §2.1 b64token, after a case-insensitive `Bearer` and exactly one space. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export interface BearerSources {
  /** The Authorization header value(s). */
  authorization?: string | string[] | undefined;
  /** `access_token` from an application/x-www-form-urlencoded body (RFC 6750 §2.2). */
  bodyToken?: unknown;
  /** `access_token` from the query string (RFC 6750 §2.3). */
  queryToken?: unknown;
}

export interface BearerOptions {
  /** Accept §2.2 form-body tokens. Off by default. */
  allowBody?: boolean;
  /** Accept §2.3 query tokens (they end up in access logs). Off by default. */
  allowQuery?: boolean;
  /** Longer tokens are refused before any parsing. Default 8 KiB. */
  maxLength?: number;
}

export const DEFAULT_MAX_TOKEN_LENGTH = 8192;

/**
 * The one token of a request, or undefined when there is none. A malformed header, a token in more
 * than one place (RFC 6750 §2: "MUST NOT use more than one method") → invalid_request.
 */
export function extractBearerToken(sources: BearerSources, options: BearerOptions = {}): string | undefined {
  const found: string[] = [];
  const header = sources.authorization;
  if (Array.isArray(header)) throw invalidRequest('The request must carry one Authorization header.');
  if (header !== undefined && header !== '') {
    const match = BEARER.exec(header);
    if (!match) {
      // Another scheme (Basic …) is not ours to judge: treat it as no bearer token.
      if (!/^bearer(\s|$)/i.test(header)) return checkOthers(found, sources, options);
      throw invalidRequest('The Authorization header must be "Bearer <token>".');
    }
    found.push(match[1]!);
  }
  return checkOthers(found, sources, options);
}

function checkOthers(found: string[], sources: BearerSources, options: BearerOptions): string | undefined {
  if (options.allowBody && sources.bodyToken !== undefined) found.push(tokenParameter(sources.bodyToken, 'body'));
  if (options.allowQuery && sources.queryToken !== undefined) found.push(tokenParameter(sources.queryToken, 'query'));
  if (found.length > 1) throw invalidRequest('The request must carry its access token in exactly one place.');
  const token = found[0];
  if (token !== undefined && token.length > (options.maxLength ?? DEFAULT_MAX_TOKEN_LENGTH)) {
    throw new AuthError('invalid_token', 'The access token is too large.', 'token_too_large');
  }
  return token;
}

function tokenParameter(value: unknown, where: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
    throw invalidRequest(`The access_token ${where} parameter must appear once and be a bearer token.`);
  }
  return value;
}
