import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a proof's nonce is worth: the current one, the one before it (still accepted, a fresh one is offered), or neither. */
export type DpopNonceStanding = 'current' | 'previous' | 'missing' | 'invalid';

export interface DpopNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(): string;
  check(nonce: string | undefined): DpopNonceStanding;
}

export interface DpopNonceOptions {
  /** Every instance given the same secret hands out and accepts the same nonces: nothing is stored or shared. */
  secret: Uint8Array;
  /** A nonce is handed out for this long and accepted for up to twice as long (default 300 s). */
  lifetimeSeconds?: number;
  /** Milliseconds since the epoch. */
  now: () => number;
}

export const DEFAULT_DPOP_NONCE_LIFETIME_SECONDS = 300;

/**
 * Stateless server nonces (RFC 9449 §8, §9): the nonce of a time slot is an HMAC of the slot's
 * number under a secret, so any instance with the secret can check one without a store or a round
 * trip, and none can be forged or predicted. A nonce of the previous slot is still accepted (a
 * client that fetched one just before the slot turned must not fail), which bounds a proof's
 * freshness to two lifetimes.
 */
export function createDpopNonces(options: DpopNonceOptions): DpopNonces {
  const lifetimeMs = (options.lifetimeSeconds ?? DEFAULT_DPOP_NONCE_LIFETIME_SECONDS) * 1000;
  const secret = Buffer.from(options.secret);
  const memo = new Map<number, string>();
  const nonceOf = (slot: number): string => {
    let nonce = memo.get(slot);
    if (nonce === undefined) {
      nonce = createHmac('sha256', secret).update(`dpop-nonce:${slot}`).digest().subarray(0, 18).toString('base64url');
      if (memo.size >= 4) memo.clear();
      memo.set(slot, nonce);
    }
    return nonce;
  };
  const slotNow = () => Math.floor(options.now() / lifetimeMs);
  return {
    current: () => nonceOf(slotNow()),
    check(nonce) {
      if (nonce === undefined) return 'missing';
      const slot = slotNow();
      if (equal(nonce, nonceOf(slot))) return 'current';
      if (equal(nonce, nonceOf(slot - 1))) return 'previous';
      return 'invalid';
    },
  };
}

function equal(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
