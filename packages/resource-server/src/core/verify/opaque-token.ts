import { isWellFormedChecksummedSecret } from '@m2m-auth/sdk-core';
import { invalidToken } from '../errors.js';

/**
 * m2m-auth's opaque access tokens: `m2mat_`, 43 base64url characters (256 random bits), then a
 * 6-character base64url CRC-32 of those 43 (the format is the server's; docs/opaque-tokens.md).
 * Knowing it, the verifier refuses a mistyped or made-up handle without an introspection request
 * (a flood of random handles costs the authorization server nothing), and tells an operator whose
 * verifier cannot introspect why such a token is refused.
 */
export const OPAQUE_TOKEN_PREFIX = 'm2mat_';

export function hasOpaqueTokenPrefix(token: string): boolean {
  return token.startsWith(OPAQUE_TOKEN_PREFIX);
}

/** Step 1b, for a token with the opaque prefix: its length and checksum, before any request. */
export function checkOpaqueToken(token: string, canIntrospect: boolean): void {
  if (!isWellFormedChecksummedSecret(OPAQUE_TOKEN_PREFIX, token)) {
    throw invalidToken('The access token is not a well-formed opaque token.', 'malformed_token');
  }
  if (!canIntrospect) {
    throw invalidToken('The access token is opaque, and this resource server does not introspect tokens.', 'opaque_not_introspected');
  }
}
