/**
 * Set-up checks for options, written for JavaScript callers as much as TypeScript ones: a wrong
 * type, an empty string or a bad URL is refused when the verifier or route is built, with a
 * message naming the option — never as a 500 on the first request, and never by silently
 * accepting every token. Messages name the type of a bad value, never the value (it may be a
 * secret put in the wrong place).
 */
export type Fail = (message: string) => never;

export interface OptionChecks {
  /** A plain object (or undefined when optional); anything else, or an unknown key, fails. */
  object(value: unknown, name: string, known?: readonly string[]): Record<string, unknown> | undefined;
  string(value: unknown, name: string): string | undefined;
  url(value: unknown, name: string): string | undefined;
  number(value: unknown, name: string, range?: { min?: number; max?: number; integer?: boolean; above?: number }): number | undefined;
  boolean(value: unknown, name: string): boolean | undefined;
  function<T>(value: unknown, name: string): T | undefined;
  oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T | undefined;
  /** A non-empty array of non-empty strings. */
  stringList(value: unknown, name: string): string[] | undefined;
  /** Fails unless the value is present. */
  required<T>(value: T | undefined, name: string, what: string): T;
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : value.trim() === '' ? 'a blank string' : 'a string';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  return typeof value;
}

export function createOptionChecks(fail: Fail): OptionChecks {
  const wrong = (name: string, what: string, value: unknown): never => fail(`${name} must be ${what} (got ${describeValue(value)}).`);
  const string = (value: unknown, name: string) => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') return wrong(name, 'a non-empty string', value);
    return value;
  };
  return {
    object(value, name, known) {
      if (value === undefined) return undefined;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return wrong(name, 'an object', value);
      if (known) {
        const unknown = Object.keys(value).filter((key) => !known.includes(key));
        if (unknown.length > 0)
          fail(
            `${name} has unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k.slice(0, 60))).join(', ')} (known: ${known.join(', ')}).`,
          );
      }
      return value as Record<string, unknown>;
    },
    string,
    url(value, name) {
      const text = string(value, name);
      if (text === undefined) return undefined;
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch {
        return fail(`${name} must be an absolute http(s) URL (got a string that is not a URL).`);
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') fail(`${name} must be an absolute http(s) URL (got a ${parsed.protocol} URL).`);
      return text;
    },
    number(value, name, range = {}) {
      if (value === undefined) return undefined;
      const what = `${range.integer ? 'an integer' : 'a number'}${range.min !== undefined ? ` ≥ ${range.min}` : ''}${range.above !== undefined ? ` > ${range.above}` : ''}${range.max !== undefined ? ` ≤ ${range.max}` : ''}`;
      if (typeof value !== 'number' || !Number.isFinite(value)) return wrong(name, what, value);
      const outside =
        (range.integer && !Number.isInteger(value)) ||
        (range.min !== undefined && value < range.min) ||
        (range.above !== undefined && value <= range.above) ||
        (range.max !== undefined && value > range.max);
      if (outside) fail(`${name} must be ${what} (got ${value}).`);
      return value;
    },
    boolean(value, name) {
      if (value === undefined) return undefined;
      if (typeof value !== 'boolean') return wrong(name, 'true or false', value);
      return value;
    },
    function<T>(value: unknown, name: string) {
      if (value === undefined) return undefined;
      if (typeof value !== 'function') return wrong(name, 'a function', value);
      return value as T;
    },
    oneOf(value, name, allowed) {
      if (value === undefined) return undefined;
      if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
        // The value is not echoed: a secret pasted into the wrong option must not reach a log.
        const shown = typeof value === 'string' && value !== '' ? 'another string' : describeValue(value);
        return fail(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${shown}).`);
      }
      return value as (typeof allowed)[number];
    },
    stringList(value, name) {
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || value.length === 0) return wrong(name, 'a non-empty array of non-empty strings', value);
      value.forEach((item, index) => string(item ?? null, `${name}[${index}]`));
      return [...(value as string[])];
    },
    required(value, name, what) {
      if (value === undefined) fail(`${name} is required: ${what}.`);
      return value as NonNullable<typeof value>;
    },
  };
}
