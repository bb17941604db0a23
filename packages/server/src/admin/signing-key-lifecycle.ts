import type { RevokedKey } from './resources/signing-key.js';
import type { RegistryStores, SigningKeyRecord } from '../storage/types.js';
import { notFound, validationFailed } from '../errors/admin-error.js';
import { KEY_CLOCK_SKEW_SECONDS } from '../keys/rotation-policy.js';
import { rotateSigningKey } from '../keys/key-rotation.js';
import type { AdminContext } from './admin-context.js';
import { echo } from '../errors/echo.js';
import { keyChanges } from './keys.js';

/** Retiring and revoking keys, with the rules that keep tokens verifiable. */
export interface SigningKeyLifecycleOperations {
  /**
   * Removes a key that no longer signs from the JWKS. Refused while tokens it signed may still be
   * alive (it stopped signing less than the longest token lifetime plus clock skew ago): those
   * tokens would stop verifying. `force` overrides that; `revokeSigningKey` is the emergency path.
   */
  retireSigningKey(kid: string, options?: { force?: boolean }): Promise<void>;
  /**
   * Emergency removal of a key (compromised or leaked): it leaves the JWKS at once and every token
   * it signed stops verifying as soon as verifiers refresh their JWKS. An active key is replaced by
   * a new one first, so the server keeps issuing tokens.
   */
  revokeSigningKey(kid: string): Promise<RevokedKey>;
}

export function createSigningKeyLifecycleOperations({ deps, write }: AdminContext): SigningKeyLifecycleOperations {
  const { now } = deps;
  return {
    retireSigningKey: (kid, options = {}) =>
      write(async (tx, audit) => {
        const key = await requireKey(tx, kid);
        if (key.status === 'active') throw validationFailed('kid', 'rotate before retiring: this key still signs new tokens');
        if (key.status === 'retired') throw validationFailed('kid', `${kid} is already retired`);
        if (key.status === 'published' && !options.force) {
          const aliveUntil = (key.rotatedAt ?? now()) + ((await longestTokenTtlSeconds(tx)) + KEY_CLOCK_SKEW_SECONDS) * 1000;
          if (aliveUntil > now()) {
            throw validationFailed(
              'kid',
              `tokens signed by ${kid} may be alive until ${new Date(aliveUntil).toISOString()}; retire it after that, or force it (they stop verifying)`,
            );
          }
        }
        await tx.setKeyStatus(kid, 'retired', now());
        await audit('key.retired', { ...(await keyChanges(tx, key)), forced: options.force === true });
      }),

    revokeSigningKey: (kid) =>
      write(async (tx, audit) => {
        const key = await requireKey(tx, kid);
        if (key.status === 'retired') throw validationFailed('kid', `${kid} is already retired`);
        const replacement =
          key.status === 'active' ? (await rotateSigningKey({ keys: tx, kek: deps.kek, now }, key.alg, key.apiIdentifier)).created : undefined;
        await tx.setKeyStatus(kid, 'retired', now());
        await audit('key.revoked', { ...(await keyChanges(tx, key)), ...(replacement ? { replacement: replacement.kid } : {}) });
        return { revoked: kid, replacement: replacement?.kid };
      }),
  };
}

async function requireKey(tx: RegistryStores, kid: string): Promise<SigningKeyRecord> {
  const key = await tx.getKey(kid);
  if (!key) throw notFound(`No signing key ${echo(kid)}`);
  return key;
}

async function longestTokenTtlSeconds(tx: RegistryStores): Promise<number> {
  const apis = await tx.listApis();
  const grants = await tx.listGrants();
  return Math.max(0, ...apis.map((api) => api.tokenTtlSeconds), ...grants.map((grant) => grant.tokenTtlSeconds ?? 0));
}
