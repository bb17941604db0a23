import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { TrustedIssuerRecord } from '../storage/types.js';

/**
 * Platform tokens already verified, for issuers whose tokens are reused for their lifetime
 * (Kubernetes, SPIFFE): a workload presents the same token on every token request until the
 * kubelet or the agent replaces it, and its signature does not change in between. An entry holds
 * until the token's `exp` and only while the issuer record is the one it was verified under: new
 * keys, a lower lifetime limit or removal of the issuer start afresh. Keyed by a hash, so the
 * tokens themselves are not kept.
 */
export interface VerifiedTokenCache {
  get(token: string, issuer: TrustedIssuerRecord, nowSeconds: number): JWTPayload | undefined;
  set(token: string, issuer: TrustedIssuerRecord, payload: JWTPayload): void;
}

interface Entry {
  issuer: string;
  version: number;
  payload: JWTPayload;
}

export function createVerifiedTokenCache(maxEntries = 10_000): VerifiedTokenCache {
  const entries = new Map<string, Entry>();
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');
  return {
    get(token, issuer, nowSeconds) {
      const key = keyOf(token);
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.issuer !== issuer.issuer || entry.version !== issuer.updatedAt || entry.payload.exp! <= nowSeconds) {
        entries.delete(key);
        return undefined;
      }
      return entry.payload;
    },
    set(token, issuer, payload) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(keyOf(token), { issuer: issuer.issuer, version: issuer.updatedAt, payload });
    },
  };
}
