import { isStorableText } from './storable-text.js';

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
