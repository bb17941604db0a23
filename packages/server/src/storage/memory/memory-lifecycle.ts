import type { LeaseStore, SecretUsageStore } from '../lifecycle-types.js';

/** The lifecycle contracts in memory; `secretExists` keeps usage of deleted secrets out. */
export function createMemoryLifecycleStores(secretExists: (clientId: string, secretId: string) => boolean): SecretUsageStore & LeaseStore {
  const usage = new Map<string, { clientId: string; lastUsedAt: number }>();
  const leases = new Map<string, { holder: string; expiresAt: number }>();
  return {
    async recordSecretUse(uses) {
      for (const { clientId, secretId, at } of uses) {
        if (!secretExists(clientId, secretId)) continue;
        const previous = usage.get(secretId);
        usage.set(secretId, { clientId, lastUsedAt: Math.max(at, previous?.lastUsedAt ?? 0) });
      }
    },
    async listSecretUsage(clientId) {
      return [...usage]
        .filter(([secretId, entry]) => entry.clientId === clientId && secretExists(clientId, secretId))
        .map(([secretId, entry]) => ({ secretId, lastUsedAt: entry.lastUsedAt }));
    },
    async tryAcquireLease(name, holder, expiresAt, now) {
      const current = leases.get(name);
      if (current && current.holder !== holder && current.expiresAt > now) return false;
      leases.set(name, { holder, expiresAt });
      return true;
    },
    async releaseLease(name, holder) {
      if (leases.get(name)?.holder === holder) leases.delete(name);
    },
  };
}
