import type { Storage } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { KEY_CLOCK_SKEW_SECONDS } from '../keys/rotation-policy.js';
import { rotateSigningKey } from '../keys/key-rotation.js';

export interface SigningKeyLifecycleDeps {
  storage: Pick<Storage, 'getKey' | 'listKeys' | 'createKey' | 'setKeyStatus' | 'listApis' | 'listGrants'>;
  kek: Buffer;
  now: () => number;
  changed: (type: string, data: Record<string, unknown>) => Promise<void>;
}

/**
 * Removes a key that no longer signs from the JWKS. Refused while tokens it signed may still be
 * alive (it stopped signing less than the longest token lifetime plus clock skew ago): those
 * tokens would stop verifying. `force` overrides that; `revokeSigningKey` is the emergency path.
 */
export async function retireSigningKey(deps: SigningKeyLifecycleDeps, kid: string, options: { force?: boolean } = {}) {
  const key = await deps.storage.getKey(kid);
  if (!key) throw notFound(`No signing key ${kid}`);
  if (key.status === 'active') throw validationFailed('kid', 'rotate before retiring: this key still signs new tokens');
  if (key.status === 'published' && !options.force) {
    const aliveUntil = (key.rotatedAt ?? deps.now()) + ((await longestTokenTtlSeconds(deps)) + KEY_CLOCK_SKEW_SECONDS) * 1000;
    if (aliveUntil > deps.now()) {
      throw validationFailed('kid', `tokens signed by ${kid} may be alive until ${new Date(aliveUntil).toISOString()}; retire it after that, or force it (they stop verifying)`);
    }
  }
  await deps.storage.setKeyStatus(kid, 'retired', deps.now());
  await deps.changed('key.retired', { kid, forced: options.force === true });
}

/**
 * Emergency removal of a key (compromised or leaked): it leaves the JWKS at once and every token
 * it signed stops verifying as soon as verifiers refresh their JWKS. An active key is replaced by
 * a new one first, so the server keeps issuing tokens.
 */
export async function revokeSigningKey(deps: SigningKeyLifecycleDeps, kid: string) {
  const key = await deps.storage.getKey(kid);
  if (!key) throw notFound(`No signing key ${kid}`);
  if (key.status === 'retired') throw validationFailed('kid', `${kid} is already retired`);
  const replacement = key.status === 'active' ? (await rotateSigningKey({ keys: deps.storage, kek: deps.kek, now: deps.now }, key.alg, key.apiIdentifier)).created : undefined;
  await deps.storage.setKeyStatus(kid, 'retired', deps.now());
  await deps.changed('key.revoked', { kid, ...(replacement ? { replacement: replacement.kid } : {}) });
  return { revoked: kid, replacement: replacement?.kid };
}

async function longestTokenTtlSeconds(deps: SigningKeyLifecycleDeps): Promise<number> {
  const apis = await deps.storage.listApis();
  const grants = await deps.storage.listGrants();
  return Math.max(0, ...apis.map((api) => api.tokenTtlSeconds), ...grants.map((grant) => grant.tokenTtlSeconds ?? 0));
}
