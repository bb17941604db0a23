import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  generateOpaqueToken,
  hasOpaqueTokenPrefix,
  isWellFormedOpaqueToken,
  OPAQUE_TOKEN_PREFIX,
  opaqueTokenKey,
  openSealedClaims,
  sealClaims,
} from '../../src/tokens/opaque-token-format.js';
import { generateClientSecret, isWellFormedClientSecret } from '../../src/secrets/client-secret.js';
import { createMemoryState } from '../../src/state/memory/memory-state.js';
import { issueOpaqueToken } from '../../src/tokens/issue-opaque-token.js';
import { readOwnToken } from '../../src/tokens/read-own-token.js';

const pepper = randomBytes(32);
const claims = { iss: 'https://auth.test', sub: 'c', aud: 'https://api.example', exp: 2, iat: 1, nbf: 1, jti: 'j', client_id: 'c', scope: 'read' };

describe('opaque token format', () => {
  it('is a prefixed, 256-bit random handle with a checksum, never a JWT', () => {
    const token = generateOpaqueToken();
    expect(token).toMatch(/^m2mat_[A-Za-z0-9_-]{49}$/);
    expect(Buffer.from(token.slice(OPAQUE_TOKEN_PREFIX.length, OPAQUE_TOKEN_PREFIX.length + 43), 'base64url')).toHaveLength(32);
    expect(token).not.toContain('.');
    expect(isWellFormedOpaqueToken(token)).toBe(true);
    expect(hasOpaqueTokenPrefix(token)).toBe(true);
    expect(generateOpaqueToken()).not.toBe(token);
  });

  it('refuses a typo, a truncation, a guess with the right prefix, and a client secret', () => {
    const token = generateOpaqueToken();
    for (let at = OPAQUE_TOKEN_PREFIX.length; at < token.length; at += 7) {
      const typo = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
      expect(isWellFormedOpaqueToken(typo)).toBe(false);
    }
    expect(isWellFormedOpaqueToken(token.slice(0, -1))).toBe(false);
    expect(isWellFormedOpaqueToken(`${token}A`)).toBe(false);
    expect(isWellFormedOpaqueToken(`${OPAQUE_TOKEN_PREFIX}${randomBytes(37).toString('base64url').slice(0, 49)}`)).toBe(false);
    const secret = generateClientSecret();
    expect(isWellFormedOpaqueToken(secret)).toBe(false);
    expect(isWellFormedClientSecret(token)).toBe(false);
  });

  it('is kept under a keyed hash that holds nothing of the token and needs the pepper', () => {
    const token = generateOpaqueToken();
    const key = opaqueTokenKey(pepper, token);
    expect(key).toBe(opaqueTokenKey(pepper, token));
    expect(key).not.toBe(opaqueTokenKey(randomBytes(32), token));
    expect(key).not.toBe(opaqueTokenKey(pepper, generateOpaqueToken()));
    expect(key).not.toContain(token.slice(OPAQUE_TOKEN_PREFIX.length, OPAQUE_TOKEN_PREFIX.length + 12));
  });

  it('seals the claims to their key: a widened, moved or foreign value opens to nothing', () => {
    const key = opaqueTokenKey(pepper, generateOpaqueToken());
    const sealed = sealClaims(pepper, key, claims);
    expect(openSealedClaims(pepper, key, sealed)).toEqual(claims);
    expect(openSealedClaims(pepper, key, sealed.replace('"scope":"read"', '"scope":"read admin"'))).toBeUndefined();
    expect(openSealedClaims(pepper, opaqueTokenKey(pepper, generateOpaqueToken()), sealed)).toBeUndefined();
    expect(openSealedClaims(randomBytes(32), key, sealed)).toBeUndefined();
    expect(openSealedClaims(pepper, key, JSON.stringify(claims))).toBeUndefined();
    expect(openSealedClaims(pepper, key, '')).toBeUndefined();
    expect(openSealedClaims(pepper, key, sealClaims(pepper, key, claims).slice(0, -1))).toBeUndefined();
  });
});

describe('reading an opaque token', () => {
  const now = () => Date.UTC(2026, 0, 1);
  const state = createMemoryState({ now });
  let lookups = 0;
  const store = { getOpaqueToken: (key: string) => ((lookups += 1), state.getOpaqueToken(key)) };
  const deps = { issuer: 'https://auth.test', keyRing: async () => ({ verificationKey: () => undefined }), now, opaque: { store, pepper } };
  const content = { issuer: 'https://auth.test', clientId: 'c', audience: 'https://api.example', scopes: ['read'], ttlSeconds: 60 };

  it('finds the claims of one we issued, and refuses a malformed one before any lookup', async () => {
    const issued = await issueOpaqueToken({ now, newJti: () => 'jti-1', opaque: { store: state, pepper } }, content);
    lookups = 0;
    expect(await readOwnToken(deps, issued.accessToken)).toMatchObject({ format: 'opaque', claims: { jti: 'jti-1', scope: 'read', client_id: 'c' } });
    expect(lookups).toBe(1);
    const typo = `${issued.accessToken.slice(0, 10)}${issued.accessToken[10] === 'A' ? 'B' : 'A'}${issued.accessToken.slice(11)}`;
    for (const malformed of [typo, issued.accessToken.slice(0, -1), `${OPAQUE_TOKEN_PREFIX}guess`, OPAQUE_TOKEN_PREFIX]) {
      expect(await readOwnToken(deps, malformed)).toBeUndefined();
    }
    expect(lookups).toBe(1);
    expect(await readOwnToken(deps, generateOpaqueToken())).toBeUndefined();
    expect(lookups).toBe(2);
  });

  it('refuses claims of another issuer, even sealed with the right pepper', async () => {
    const issued = await issueOpaqueToken({ now, newJti: () => 'jti-2', opaque: { store: state, pepper } }, { ...content, issuer: 'https://other.test' });
    expect(await readOwnToken(deps, issued.accessToken)).toBeUndefined();
  });
});
