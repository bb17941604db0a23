/**
 * Text no store can hold. PostgreSQL's text and jsonb refuse U+0000 outright (SQLite and memory
 * would keep it), so a NUL byte in a client id, an audience or an admin field can never name or
 * become a record on every adapter alike. The edges refuse such input as the client's mistake
 * before any query, and a read by such a key is simply not found; without that, PostgreSQL turned
 * it into a 500 that anyone could trigger unauthenticated.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000');
}

export const UNSTORABLE_TEXT = 'must not contain the NUL character (U+0000)';

/**
 * Where in a parsed JSON value the first string or key no store can hold sits: the path to it
 * (`['jwks', 'keys', 0, 'kid']`; for a key, the path to the object holding it, with `isKey`), or
 * undefined. Iterative, not recursive: a value nested thousands deep must not overflow the stack.
 */
export function findUnstorable(value: unknown): { path: (string | number)[]; isKey: boolean } | undefined {
  const pending: [unknown, (string | number)[]][] = [[value, []]];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return { path, isKey: false };
    } else if (Array.isArray(current)) {
      current.forEach((child, index) => pending.push([child, [...path, index]]));
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current)) {
        if (!isStorableText(key)) return { path, isKey: true };
        pending.push([child, [...path, key]]);
      }
    }
  }
  return undefined;
}
