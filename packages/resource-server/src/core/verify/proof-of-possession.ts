import { createHash } from 'node:crypto';
import { checkDpopProof, type DpopNonces } from '@m2m-auth/sdk-core';
import { AuthError, isAuthError, type DpopChallenge, type RejectionReason } from '../errors.js';
import type { BearerSources, PresentedToken } from '../bearer-token.js';
import type { Principal } from '../principal.js';
import type { ReplayStore } from '../replay-store.js';

/** How this API treats DPoP (RFC 9449), resolved once when the verifier is made. */
export interface DpopPolicy {
  readonly algorithms: ReadonlySet<string>;
  /** How far a proof's `iat` may be from now, either way, in seconds. */
  readonly windowSeconds: number;
  /** Proofs seen, so each is accepted once (per key and jti). */
  readonly replayStore: ReplayStore;
  /** Server nonces, when every proof must carry one (RFC 9449 §9). */
  readonly nonces: DpopNonces | undefined;
  /** Only DPoP-bound tokens are accepted: a bearer token is refused. */
  readonly required: boolean;
  /** The public origin (`https://api.example`) the clients address, instead of the request's Host and scheme. */
  readonly origin: string | undefined;
  /** The challenge's `algs`: the allowed algorithms, space-separated. */
  readonly algs: string;
}

/**
 * Step 7 (proof of possession), after the token is verified: a token bound to a key (`cnf.jkt`)
 * must come with the DPoP scheme and a proof (RFC 9449 §7.1: the proof's own checks from sdk-core,
 * `htm`/`htu` of this request, `ath` of this token, the token's key, the proof used once, the
 * nonce); a bound token sent as a bearer token is refused (§7.2), and so is a bearer token sent
 * with the DPoP scheme. An unbound token presented as a bearer token passes untouched, and
 * synchronously — the common case costs one property read.
 */
export function checkProofOfPossession(
  principal: Principal,
  presented: PresentedToken,
  sources: BearerSources,
  policy: DpopPolicy,
  nowSeconds: number,
): Principal | Promise<Principal> {
  const cnf = principal.claims.cnf as { jkt?: unknown } | undefined;
  const jkt = typeof cnf?.jkt === 'string' ? cnf.jkt : undefined;
  if (presented.scheme === 'Bearer') {
    if (jkt !== undefined) {
      throw refuse(
        'invalid_token',
        'The access token is bound to a key (DPoP): present it with the DPoP scheme and a proof.',
        'dpop_bound_token_as_bearer',
        policy,
      );
    }
    if (policy.required) throw refuse('invalid_token', 'This API accepts only DPoP-bound access tokens.', 'not_dpop_bound', policy);
    return principal;
  }
  if (jkt === undefined) throw refuse('invalid_token', 'The access token is not DPoP-bound: present it with the Bearer scheme.', 'not_dpop_bound', policy);
  const proofHeader = Array.isArray(sources.dpop) ? sources.dpop.join(', ') : sources.dpop;
  if (proofHeader === undefined || proofHeader === '') throw refuse('invalid_dpop_proof', 'The request must carry a DPoP proof.', 'dpop_proof_missing', policy);
  if (sources.method === undefined || sources.url === undefined) {
    throw new TypeError('The DPoP scheme needs the request method and URL: pass method and url with the authorization header.');
  }
  const checked = checkDpopProof(
    proofHeader,
    { method: sources.method, url: publicUrl(sources.url, policy.origin), accessToken: presented.token },
    { algorithms: policy.algorithms, windowSeconds: policy.windowSeconds, nowSeconds },
  );
  if (!checked.ok) throw refuse('invalid_dpop_proof', checked.description, 'dpop_proof_invalid', policy);
  const proof = checked.proof;
  if (proof.jkt !== jkt)
    throw refuse('invalid_dpop_proof', 'The DPoP proof is signed with another key than the one the access token is bound to.', 'dpop_key_mismatch', policy);
  const standing = policy.nonces?.check(proof.nonce);
  if (standing === 'missing' || standing === 'invalid') {
    throw new AuthError('use_dpop_nonce', 'Send the request again with a DPoP proof that carries the nonce in DPoP-Nonce.', 'dpop_nonce_required', [], {
      dpop: { algs: policy.algs, nonce: policy.nonces!.current() },
    });
  }
  return rememberProof(policy, proof.jkt, proof.jti, proof.iat + policy.windowSeconds, principal);
}

/** Keyed by key and jti (a jti is unique per key, RFC 9449 §11.1), hashed: both are the caller's strings. Fails closed, as the token replay check does. */
function rememberProof(policy: DpopPolicy, jkt: string, jti: string, acceptedUntil: number, principal: Principal): Principal | Promise<Principal> {
  const key = `dpop:${createHash('sha256').update(`${jkt}\n${jti}`).digest('base64url')}`;
  const settle = (fresh: boolean): Principal => {
    if (!fresh) throw refuse('invalid_dpop_proof', 'The DPoP proof was already used: make a new one for each request.', 'dpop_proof_replayed', policy);
    return principal;
  };
  let outcome: boolean | Promise<boolean>;
  try {
    outcome = policy.replayStore.checkAndRemember(key, acceptedUntil);
  } catch (error) {
    throw unavailable(error);
  }
  if (outcome instanceof Promise) return outcome.then(settle, (error: unknown) => Promise.reject(unavailable(error)));
  return settle(outcome);
}

function unavailable(error: unknown): unknown {
  if (isAuthError(error)) return error;
  return new AuthError('temporarily_unavailable', 'The request cannot be checked right now.', 'replay_store_unavailable', [], { cause: error });
}

/** The URL the client addressed: the request's own, or its path under the configured public origin (behind a proxy that rewrites Host). */
function publicUrl(url: string, origin: string | undefined): string {
  if (origin === undefined) return url;
  try {
    const { pathname } = new URL(url, 'http://placeholder.invalid');
    return `${origin}${pathname}`;
  } catch {
    return url;
  }
}

function refuse(code: 'invalid_token' | 'invalid_dpop_proof', description: string, reason: RejectionReason, policy: DpopPolicy): AuthError {
  const dpop: DpopChallenge = { algs: policy.algs };
  return new AuthError(code, description, reason, [], { dpop });
}
