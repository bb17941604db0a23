import { invalidRequest } from '../errors/oauth-error.js';
import { isStorableText, UNSTORABLE_TEXT } from '../storage/storable-text.js';

/** A parsed application/x-www-form-urlencoded body that remembers repeated parameters. */
export interface FormParams {
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** Names that appear more than once. */
  readonly repeated: ReadonlySet<string>;
  /** Names whose value no store can hold (a NUL byte): see `rejectUnstorableParameters`. */
  readonly unstorable: ReadonlySet<string>;
}

export function parseFormParams(body: string): FormParams {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  const unstorable = new Set<string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (values.has(name)) repeated.add(name);
    else values.set(name, value);
    if (!isStorableText(value)) unstorable.add(name);
  }
  return {
    // RFC 6749 §3.2: parameters sent without a value are treated as omitted.
    get: (name) => {
      const value = values.get(name);
      return value === '' ? undefined : value;
    },
    has: (name) => values.get(name) !== undefined && values.get(name) !== '',
    repeated,
    unstorable,
  };
}

export const EMPTY_FORM: FormParams = parseFormParams('');

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
