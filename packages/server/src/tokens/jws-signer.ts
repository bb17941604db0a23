import { createHmac, createPrivateKey, sign, constants, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { SigningAlgorithm } from '../storage/types.js';

/**
 * Signs JWS compact serialisations with node:crypto and a key imported once.
 *
 * Why not jose's SignJWT: it goes through WebCrypto with a fresh import and promise chain per
 * token; the token endpoint signs on every request, and node:crypto lets us choose where each
 * algorithm runs. RSA signatures (~0.25 ms each) always go to the libuv threadpool so the event
 * loop keeps parsing requests; HMAC (~2 µs) always runs inline. ECDSA and EdDSA (~20 µs) run
 * where `signOn` says — see `signOnFor`. Tokens are verified with jose in the tests, so the output
 * is checked against an independent implementation.
 */
export interface JwsSigner {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** base64url(JSON header) — computed once per key. */
  readonly encodedHeader: string;
  sign(signingInput: string): Buffer | Promise<Buffer>;
}

/** Where ECDSA and EdDSA signatures run. */
export type SignOn = 'threadpool' | 'event-loop';

/**
 * The threadpool while some cores have no event loop of their own, else the event loop. Measured
 * (docs/benchmarks.md), ES256: one process on 2 cores issues 12.9k tokens/s signing inline and
 * 18–22k on the threadpool, at the same CPU per token, since the second core signs while the
 * event loop parses; with one worker per core the cores are busy anyway and the hop only adds
 * its cost (−5% at 10 connections), so each worker signs inline.
 */
export function signOnFor(eventLoops: number, cores: number = availableParallelism()): SignOn {
  return eventLoops < cores ? 'threadpool' : 'event-loop';
}

export function createJwsSigner(kid: string, alg: SigningAlgorithm, privateMaterial: string, signOn: SignOn): JwsSigner {
  const encodedHeader = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt', kid })).toString('base64url');
  return { kid, alg, encodedHeader, sign: signatureFunction(alg, privateMaterial, signOn) };
}

/**
 * A JWS of another type signed with the same key (an RFC 9701 introspection answer): the header
 * is encoded per call, since such answers are rare next to access tokens.
 */
export async function signJws(signer: JwsSigner, typ: string, payload: Record<string, unknown>): Promise<string> {
  const header = Buffer.from(JSON.stringify({ alg: signer.alg, typ, kid: signer.kid })).toString('base64url');
  const signingInput = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signingInput}.${(await signer.sign(signingInput)).toString('base64url')}`;
}

function signatureFunction(alg: SigningAlgorithm, privateMaterial: string, signOn: SignOn): (input: string) => Buffer | Promise<Buffer> {
  if (alg === 'HS256') {
    const secret = Buffer.from(privateMaterial, 'base64url');
    return (input) => createHmac('sha256', secret).update(input).digest();
  }
  const key: KeyObject = createPrivateKey(privateMaterial);
  switch (alg) {
    case 'RS256':
      return (input) => signOnThreadpool('sha256', input, { key });
    case 'PS256':
      return (input) => signOnThreadpool('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256': {
      const options = { key, dsaEncoding: 'ieee-p1363' as const };
      return signOn === 'threadpool' ? (input) => signOnThreadpool('sha256', input, options) : (input) => sign('sha256', Buffer.from(input), options);
    }
    case 'EdDSA':
      return signOn === 'threadpool' ? (input) => signOnThreadpool(null, input, key) : (input) => sign(null, Buffer.from(input), key);
  }
}

function signOnThreadpool(hash: string | null, input: string, key: Parameters<typeof sign>[2]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign(hash, Buffer.from(input), key, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}
