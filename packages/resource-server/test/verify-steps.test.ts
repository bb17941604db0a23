// Each step of the verification pipeline on its own (src/core/verify/), without a verifier,
// an issuer or a network: what each step refuses, and that the wrappers add no work on a hit.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JwksCache } from '../src/core/jwks-cache.js';
import { decodeCompactJws, importJwk, importSharedSecret, type JwsAlgorithm, type VerificationKey } from '../src/core/jws.js';
import type { Principal } from '../src/core/principal.js';
import { createMemoryReplayStore } from '../src/core/replay-store.js';
import { createVerifiedTokenCache } from '../src/core/token-cache.js';
import { checkClaims, type ClaimsPolicy } from '../src/core/verify/claims.js';
import { checkHeader } from '../src/core/verify/header-policy.js';
import { checkReplay } from '../src/core/verify/replay.js';
import { selectKey } from '../src/core/verify/select-key.js';
import { checkSignature } from '../src/core/verify/signature.js';
import { checkTokenSize, looksLikeJwt } from '../src/core/verify/token-shape.js';
import { withHeaderCache } from '../src/core/verify/with-header-cache.js';
import { withTokenCache } from '../src/core/verify/with-token-cache.js';

const ISSUER = 'https://issuer.example';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hs256 = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'at+jwt' }) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
};
const rejection = (reason: string) => expect.objectContaining({ code: 'invalid_token', reason });

const principal = (overrides: Partial<Principal> = {}): Principal =>
  Object.freeze({
    subject: 's',
    clientId: 'c',
    scopes: [],
    authorities: [],
    issuer: ISSUER,
    audience: [],
    expiresAt: 2_000,
    issuedAt: 1_000,
    tokenId: 'jti-1',
    actors: [],
    source: 'jwt',
    claims: {},
    ...overrides,
  });

describe('step 1, token shape', () => {
  it('refuses an oversized token before reading it, and tells a JWT from an opaque token without splitting it', () => {
    expect(() => checkTokenSize('x'.repeat(11), 10)).toThrow(rejection('token_too_large'));
    expect(() => checkTokenSize('x'.repeat(10), 10)).not.toThrow();
    expect(looksLikeJwt('a.b.c')).toBe(true);
    expect(looksLikeJwt('opaque-token')).toBe(false);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
  });
});

describe('step 2, header policy', () => {
  const policy = { algorithms: new Set<JwsAlgorithm>(['RS256']), requireTyp: true };
  it('returns the algorithm of an acceptable header', () => {
    expect(checkHeader({ alg: 'RS256', typ: 'application/at+jwt' }, policy)).toBe('RS256');
  });
  it('refuses crit, none, an algorithm off the allowlist and a wrong typ', () => {
    expect(() => checkHeader({ alg: 'RS256', typ: 'at+jwt', crit: ['b64'] }, policy)).toThrow(rejection('malformed_token'));
    expect(() => checkHeader({ alg: 'none', typ: 'at+jwt' }, policy)).toThrow(rejection('algorithm_not_allowed'));
    expect(() => checkHeader({ alg: 'ES256', typ: 'at+jwt' }, policy)).toThrow(rejection('algorithm_not_allowed'));
    expect(() => checkHeader({ alg: 'RS256', typ: 'JWT' }, policy)).toThrow(rejection('wrong_type'));
    expect(checkHeader({ alg: 'RS256', typ: 'JWT' }, { ...policy, requireTyp: false })).toBe('RS256');
  });
});

describe('step 3, key selection', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = importJwk({ ...publicKey.export({ format: 'jwk' }), kid: 'k1' })!;
  const jwks = (calls: string[]): JwksCache => ({
    knownKey: (kid) => (calls.push(`known:${kid}`), kid === 'k1' ? key : undefined),
    keyFor: async (kid) => (calls.push(`fetch:${kid}`), key),
    prefetch: async () => undefined,
  });

  it('checks the issuer before any key is looked up, so a forged iss never causes a fetch', () => {
    const calls: string[] = [];
    const jws = decodeCompactJws(hs256({ iss: 'https://evil.example' }, { alg: 'ES256', kid: 'k1' }));
    expect(() => selectKey(jws, 'ES256', { keySets: new Map([[ISSUER, jwks(calls)]]), sharedKey: undefined })).toThrow(rejection('wrong_issuer'));
    expect(calls).toEqual([]);
  });

  it('answers a key in memory without a promise, and fetches an unknown kid', async () => {
    const calls: string[] = [];
    const source = { keySets: new Map([[ISSUER, jwks(calls)]]), sharedKey: undefined };
    expect(selectKey(decodeCompactJws(hs256({ iss: ISSUER }, { alg: 'ES256', kid: 'k1' })), 'ES256', source)).toBe(key);
    await expect(selectKey(decodeCompactJws(hs256({ iss: ISSUER }, { alg: 'ES256', kid: 'k2' })), 'ES256', source)).resolves.toBe(key);
    expect(calls).toEqual(['known:k1', 'known:k2', 'fetch:k2']);
  });
});

