import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryChange, Storage } from '../../../src/storage/types.js';
import { eventually, recordBuilders, type ConformanceHarness } from './fixtures.js';

/**
 * What a cache needs to refresh only what changed: each write names the records it touched
 * (cascades included), and watchers hear of writes made through any connection.
 */
export function describeChangeFeed(harness: ConformanceHarness, T0: number): void {
  describe('capability: change feed', () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await harness.makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });
    const { api, client, secret, grant, key } = recordBuilders(T0);
    const touched = async (since: number) => {
      const result = await storage.changesSince(since);
      expect(result?.revision).toBe(await storage.currentRevision());
      return new Set(result!.changes.map((change: RegistryChange) => `${change.entity} ${change.key}`));
    };

    it('names the record each write touched, and the revision it brings the reader to', async () => {
      const start = await storage.currentRevision();
      await storage.createApi(api('https://orders.example'));
      await storage.createClient(client('c1'));
      await storage.addClientSecret(secret('s1', 'c1'));
      await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
      await storage.createKey(key('k1'));
      expect(await touched(start)).toEqual(
        new Set(['api https://orders.example', 'client c1', 'client_secret c1', 'client_grant c1\nhttps://orders.example', 'signing_key k1']),
      );
      expect(await storage.changesSince(await storage.currentRevision())).toEqual({ revision: await storage.currentRevision(), changes: [] });
    });

    it('names what a delete took with it: secrets and grants of a client, grants on an API and the clients that defaulted to it', async () => {
      await storage.createApi(api('https://orders.example'));
      await storage.createClient({ ...client('c1'), defaultApi: 'https://orders.example' });
      await storage.createClient(client('c2'));
      await storage.addClientSecret(secret('s2', 'c2'));
      await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
      await storage.createGrant(grant('g2', 'c2', 'https://orders.example'));
      const beforeApiDelete = await storage.currentRevision();
      await storage.deleteApi('https://orders.example');
      expect(await touched(beforeApiDelete)).toEqual(
        new Set(['api https://orders.example', 'client c1', 'client_grant c1\nhttps://orders.example', 'client_grant c2\nhttps://orders.example']),
      );
      const beforeClientDelete = await storage.currentRevision();
      await storage.deleteClient('c2');
      expect(await touched(beforeClientDelete)).toEqual(new Set(['client c2', 'client_secret c2']));
    });

    it('records nothing for reads or audit events, and nothing for a rolled-back transaction', async () => {
      const start = await storage.currentRevision();
      await storage.listClients();
      await storage.appendAuditEvent({ id: 'e1', at: T0, type: 'client.created', actor: 'cli', data: {} });
      await storage
        .transaction(async (tx) => {
          await tx.createClient(client('c1'));
          throw new Error('abandoned');
        })
        .catch(() => undefined);
      expect(await storage.changesSince(start)).toEqual({ revision: start, changes: [] });
    });

    it('answers undefined when its history does not reach back to the reader (reload everything)', async () => {
      await storage.createClient(client('c1'));
      expect(await storage.changesSince(-1)).toBeUndefined();
    });

    it('tells watchers of a write made through another connection, with no call on the watching one', async () => {
      const other = await harness.connectAgain(storage);
      try {
        let heard = 0;
        const stop = storage.watchChanges(() => (heard += 1));
        const start = await storage.currentRevision();
        await other.createClient(client('c1'));
        await eventually(() => heard > 0, 'a change notification');
        expect(await touched(start)).toContain('client c1');
        stop();
      } finally {
        await other.close();
      }
    });
  });
}
