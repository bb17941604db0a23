import { generateKeyPairSync, sign } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { accessTokenHash, checkDpopProof, createDpopNonces, DEFAULT_DPOP_ALGORITHMS, jwkThumbprint, normalizeHtu, type DpopProofCheck } from '../src/index.js';
import { createProofKey, makeProof, negativeProofCases, type ProofKey } from './helpers/dpop-proofs.js';

const URL_ = 'https://api.example/orders/42';
const NOW_S = 1_800_000_000;
const policy = { algorithms: new Set<string>(DEFAULT_DPOP_ALGORITHMS), windowSeconds: 60, nowSeconds: NOW_S };
const target = { method: 'GET', url: URL_, iat: NOW_S, accessToken: 'eyJ.token.value' };

const refusal = (check: DpopProofCheck) => (check.ok ? 'accepted' : check.reason);

// Made before the tests are collected: each negative case is a test of its own.
const key: ProofKey = await createProofKey('ES256');
const other: ProofKey = await createProofKey('ES256');

describe('normalizeHtu (RFC 9449 §4.3, RFC 3986 §6.2.2–6.2.3)', () => {
  it.each([
    ['https://API.Example:443/a/b', 'https://api.example/a/b'],
    ['HTTPS://api.example/a/b?x=1#frag', 'https://api.example/a/b'],
    ['https://api.example', 'https://api.example/'],
    ['https://api.example/a/./c/../b', 'https://api.example/a/b'],
    ['https://api.example/%7euser/%2f', 'https://api.example/~user/%2F'],
    ['http://127.0.0.1:80/x', 'http://127.0.0.1/x'],
    ['https://api.example:8443/x', 'https://api.example:8443/x'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeHtu(input)).toBe(expected);
  });

  it('refuses what is not an absolute http(s) URL', () => {
    for (const value of ['/relative', 'ftp://api.example/x', 'not a url', '']) expect(normalizeHtu(value)).toBeUndefined();
  });
});