describe('step 4, signature', () => {
  const shared = importSharedSecret(SECRET, ['HS256']);
  it('returns the payload of a valid signature, inline on the event loop', () => {
    const jws = decodeCompactJws(hs256({ iss: ISSUER, n: 1 }));
    expect(checkSignature(jws, 'HS256', shared, 'event-loop')).toEqual({ iss: ISSUER, n: 1 });
  });
  it('refuses a bad signature, a key that does not allow the algorithm, and a too-short RSA key', async () => {
    const token = hs256({ iss: ISSUER });
    const tampered = decodeCompactJws(`${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(32).toString('base64url')}`);
    expect(() => checkSignature(tampered, 'HS256', shared, 'event-loop')).toThrow(rejection('bad_signature'));
    expect(() => checkSignature(decodeCompactJws(token), 'HS384', shared, 'event-loop')).toThrow(rejection('algorithm_not_allowed'));
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const weak = importJwk(publicKey.export({ format: 'jwk' }))!;
    const input = `${b64({ alg: 'RS256' })}.${b64({ iss: ISSUER })}`;
    const rs = decodeCompactJws(`${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`);
    expect(() => checkSignature(rs, 'RS256', weak as VerificationKey, 'threadpool')).toThrow(rejection('weak_key'));
  });
  it('on the threadpool answers with a promise', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const input = `${b64({ alg: 'ES256' })}.${b64({ iss: ISSUER })}`;
    const jws = decodeCompactJws(`${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`);
    const result = checkSignature(jws, 'ES256', importJwk(publicKey.export({ format: 'jwk' }))!, 'threadpool');
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toEqual({ iss: ISSUER });
  });
});

describe('step 5, claims', () => {
  const policy: ClaimsPolicy = {
    issuers: new Set([ISSUER]),
    toleranceSeconds: 5,
    audiences: ['api'],
    allowedClientIds: undefined,
    requiredClaims: [['token_use', 'access']],
  };
  const good = { iss: ISSUER, exp: 1_000, aud: ['other', 'api'], token_use: 'access' };
  it('accepts a token within the clock tolerance, and refuses one past it', () => {
    expect(() => checkClaims(good, 1_004, policy, false)).not.toThrow();
    expect(() => checkClaims(good, 1_005, policy, false)).toThrow(rejection('expired'));
  });
  it('refuses a foreign audience, a missing exp on a JWT, a future nbf and a wrong token_use', () => {
    expect(() => checkClaims({ ...good, aud: 'other' }, 900, policy, false)).toThrow(rejection('wrong_audience'));
    expect(() => checkClaims({ ...good, exp: undefined }, 900, policy, false)).toThrow(rejection('missing_claim'));
    expect(() => checkClaims({ ...good, nbf: 906 }, 900, policy, false)).toThrow(rejection('not_yet_valid'));
    expect(() => checkClaims({ ...good, token_use: 'id' }, 900, policy, false)).toThrow(rejection('wrong_token_use'));
  });
  it('lets an introspection answer leave out iss and exp (RFC 7662), but not name a foreign issuer', () => {
    expect(() => checkClaims({ aud: 'api', token_use: 'access' }, 900, policy, true)).not.toThrow();
    expect(() => checkClaims({ iss: 'https://evil.example', aud: 'api', token_use: 'access' }, 900, policy, true)).toThrow(rejection('wrong_issuer'));
  });
});

describe('step 6, replay', () => {
  it('accepts a jti once, refuses it the second time, and answers 503 when the store fails', async () => {
    const store = createMemoryReplayStore({ now: () => 1_000_000 });
    await expect(checkReplay(store, principal(), 1_000, 5)).resolves.toBeUndefined();
    await expect(checkReplay(store, principal(), 1_000, 5)).rejects.toMatchObject({ reason: 'replayed' });
    await expect(checkReplay(store, principal({ tokenId: undefined }), 1_000, 5)).rejects.toMatchObject({ reason: 'missing_claim' });
    const broken = { checkAndRemember: () => Promise.reject(new Error('store down')) };
    await expect(checkReplay(broken, principal(), 1_000, 5)).rejects.toMatchObject({ code: 'temporarily_unavailable', reason: 'replay_store_unavailable' });
  });
});

describe('the caches are wrappers', () => {
  it('a cached token is answered synchronously without running the pipeline; an introspected one is never cached', () => {
    let runs = 0;
    const verified = principal({ expiresAt: 2_000 });
    const verify = withTokenCache(
      () => ((runs += 1), verified),
      createVerifiedTokenCache(10),
      () => 1_000_000,
      5,
    );
    expect(verify('t')).toBe(verified);
    expect(verify('t')).toBe(verified);
    expect(runs).toBe(1);
    const introspected = withTokenCache(
      () => ((runs += 1), principal({ source: 'introspection' })),
      createVerifiedTokenCache(10),
      () => 1_000_000,
      5,
    );
    introspected('o');
    introspected('o');
    expect(runs).toBe(3);
  });

  it('the header cache is skipped when a body token could make the request carry two', () => {
    let runs = 0;
    const check = withHeaderCache(
      () => ((runs += 1), principal()),
      createVerifiedTokenCache(10),
      { allowBody: true },
      () => 1_000_000,
      5,
    );
    check({ authorization: 'Bearer t' });
    check({ authorization: 'Bearer t' });
    expect(runs).toBe(1);
    check({ authorization: 'Bearer t', bodyToken: 'u' });
    expect(runs).toBe(2);
  });
});
