import { invalidRequest } from '../errors/oauth-error.js';

/** A parsed application/x-www-form-urlencoded body that remembers repeated parameters. */
export interface FormParams {
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** Names that appear more than once. */
  readonly repeated: ReadonlySet<string>;
}

export function parseFormParams(body: string): FormParams {
  const values = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (values.has(name)) repeated.add(name);
    else values.set(name, value);
  }
  return {
    // RFC 6749 §3.2: parameters sent without a value are treated as omitted.
    get: (name) => {
      const value = values.get(name);
      return value === '' ? undefined : value;
    },
    has: (name) => values.get(name) !== undefined && values.get(name) !== '',
    repeated,
  };
}

export const EMPTY_FORM: FormParams = parseFormParams('');

/** RFC 6749 §3.2: request and response parameters MUST NOT be included more than once. */
export function rejectRepeatedParameters(params: FormParams, names: Iterable<string>): void {
  for (const name of names) {
    if (params.repeated.has(name)) throw invalidRequest(`The ${name} parameter must not be repeated.`);
  }
}
