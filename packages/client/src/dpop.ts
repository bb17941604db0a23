import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { accessTokenHash, jwkThumbprint, memoizeSuccess, normalizeHtu } from '@m2m-auth/sdk-core';
import type { DpopKeyPair } from './token-client-options.js';

/**
 * Proves possession of the client's DPoP key (RFC 9449): a fresh proof for each request — to the
 * token endpoint, and with `ath` to each resource — and the last nonce each server handed out.
 */
export interface DpopProver {
  /** A proof for one request: `htm` and `htu` (without query and fragment), `ath` when a token goes with it, the server's last nonce. */
  proof(request: { method: string; url: string; accessToken?: string }): Promise<string>;
  /** Keeps a server's DPoP-Nonce (from any answer of that origin) for its next proofs. */
  rememberNonce(url: string, nonce: string | null | undefined): void;
  /** RFC 7638 thumbprint of the public key: the `cnf.jkt` of the tokens bound to it. */
  thumbprint(): Promise<string>;
}

/** Servers whose nonce is kept: one per origin (the authorization server and each API). */
const MAX_NONCE_ORIGINS = 100;

/**
 * `true`: a fresh ES256 key made with WebCrypto for this client instance, its private half not
 * extractable — it never leaves the process, so a token bound to it is worthless anywhere else.
 * Or a key pair the application supplies (one it keeps in an HSM-backed store, or shares between
 * processes so their tokens are interchangeable).
 */
export function createDpopProver(option: true | DpopKeyPair, now: () => number): DpopProver {
  const nonces = new Map<string, string>();
  const key = memoizeSuccess(() => (option === true ? generatedKey() : suppliedKey(option)));
  return {
    async proof({ method, url, accessToken }) {
      const { privateKey, alg, jwk } = await key();
      const nonce = nonces.get(originOf(url));
      return new SignJWT({
        htm: method,
        htu: normalizeHtu(url) ?? url,
        ...(accessToken !== undefined ? { ath: accessTokenHash(accessToken) } : {}),
        ...(nonce !== undefined ? { nonce } : {}),
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk })
        .setJti(randomUUID())
        .setIssuedAt(Math.floor(now() / 1000))
        .sign(privateKey);
    },
    rememberNonce(url, nonce) {
      if (!nonce) return;
      const origin = originOf(url);
      nonces.delete(origin);
      if (nonces.size >= MAX_NONCE_ORIGINS) nonces.delete(nonces.keys().next().value!);
      nonces.set(origin, nonce);
    },
    async thumbprint() {
      return jwkThumbprint((await key()).jwk)!;
    },
  };
}

interface ProofKey {
  privateKey: CryptoKey;
  alg: string;
  jwk: Record<string, string>;
}

async function generatedKey(): Promise<ProofKey> {
  const pair = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as unknown as {
    privateKey: CryptoKey;
    publicKey: CryptoKey;
  };
  return { privateKey: pair.privateKey, alg: 'ES256', jwk: await publicJwk(pair.publicKey) };
}

async function suppliedKey(pair: DpopKeyPair): Promise<ProofKey> {
  return { privateKey: pair.privateKey, alg: algorithmOf(pair.privateKey), jwk: await publicJwk(pair.publicKey) };
}

/** The JWS algorithm a WebCrypto key signs with: what the proof's `alg` must say. */
export function algorithmOf(key: CryptoKey): string {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } };
  const hashBits = algorithm.hash?.name.replace('SHA-', '');
  switch (algorithm.name) {
    case 'ECDSA':
      return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[algorithm.namedCurve ?? ''] ?? unsupported(key);
    case 'RSASSA-PKCS1-v1_5':
      return `RS${hashBits}`;
    case 'RSA-PSS':
      return `PS${hashBits}`;
    case 'Ed25519':
      return 'EdDSA';
    default:
      return unsupported(key);
  }
}

function unsupported(key: CryptoKey): never {
  throw new TypeError(`a DPoP key must be ECDSA (P-256, P-384, P-521), RSA (PKCS#1 v1.5 or PSS) or Ed25519 (got ${key.algorithm.name})`);
}

/** The members that identify the public key, and nothing else (RFC 7638; no `ext` or `key_ops` in the proof). */
async function publicJwk(publicKey: CryptoKey): Promise<Record<string, string>> {
  const { kty, crv, x, y, n, e } = (await webcrypto.subtle.exportKey('jwk', publicKey as unknown as webcrypto.CryptoKey)) as Record<string, string>;
  if (kty === 'RSA') return { kty, n: n!, e: e! };
  if (kty === 'EC') return { kty, crv: crv!, x: x!, y: y! };
  return { kty: kty!, crv: crv!, x: x! };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
