import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  CLIENT_SECRET_PREFIX,
  clientSecretMatches,
  generateClientSecret,
  hashClientSecret,
  isWellFormedClientSecret,
} from '../../src/secrets/client-secret.js';

describe('client secrets', () => {
  it('are prefixed, 256-bit random and carry a checksum that scanners can verify', () => {
    const secret = generateClientSecret();
    expect(secret.startsWith(CLIENT_SECRET_PREFIX)).toBe(true);
    expect(isWellFormedClientSecret(secret)).toBe(true);
    expect(Buffer.from(secret.slice(CLIENT_SECRET_PREFIX.length, CLIENT_SECRET_PREFIX.length + 43), 'base64url')).toHaveLength(32);
    const flipped = secret.slice(0, 10) + (secret[10] === 'A' ? 'B' : 'A') + secret.slice(11);
    expect(isWellFormedClientSecret(flipped)).toBe(false);
    expect(generateClientSecret()).not.toBe(secret);
  });

  it('are stored as a peppered HMAC and matched only by the right secret and pepper', () => {
    const pepper = randomBytes(32);
    const secret = generateClientSecret();
    const hash = hashClientSecret(pepper, secret);
    expect(hash).not.toContain(secret.slice(CLIENT_SECRET_PREFIX.length, 20));
    expect(clientSecretMatches(pepper, secret, hash)).toBe(true);
    expect(clientSecretMatches(pepper, `${secret}x`, hash)).toBe(false);
    expect(clientSecretMatches(randomBytes(32), secret, hash)).toBe(false);
    expect(clientSecretMatches(pepper, secret, 'short')).toBe(false);
  });
});
