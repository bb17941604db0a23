import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { compactVerify, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { createJwsSigner, signOnFor, type SignOn } from '../../src/tokens/jws-signer.js';

function keyMaterial(alg: 'RS256' | 'ES256' | 'EdDSA' | 'HS256') {
  if (alg === 'HS256') {
    const secret = randomBytes(32);
    return { material: secret.toString('base64url'), verifyKey: secret };
  }
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { material: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, verifyKey: publicKey.export({ format: 'jwk' }) as JWK };
}

describe('JWS signer', () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256', 'HS256'] as const) {
    for (const signOn of ['threadpool', 'event-loop'] as SignOn[]) {
      it(`${alg} signed on the ${signOn} verifies with jose`, async () => {
        const { material, verifyKey } = keyMaterial(alg);
        const signer = createJwsSigner('kid-1', alg, material, signOn);
        const signingInput = `${signer.encodedHeader}.${Buffer.from('{"sub":"orders"}').toString('base64url')}`;
        const pending = signer.sign(signingInput);
        // RSA always leaves the event loop, HMAC never does; ECDSA and EdDSA go where they are told.
        const expectPromise = alg === 'RS256' || (alg !== 'HS256' && signOn === 'threadpool');
        expect(pending instanceof Promise).toBe(expectPromise);
        const token = `${signingInput}.${(await pending).toString('base64url')}`;
        const key = Buffer.isBuffer(verifyKey) ? verifyKey : await importJWK({ ...verifyKey, alg }, alg);
        const { protectedHeader, payload } = await compactVerify(token, key as Parameters<typeof compactVerify>[1]);
        expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: 'kid-1' });
        expect(JSON.parse(Buffer.from(payload).toString())).toEqual({ sub: 'orders' });
      });
    }
  }

  it('signs on the threadpool while cores outnumber event loops, inline once each core has one', () => {
    expect(signOnFor(1, 2)).toBe('threadpool');
    expect(signOnFor(2, 4)).toBe('threadpool');
    expect(signOnFor(2, 2)).toBe('event-loop');
    expect(signOnFor(4, 2)).toBe('event-loop');
    expect(signOnFor(1, 1)).toBe('event-loop');
  });
});
