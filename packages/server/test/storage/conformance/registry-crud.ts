import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageConflictError, StorageReferenceError, type Storage } from '../../../src/storage/types.js';
import { recordBuilders, type ConformanceHarness } from './fixtures.js';

/** Create, read, update and delete of every record kind; conflicts and missing parents are typed errors. */
export function describeRegistryCrud(harness: ConformanceHarness, T0: number): void {
  describe('capability: registry CRUD', () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await harness.makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });
    const { api, client, secret, grant, key } = recordBuilders(T0);

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

      it('keeps the token format, and changes it alone', async () => {
        await storage.createApi({ ...api('https://opaque.example'), tokenFormat: 'opaque' });
        expect((await storage.getApi('https://opaque.example'))?.tokenFormat).toBe('opaque');
        const updated = await storage.updateApi('https://opaque.example', { tokenFormat: 'jwt' }, T0 + 5);
        expect(updated).toEqual({ ...api('https://opaque.example'), tokenFormat: 'jwt', updatedAt: T0 + 5 });
        expect((await storage.listApis()).map((a) => a.tokenFormat)).toEqual(['jwt']);
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

      it('keeps an API that requires sender-constrained tokens, and reads a cleared flag back as absent', async () => {
        const strict = { ...api('https://orders.example'), requireSenderConstrained: true };
        await storage.createApi(strict);
        expect(await storage.getApi('https://orders.example')).toEqual(strict);
        await storage.updateApi('https://orders.example', { requireSenderConstrained: false }, T0 + 1);
        expect(await storage.getApi('https://orders.example')).toEqual({ ...api('https://orders.example'), updatedAt: T0 + 1 });
        await storage.updateApi('https://orders.example', { requireSenderConstrained: true }, T0 + 2);
        expect((await storage.getApi('https://orders.example'))?.requireSenderConstrained).toBe(true);
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

      it('keeps a client whose tokens must be DPoP-bound, and reads a cleared flag back as absent', async () => {
        const bound = { ...client('c1'), dpopBoundAccessTokens: true };
        await storage.createClient(bound);
        expect(await storage.getClient('c1')).toEqual(bound);
        expect((await storage.listClients())[0]).toEqual(bound);
        await storage.updateClient('c1', { dpopBoundAccessTokens: false }, T0 + 1);
        expect(await storage.getClient('c1')).toEqual({ ...client('c1'), updatedAt: T0 + 1 });
        await storage.updateClient('c1', { dpopBoundAccessTokens: true }, T0 + 2);
        expect((await storage.getClient('c1'))?.dpopBoundAccessTokens).toBe(true);
      });

      it('keeps how a client authenticates with mutual TLS and whether its tokens are certificate-bound; null or nothing removes them', async () => {
        const tls = {
          ...client('c1'),
          tokenEndpointAuthMethods: ['tls_client_auth' as const],
          tlsClientAuthSubjectDn: 'CN=orders,O=Example\\, Inc.',
          tlsClientCertificateBoundAccessTokens: true,
        };
        await storage.createClient(tls);
        expect(await storage.getClient('c1')).toEqual(tls);
        expect((await storage.listClients())[0]).toEqual(tls);
        const named = await storage.updateClient('c1', { tlsClientAuthSubjectDn: null, tlsClientAuthSanDns: ['orders.example', 'orders.internal'] }, T0 + 1);
        const { tlsClientAuthSubjectDn: _removed, ...withoutSubject } = tls;
        expect(named).toEqual({ ...withoutSubject, tlsClientAuthSanDns: ['orders.example', 'orders.internal'], updatedAt: T0 + 1 });
        expect(await storage.getClient('c1')).toEqual(named);
        await storage.updateClient(
          'c1',
          { tlsClientAuthSanDns: [], tlsClientCertificateBoundAccessTokens: false, tlsClientAuthSubjectDn: 'CN=orders' },
          T0 + 2,
        );
        expect(await storage.getClient('c1')).toEqual({
          ...client('c1'),
          tokenEndpointAuthMethods: ['tls_client_auth'],
          tlsClientAuthSubjectDn: 'CN=orders',
          updatedAt: T0 + 2,
        });
        // An emptied introspection permission reads back absent too, as every optional list does.
        await storage.updateClient('c1', { introspectApis: ['https://a.example'] }, T0 + 3);
        await storage.updateClient('c1', { introspectApis: [] }, T0 + 4);
        expect(await storage.getClient('c1')).not.toHaveProperty('introspectApis');
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
        expect(updated).toEqual({
          ...grant('g1', 'c1', 'https://orders.example'),
          scopes: ['read:things', 'write:things'],
          tokenTtlSeconds: 120,
          updatedAt: T0 + 7,
        });
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

    describe('keys no store can hold', () => {
      // Found by the attack probe: PostgreSQL failed the statement (a 500) on a NUL byte in a
      // client id, an audience or an admin path id. A key that cannot exist is simply not found.
      const NUL = 'c1\u0000x';
      it('a read, update or delete by a key with a NUL byte finds nothing, and does not fail', async () => {
        await storage.createApi(api('https://orders.example'));
        await storage.createClient(client('c1'));
        await storage.createGrant(grant('g1', 'c1', 'https://orders.example'));
        expect(await storage.getClient(NUL)).toBeUndefined();
        expect(await storage.getApi('https://orders.example/\u0000')).toBeUndefined();
        expect(await storage.getGrant('g1\u0000')).toBeUndefined();
        expect(await storage.findGrant(NUL, 'https://orders.example')).toBeUndefined();
        expect(await storage.findGrant('c1', 'https://orders.example\u0000')).toBeUndefined();
        expect(await storage.getKey('k\u0000')).toBeUndefined();
        expect(await storage.listClientSecrets(NUL)).toEqual([]);
        expect(await storage.listGrants({ clientId: NUL })).toEqual([]);
        expect(await storage.listAuditEvents({ actor: NUL })).toEqual([]);
        expect(await storage.updateClient(NUL, { name: 'x' }, T0)).toBeUndefined();
        expect(await storage.updateGrant('g1\u0000', { scopes: [] }, T0)).toBeUndefined();
        expect(await storage.deleteClient(NUL)).toBe(false);
        expect(await storage.deleteGrant('g1\u0000')).toBe(false);
        expect(await storage.deleteApi('https://orders.example\u0000')).toBe(false);
        expect(await storage.getClient('c1')).toBeDefined();
      });
    });

    it('answers ping while open', async () => {
      await expect(storage.ping()).resolves.toBeUndefined();
    });
  });
}
