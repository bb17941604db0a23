import { invalidToken } from '../errors.js';

/**
 * m2m-auth's opaque access tokens: `m2mat_`, 43 base64url characters (256 random bits), then a
 * 6-character base64url CRC-32 of those 43 (the format is the server's; docs/opaque-tokens.md).
 * Knowing it, the verifier refuses a mistyped or made-up handle without an introspection request
 * (a flood of random handles costs the authorization server nothing), and tells an operator whose
 * verifier cannot introspect why such a token is refused.
 */
export const OPAQUE_TOKEN_PREFIX = 'm2mat_';
const BODY_LENGTH = 43;
const CHECKSUM_LENGTH = 6;

export function hasOpaqueTokenPrefix(token: string): boolean {
  return token.startsWith(OPAQUE_TOKEN_PREFIX);
}

/** Step 1b, for a token with the opaque prefix: its length and checksum, before any request. */
export function checkOpaqueToken(token: string, canIntrospect: boolean): void {
  if (
    token.length !== OPAQUE_TOKEN_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH ||
    checksumOf(token.slice(OPAQUE_TOKEN_PREFIX.length, -CHECKSUM_LENGTH)) !== token.slice(-CHECKSUM_LENGTH)
  ) {
    throw invalidToken('The access token is not a well-formed opaque token.', 'malformed_token');
  }
  if (!canIntrospect) {
    throw invalidToken('The access token is opaque, and this resource server does not introspect tokens.', 'opaque_not_introspected');
  }
}

function checksumOf(body: string): string {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.from(body, 'latin1')));
  return crc.toString('base64url');
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

// Node's zlib.crc32 arrived after 20.11, the oldest Node this SDK supports.
function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
