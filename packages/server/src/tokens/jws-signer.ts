import { createHmac, createPrivateKey, sign, constants, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../storage/types.js';

/**
 * Signs JWS compact serialisations with node:crypto and a key imported once.
 *
 * Why not jose's SignJWT: it goes through WebCrypto with a fresh import and promise chain per
 * token; the token endpoint signs on every request, and node:crypto lets us choose where each
 * algorithm runs. RSA signatures (~0.3 ms each) go to the libuv threadpool so the event loop
 * keeps parsing requests; ECDSA, EdDSA and HMAC are cheaper than the hop, so they run inline.
 * Tokens are verified with jose in the tests, so the output is checked against an independent
 * implementation.
 */
export interface JwsSigner {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** base64url(JSON header) — computed once per key. */
  readonly encodedHeader: string;
  sign(signingInput: string): Buffer | Promise<Buffer>;
}

export function createJwsSigner(kid: string, alg: SigningAlgorithm, privateMaterial: string): JwsSigner {
  const encodedHeader = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid })).toString('base64url');
  return { kid, alg, encodedHeader, sign: signatureFunction(alg, privateMaterial) };
}

function signatureFunction(alg: SigningAlgorithm, privateMaterial: string): (input: string) => Buffer | Promise<Buffer> {
  if (alg === 'HS256') {
    const secret = Buffer.from(privateMaterial, 'base64url');
    return (input) => createHmac('sha256', secret).update(input).digest();
  }
  const key: KeyObject = createPrivateKey(privateMaterial);
  switch (alg) {
    case 'RS256':
      return (input) => signOnThreadpool('sha256', input, { key });
    case 'PS256':
      return (input) =>
        signOnThreadpool('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256':
      return (input) => sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return (input) => sign(null, Buffer.from(input), key);
  }
}

function signOnThreadpool(hash: string, input: string, key: Parameters<typeof sign>[2]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(hash, Buffer.from(input), key, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}
