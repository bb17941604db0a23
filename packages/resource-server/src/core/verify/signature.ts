import { invalidToken } from '../errors.js';
import { verifySignature, type DecodedJws, type JwsAlgorithm, type VerificationKey } from '../jws.js';

/**
 * Step 4 (signature): the key must allow the algorithm (no algorithm confusion) and be strong
 * enough, then the signature must verify. Returns the payload, now trusted — directly when the
 * check ran inline, as a promise when it ran on the threadpool.
 */
export function checkSignature(
  jws: DecodedJws,
  alg: JwsAlgorithm,
  key: VerificationKey,
  on: 'threadpool' | 'event-loop',
): Record<string, unknown> | Promise<Record<string, unknown>> {
  if (!keyAccepts(key, alg)) throw invalidToken('The access token is signed with an algorithm its key does not allow.', 'algorithm_not_allowed');
  if (key.tooWeak) throw invalidToken('The access token is signed with a key that is too short (RSA keys need 2048 bits).', 'weak_key');
  const checked = verifySignature(alg, key.key, jws.signingInput, jws.signature, on);
  if (typeof checked === 'boolean') return signed(jws.payload, checked);
  return checked.then((valid) => signed(jws.payload, valid));
}

function keyAccepts(key: VerificationKey, alg: JwsAlgorithm): boolean {
  return key.algorithms.has(alg) && (key.alg === undefined || key.alg === alg);
}

function signed(payload: Record<string, unknown>, valid: boolean): Record<string, unknown> {
  if (!valid) throw invalidToken('The access token signature is invalid.', 'bad_signature');
  return payload;
}
