import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM envelope for private keys at rest. The key id is bound as additional
 * authenticated data, so an encrypted key copied onto another record fails to decrypt.
 * Format: `v1.<iv>.<ciphertext>.<tag>`, each base64url.
 */
const VERSION = 'v1';

export function encryptPrivateKey(kek: Buffer, kid: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export function decryptPrivateKey(kek: Buffer, kid: string, envelope: string): string {
  const [version, iv, ciphertext, tag] = envelope.split('.');
  if (version !== VERSION || !iv || !ciphertext || !tag) {
    throw new Error(`signing key ${kid}: unsupported encryption envelope`);
  }
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new Error(`signing key ${kid} cannot be decrypted: wrong master key?`, { cause });
  }
}
