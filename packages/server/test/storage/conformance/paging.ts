import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../../src/storage/types.js';
import { recordBuilders, type ConformanceHarness } from './fixtures.js';

/** Lists in (createdAt, key) order; keyset cursors page without gaps or repeats. */
export function describePaging(harness: ConformanceHarness, T0: number): void {
  describe('capability: paging and ordering', () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await harness.makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });
    const { api, client, grant } = recordBuilders(T0);

    describe('ordering and keyset paging', () => {
      it('breaks createdAt ties by key, and pages without gaps or repeats while records are added', async () => {
        for (const id of ['c3', 'c1', 'c2']) await storage.createClient(client(id, T0));
        await storage.createClient(client('c0', T0 + 1));
        expect((await storage.listClients()).map((c) => c.clientId)).toEqual(['c1', 'c2', 'c3', 'c0']);
        const first = await storage.listClients({ limit: 2 });
        expect(first.map((c) => c.clientId)).toEqual(['c1', 'c2']);
        await storage.createClient(client('c9', T0 + 2)); // added between pages: appears on a later one
        const last = first.at(-1)!;
        const second = await storage.listClients({ limit: 2, after: { createdAt: last.createdAt, key: last.clientId } });
        expect(second.map((c) => c.clientId)).toEqual(['c3', 'c0']);
        const third = await storage.listClients({ limit: 2, after: { createdAt: T0 + 1, key: 'c0' } });
        expect(third.map((c) => c.clientId)).toEqual(['c9']);
      });

      it('pages APIs and filtered grants the same way', async () => {
        for (const id of ['https://b.example', 'https://a.example', 'https://c.example']) await storage.createApi(api(id, T0));
        expect((await storage.listApis({ limit: 1, after: { createdAt: T0, key: 'https://a.example' } })).map((a) => a.identifier)).toEqual([
          'https://b.example',
        ]);
        await storage.createClient(client('c1'));
        await storage.createClient(client('c2'));
        await storage.createGrant(grant('g2', 'c1', 'https://a.example'));
        await storage.createGrant(grant('g1', 'c1', 'https://b.example'));
        await storage.createGrant(grant('g3', 'c2', 'https://a.example'));
        expect((await storage.listGrants({ clientId: 'c1' })).map((g) => g.id)).toEqual(['g1', 'g2']);
        expect((await storage.listGrants({ clientId: 'c1', limit: 1, after: { createdAt: T0, key: 'g1' } })).map((g) => g.id)).toEqual(['g2']);
        expect((await storage.listGrants({ apiIdentifier: 'https://a.example', limit: 5 })).map((g) => g.id)).toEqual(['g2', 'g3']);
      });
    });
  });
}
