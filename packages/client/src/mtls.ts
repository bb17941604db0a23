import { X509Certificate } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import type { Dispatcher } from 'undici';
import { certificateThumbprint, memoizeSuccess } from '@m2m-auth/sdk-core';
import type { MtlsOptions } from './token-client-options.js';

/**
 * The client certificate of the `mtls` option (RFC 8705), ready to present: as an undici
 * dispatcher for fetch, and as an https.Agent for libraries on Node's own HTTP stack (axios).
 */
export interface ClientCertificateTransport {
  /**
   * A fetch that presents the certificate: `base` (default: undici's own fetch) is called with the
   * certificate's dispatcher in its init. An init that names its own `dispatcher` keeps it, and
   * then presents no certificate.
   */
  fetchWith(base?: typeof fetch): typeof fetch;
  /** For axios (`httpsAgent`) and other clients on node:https: presents the same certificate. */
  readonly httpsAgent: HttpsAgent;
  /** RFC 8705 §3.1 `x5t#S256` of the certificate: what a token bound to it names in `cnf`. */
  readonly thumbprint: string;
  /** Closes the pooled connections (createTokenClient's close() does it). */
  close(): Promise<void>;
}

interface Undici {
  dispatcher: Dispatcher;
  fetch: typeof fetch;
}

/**
 * undici is loaded on first use (it takes ~80 ms to import), so a client without mtls never loads
 * it. Its fetch is the default partner of its dispatcher: the two come from one copy of undici,
 * whatever version the running Node bundles for globalThis.fetch.
 */
export function createClientCertificateTransport(options: MtlsOptions): ClientCertificateTransport {
  const tls = {
    cert: pem(options.cert),
    key: pem(options.key),
    ...(options.passphrase !== undefined ? { passphrase: options.passphrase } : {}),
    ...caOf(options.ca),
  };
  let agent: Dispatcher | undefined;
  let closed = false;
  const undici = memoizeSuccess(async (): Promise<Undici> => {
    const { Agent, fetch } = await import('undici');
    if (closed) throw new TypeError('the token client was closed');
    agent = new Agent({ connect: tls });
    return { dispatcher: agent, fetch: fetch as unknown as typeof globalThis.fetch };
  });
  const httpsAgent = new HttpsAgent({ ...tls, keepAlive: true });
  const thumbprint = certificateThumbprint(new X509Certificate(tls.cert));
  // The agents hold the private key: logging the transport shows the certificate's thumbprint only.
  const describe = () => ({ thumbprint });
  const transport: ClientCertificateTransport = {
    fetchWith(base) {
      return async (input, init) => {
        const { dispatcher, fetch } = await undici();
        return (base ?? fetch)(input, { dispatcher, ...init } as RequestInit);
      };
    },
    httpsAgent,
    thumbprint,
    async close() {
      closed = true;
      httpsAgent.destroy();
      await agent?.close().catch(() => undefined);
    },
  };
  Object.defineProperties(transport, {
    toJSON: { value: describe, enumerable: false },
    [Symbol.for('nodejs.util.inspect.custom')]: { value: () => `ClientCertificateTransport ${JSON.stringify(describe())}`, enumerable: false },
  });
  return transport;
}

const pem = (value: string | Uint8Array): string | Buffer => (typeof value === 'string' ? value : Buffer.from(value));

function caOf(ca: MtlsOptions['ca']): { ca?: Array<string | Buffer> } {
  if (ca === undefined) return {};
  return { ca: (typeof ca === 'string' || ca instanceof Uint8Array ? [ca] : [...ca]).map(pem) };
}
