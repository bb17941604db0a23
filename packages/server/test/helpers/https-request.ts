import { request as httpsRequest } from 'node:https';
import type { TestCertificate } from '../../../sdk-core/test/helpers/test-pki.js';

export interface HttpsRequestOptions {
  /** The CA the server's certificate chains to (its name is checked as `localhost`). */
  ca: string;
  /** The client certificate offered in the handshake. */
  certificate?: TestCertificate | undefined;
  headers?: Record<string, string>;
  /** A form body (POST); none: GET. */
  form?: Record<string, string>;
}

/**
 * One HTTPS request on a connection of its own (no agent, so no session is reused: each request
 * offers its own certificate), with a bounded wait; the answer's JSON body.
 */
export function httpsJson(url: string, options: HttpsRequestOptions): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = options.form && new URLSearchParams(options.form).toString();
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      url,
      {
        method: body === undefined ? 'GET' : 'POST',
        agent: false,
        ca: options.ca,
        servername: 'localhost',
        ...(options.certificate ? { cert: options.certificate.cert, key: options.certificate.key } : {}),
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...options.headers,
        },
        timeout: 5000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(body);
  });
}
