import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../../src/storage/types.js';
import { recordBuilders, type ConformanceHarness } from './fixtures.js';

/** The revision moves on every registry write and never on a read. */
export function describeRevision(harness: ConformanceHarness, T0: number): void {
  describe('capability: revision', () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await harness.makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });
    const { api, client, secret, grant, key } = recordBuilders(T0);

    describe('revision', () => {
      it('changes on every kind of registry write and not on reads', async () => {
        const seen = [await storage.currentRevision()];
        const expectChanged = async () => {
          const revision = await storage.currentRevision();
          expect(seen).not.toContain(revision);
          seen.push(revision);
        };
        await storage.createApi(api('https://orders.example'));
        await expectChanged();
        await storage.updateApi('https://orders.example', { name: 'Orders' }, T0 + 1);
        await expectChanged();
        await storage.createClient(client('c1'));
        await expectChanged();
        await storage.updateClient('c1', { isEnabled: false }, T0 + 1);
        await expectChanged();
        await storage.addClientSecret(secret('s1', 'c1'));
        await expectChanged();
        await storage.expireClientSecret('c1', 's1', T0 + 1);
        await expectChanged();
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
        await expectChanged();
        await storage.updateGrant('g1', { scopes: [] }, T0 + 1);
        await expectChanged();
        await storage.createKey(key('k1'));
        await expectChanged();
        await storage.setKeyStatus('k1', 'published', T0 + 1);
        await expectChanged();
        await storage.deleteGrant('g1');
        await expectChanged();
        await storage.deleteClient('c1');
        await expectChanged();
        await storage.deleteApi('https://orders.example');
        await expectChanged();
        const before = await storage.currentRevision();
        await storage.listApis();
        await storage.getClient('c1');
        await storage.listKeys();
        expect(await storage.currentRevision()).toBe(before);
      });
    });
  });
}
