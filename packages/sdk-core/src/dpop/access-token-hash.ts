import { createHash } from 'node:crypto';

/** RFC 9449 §4.2 `ath`: base64url(SHA-256(the access token's ASCII bytes)), what a proof sent with that token carries. */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}
