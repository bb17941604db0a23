import { invalidToken } from '../errors.js';

/**
 * Step 1 (decode), before anything in the token is read: a size limit, so a huge token costs
 * nothing, and the JWT shape test that sends opaque tokens to introspection. Decoding proper is
 * `decodeCompactJws` (jws.ts).
 */
export function checkTokenSize(token: string, maxLength: number): void {
  if (token.length > maxLength) throw invalidToken('The access token is too large.', 'token_too_large');
}

/** Three dot-separated parts, without allocating them. */
export function looksLikeJwt(token: string): boolean {
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}
