import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One master secret per deployment. Everything secret at rest derives from it with HKDF:
 * the key-encryption key for signing keys, the pepper for client-secret hashes, and the pepper
 * opaque access tokens are kept and sealed under (tokens/opaque-token-format.ts).
 * It comes from M2M_AUTH_MASTER_KEY (base64url, 32 bytes) or, for the embedded default,
 * from `<dataDir>/master.key`, created once with mode 0600.
 */
export interface DerivedSecrets {
  keyEncryptionKey: Buffer;
  secretPepper: Buffer;
  opaqueTokenPepper: Buffer;
}

export const MASTER_KEY_FILE = 'master.key';

export function deriveSecrets(masterKey: Buffer): DerivedSecrets {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, 32));
  return {
    keyEncryptionKey: derive('m2m-auth signing-key encryption v1'),
    secretPepper: derive('m2m-auth client-secret pepper v1'),
    opaqueTokenPepper: derive('m2m-auth opaque-token pepper v1'),
  };
}

export function parseMasterKey(encoded: string): Buffer {
  const key = Buffer.from(encoded.trim(), 'base64url');
  if (key.length !== 32) {
    throw new Error('The master key must be 32 bytes, base64url-encoded (generate one with `m2m-auth master-key`).');
  }
  return key;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64url');
}

/** The key in `<dataDir>/master.key`, or undefined when there is no such file. */
export function readMasterKeyFile(dataDir: string): Buffer | undefined {
  const path = join(dataDir, MASTER_KEY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by other users; run: chmod 600 ${path}`);
  }
  return parseMasterKey(text);
}

/** Creates `<dataDir>/master.key` (0600, exclusively: a key another process just wrote wins). */
export function createMasterKeyFile(dataDir: string): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, MASTER_KEY_FILE);
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${generateMasterKey()}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readMasterKeyFile(dataDir)!;
}
