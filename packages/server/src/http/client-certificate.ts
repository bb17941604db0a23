import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { parseClientCertHeader } from '@m2m-auth/sdk-core';
import { invalidRequest } from '../errors/oauth-error.js';
import type { PresentedCertificate } from '../protocol/token-request.js';

/**
 * The TLS client certificate of a request, when mutual TLS is on: a trusted proxy's `Client-Cert`
 * header (RFC 9440; the proxy terminated TLS, so its own connection's certificate is not the
 * client's), else this server's own TLS handshake. Anyone else's `Client-Cert` is refused, not
 * ignored: whoever can set it could claim any certificate, and a client that sends one expects
 * it to count.
 */
export function createCertificateReader(isTrustedProxy: (peerAddress: string | undefined) => boolean) {
  return function presentedCertificate(request: IncomingMessage): PresentedCertificate | undefined {
    const header = request.headers['client-cert'];
    if (header !== undefined) {
      if (!isTrustedProxy(request.socket.remoteAddress)) {
        throw invalidRequest('A Client-Cert header is accepted only from a trusted proxy (--trust-proxy); present the certificate in the TLS handshake.');
      }
      const certificate = parseClientCertHeader(header);
      if (!certificate) throw invalidRequest('The Client-Cert header must hold one certificate as an RFC 9440 byte sequence (:base64 DER:).');
      return { certificate, via: 'proxy', isVerifiedByTls: false };
    }
    const socket = request.socket as Partial<TLSSocket>;
    const certificate = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
    if (!certificate) return undefined;
    // `authorized`: the handshake verified the chain to a --mtls-ca CA (the listener asks with rejectUnauthorized off).
    const failure = socket.authorizationError as (Error & { code?: string }) | string | undefined;
    return {
      certificate,
      via: 'tls',
      isVerifiedByTls: socket.authorized === true,
      ...(failure ? { tlsVerificationError: typeof failure === 'string' ? failure : (failure.code ?? failure.message) } : {}),
    };
  };
}
