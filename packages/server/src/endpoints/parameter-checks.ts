import { invalidRequest } from '../errors/oauth-error.js';
import type { FormParams } from '../protocol/form-params.js';
import { UNSTORABLE_TEXT } from '../protocol/storable-text.js';

/** RFC 6749 §3.2: request and response parameters MUST NOT be included more than once. */
export function rejectRepeatedParameters(params: FormParams, names: Iterable<string>): void {
  for (const name of names) {
    if (params.repeated.has(name)) throw invalidRequest(`The ${name} parameter must not be repeated.`);
  }
}

/**
 * A parameter an endpoint would look up (audience, resource, scope, token) with a value no store
 * can hold is the client's mistake: invalid_request before any query, on every adapter alike.
 * Credentials are not checked here: client authentication refuses an unstorable client id as
 * invalid_client (authenticateClient), whichever way it was sent.
 */
export function rejectUnstorableParameters(params: FormParams, names: Iterable<string>): void {
  for (const name of names) {
    if (params.unstorable.has(name)) throw invalidRequest(`The ${name} parameter ${UNSTORABLE_TEXT}.`);
  }
}
