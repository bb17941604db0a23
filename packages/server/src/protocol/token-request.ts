import type { FormParams } from './form-params.js';

/** A request to an OAuth endpoint (token, introspection, revocation), free of any framework. */
export interface TokenRequest {
  authorization: string | undefined;
  params: FormParams;
  remoteAddress: string;
  /** Correlates the log lines of one request. */
  requestId?: string;
}
