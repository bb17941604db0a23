import { invalidScope } from '../errors/oauth-error.js';

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScopeParameter(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const tokens = scope.split(' ').filter((token) => token !== '');
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw invalidScope('The scope parameter contains an invalid character.');
  }
  return [...new Set(tokens)];
}

export function isValidScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}
