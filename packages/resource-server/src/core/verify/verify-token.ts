import type { Introspector } from '../introspection.js';
import { decodeCompactJws, type DecodedJws, type JwsAlgorithm, type VerificationKey } from '../jws.js';
import { buildPrincipal, type AuthoritiesOptions, type Principal } from '../principal.js';
import type { ReplayStore } from '../replay-store.js';
import { checkClaims, type ClaimsPolicy } from './claims.js';
import { checkHeader, type HeaderPolicy } from './header-policy.js';
import { checkReplay } from './replay.js';
import { selectKey, type KeySource } from './select-key.js';
import { checkSignature } from './signature.js';
import { checkTokenSize, looksLikeJwt } from './token-shape.js';
import { checkOpaqueToken, hasOpaqueTokenPrefix } from './opaque-token.js';

/** Everything the steps read, resolved once when the verifier is made. */
export interface VerificationSteps {
  readonly maxTokenLength: number;
  readonly header: HeaderPolicy;
  readonly keys: KeySource;
  readonly verifyOn: 'threadpool' | 'event-loop';
  readonly claims: ClaimsPolicy;
  readonly principal: { readonly principalClaim: string; readonly authorities: AuthoritiesOptions };
  /** Introspects opaque tokens (and, with `always`, every token). */
  readonly introspection: { readonly introspector: Introspector; readonly always: boolean } | undefined;
  readonly replayStore: ReplayStore | undefined;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export type VerifyToken = (token: string) => Principal | Promise<Principal>;

/**
 * The verification pipeline, one named step per file, in jose's order: decode → header policy →
 * key → signature → claims → replay. Which way a token goes is decided per token, with no setting
 * beyond introspection credentials: a JWT is verified offline, anything else — an m2m-auth opaque
 * token (`m2mat_…`, its checksum checked first) or another server's opaque token — is introspected
 * when introspection is configured (`always` introspects JWTs too). Each step returns its result directly when it has it and a
 * promise only when it must wait (JWKS fetch, threadpool signature, introspection, replay store):
 * most requests need none of those, and every avoided await is a microtask and an allocation saved.
 * Caches and events are wrappers around this (see verifier.ts), not part of it.
 */
export function createTokenVerification(steps: VerificationSteps): VerifyToken {
  const { introspection, replayStore } = steps;
  // Made once, not per token: buildPrincipal runs on every verification without a cache hit.
  const asJwt = { ...steps.principal, source: 'jwt' as const };
  const asIntrospected = { ...steps.principal, source: 'introspection' as const };

  const accept = (claims: Record<string, unknown>): Principal => {
    checkClaims(claims, steps.now() / 1000, steps.claims, false);
    return buildPrincipal(claims, asJwt);
  };
  const afterKey = (jws: DecodedJws, alg: JwsAlgorithm, key: VerificationKey): Principal | Promise<Principal> => {
    const payload = checkSignature(jws, alg, key, steps.verifyOn);
    return payload instanceof Promise ? payload.then(accept) : accept(payload);
  };
  const introspect = (token: string): Promise<Principal> =>
    introspection!.introspector.introspect(token).then((claims) => {
      checkClaims(claims, steps.now() / 1000, steps.claims, true);
      return buildPrincipal(claims, asIntrospected);
    });

  const verify: VerifyToken = (token) => {
    checkTokenSize(token, steps.maxTokenLength);
    if (hasOpaqueTokenPrefix(token)) checkOpaqueToken(token, introspection !== undefined);
    if (introspection && (introspection.always || !looksLikeJwt(token))) return introspect(token);
    const jws = decodeCompactJws(token);
    const alg = checkHeader(jws.header, steps.header);
    const key = selectKey(jws, alg, steps.keys);
    return key instanceof Promise ? key.then((found) => afterKey(jws, alg, found)) : afterKey(jws, alg, key);
  };
  if (!replayStore) return verify;
  return (token) => {
    const result = verify(token);
    const replayChecked = (principal: Principal) =>
      checkReplay(replayStore, principal, steps.now() / 1000, steps.claims.toleranceSeconds).then(() => principal);
    return result instanceof Promise ? result.then(replayChecked) : replayChecked(result);
  };
}
