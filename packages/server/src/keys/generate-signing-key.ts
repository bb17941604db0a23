import { generateKeyPair as generateKeyPairCallback, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningAlgorithm, SigningKeyRecord } from '../storage/types.js';
import { encryptPrivateKey } from './key-encryption.js';

const generateKeyPair = promisify(generateKeyPairCallback) as (
  type: string,
  options: Record<string, unknown>,
) => Promise<{ publicKey: KeyObject; privateKey: KeyObject }>;

function keyPairFor(alg: Exclude<SigningAlgorithm, 'HS256'>) {
  switch (alg) {
    case 'RS256':
    case 'PS256':
      return generateKeyPair('rsa', { modulusLength: 2048 });
    case 'ES256':
      return generateKeyPair('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPair('ed25519', {});
  }
}

/**
 * Makes a new signing key record, private part encrypted under the key-encryption key.
 * Asymmetric keys are identified by their RFC 7638 thumbprint; an HS256 key belongs to one API
 * and is never published.
 */
export async function generateSigningKey(
  kek: Buffer,
  alg: SigningAlgorithm,
  now: number,
  apiIdentifier: string | null = null,
): Promise<{ record: SigningKeyRecord; sharedSecret?: string }> {
  if (alg === 'HS256') {
    if (!apiIdentifier) throw new Error('an HS256 key belongs to exactly one API');
    const kid = `hs-${randomBytes(12).toString('base64url')}`;
    const secret = randomBytes(32).toString('base64url');
    return {
      record: {
        kid,
        alg,
        status: 'active',
        encryptedPrivateKey: encryptPrivateKey(kek, kid, secret),
        publicJwk: null,
        apiIdentifier,
        createdAt: now,
        rotatedAt: null,
      },
      sharedSecret: secret,
    };
  }
  const { publicKey, privateKey } = await keyPairFor(alg);
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  return {
    record: {
      kid,
      alg,
      status: 'active',
      encryptedPrivateKey: encryptPrivateKey(kek, kid, pem),
      publicJwk: { ...jwk, kid, alg, use: 'sig' },
      apiIdentifier: null,
      createdAt: now,
      rotatedAt: null,
    },
  };
}
