import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { accessTokenHash } from '../../src/dpop/access-token-hash.js';

/**
 * DPoP proofs for the tests of every package, made with jose (an implementation independent of
 * the checker) and spoiled one way at a time: the OpenID Foundation's negative cases are each a
 * `ProofChange`.
 */
export interface ProofKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
  jkt: string;
}

export async function createProofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

export interface ProofChange {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  /** Header or claim names to leave out. */
  omit?: string[];
  /** Sign with this key instead (the header still names the proof key's jwk). */
  signWith?: ProofKey;
  /** Flip a bit of the signature. */
  breakSignature?: boolean;
  /** `alg: none` and no signature. */
  unsigned?: boolean;
}

export interface ProofTarget {
  method: string;
  url: string;
  accessToken?: string;
  nonce?: string;
  /** Seconds since the epoch; default now. */
  iat?: number;
}

export async function makeProof(key: ProofKey, target: ProofTarget, change: ProofChange = {}): Promise<string> {
  const omit = new Set(change.omit ?? []);
  const header: Record<string, unknown> = { typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...change.header };
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    htm: target.method,
    htu: target.url,
    iat: target.iat ?? Math.floor(Date.now() / 1000),
    ...(target.accessToken !== undefined ? { ath: accessTokenHash(target.accessToken) } : {}),
    ...(target.nonce !== undefined ? { nonce: target.nonce } : {}),
    ...change.claims,
  };
  for (const name of omit) {
    delete header[name];
    delete claims[name];
  }
  if (change.unsigned) {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${encode({ ...header, alg: 'none' })}.${encode(claims)}.`;
  }
  // jose refuses to sign without alg; a proof "missing alg" is signed, then its header rewritten.
  const signingHeader = { ...header, alg: header.alg ?? key.alg } as { alg: string };
  let proof = await new SignJWT(claims).setProtectedHeader(signingHeader).sign((change.signWith ?? key).privateKey);
  if (!('alg' in header) || !('typ' in header) || !('jwk' in header)) {
    const [, payload, signature] = proof.split('.');
    proof = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${payload}.${signature}`;
  }
  if (change.breakSignature) {
    const [head, payload, signature] = proof.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0]! ^= 1;
    proof = `${head}.${payload}.${bytes.toString('base64url')}`;
  }
  return proof;
}

/** How one negative case spoils a proof made for `target`. */
export type NegativeCase = [name: string, change: (target: ProofTarget) => ProofChange];

/**
 * The negative cases of the OpenID Foundation's DPoP tests (and RFC 9449 §4.3's checklist), each
 * a change to an otherwise good proof, known before any request (so each can be a test of its
 * own); the `ath` cases where a token comes with the proof.
 */
export function negativeProofCases(keys: { key: ProofKey; other: ProofKey }, options: { withAccessToken: boolean }): NegativeCase[] {
  const iatOf = (target: ProofTarget) => target.iat ?? Math.floor(Date.now() / 1000);
  const cases: NegativeCase[] = [
    ['missing typ', () => ({ omit: ['typ'] })],
    ['typ other than dpop+jwt', () => ({ header: { typ: 'jwt' } })],
    ['missing alg', () => ({ omit: ['alg'] })],
    ['alg none', () => ({ unsigned: true })],
    ['missing jwk', () => ({ omit: ['jwk'] })],
    ['a private key in jwk', () => ({ header: { jwk: keys.key.privateJwk } })],
    ['missing jti', () => ({ omit: ['jti'] })],
    ['missing htm', () => ({ omit: ['htm'] })],
    ['missing htu', () => ({ omit: ['htu'] })],
    ['missing iat', () => ({ omit: ['iat'] })],
    ['a bad signature', () => ({ breakSignature: true })],
    ['a signature by another key than its jwk', () => ({ signWith: keys.other })],
    ['iat an hour in the past', (target) => ({ claims: { iat: iatOf(target) - 3600 } })],
    ['iat an hour in the future', (target) => ({ claims: { iat: iatOf(target) + 3600 } })],
    ['the wrong method', (target) => ({ claims: { htm: target.method === 'PUT' ? 'POST' : 'PUT' } })],
    ['another URL', (target) => ({ claims: { htu: new URL('/elsewhere', target.url).href } })],
    ['another host', (target) => ({ claims: { htu: target.url.replace('://', '://other.') } })],
  ];
  if (options.withAccessToken) {
    cases.push(
      ['missing ath', () => ({ omit: ['ath'] })],
      ['ath of another token', (target) => ({ claims: { ath: accessTokenHash(`${target.accessToken}x`) } })],
    );
  }
  return cases;
}
