import { randomBytes } from 'node:crypto';

/**
 * The shape of every credential m2m-auth hands out (client secrets, opaque access tokens): 256
 * random bits, base64url, behind a recognisable prefix and followed by a CRC-32 checksum — the
 * GitHub token format. Secret scanners find leaked ones by the prefix and confirm them by the
 * checksum with few false positives; the server, and a resource server holding an opaque token,
 * refuse a typo or a guessed string by its checksum before looking anything up. The checksum is
 * public (a CRC, not a MAC): it protects against mistakes and cheap floods, not against someone who
 * computes it; the 256 random bits do. One implementation, so the issuer and the checkers agree.
 */
const RANDOM_BYTES = 32;
const BODY_LENGTH = 43; // base64url of 32 bytes
const CHECKSUM_LENGTH = 6; // base64url of 4 bytes, without padding

export function generateChecksummedSecret(prefix: string): string {
  const body = randomBytes(RANDOM_BYTES).toString('base64url');
  return `${prefix}${body}${checksum(body)}`;
}

/** True when the string has the prefix, length and checksum of one made by generateChecksummedSecret(prefix). */
export function isWellFormedChecksummedSecret(prefix: string, value: string): boolean {
  if (value.length !== prefix.length + BODY_LENGTH + CHECKSUM_LENGTH) return false;
  if (!value.startsWith(prefix)) return false;
  const body = value.slice(prefix.length, prefix.length + BODY_LENGTH);
  return checksum(body) === value.slice(-CHECKSUM_LENGTH);
}

function checksum(body: string): string {
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

// Node's zlib.crc32 arrived after 20.11, the oldest Node the packages support.
function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
