import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/types.js';

/**
 * The lifecycle contracts (secret last use, leases, the introspection permission and the token
 * quota on clients),
 * run against every storage adapter next to the main conformance suite.
 */
export function describeLifecycleConformance(adapterName: string, makeStorage: () => Promise<Storage>, openAnother?: () => Promise<Storage>): void {
  describe(`lifecycle storage conformance: ${adapterName}`, () => {
    const T0 = Date.UTC(2026, 0, 1);
    let storage: Storage;
    const opened: Storage[] = [];
    beforeEach(async () => {
      storage = await makeStorage();
      opened.push(storage);
      await storage.createClient({
        clientId: 'c1',
        name: 'c1',
        description: '',
        defaultApi: null,
        isEnabled: true,
        grantTypes: ['client_credentials'],
        tokenEndpointAuthMethods: ['client_secret_basic'],
        jwks: null,
        createdAt: T0,
        updatedAt: T0,
      });
      for (const id of ['s1', 's2']) await storage.addClientSecret({ id, clientId: 'c1', hash: 'h', hint: 'abcd', createdAt: T0, expiresAt: null });
    });
    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close();
    });

    it('records the latest use per secret, ignores unknown secrets, and does not move the revision', async () => {
      const revision = await storage.currentRevision();
      await storage.recordSecretUse([
        { clientId: 'c1', secretId: 's1', at: T0 + 10 },
        { clientId: 'c1', secretId: 'gone', at: T0 + 10 },
        { clientId: 'other', secretId: 's2', at: T0 + 10 },
      ]);
      await storage.recordSecretUse([{ clientId: 'c1', secretId: 's1', at: T0 + 5 }]);
      expect(await storage.listSecretUsage('c1')).toEqual([{ secretId: 's1', lastUsedAt: T0 + 10 }]);
      expect(await storage.currentRevision()).toBe(revision);
      await storage.deleteClientSecret('c1', 's1');
      expect(await storage.listSecretUsage('c1')).toEqual([]);
    });

    it('a lease has one holder until it expires; the holder renews and releases it', async () => {
      expect(await storage.tryAcquireLease('rotation', 'a', T0 + 1000, T0)).toBe(true);
      expect(await storage.tryAcquireLease('rotation', 'b', T0 + 1000, T0 + 10)).toBe(false);
      expect(await storage.tryAcquireLease('rotation', 'a', T0 + 2000, T0 + 500)).toBe(true);
      expect(await storage.tryAcquireLease('rotation', 'b', T0 + 3000, T0 + 1500)).toBe(false);
      expect(await storage.tryAcquireLease('rotation', 'b', T0 + 3000, T0 + 2000)).toBe(true);
      await storage.releaseLease('rotation', 'a');
      expect(await storage.tryAcquireLease('rotation', 'a', T0 + 3000, T0 + 2100)).toBe(false);
      await storage.releaseLease('rotation', 'b');
      expect(await storage.tryAcquireLease('rotation', 'a', T0 + 3000, T0 + 2100)).toBe(true);
      expect(await storage.tryAcquireLease('other', 'b', T0 + 3000, T0 + 2100)).toBe(true);
    });

    it.skipIf(!openAnother)('a lease holds across connections: of two racing processes, one wins', async () => {
      const other = await openAnother!();
      opened.push(other);
      const results = await Promise.all([storage.tryAcquireLease('race', 'a', T0 + 1000, T0), other.tryAcquireLease('race', 'b', T0 + 1000, T0)]);
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('keeps the introspection permission of a client, and removes it with an empty list', async () => {
      expect((await storage.getClient('c1'))!.introspectApis).toBeUndefined();
      await storage.updateClient('c1', { introspectApis: ['https://orders.example'] }, T0 + 1);
      expect((await storage.getClient('c1'))!.introspectApis).toEqual(['https://orders.example']);
      await storage.updateClient('c1', { introspectApis: [] }, T0 + 2);
      expect((await storage.getClient('c1'))!.introspectApis ?? []).toEqual([]);
    });

    it('keeps the token quota of a client, changes it whole, and removes it with null', async () => {
      expect((await storage.getClient('c1'))!.quota).toBeUndefined();
      const revision = await storage.currentRevision();
      const updated = await storage.updateClient('c1', { quota: { perHour: 100, perDay: null, mode: 'observe' } }, T0 + 1);
      expect(updated!.quota).toEqual({ perHour: 100, perDay: null, mode: 'observe' });
      expect((await storage.getClient('c1'))!.quota).toEqual({ perHour: 100, perDay: null, mode: 'observe' });
      // A quota change is a registry change: every instance's cache picks it up.
      expect(await storage.currentRevision()).toBeGreaterThan(revision);
      await storage.updateClient('c1', { description: 'still' }, T0 + 2);
      expect((await storage.getClient('c1'))!.quota).toEqual({ perHour: 100, perDay: null, mode: 'observe' });
      await storage.updateClient('c1', { quota: { perHour: 10, perDay: 200, mode: 'enforce' } }, T0 + 3);
      expect((await storage.listClients()).find((client) => client.clientId === 'c1')!.quota).toEqual({ perHour: 10, perDay: 200, mode: 'enforce' });
      const removed = await storage.updateClient('c1', { quota: null }, T0 + 4);
      expect(removed!.quota).toBeUndefined();
      expect((await storage.getClient('c1'))!.quota).toBeUndefined();
      await storage.createClient({ ...(await storage.getClient('c1'))!, clientId: 'c2', quota: { perHour: null, perDay: 5, mode: 'enforce' } });
      expect((await storage.getClient('c2'))!.quota).toEqual({ perHour: null, perDay: 5, mode: 'enforce' });
    });
  });
}
