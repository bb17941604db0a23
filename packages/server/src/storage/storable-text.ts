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
