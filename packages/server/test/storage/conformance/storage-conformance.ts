import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import {
  StorageConflictError,
  StorageReferenceError,
  type ApiRecord,
  type ClientGrantRecord,
  type ClientRecord,
  type ClientSecretRecord,
  type SigningKeyRecord,
  type Storage,
} from '../../../src/storage/types.js';

/**
 * The one behavioural contract every storage adapter must pass, unchanged. An adapter is done
 * when this suite is green against it. `makeStorage` returns an empty store each time.
 */
export function describeStorageConformance(adapterName: string, makeStorage: () => Promise<Storage>): void {
  describe(`storage conformance: ${adapterName}`, () => {
    let storage: Storage;
    const T0 = Date.UTC(2026, 0, 1);

    beforeEach(async () => {
      storage = await makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });

    const api = (identifier: string, createdAt = T0): ApiRecord => ({
      identifier,
      name: `API ${identifier}`,
      scopes: [
        { value: 'read:things', description: 'Read things' },
        { value: 'write:things', description: '' },
      ],
      signingAlg: 'RS256',
      tokenTtlSeconds: 900,
      createdAt,
      updatedAt: createdAt,
    });
    const client = (clientId: string, createdAt = T0): ClientRecord => ({
      clientId,
      name: `client ${clientId}`,
      description: 'a service',
      defaultApi: null,
      isEnabled: true,
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post'],
      jwks: null,
      createdAt,
      updatedAt: createdAt,
    });
    const secret = (id: string, clientId: string, createdAt = T0): ClientSecretRecord => ({
      id,
      clientId,
      hash: `hash-${id}`,
      hint: id.slice(-4),
      createdAt,
      expiresAt: null,
    });
    const grant = (id: string, clientId: string, apiIdentifier: string, createdAt = T0): ClientGrantRecord => ({
      id,
      clientId,
      apiIdentifier,
      scopes: ['read:things'],
      tokenTtlSeconds: null,
      createdAt,
      updatedAt: createdAt,
    });
    const key = (kid: string, createdAt = T0, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord => ({
      kid,
      alg: 'RS256',
      status: 'active',
      encryptedPrivateKey: `v1.ciphertext-${kid}`,
      publicJwk: { kty: 'RSA', kid, alg: 'RS256', use: 'sig', n: 'abc', e: 'AQAB' },
      apiIdentifier: null,
      createdAt,
      rotatedAt: null,
      ...overrides,
    });

    describe('APIs', () => {
      it('stores and returns an API exactly as given', async () => {
        await storage.createApi(api('https://orders.example'));
        expect(await storage.getApi('https://orders.example')).toEqual(api('https://orders.example'));
      });

      it('returns undefined for an unknown API', async () => {
        expect(await storage.getApi('https://nope.example')).toBeUndefined();
      });

      it('refuses a second API with the same identifier', async () => {
        await storage.createApi(api('https://orders.example'));
        await expect(storage.createApi(api('https://orders.example'))).rejects.toBeInstanceOf(StorageConflictError);
      });

      it('lists APIs oldest first', async () => {
        await storage.createApi(api('https://b.example', T0 + 2));
        await storage.createApi(api('https://a.example', T0 + 1));
        expect((await storage.listApis()).map((a) => a.identifier)).toEqual(['https://a.example', 'https://b.example']);
      });

      it('patches only the given fields and stamps updatedAt', async () => {
        await storage.createApi(api('https://orders.example'));
        const updated = await storage.updateApi('https://orders.example', { tokenTtlSeconds: 60, name: undefined }, T0 + 5);
        expect(updated).toEqual({ ...api('https://orders.example'), tokenTtlSeconds: 60, updatedAt: T0 + 5 });
        expect(await storage.getApi('https://orders.example')).toEqual(updated);
        expect(await storage.updateApi('https://nope.example', { name: 'x' }, T0)).toBeUndefined();
      });

      it('deleting an API deletes its grants and clears it as a default API', async () => {
        await storage.createApi(api('https://orders.example'));
        await storage.createApi(api('https://stock.example'));
        await storage.createClient({ ...client('c1'), defaultApi: 'https://orders.example' });
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
        await storage.createGrant(grant('g2', 'c1', 'https://stock.example'));
        expect(await storage.deleteApi('https://orders.example')).toBe(true);
        expect(await storage.getApi('https://orders.example')).toBeUndefined();
        expect(await storage.getGrant('g1')).toBeUndefined();
        expect(await storage.getGrant('g2')).toBeDefined();
        expect((await storage.getClient('c1'))?.defaultApi).toBeNull();
        expect(await storage.deleteApi('https://orders.example')).toBe(false);
      });

      it('returns copies: mutating a returned record changes nothing stored', async () => {
        await storage.createApi(api('https://orders.example'));
        const fetched = (await storage.getApi('https://orders.example'))!;
        fetched.scopes.push({ value: 'admin', description: '' });
        fetched.name = 'changed';
        expect(await storage.getApi('https://orders.example')).toEqual(api('https://orders.example'));
      });
    });

    describe('clients and secrets', () => {
      it('stores a client with all fields, including a JWK Set and a disabled flag', async () => {
        const record = {
          ...client('c1'),
          isEnabled: false,
          tokenEndpointAuthMethods: ['private_key_jwt' as const],
          jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] },
        };
        await storage.createClient(record);
        expect(await storage.getClient('c1')).toEqual(record);
      });

      it('refuses a duplicate client id', async () => {
        await storage.createClient(client('c1'));
        await expect(storage.createClient(client('c1'))).rejects.toBeInstanceOf(StorageConflictError);
      });

      it('updates and lists clients', async () => {
        await storage.createClient(client('c2', T0 + 2));
        await storage.createClient(client('c1', T0 + 1));
        const updated = await storage.updateClient('c1', { isEnabled: false, description: 'changed' }, T0 + 9);
        expect(updated).toMatchObject({ clientId: 'c1', isEnabled: false, description: 'changed', updatedAt: T0 + 9, name: 'client c1' });
        expect((await storage.listClients()).map((c) => [c.clientId, c.isEnabled])).toEqual([
          ['c1', false],
          ['c2', true],
        ]);
        expect(await storage.updateClient('nope', { name: 'x' }, T0)).toBeUndefined();
      });

      it('keeps secrets per client, oldest first, and expires or deletes one at a time', async () => {
        await storage.createClient(client('c1'));
        await storage.createClient(client('c2'));
        await storage.addClientSecret(secret('s2', 'c1', T0 + 2));
        await storage.addClientSecret(secret('s1', 'c1', T0 + 1));
        await storage.addClientSecret(secret('s3', 'c2', T0 + 3));
        expect((await storage.listClientSecrets('c1')).map((s) => s.id)).toEqual(['s1', 's2']);
        expect(await storage.expireClientSecret('c1', 's1', T0 + 100)).toBe(true);
        expect(await storage.expireClientSecret('c2', 's1', T0 + 100)).toBe(false);
        expect((await storage.listClientSecrets('c1'))[0]).toEqual({ ...secret('s1', 'c1', T0 + 1), expiresAt: T0 + 100 });
        expect(await storage.deleteClientSecret('c2', 's2')).toBe(false);
        expect(await storage.deleteClientSecret('c1', 's2')).toBe(true);
        expect((await storage.listClientSecrets('c1')).map((s) => s.id)).toEqual(['s1']);
      });

      it('deleting a client deletes its secrets and grants', async () => {
        await storage.createApi(api('https://orders.example'));
        await storage.createClient(client('c1'));
        await storage.addClientSecret(secret('s1', 'c1'));
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
        expect(await storage.deleteClient('c1')).toBe(true);
        expect(await storage.getClient('c1')).toBeUndefined();
        expect(await storage.listClientSecrets('c1')).toEqual([]);
        expect(await storage.getGrant('g1')).toBeUndefined();
        expect(await storage.deleteClient('c1')).toBe(false);
      });
    });

    describe('client grants', () => {
      beforeEach(async () => {
        await storage.createApi(api('https://orders.example'));
        await storage.createApi(api('https://stock.example'));
        await storage.createClient(client('c1'));
        await storage.createClient(client('c2'));
      });

      it('finds a grant by id and by client × API', async () => {
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
        expect(await storage.getGrant('g1')).toEqual(grant('g1', 'c1', 'https://orders.example'));
        expect(await storage.findGrant('c1', 'https://orders.example')).toEqual(grant('g1', 'c1', 'https://orders.example'));
        expect(await storage.findGrant('c1', 'https://stock.example')).toBeUndefined();
        expect(await storage.findGrant('c2', 'https://orders.example')).toBeUndefined();
      });

      it('allows one grant per client and API', async () => {
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
        await expect(storage.createGrant(grant('g2', 'c1', 'https://orders.example'))).rejects.toBeInstanceOf(StorageConflictError);
        expect(await storage.getGrant('g2')).toBeUndefined();
      });

      it('filters grants by client, by API, or both', async () => {
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example', T0 + 1));
        await storage.createGrant(grant('g2', 'c1', 'https://stock.example', T0 + 2));
        await storage.createGrant(grant('g3', 'c2', 'https://orders.example', T0 + 3));
        const ids = async (filter?: { clientId?: string; apiIdentifier?: string }) => (await storage.listGrants(filter)).map((g) => g.id);
        expect(await ids()).toEqual(['g1', 'g2', 'g3']);
        expect(await ids({ clientId: 'c1' })).toEqual(['g1', 'g2']);
        expect(await ids({ apiIdentifier: 'https://orders.example' })).toEqual(['g1', 'g3']);
        expect(await ids({ clientId: 'c2', apiIdentifier: 'https://stock.example' })).toEqual([]);
      });

      it('updates scopes and TTL, and deletes', async () => {
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
        const updated = await storage.updateGrant('g1', { scopes: ['read:things', 'write:things'], tokenTtlSeconds: 120 }, T0 + 7);
        expect(updated).toEqual({ ...grant('g1', 'c1', 'https://orders.example'), scopes: ['read:things', 'write:things'], tokenTtlSeconds: 120, updatedAt: T0 + 7 });
        expect(await storage.updateGrant('g1', { tokenTtlSeconds: null }, T0 + 8)).toMatchObject({ tokenTtlSeconds: null });
        expect(await storage.updateGrant('nope', { scopes: [] }, T0)).toBeUndefined();
        expect(await storage.deleteGrant('g1')).toBe(true);
        expect(await storage.deleteGrant('g1')).toBe(false);
      });
    });

    describe('signing keys', () => {
      it('stores keys, including an unpublished HS256 key bound to an API', async () => {
        const hs = key('hs1', T0 + 2, { alg: 'HS256', publicJwk: null, apiIdentifier: 'https://orders.example' });
        await storage.createKey(key('k1', T0 + 1));
        await storage.createKey(hs);
        expect(await storage.getKey('hs1')).toEqual(hs);
        expect((await storage.listKeys()).map((k) => k.kid)).toEqual(['k1', 'hs1']);
        await expect(storage.createKey(key('k1'))).rejects.toBeInstanceOf(StorageConflictError);
      });

      it('records when a key stopped signing, once', async () => {
        await storage.createKey(key('k1'));
        expect(await storage.setKeyStatus('k1', 'published', T0 + 10)).toBe(true);
        expect(await storage.getKey('k1')).toMatchObject({ status: 'published', rotatedAt: T0 + 10 });
        expect(await storage.setKeyStatus('k1', 'retired', T0 + 20)).toBe(true);
        expect(await storage.getKey('k1')).toMatchObject({ status: 'retired', rotatedAt: T0 + 10 });
        expect(await storage.setKeyStatus('nope', 'retired', T0)).toBe(false);
      });
    });

    describe('audit log', () => {
      it('lists newest first, filtered and limited', async () => {
        for (let i = 0; i < 5; i += 1) {
          await storage.appendAuditEvent({ id: `e${i}`, at: T0 + i, type: i % 2 ? 'client.created' : 'api.created', actor: i < 3 ? 'cli' : 'admin-api', data: { n: i } });
        }
        expect((await storage.listAuditEvents()).map((e) => e.id)).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
        expect((await storage.listAuditEvents({ type: 'client.created' })).map((e) => e.id)).toEqual(['e3', 'e1']);
        expect((await storage.listAuditEvents({ actor: 'cli', limit: 2 })).map((e) => e.id)).toEqual(['e2', 'e1']);
        expect((await storage.listAuditEvents({ limit: 1 }))[0]).toEqual({ id: 'e4', at: T0 + 4, type: 'api.created', actor: 'admin-api', data: { n: 4 } });
      });
    });

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

    describe('missing parent records', () => {
      it('refuses a secret or a grant that names a missing client or API, and stores nothing', async () => {
        await storage.createApi(api('https://orders.example'));
        await storage.createClient(client('c1'));
        await expect(storage.addClientSecret(secret('s1', 'ghost'))).rejects.toMatchObject({ name: 'StorageReferenceError', entity: 'client', key: 'ghost' });
        await expect(storage.createGrant(grant('g1', 'ghost', 'https://orders.example'))).rejects.toBeInstanceOf(StorageReferenceError);
        await expect(storage.createGrant(grant('g2', 'c1', 'https://nope.example'))).rejects.toMatchObject({ entity: 'api', key: 'https://nope.example' });
        expect(await storage.listClientSecrets('ghost')).toEqual([]);
        expect(await storage.listGrants()).toEqual([]);
      });
    });

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
        expect((await storage.listApis({ limit: 1, after: { createdAt: T0, key: 'https://a.example' } })).map((a) => a.identifier)).toEqual(['https://b.example']);
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

    describe('audit queries', () => {
      it('filters by time range, pages newest first with ties broken by id, and prunes by age', async () => {
        for (const [id, at] of [['e1', T0], ['e3', T0 + 10], ['e2', T0 + 10], ['e4', T0 + 20]] as const) {
          await storage.appendAuditEvent({ id, at, type: 'client.updated', actor: 'cli', data: {} });
        }
        expect((await storage.listAuditEvents()).map((e) => e.id)).toEqual(['e4', 'e3', 'e2', 'e1']);
        expect((await storage.listAuditEvents({ since: T0 + 10, until: T0 + 20 })).map((e) => e.id)).toEqual(['e3', 'e2']);
        expect((await storage.listAuditEvents({ limit: 2, before: { at: T0 + 10, id: 'e3' } })).map((e) => e.id)).toEqual(['e2', 'e1']);
        expect(await storage.pruneAuditEvents(T0 + 10)).toBe(1);
        expect((await storage.listAuditEvents()).map((e) => e.id)).toEqual(['e4', 'e3', 'e2']);
      });
    });

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

    it('answers ping while open', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });
  });
}
