import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decryptPrivateKey, encryptPrivateKey } from '../../src/keys/key-encryption.js';
import { generateSigningKey } from '../../src/keys/generate-signing-key.js';

describe('signing keys at rest', () => {
  it('are encrypted: the stored record holds no PEM, and decrypts only with the same KEK and kid', async () => {
    const kek = randomBytes(32);
    const { record } = await generateSigningKey(kek, 'ES256', 0);
    expect(record.encryptedPrivateKey).not.toContain('PRIVATE KEY');
    expect(decryptPrivateKey(kek, record.kid, record.encryptedPrivateKey)).toContain('BEGIN PRIVATE KEY');
    expect(() => decryptPrivateKey(randomBytes(32), record.kid, record.encryptedPrivateKey)).toThrowError(/wrong master key/);
    expect(() => decryptPrivateKey(kek, 'other-kid', record.encryptedPrivateKey)).toThrowError();
    expect(record.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: record.kid });
    expect(record.publicJwk).not.toHaveProperty('d');
  });

  it('round-trips arbitrary text', () => {
    const kek = randomBytes(32);
    expect(decryptPrivateKey(kek, 'k', encryptPrivateKey(kek, 'k', 'hello'))).toBe('hello');
  });
});
