import type { SigningAlgorithm, SigningKeyRecord, SigningKeyStore } from '../storage/types.js';
import { generateSigningKey } from './generate-signing-key.js';

export interface KeyManagementDeps {
  keys: SigningKeyStore;
  kek: Buffer;
  now: () => number;
}

function activeKeys(records: SigningKeyRecord[], alg: SigningAlgorithm, apiIdentifier: string | null) {
  return records.filter((key) => key.status === 'active' && key.alg === alg && key.apiIdentifier === apiIdentifier);
}

/**
 * Makes sure an algorithm (or, for HS256, an API) has a key to sign with.
 * Returns the shared secret only when an HS256 key was created now: it is shown once.
 */
export async function ensureSigningKey(
  deps: KeyManagementDeps,
  alg: SigningAlgorithm,
  apiIdentifier: string | null = null,
): Promise<{ created: SigningKeyRecord | undefined; sharedSecret?: string }> {
  const owner = alg === 'HS256' ? apiIdentifier : null;
  if (activeKeys(await deps.keys.listKeys(), alg, owner).length > 0) return { created: undefined };
  const { record, sharedSecret } = await generateSigningKey(deps.kek, alg, deps.now(), owner);
  await deps.keys.createKey(record);
  return { created: record, ...(sharedSecret ? { sharedSecret } : {}) };
}

/**
 * Rotation: a new key becomes active; the previous active key stays published in the JWKS,
 * so tokens it signed keep verifying until they expire. Retiring it is a separate step.
 */
export async function rotateSigningKey(
  deps: KeyManagementDeps,
  alg: SigningAlgorithm,
  apiIdentifier: string | null = null,
): Promise<{ created: SigningKeyRecord; demoted: SigningKeyRecord[]; sharedSecret?: string }> {
  const owner = alg === 'HS256' ? apiIdentifier : null;
  const previous = activeKeys(await deps.keys.listKeys(), alg, owner);
  const { record, sharedSecret } = await generateSigningKey(deps.kek, alg, deps.now(), owner);
  await deps.keys.createKey(record);
  for (const key of previous) await deps.keys.setKeyStatus(key.kid, 'published', deps.now());
  return { created: record, demoted: previous, ...(sharedSecret ? { sharedSecret } : {}) };
}
