import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { generateChecksummedSecret, isWellFormedChecksummedSecret } from '@m2m-auth/sdk-core';

/**
 * An opaque access token is a handle: `m2mat_` + 256 random bits + a CRC-32 checksum (the client
 * secrets' format, sdk-core's checksummed-secret.ts), so scanners spot a leaked one and a typo or a
 * guess is refused before any lookup. What it stands for — the claims a JWT would carry — is kept
 * in the shared state under a key derived from it, sealed:
 *
 * - the key is HMAC-SHA-256 of the token under a pepper derived from the master key, so the store
 *   holds no usable token, and one who can write to it (a Redis shared too widely) cannot make a
 *   key for a token of their own choosing, so cannot mint one;
 * - the value is the claims with a MAC binding them to that key, so such a writer cannot widen the
 *   scopes of an existing token or move claims from one token to another either.
 *
 * A token cannot be brute-forced (256 random bits), so a slow hash would only cost throughput.
 */
export const OPAQUE_TOKEN_PREFIX = 'm2mat_';

export function generateOpaqueToken(): string {
  return generateChecksummedSecret(OPAQUE_TOKEN_PREFIX);
}

/** Whether a string presents itself as one of our opaque tokens (it may still be malformed). */
export function hasOpaqueTokenPrefix(token: string): boolean {
  return token.startsWith(OPAQUE_TOKEN_PREFIX);
}

/** The prefix, length and checksum of a token we could have issued. */
export function isWellFormedOpaqueToken(token: string): boolean {
  return isWellFormedChecksummedSecret(OPAQUE_TOKEN_PREFIX, token);
}

/** Where a token's claims are kept: never the token itself. */
export function opaqueTokenKey(pepper: Buffer, token: string): string {
  return createHmac('sha256', pepper).update('m2m-auth opaque token\n').update(token).digest('base64url');
}

/** The claims as stored: `<mac>.<json>`, the MAC over the key and the JSON. */
export function sealClaims(pepper: Buffer, key: string, claims: JWTPayload): string {
  const json = JSON.stringify(claims);
  return `${claimsMac(pepper, key, json).toString('base64url')}.${json}`;
}

/** The claims a stored value holds for this key; undefined when its MAC does not hold (a value written by someone else). */
export function openSealedClaims(pepper: Buffer, key: string, sealed: string): JWTPayload | undefined {
  const dot = sealed.indexOf('.');
  if (dot < 0) return undefined;
  const presented = Buffer.from(sealed.slice(0, dot), 'base64url');
  const json = sealed.slice(dot + 1);
  const expected = claimsMac(pepper, key, json);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
  try {
    const claims = JSON.parse(json) as unknown;
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as JWTPayload) : undefined;
  } catch {
    return undefined;
  }
}

function claimsMac(pepper: Buffer, key: string, json: string): Buffer {
  return createHmac('sha256', pepper).update('m2m-auth opaque claims\n').update(key).update('\n').update(json).digest();
}
