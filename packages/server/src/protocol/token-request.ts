import type { FormParams } from './form-params.js';

/** A request to an OAuth endpoint (token, introspection, revocation), free of any framework. */
export interface TokenRequest {
  authorization: string | undefined;
  params: FormParams;
  remoteAddress: string;
  /** The Accept header: introspection answers as a signed JWT when it asks for one (RFC 9701). */
  accept?: string | undefined;
  /** Correlates the log lines of one request. */
  requestId?: string;
}
