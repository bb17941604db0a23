import { createHmac, timingSafeEqual } from 'node:crypto';
import { generateChecksummedSecret, isWellFormedChecksummedSecret } from '@m2m-auth/sdk-core';

/**
 * Client secrets: the checksummed format of sdk-core's checksummed-secret.ts behind `m2msk_`. Stored as
 * HMAC-SHA-256 under a server pepper: a 256-bit random secret cannot be brute-forced, so a slow
 * hash would only cost throughput.
 */
export const CLIENT_SECRET_PREFIX = 'm2msk_';

export function generateClientSecret(): string {
  return generateChecksummedSecret(CLIENT_SECRET_PREFIX);
}

/** True when the string has the shape and checksum of a secret we issued. */
export function isWellFormedClientSecret(secret: string): boolean {
  return isWellFormedChecksummedSecret(CLIENT_SECRET_PREFIX, secret);
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
