import { createHash } from 'node:crypto';
import { checkDpopProof, type DpopNonces } from '@m2m-auth/sdk-core';
import { OAuthError } from '../errors/oauth-error.js';
import { tooManyRequests } from '../errors/too-many-requests.js';
import { StateCapacityError, type AssertionReplayStore } from '../state/types.js';
import type { RegisteredClient } from '../storage/types.js';
import type { TokenBinding } from './token-binding.js';

/** What the token endpoint accepts DPoP proofs signed with (discovery's `dpop_signing_alg_values_supported`). */
export const DPOP_SIGNING_ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const;
/** How far a proof's `iat` may be from now, either way, unless configured. */
export const DEFAULT_DPOP_PROOF_WINDOW_SECONDS = 60;

export interface TokenEndpointDpopDeps {
  /** The token endpoint's public URL, from the issuer: what `htu` must name, whatever Host the request came with (a proxy's). */
  tokenEndpoint: string;
  now: () => number;
  proofWindowSeconds: number;
  /** Server nonces (RFC 9449 §8), when every proof must carry one. */
  nonces: DpopNonces | undefined;
  /** Used proofs, shared by every worker and instance: a proof is accepted once per deployment. */
  replay: AssertionReplayStore;
}

/** A proof that passed the checks a request alone allows. */
export interface PresentedDpopProof {
  readonly jkt: string;
  readonly jti: string;
  readonly iat: number;
  /** Its nonce is the previous one: still accepted, and the answer hands out the current one. */
  readonly isNonceAging: boolean;
}

export interface TokenEndpointDpop {
  /**
   * RFC 9449 §4.3 at the token endpoint, before the client is authenticated: nothing is consumed
   * by a refused proof, so a client that retries after `use_dpop_nonce` can resend a platform token
   * that may be used only once. Undefined without a DPoP header.
   */
  check(header: string | undefined): PresentedDpopProof | undefined;
  /**
   * After authentication: a client registered with `dpop_bound_access_tokens` must have sent a
   * proof, and the proof is used once (its jti per key), counted against the client's allowance.
   */
  bind(proof: PresentedDpopProof | undefined, client: RegisteredClient): Promise<TokenBinding | undefined>;
  /** Headers of a successful answer: the current nonce when the proof's is aging (§8.2). */
  answerHeaders(proof: PresentedDpopProof | undefined): Record<string, string>;
}

export function createTokenEndpointDpop(deps: TokenEndpointDpopDeps): TokenEndpointDpop {
  const algorithms = new Set<string>(DPOP_SIGNING_ALGORITHMS);
  const request = { method: 'POST', url: deps.tokenEndpoint };
  return {
    check(header) {
      if (header === undefined) return undefined;
      const checked = checkDpopProof(header, request, { algorithms, windowSeconds: deps.proofWindowSeconds, nowSeconds: deps.now() / 1000 });
      if (!checked.ok) throw new OAuthError('invalid_dpop_proof', checked.description, { detail: `dpop proof refused: ${checked.reason}` });
      const { jkt, jti, iat, nonce } = checked.proof;
      const standing = deps.nonces?.check(nonce);
      if (standing === 'missing' || standing === 'invalid') {
        throw new OAuthError('use_dpop_nonce', 'Send the DPoP proof again with the nonce in the DPoP-Nonce header of this answer.', {
          headers: { 'dpop-nonce': deps.nonces!.current() },
          detail: `dpop nonce ${standing}`,
        });
      }
      return { jkt, jti, iat, isNonceAging: standing === 'previous' };
    },
    async bind(proof, client) {
      if (!proof) {
        if (client.dpopBoundAccessTokens) throw new OAuthError('invalid_dpop_proof', 'This client’s tokens must be DPoP-bound: send a DPoP proof.');
        return undefined;
      }
      // Keyed by key and jti (RFC 9449 §11.1: a jti is unique per key), hashed: both are the caller's strings.
      const key = `dp:${createHash('sha256').update(`${proof.jkt}\n${proof.jti}`).digest('base64url')}`;
      const acceptedUntilMs = (proof.iat + deps.proofWindowSeconds + 1) * 1000;
      let isFirstUse: boolean;
      try {
        isFirstUse = await deps.replay.useOnce(key, acceptedUntilMs, client.clientId);
      } catch (error) {
        if (!(error instanceof StateCapacityError)) throw error;
        throw tooManyRequests('assertions', error.retryAfterMs, 'This client has used too many DPoP proofs and assertions recently; retry later.');
      }
      if (!isFirstUse) throw new OAuthError('invalid_dpop_proof', 'The DPoP proof was already used (jti replay): make a new one for each request.');
      return { jkt: proof.jkt };
    },
    answerHeaders(proof): Record<string, string> {
      return proof?.isNonceAging && deps.nonces ? { 'dpop-nonce': deps.nonces.current() } : {};
    },
  };
}
