import type { X509Certificate } from 'node:crypto';
import { AuthError, invalidRequest } from './errors.js';

/** RFC 6750 §2.1 b64token, after a case-insensitive `Bearer` (or RFC 9449 §7.1 `DPoP`) and exactly one space. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
const DPOP = /^DPoP ([A-Za-z0-9\-._~+/]+=*)$/i;

export interface BearerSources {
  /** The Authorization header value(s). */
  authorization?: string | string[] | undefined;
  /** `access_token` from an application/x-www-form-urlencoded body (RFC 6750 §2.2). */
  bodyToken?: unknown;
  /** `access_token` from the query string (RFC 6750 §2.3). */
  queryToken?: unknown;
  /**
   * For a token presented with the DPoP scheme (RFC 9449 §7): the request's DPoP header(s), its
   * method and its absolute URL as the client addressed it (the adapters fill these in).
   */
  dpop?: string | string[] | undefined;
  method?: string | undefined;
  url?: string | undefined;
  /**
   * For a certificate-bound token (RFC 8705): the connection the request came on (a node:tls
   * TLSSocket fits). Its peer certificate, and its address for `mtls.trustedProxies`, are read only
   * when the token is bound, so the adapters pass the socket as it is.
   */
  socket?: ClientSocket | undefined;
  /** Or the certificate the client presented, when the caller has it in hand (DER bytes or parsed): then the socket and header are not read. */
  clientCertificate?: Uint8Array | X509Certificate | undefined;
  /** The `Client-Cert` header (RFC 9440): read only when the socket's peer is one of `mtls.trustedProxies`. */
  clientCertHeader?: string | string[] | undefined;
}

/** What is read of a connection for mutual TLS: a net.Socket or tls.TLSSocket has both. */
export interface ClientSocket {
  readonly remoteAddress?: string | undefined;
  getPeerX509Certificate?(): X509Certificate | undefined;
}

/** The request's one access token and how it was presented: `DPoP` only in the Authorization header. */
export interface PresentedToken {
  readonly token: string;
  readonly scheme: 'Bearer' | 'DPoP';
}

/** Whether an Authorization header uses the DPoP scheme (case-insensitive, RFC 9110 §11.1): adapters read the rest of the request only then. */
export function isDpopScheme(authorization: string | string[] | undefined): boolean {
  return typeof authorization === 'string' && authorization.length > 5 && authorization.charAt(4) === ' ' && authorization.slice(0, 4).toLowerCase() === 'dpop';
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
  return extract(sources, options, false)?.token;
}

/** Like `extractBearerToken`, with RFC 9449's `DPoP` scheme too, saying which scheme carried the token. */
export function extractAccessToken(sources: BearerSources, options: BearerOptions = {}): PresentedToken | undefined {
  return extract(sources, options, true);
}

function extract(sources: BearerSources, options: BearerOptions, acceptsDpop: boolean): PresentedToken | undefined {
  const found: string[] = [];
  let scheme: PresentedToken['scheme'] = 'Bearer';
  const header = sources.authorization;
  if (Array.isArray(header)) throw invalidRequest('The request must carry one Authorization header.');
  if (header !== undefined && header !== '') {
    let match = BEARER.exec(header);
    if (!match && acceptsDpop && (match = DPOP.exec(header))) scheme = 'DPoP';
    if (!match) {
      if (/^bearer(\s|$)/i.test(header)) throw invalidRequest('The Authorization header must be "Bearer <token>".');
      if (acceptsDpop && /^dpop(\s|$)/i.test(header)) throw invalidRequest('The Authorization header must be "DPoP <token>".');
      // Another scheme (Basic …) is not ours to judge: treat it as no access token.
      return present(checkOthers(found, sources, options), scheme);
    }
    found.push(match[1]!);
  }
  return present(checkOthers(found, sources, options), scheme);
}

const present = (token: string | undefined, scheme: PresentedToken['scheme']): PresentedToken | undefined =>
  token === undefined ? undefined : { token, scheme };

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
