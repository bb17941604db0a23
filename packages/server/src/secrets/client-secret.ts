import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets: 256 random bits, base64url, behind a recognisable prefix and followed by a
 * CRC-32 checksum, so secret scanners can find leaked secrets with few false positives
 * (the GitHub token format). Stored as HMAC-SHA-256 under a server pepper: a 256-bit random
 * secret cannot be brute-forced, so a slow hash would only cost throughput.
 */
export const CLIENT_SECRET_PREFIX = 'm2msk_';
const RANDOM_BYTES = 32;
const BODY_LENGTH = 43; // base64url of 32 bytes
const CHECKSUM_LENGTH = 6; // base64url of 4 bytes, without padding

export function generateClientSecret(): string {
  const body = randomBytes(RANDOM_BYTES).toString('base64url');
  return `${CLIENT_SECRET_PREFIX}${body}${checksum(body)}`;
}

/** True when the string has the shape and checksum of a secret we issued. */
export function isWellFormedClientSecret(secret: string): boolean {
  if (secret.length !== CLIENT_SECRET_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH) return false;
  if (!secret.startsWith(CLIENT_SECRET_PREFIX)) return false;
  const body = secret.slice(CLIENT_SECRET_PREFIX.length, CLIENT_SECRET_PREFIX.length + BODY_LENGTH);
  return checksum(body) === secret.slice(-CHECKSUM_LENGTH);
}

export function hashClientSecret(pepper: Buffer, secret: string): string {
  return createHmac('sha256', pepper).update(secret).digest('base64url');
}

/** Constant-time comparison of a presented secret against one stored hash. */
export function clientSecretMatches(pepper: Buffer, presented: string, storedHash: string): boolean {
  const presentedHash = createHmac('sha256', pepper).update(presented).digest();
  const stored = Buffer.from(storedHash, 'base64url');
  return stored.length === presentedHash.length && timingSafeEqual(stored, presentedHash);
}

export function secretHint(secret: string): string {
  return secret.slice(-4);
}

function checksum(body: string): string {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.from(body, 'ascii')));
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

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
