import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageConflictError, type Storage } from '../../../src/storage/types.js';
import { recordBuilders, type ConformanceHarness } from './fixtures.js';

/** All writes of the work commit together or none; calls made outside wait for it. */
export function describeTransactions(harness: ConformanceHarness, T0: number): void {
  describe('capability: transactions', () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await harness.makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });
    const { api, client, secret, grant } = recordBuilders(T0);

    describe('transactions', () => {
      it('commits every write of the work together and returns its result', async () => {
        const result = await storage.transaction(async (tx) => {
          await tx.createApi(api('https://orders.example'));
          await tx.createClient(client('c1'));
          await tx.addClientSecret(secret('s1', 'c1'));
          await tx.createGrant(grant('g1', 'c1', 'https://orders.example'));
          await tx.appendAuditEvent({ id: 'e1', at: T0, type: 'client.created', actor: 'cli', data: {} });
          return 'done';
        });
        expect(result).toBe('done');
        expect(await storage.getClient('c1')).toBeDefined();
        expect(await storage.listClientSecrets('c1')).toHaveLength(1);
        expect(await storage.getGrant('g1')).toBeDefined();
        expect(await storage.listAuditEvents()).toHaveLength(1);
      });

      it('a failure half-way leaves nothing behind: no client without its secret, no record without its audit event', async () => {
        await storage.createApi(api('https://orders.example'));
        await storage.createClient(client('existing'));
        const before = await storage.currentRevision();
        const failure = new Error('killed half-way');
        await expect(
          storage.transaction(async (tx) => {
            await tx.createClient(client('c1'));
            await tx.addClientSecret(secret('s1', 'c1'));
            await tx.updateClient('existing', { name: 'renamed' }, T0 + 1);
            await tx.deleteApi('https://orders.example');
            await tx.appendAuditEvent({ id: 'e1', at: T0, type: 'client.created', actor: 'cli', data: {} });
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await storage.getClient('c1')).toBeUndefined();
        expect(await storage.listClientSecrets('c1')).toEqual([]);
        expect((await storage.getClient('existing'))?.name).toBe(client('existing').name);
        expect(await storage.getApi('https://orders.example')).toBeDefined();
        expect(await storage.listAuditEvents()).toEqual([]);
        expect(await storage.currentRevision()).toBe(before);
      });

      it('a storage error inside the work (a conflict) rolls back the earlier writes', async () => {
        await storage.createClient(client('c1'));
        await expect(
          storage.transaction(async (tx) => {
            await tx.createApi(api('https://orders.example'));
            await tx.createClient(client('c1'));
          }),
        ).rejects.toBeInstanceOf(StorageConflictError);
        expect(await storage.getApi('https://orders.example')).toBeUndefined();
      });

      it('serialises: calls made outside wait for the transaction, and two transactions never interleave', async () => {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const first = storage.transaction(async (tx) => {
          await tx.createClient(client('c1'));
          await gate;
          await tx.updateClient('c1', { name: 'final' }, T0 + 1);
        });
        const outsideRead = storage.getClient('c1');
        const second = storage.transaction(async (tx) => {
          const seen = await tx.getClient('c1');
          await tx.updateClient('c1', { description: `saw ${seen?.name}` }, T0 + 2);
        });
        release();
        await Promise.all([first, second]);
        expect((await outsideRead)?.name).toBe('final');
        expect((await storage.getClient('c1'))?.description).toBe('saw final');
      });

      it('refuses a transaction handle used after the transaction ended', async () => {
        let leaked: Parameters<Parameters<Storage['transaction']>[0]>[0] | undefined;
        await storage.transaction(async (tx) => {
          leaked = tx;
        });
        await expect(leaked!.createClient(client('late'))).rejects.toThrow(/transaction/);
        expect(await storage.getClient('late')).toBeUndefined();
      });
    });
  });
}