describe('jwkThumbprint (RFC 7638)', () => {
  it('matches jose for EC, RSA and OKP keys, whatever other members the JWK has', async () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA']) {
      const { publicJwk } = await createProofKey(alg);
      expect(jwkThumbprint({ ...publicJwk, kid: 'k', use: 'sig' })).toBe(await calculateJwkThumbprint(publicJwk, 'sha256'));
    }
  });

  it('is the RFC 7638 §3.1 example', () => {
    const jwk = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('checkDpopProof', () => {
  it('accepts a proof jose made, and names its key, jti and iat', async () => {
    const proof = await makeProof(key, target, { claims: { jti: 'one' } });
    const check = checkDpopProof(proof, target, policy);
    expect(check).toEqual({ ok: true, proof: { jkt: key.jkt, jti: 'one', iat: NOW_S, nonce: undefined, alg: 'ES256' } });
  });

  it.each(['ES256', 'RS256', 'PS256', 'EdDSA'])('accepts %s', async (alg) => {
    const signer = await createProofKey(alg);
    expect(refusal(checkDpopProof(await makeProof(signer, target), target, policy))).toBe('accepted');
  });

  it('ignores a query and fragment in htu, accepts a default port and other letter case, and unknown claims', async () => {
    for (const htu of [`${URL_}?page=2#top`, 'https://API.example:443/orders/42', 'https://api.example/orders/./42']) {
      const proof = await makeProof(key, target, { claims: { htu, extra: true }, header: { kid: 'anything' } });
      expect(refusal(checkDpopProof(proof, { ...target, url: `${URL_}?other=1` }, policy)), htu).toBe('accepted');
    }
  });

  it('returns the nonce for the caller to judge', async () => {
    const check = checkDpopProof(await makeProof(key, { ...target, nonce: 'n-1' }), target, policy);
    expect(check.ok && check.proof.nonce).toBe('n-1');
  });

  const expected: Record<string, string> = {
    'missing typ': 'wrong_type',
    'typ other than dpop+jwt': 'wrong_type',
    'missing alg': 'algorithm_not_allowed',
    'alg none': 'algorithm_not_allowed',
    'missing jwk': 'bad_key',
    'a private key in jwk': 'private_key',
    'missing jti': 'missing_claim',
    'missing htm': 'missing_claim',
    'missing htu': 'missing_claim',
    'missing iat': 'missing_claim',
    'a bad signature': 'bad_signature',
    'a signature by another key than its jwk': 'bad_signature',
    'iat an hour in the past': 'outside_window',
    'iat an hour in the future': 'outside_window',
    'the wrong method': 'wrong_method',
    'another URL': 'wrong_url',
    'another host': 'wrong_url',
    'missing ath': 'missing_claim',
    'ath of another token': 'wrong_token_hash',
  };
  it.each(negativeProofCases({ key, other }, { withAccessToken: true }))('refuses the OpenID Foundation negative case: %s', async (name, change) => {
    expect(refusal(checkDpopProof(await makeProof(key, target, change(target)), target, policy))).toBe(expected[name]);
  });

  it('refuses HS256 and algorithms outside the policy, and a key that does not fit the algorithm', async () => {
    const es384 = await createProofKey('ES384');
    expect(refusal(checkDpopProof(await makeProof(es384, target), target, policy))).toBe('algorithm_not_allowed');
    const hs = await new SignJWT({ jti: 'x', htm: 'GET', htu: URL_, iat: NOW_S })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'AAAA' } } as never)
      .sign(new Uint8Array(32));
    expect(refusal(checkDpopProof(hs, target, policy))).toBe('algorithm_not_allowed');
    const rsa = await createProofKey('RS256');
    expect(refusal(checkDpopProof(await makeProof(key, target, { header: { jwk: rsa.publicJwk } }), target, policy))).toBe('bad_key');
  });

  it('refuses an RSA key under 2048 bits', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = await exportJWK(publicKey);
    // jose will not sign with such a key: node:crypto does.
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${encode({ alg: 'RS256', typ: 'dpop+jwt', jwk })}.${encode({ jti: 'x', htm: 'GET', htu: URL_, iat: NOW_S, ath: accessTokenHash(target.accessToken) })}`;
    const proof = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
    expect(refusal(checkDpopProof(proof, target, policy))).toBe('bad_key');
  });

  it('refuses two proofs in one header, a proof too large, and what is not a JWT', async () => {
    const proof = await makeProof(key, target);
    expect(refusal(checkDpopProof(`${proof}, ${proof}`, target, policy))).toBe('malformed');
    expect(refusal(checkDpopProof('a'.repeat(9000), target, policy))).toBe('malformed');
    expect(refusal(checkDpopProof('not.a.jwt!', target, policy))).toBe('malformed');
    expect(refusal(checkDpopProof(proof.split('.').slice(0, 2).join('.'), target, policy))).toBe('malformed');
  });

  it('keeps what a header decides, never what the request or the policy does', async () => {
    const first = await makeProof(key, target);
    expect(refusal(checkDpopProof(first, target, policy))).toBe('accepted');
    // The same header (same key) again: a bad signature, another method, another policy are still refused.
    expect(refusal(checkDpopProof(await makeProof(key, target, { breakSignature: true }), target, policy))).toBe('bad_signature');
    expect(refusal(checkDpopProof(await makeProof(key, target), { ...target, method: 'POST' }, policy))).toBe('wrong_method');
    const rsaOnly = { ...policy, algorithms: new Set(['RS256']) };
    expect(refusal(checkDpopProof(await makeProof(key, target), target, rsaOnly))).toBe('algorithm_not_allowed');
  });

  it('without an access token, ath is not asked for', async () => {
    const atTokenEndpoint = { method: 'POST', url: 'https://auth.example/oauth/token' };
    const proof = await makeProof(key, { ...atTokenEndpoint, iat: NOW_S });
    expect(refusal(checkDpopProof(proof, atTokenEndpoint, policy))).toBe('accepted');
  });
});

describe('createDpopNonces', () => {
  it('hands out one nonce per slot, accepts the previous one, and refuses others; another secret agrees on none', () => {
    let now = 1_000_000_000;
    const nonces = createDpopNonces({ secret: Buffer.alloc(32, 1), lifetimeSeconds: 300, now: () => now });
    const twin = createDpopNonces({ secret: Buffer.alloc(32, 1), lifetimeSeconds: 300, now: () => now });
    const stranger = createDpopNonces({ secret: Buffer.alloc(32, 2), lifetimeSeconds: 300, now: () => now });
    const first = nonces.current();
    expect(twin.current()).toBe(first);
    expect(stranger.check(first)).toBe('invalid');
    expect(nonces.check(first)).toBe('current');
    expect(nonces.check(undefined)).toBe('missing');
    now += 300_000;
    expect(nonces.check(first)).toBe('previous');
    expect(nonces.current()).not.toBe(first);
    now += 300_000;
    expect(nonces.check(first)).toBe('invalid');
  });
});
