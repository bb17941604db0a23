import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../../src/storage/types.js';
import { recordBuilders, type ConformanceHarness } from './fixtures.js';

/**
 * Two handles on one database, as two server instances (or a server and the CLI) have: what one
 * writes the other reads, and the other's revision moves, so its caches know to refresh.
 */
export function describeCrossConnection(harness: ConformanceHarness, T0: number): void {
  describe('capability: change detection across connections', () => {
    let server: Storage;
    let cli: Storage;
    beforeEach(async () => {
      server = await harness.makeStorage();
      cli = await harness.connectAgain(server);
    });
    afterEach(async () => {
      await cli.close();
      await server.close();
    });
    const { api, client, secret } = recordBuilders(T0);

    it('a write by one connection is seen by another, and moves its revision (CLI and server share a database)', async () => {
      const before = await server.currentRevision();
      await cli.createApi(api('https://orders.example'));
      expect(await server.currentRevision()).not.toBe(before);
      expect(await server.getApi('https://orders.example')).toEqual(api('https://orders.example'));
    });

    it('a transaction committed by one connection is seen whole by another, once, with one revision change', async () => {
      await cli.createClient(client('c1'));
      const before = await server.currentRevision();
      await cli.transaction(async (tx) => {
        await tx.updateClient('c1', { isEnabled: false }, T0 + 1);
        await tx.addClientSecret(secret('s1', 'c1'));
      });
      expect(await server.currentRevision()).not.toBe(before);
      expect((await server.getClient('c1'))?.isEnabled).toBe(false);
      expect((await server.listClientSecrets('c1')).map((s) => s.id)).toEqual(['s1']);
    });

    it('a rolled-back transaction on one connection leaves the other connection’s view and revision as they were', async () => {
      const before = await server.currentRevision();
      await expect(
        cli.transaction(async (tx) => {
          await tx.createClient(client('c1'));
          throw new Error('abandoned');
        }),
      ).rejects.toThrow('abandoned');
      expect(await server.getClient('c1')).toBeUndefined();
      expect(await server.currentRevision()).toBe(before);
    });
  });
}
