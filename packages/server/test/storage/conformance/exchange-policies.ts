import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageConflictError, StorageReferenceError, type Storage } from '../../../src/storage/types.js';
import { recordBuilders, type ConformanceHarness } from './fixtures.js';

const ORDERS = 'https://orders.example';
const LEDGER = 'https://ledger.example';
const GITHUB = 'https://token.actions.githubusercontent.com';

/**
 * Token-exchange policies: what the exchange grant reads per exchanging client and what the admin
 * plane writes, with the uniqueness of (client, subject, API), the parents a policy goes with (its
 * client, its API, its trusted issuer — never the subject client it names), typed errors and
 * change-feed entries keyed by the exchanging client.
 */
export function describeExchangePolicies(harness: ConformanceHarness, T0: number): void {
  describe('capability: exchange policies', () => {
    let storage: Storage;
    const { api, client, trustedIssuer, exchangePolicy } = recordBuilders(T0);
    const ids = (records: { id: string }[]) => records.map((record) => record.id);
    const changesAfter = async (since: number) => {
      const result = await storage.changesSince(since);
      expect(result?.revision).toBe(await storage.currentRevision());
      return result!.changes.map((change) => `${change.entity} ${change.key}`).sort();
    };

    beforeEach(async () => {
      storage = await harness.makeStorage();
      for (const id of ['payments', 'orders', 'shipping']) await storage.createClient(client(id));
      await storage.createApi(api(ORDERS));
      await storage.createApi(api(LEDGER));
      await storage.createTrustedIssuer(trustedIssuer(GITHUB));
    });
    afterEach(async () => {
      await storage.close();
    });

    it('stores and returns a policy exactly as given, for a client, any client or a trusted issuer', async () => {
      const ofClient = exchangePolicy('xp1', 'payments', 'orders', LEDGER, T0, { scopes: ['read:things'], description: 'payments acts for orders' });
      const ofAny = exchangePolicy('xp2', 'payments', '*', ORDERS, T0 + 1);
      const ofIssuer = exchangePolicy('xp3', 'shipping', { issuer: GITHUB }, LEDGER, T0 + 2, { scopes: [] });
      for (const policy of [ofClient, ofAny, ofIssuer]) await storage.addExchangePolicy(policy);
      expect(await storage.getExchangePolicy('xp1')).toEqual(ofClient);
      expect(await storage.getExchangePolicy('xp2')).toEqual(ofAny);
      expect(await storage.getExchangePolicy('xp3')).toEqual(ofIssuer);
      expect(await storage.getExchangePolicy('nope')).toBeUndefined();
    });

    it('lists by exchanging client, by API or both, ordered by (createdAt, id), and pages by keyset', async () => {
      await storage.addExchangePolicy(exchangePolicy('xp3', 'payments', 'orders', LEDGER, T0 + 1));
      await storage.addExchangePolicy(exchangePolicy('xp2', 'shipping', 'orders', LEDGER, T0 + 1));
      await storage.addExchangePolicy(exchangePolicy('xp1', 'payments', '*', ORDERS, T0 + 2));
      await storage.addExchangePolicy(exchangePolicy('xp9', 'shipping', { issuer: GITHUB }, ORDERS, T0));
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp9', 'xp2', 'xp3', 'xp1']);
      expect(ids(await storage.listExchangePolicies({ clientId: 'payments' }))).toEqual(['xp3', 'xp1']);
      expect(ids(await storage.listExchangePolicies({ apiIdentifier: LEDGER }))).toEqual(['xp2', 'xp3']);
      expect(ids(await storage.listExchangePolicies({ clientId: 'shipping', apiIdentifier: ORDERS }))).toEqual(['xp9']);
      // A subject is not a filter: orders exchanges nothing.
      expect(await storage.listExchangePolicies({ clientId: 'orders' })).toEqual([]);
      expect(ids(await storage.listExchangePolicies({ limit: 2 }))).toEqual(['xp9', 'xp2']);
      expect(ids(await storage.listExchangePolicies({ limit: 2, after: { createdAt: T0 + 1, key: 'xp2' } }))).toEqual(['xp3', 'xp1']);
      expect(ids(await storage.listExchangePolicies({ clientId: 'payments', limit: 1, after: { createdAt: T0 + 1, key: 'xp3' } }))).toEqual(['xp1']);
    });

    it('refuses a duplicate id, or a second policy with the same client, subject and API, and stores nothing', async () => {
      await storage.addExchangePolicy(exchangePolicy('xp1', 'payments', 'orders', LEDGER));
      await storage.addExchangePolicy(exchangePolicy('xp2', 'payments', { issuer: GITHUB }, LEDGER));
      const before = await storage.currentRevision();
      await expect(storage.addExchangePolicy(exchangePolicy('xp1', 'shipping', '*', ORDERS))).rejects.toBeInstanceOf(StorageConflictError);
      await expect(storage.addExchangePolicy(exchangePolicy('xp3', 'payments', 'orders', LEDGER, T0, { scopes: ['read:things'] }))).rejects.toBeInstanceOf(
        StorageConflictError,
      );
      await expect(storage.addExchangePolicy(exchangePolicy('xp4', 'payments', { issuer: GITHUB }, LEDGER))).rejects.toBeInstanceOf(StorageConflictError);
      expect(await storage.currentRevision()).toBe(before);
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp1', 'xp2']);
      // Another subject, another API or another exchanging client is another policy.
      await storage.addExchangePolicy(exchangePolicy('xp5', 'payments', '*', LEDGER));
      await storage.addExchangePolicy(exchangePolicy('xp6', 'payments', 'orders', ORDERS));
      await storage.addExchangePolicy(exchangePolicy('xp7', 'shipping', 'orders', LEDGER));
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp1', 'xp2', 'xp5', 'xp6', 'xp7']);
    });

    it('refuses a policy naming a missing client, API or trusted issuer with a reference error; a subject client need not exist', async () => {
      const before = await storage.currentRevision();
      await expect(storage.addExchangePolicy(exchangePolicy('xp1', 'ghost', 'orders', LEDGER))).rejects.toMatchObject({
        name: 'StorageReferenceError',
        entity: 'client',
        key: 'ghost',
      });
      const missingApi = storage.addExchangePolicy(exchangePolicy('xp2', 'payments', 'orders', 'https://nope.example'));
      await expect(missingApi).rejects.toBeInstanceOf(StorageReferenceError);
      await expect(missingApi).rejects.toMatchObject({ entity: 'api', key: 'https://nope.example' });
      await expect(storage.addExchangePolicy(exchangePolicy('xp3', 'payments', { issuer: 'https://nope.example' }, LEDGER))).rejects.toMatchObject({
        name: 'StorageReferenceError',
        entity: 'trusted issuer',
        key: 'https://nope.example',
      });
      expect(await storage.currentRevision()).toBe(before);
      expect(await storage.listExchangePolicies()).toEqual([]);
      // The subject is a name, not a reference: the admin plane checks it when the policy is made.
      await storage.addExchangePolicy(exchangePolicy('xp4', 'payments', 'not-yet-a-client', LEDGER));
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp4']);
    });

    it('refuses a policy naming both a subject client and an issuer, or neither', async () => {
      await expect(storage.addExchangePolicy(exchangePolicy('xp1', 'payments', 'orders', LEDGER, T0, { subjectIssuer: GITHUB }))).rejects.toThrow();
      await expect(storage.addExchangePolicy(exchangePolicy('xp2', 'payments', 'orders', LEDGER, T0, { subjectClientId: null }))).rejects.toThrow();
      expect(await storage.listExchangePolicies()).toEqual([]);
    });

    it('deletes one policy by id', async () => {
      await storage.addExchangePolicy(exchangePolicy('xp1', 'payments', 'orders', LEDGER));
      await storage.addExchangePolicy(exchangePolicy('xp2', 'payments', '*', ORDERS));
      expect(await storage.deleteExchangePolicy('xp1')).toBe(true);
      expect(await storage.deleteExchangePolicy('xp1')).toBe(false);
      expect(await storage.deleteExchangePolicy('nope')).toBe(false);
      expect(await storage.getExchangePolicy('xp1')).toBeUndefined();
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp2']);
    });

    it('goes with its exchanging client, its API and its trusted issuer — not with the subject client it names', async () => {
      await storage.addExchangePolicy(exchangePolicy('xp1', 'payments', 'orders', LEDGER));
      await storage.addExchangePolicy(exchangePolicy('xp2', 'payments', { issuer: GITHUB }, ORDERS));
      await storage.addExchangePolicy(exchangePolicy('xp3', 'shipping', 'orders', ORDERS));
      await storage.addExchangePolicy(exchangePolicy('xp4', 'shipping', { issuer: GITHUB }, LEDGER));
      await storage.addExchangePolicy(exchangePolicy('xp5', 'shipping', 'payments', LEDGER));

      expect(await storage.deleteClient('orders')).toBe(true);
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp1', 'xp2', 'xp3', 'xp4', 'xp5']);
      expect(await storage.deleteClient('payments')).toBe(true);
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp3', 'xp4', 'xp5']);
      expect(await storage.deleteApi(ORDERS)).toBe(true);
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp4', 'xp5']);
      expect(await storage.deleteTrustedIssuer(GITHUB)).toBe(true);
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp5']);
      expect(await storage.getExchangePolicy('xp5')).toEqual(exchangePolicy('xp5', 'shipping', 'payments', LEDGER));
    });

    it('returns copies: mutating a given or returned policy changes nothing stored', async () => {
      const given = exchangePolicy('xp1', 'payments', 'orders', LEDGER, T0, { scopes: ['read:things'] });
      await storage.addExchangePolicy(given);
      given.scopes!.push('given-then-changed');
      const fetched = (await storage.getExchangePolicy('xp1'))!;
      fetched.scopes!.push('changed');
      fetched.subjectClientId = '*';
      (await storage.listExchangePolicies())[0]!.scopes!.length = 0;
      expect(await storage.getExchangePolicy('xp1')).toEqual(exchangePolicy('xp1', 'payments', 'orders', LEDGER, T0, { scopes: ['read:things'] }));
    });

    it('reads by a key no store can hold (a NUL byte) find nothing and do not fail', async () => {
      await storage.addExchangePolicy(exchangePolicy('xp1', 'payments', 'orders', LEDGER));
      expect(await storage.getExchangePolicy('xp1\u0000')).toBeUndefined();
      expect(await storage.listExchangePolicies({ clientId: 'payments\u0000' })).toEqual([]);
      expect(await storage.listExchangePolicies({ apiIdentifier: `${LEDGER}\u0000` })).toEqual([]);
      expect(await storage.deleteExchangePolicy('xp1\u0000')).toBe(false);
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp1']);
    });

    it('a failure half-way leaves no policy behind and the revision where it was; a caught conflict inside does not undo the rest', async () => {
      await storage.addExchangePolicy(exchangePolicy('xp0', 'payments', 'orders', LEDGER));
      const before = await storage.currentRevision();
      const failure = new Error('killed half-way');
      await expect(
        storage.transaction(async (tx) => {
          await tx.addExchangePolicy(exchangePolicy('xp1', 'shipping', '*', LEDGER));
          await tx.deleteExchangePolicy('xp0');
          expect(ids(await tx.listExchangePolicies())).toEqual(['xp1']);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp0']);
      expect(await storage.currentRevision()).toBe(before);

      await storage.transaction(async (tx) => {
        await tx.addExchangePolicy(exchangePolicy('xp2', 'shipping', '*', LEDGER));
        await expect(tx.addExchangePolicy(exchangePolicy('xp3', 'payments', 'orders', LEDGER))).rejects.toBeInstanceOf(StorageConflictError);
        await tx.addExchangePolicy(exchangePolicy('xp4', 'shipping', 'orders', ORDERS));
      });
      expect(ids(await storage.listExchangePolicies())).toEqual(['xp0', 'xp2', 'xp4']);
    });

    it('names the exchanging client in the change feed, for each write and for what a cascade took with it', async () => {
      let since = await storage.currentRevision();
      const expectChanges = async (expected: string[]) => {
        expect(await changesAfter(since)).toEqual([...expected].sort());
        since = await storage.currentRevision();
      };
      await storage.addExchangePolicy(exchangePolicy('xp1', 'payments', 'orders', LEDGER));
      await expectChanges(['exchange_policy payments']);
      await storage.deleteExchangePolicy('xp1');
      await expectChanges(['exchange_policy payments']);
      // Refused writes and reads record nothing.
      await storage.addExchangePolicy(exchangePolicy('xp2', 'ghost', 'orders', LEDGER)).catch(() => undefined);
      await storage.listExchangePolicies();
      expect(await storage.deleteExchangePolicy('xp1')).toBe(false);
      await expectChanges([]);

      await storage.addExchangePolicy(exchangePolicy('xp3', 'payments', 'orders', LEDGER));
      await storage.addExchangePolicy(exchangePolicy('xp4', 'shipping', 'orders', ORDERS));
      await storage.addExchangePolicy(exchangePolicy('xp5', 'shipping', { issuer: GITHUB }, LEDGER));
      await storage.addExchangePolicy(exchangePolicy('xp6', 'payments', { issuer: GITHUB }, ORDERS));
      since = await storage.currentRevision();
      await storage.deleteTrustedIssuer(GITHUB);
      await expectChanges([`trusted_issuer ${GITHUB}`, 'exchange_policy shipping', 'exchange_policy payments']);
      await storage.deleteApi(ORDERS);
      await expectChanges([`api ${ORDERS}`, 'exchange_policy shipping']);
      await storage.deleteClient('payments');
      await expectChanges(['client payments', 'exchange_policy payments']);
    });
  });
}
