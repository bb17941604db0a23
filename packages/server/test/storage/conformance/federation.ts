import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageConflictError, StorageReferenceError, type Storage } from '../../../src/storage/types.js';
import { recordBuilders, type ConformanceHarness } from './fixtures.js';

const GITHUB = 'https://token.actions.githubusercontent.com';
const CLUSTER = 'https://kubernetes.default.svc';

/**
 * Trusted issuers and the federated credentials that name them: what workload identity
 * federation reads on every assertion (`findFederatedCredentials`) and what the admin plane
 * writes, with the cascades, typed errors and change-feed entries every other record kind has.
 */
export function describeFederation(harness: ConformanceHarness, T0: number): void {
  describe('capability: federation', () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await harness.makeStorage();
    });
    afterEach(async () => {
      await storage.close();
    });
    const { client, trustedIssuer, federatedCredential } = recordBuilders(T0);
    const ids = (records: { id: string }[]) => records.map((record) => record.id);
    /** The writes after `since`, as a sorted list: a cascade's order is the adapter's business, its count is not. */
    const changesAfter = async (since: number) => {
      const result = await storage.changesSince(since);
      expect(result?.revision).toBe(await storage.currentRevision());
      return result!.changes.map((change) => `${change.entity} ${change.key}`).sort();
    };

    describe('trusted issuers', () => {
      it('stores and returns an issuer exactly as given, an inline JWK Set included', async () => {
        const cluster = trustedIssuer(CLUSTER, T0, {
          kind: 'kubernetes',
          jwks: { keys: [{ kty: 'RSA', kid: 'sa-1', n: 'abc', e: 'AQAB' }] },
          tokenReuse: 'allow',
          maxTokenLifetimeSeconds: 600,
        });
        const github = trustedIssuer(GITHUB, T0, { jwksUri: `${GITHUB}/.well-known/jwks`, isShared: true });
        await storage.createTrustedIssuer(cluster);
        await storage.createTrustedIssuer(github);
        expect(await storage.getTrustedIssuer(CLUSTER)).toEqual(cluster);
        expect(await storage.getTrustedIssuer(GITHUB)).toEqual(github);
        expect(await storage.getTrustedIssuer('https://nope.example')).toBeUndefined();
      });

      it('refuses a second issuer with the same identifier and keeps the first', async () => {
        await storage.createTrustedIssuer(trustedIssuer(GITHUB));
        await expect(storage.createTrustedIssuer(trustedIssuer(GITHUB, T0 + 1, { kind: 'kubernetes' }))).rejects.toBeInstanceOf(StorageConflictError);
        expect(await storage.getTrustedIssuer(GITHUB)).toEqual(trustedIssuer(GITHUB));
      });

      it('lists issuers oldest first, ties by issuer, and pages by keyset without gaps or repeats', async () => {
        for (const issuer of ['https://c.example', 'https://a.example', 'https://b.example']) await storage.createTrustedIssuer(trustedIssuer(issuer, T0));
        await storage.createTrustedIssuer(trustedIssuer('https://0.example', T0 + 1));
        const all = await storage.listTrustedIssuers();
        expect(all.map((record) => record.issuer)).toEqual(['https://a.example', 'https://b.example', 'https://c.example', 'https://0.example']);
        const first = await storage.listTrustedIssuers({ limit: 2 });
        expect(first.map((record) => record.issuer)).toEqual(['https://a.example', 'https://b.example']);
        const second = await storage.listTrustedIssuers({ limit: 2, after: { createdAt: T0, key: 'https://b.example' } });
        expect(second.map((record) => record.issuer)).toEqual(['https://c.example', 'https://0.example']);
        expect(await storage.listTrustedIssuers({ after: { createdAt: T0 + 1, key: 'https://0.example' } })).toEqual([]);
      });

      it('patches only the given fields and stamps updatedAt; jwksUri and jwks can be cleared', async () => {
        await storage.createTrustedIssuer(trustedIssuer(CLUSTER, T0, { kind: 'kubernetes', jwksUri: `${CLUSTER}/openid/v1/jwks` }));
        const keys = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] };
        const updated = await storage.updateTrustedIssuer(CLUSTER, { jwksUri: null, jwks: keys, maxTokenLifetimeSeconds: 120, tokenReuse: undefined }, T0 + 5);
        expect(updated).toEqual(trustedIssuer(CLUSTER, T0, { kind: 'kubernetes', jwks: keys, maxTokenLifetimeSeconds: 120, updatedAt: T0 + 5 }));
        expect(await storage.getTrustedIssuer(CLUSTER)).toEqual(updated);
        const cleared = await storage.updateTrustedIssuer(CLUSTER, { jwks: null, isShared: true, tokenReuse: 'allow' }, T0 + 6);
        expect(cleared).toMatchObject({ jwks: null, jwksUri: null, isShared: true, tokenReuse: 'allow', maxTokenLifetimeSeconds: 120, updatedAt: T0 + 6 });
        expect(await storage.getTrustedIssuer(CLUSTER)).toEqual(cleared);
        expect(await storage.updateTrustedIssuer('https://nope.example', { isShared: true }, T0)).toBeUndefined();
      });

      it('deleting an issuer deletes every credential naming it, of every client, and nothing else', async () => {
        await storage.createClient(client('c1'));
        await storage.createClient(client('c2'));
        await storage.createTrustedIssuer(trustedIssuer(GITHUB));
        await storage.createTrustedIssuer(trustedIssuer(CLUSTER));
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app:ref:refs/heads/main'));
        await storage.addFederatedCredential(federatedCredential('f2', 'c2', GITHUB, 'repo:org/other:ref:refs/heads/main'));
        await storage.addFederatedCredential(federatedCredential('f3', 'c1', CLUSTER, 'system:serviceaccount:payments:api'));
        expect(await storage.deleteTrustedIssuer(GITHUB)).toBe(true);
        expect(await storage.getTrustedIssuer(GITHUB)).toBeUndefined();
        expect(ids(await storage.listFederatedCredentials())).toEqual(['f3']);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org/app:ref:refs/heads/main')).toEqual([]);
        expect(await storage.getClient('c1')).toBeDefined();
        expect(await storage.deleteTrustedIssuer(GITHUB)).toBe(false);
      });

      it('returns copies: mutating a returned issuer changes nothing stored', async () => {
        const original = trustedIssuer(CLUSTER, T0, { jwks: { keys: [{ kty: 'RSA', kid: 'sa-1', n: 'abc', e: 'AQAB' }] } });
        await storage.createTrustedIssuer(original);
        original.jwks!.keys.push({ kty: 'RSA', kid: 'given-then-changed' });
        const fetched = (await storage.getTrustedIssuer(CLUSTER))!;
        fetched.jwks!.keys[0]!.kid = 'changed';
        fetched.maxTokenLifetimeSeconds = 1;
        (await storage.listTrustedIssuers())[0]!.jwks!.keys.length = 0;
        expect(await storage.getTrustedIssuer(CLUSTER)).toEqual(
          trustedIssuer(CLUSTER, T0, { jwks: { keys: [{ kty: 'RSA', kid: 'sa-1', n: 'abc', e: 'AQAB' }] } }),
        );
      });
    });

    describe('federated credentials', () => {
      beforeEach(async () => {
        await storage.createClient(client('c1'));
        await storage.createClient(client('c2'));
        await storage.createTrustedIssuer(trustedIssuer(GITHUB, T0, { isShared: true }));
        await storage.createTrustedIssuer(trustedIssuer(CLUSTER, T0, { kind: 'kubernetes' }));
      });
      const prefix = { subjectMatch: 'prefix' } as const;

      it('stores a credential exactly as given, audiences and claim conditions included', async () => {
        const credential = federatedCredential('f1', 'c1', GITHUB, 'repo:org/', T0, {
          subjectMatch: 'prefix',
          audiences: ['https://auth.example', 'api://m2m'],
          claims: { repository_owner_id: '1234', environment: 'prod' },
          description: 'deploys from any repository of org',
        });
        await storage.addFederatedCredential(credential);
        expect(await storage.listFederatedCredentials({ clientId: 'c1' })).toEqual([credential]);
      });

      it('lists by client, by issuer or both, ordered by (createdAt, id), and pages by keyset', async () => {
        await storage.addFederatedCredential(federatedCredential('f3', 'c1', GITHUB, 'repo:org/a:ref:main', T0 + 1));
        await storage.addFederatedCredential(federatedCredential('f2', 'c2', GITHUB, 'repo:org/b:ref:main', T0 + 1));
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', CLUSTER, 'system:serviceaccount:ns:sa', T0 + 2));
        await storage.addFederatedCredential(federatedCredential('f9', 'c2', CLUSTER, 'system:serviceaccount:ns:sb', T0));
        expect(ids(await storage.listFederatedCredentials())).toEqual(['f9', 'f2', 'f3', 'f1']);
        expect(ids(await storage.listFederatedCredentials({ clientId: 'c1' }))).toEqual(['f3', 'f1']);
        expect(ids(await storage.listFederatedCredentials({ issuer: GITHUB }))).toEqual(['f2', 'f3']);
        expect(ids(await storage.listFederatedCredentials({ clientId: 'c2', issuer: CLUSTER }))).toEqual(['f9']);
        expect(ids(await storage.listFederatedCredentials({ clientId: 'nope' }))).toEqual([]);
        expect(ids(await storage.listFederatedCredentials({ limit: 2 }))).toEqual(['f9', 'f2']);
        expect(ids(await storage.listFederatedCredentials({ limit: 2, after: { createdAt: T0 + 1, key: 'f2' } }))).toEqual(['f3', 'f1']);
        expect(ids(await storage.listFederatedCredentials({ clientId: 'c1', limit: 1, after: { createdAt: T0 + 1, key: 'f3' } }))).toEqual(['f1']);
      });

      it('finds the exact and prefix credentials a subject matches, of every client, ordered by (createdAt, id)', async () => {
        const subject = 'repo:org/app:ref:refs/heads/main';
        await storage.addFederatedCredential(federatedCredential('f5', 'c1', GITHUB, subject, T0 + 3));
        await storage.addFederatedCredential(federatedCredential('f4', 'c2', GITHUB, 'repo:org/', T0 + 2, prefix));
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app:', T0 + 2, prefix));
        await storage.addFederatedCredential(federatedCredential('f0', 'c2', GITHUB, subject, T0 + 1, prefix)); // a prefix equal to the whole subject
        await storage.addFederatedCredential(federatedCredential('f7', 'c1', GITHUB, 'repo:org/other:', T0, prefix));
        await storage.addFederatedCredential(federatedCredential('f8', 'c1', GITHUB, 'repo:org/app:ref:refs/heads/dev', T0));
        expect(await storage.findFederatedCredentials(GITHUB, subject)).toEqual([
          federatedCredential('f0', 'c2', GITHUB, subject, T0 + 1, prefix),
          federatedCredential('f1', 'c1', GITHUB, 'repo:org/app:', T0 + 2, prefix),
          federatedCredential('f4', 'c2', GITHUB, 'repo:org/', T0 + 2, prefix),
          federatedCredential('f5', 'c1', GITHUB, subject, T0 + 3),
        ]);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:org/other:ref:main'))).toEqual(['f7', 'f4']);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:someone-else/app:ref:main'))).toEqual([]);
      });

      it('a prefix never matches a shorter or diverging subject, and an exact subject never matches a longer one', async () => {
        await storage.addFederatedCredential(federatedCredential('p1', 'c1', GITHUB, 'repo:org/app:', T0, prefix));
        await storage.addFederatedCredential(federatedCredential('e1', 'c1', GITHUB, 'repo:org/svc'));
        for (const shorter of ['repo:org/app', 'repo:org/', 'repo:', '']) expect(await storage.findFederatedCredentials(GITHUB, shorter)).toEqual([]);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org/apx:ref:main')).toEqual([]);
        expect(await storage.findFederatedCredentials(GITHUB, 'REPO:ORG/APP:ref:main')).toEqual([]);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org/svc:ref:main')).toEqual([]);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org/sv')).toEqual([]);
        // Characters LIKE or GLOB would read as patterns are literal here.
        await storage.addFederatedCredential(federatedCredential('p2', 'c2', GITHUB, 'repo:o%_*[g]/', T0, prefix));
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org/x')).toEqual([]);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:o%_*[g]/x'))).toEqual(['p2']);
      });

      it("never finds issuer A's credential for a token of issuer B", async () => {
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', CLUSTER, 'system:serviceaccount:payments:api'));
        await storage.addFederatedCredential(federatedCredential('f2', 'c1', CLUSTER, 'system:serviceaccount:payments:', T0, prefix));
        expect(await storage.findFederatedCredentials(GITHUB, 'system:serviceaccount:payments:api')).toEqual([]);
        expect(await storage.findFederatedCredentials(`${CLUSTER}/`, 'system:serviceaccount:payments:api')).toEqual([]);
        expect(await storage.findFederatedCredentials('https://kubernetes.default', 'system:serviceaccount:payments:api')).toEqual([]);
        expect(ids(await storage.findFederatedCredentials(CLUSTER, 'system:serviceaccount:payments:api'))).toEqual(['f1', 'f2']);
      });

      it('matches non-ASCII subjects by characters, as a string prefix, on every adapter alike', async () => {
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:café/', T0 + 1, prefix));
        await storage.addFederatedCredential(federatedCredential('f2', 'c1', GITHUB, 'repo:📦/app:', T0 + 2, prefix));
        await storage.addFederatedCredential(federatedCredential('f3', 'c2', GITHUB, 'repo:ünï/cödé', T0 + 3));
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:café/app'))).toEqual(['f1']);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:café/'))).toEqual(['f1']);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:cafe/app')).toEqual([]);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:café')).toEqual([]);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:cafè/app')).toEqual([]);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:📦/app:ref:🚀'))).toEqual(['f2']);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:📦/app')).toEqual([]);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:📤/app:ref:main')).toEqual([]);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:ünï/cödé'))).toEqual(['f3']);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:ünï/cöde')).toEqual([]);
      });

      it('refuses a duplicate id, or a second credential with the same client, issuer, subject and match, and stores nothing', async () => {
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app:ref:main'));
        const before = await storage.currentRevision();
        await expect(storage.addFederatedCredential(federatedCredential('f1', 'c2', CLUSTER, 'system:serviceaccount:ns:sa'))).rejects.toBeInstanceOf(
          StorageConflictError,
        );
        await expect(storage.addFederatedCredential(federatedCredential('f2', 'c1', GITHUB, 'repo:org/app:ref:main'))).rejects.toBeInstanceOf(
          StorageConflictError,
        );
        expect(await storage.currentRevision()).toBe(before);
        expect(ids(await storage.listFederatedCredentials())).toEqual(['f1']);
        // The same subject as a prefix, for another client, or of another issuer is another credential.
        await storage.addFederatedCredential(federatedCredential('f3', 'c1', GITHUB, 'repo:org/app:ref:main', T0, prefix));
        await storage.addFederatedCredential(federatedCredential('f4', 'c2', GITHUB, 'repo:org/app:ref:main'));
        await storage.addFederatedCredential(federatedCredential('f5', 'c1', CLUSTER, 'repo:org/app:ref:main'));
        expect(ids(await storage.listFederatedCredentials())).toEqual(['f1', 'f3', 'f4', 'f5']);
      });

      it('refuses a credential naming a missing client or issuer with a reference error, and changes nothing', async () => {
        const before = await storage.currentRevision();
        await expect(storage.addFederatedCredential(federatedCredential('f1', 'ghost', GITHUB, 'repo:org/app'))).rejects.toMatchObject({
          name: 'StorageReferenceError',
          entity: 'client',
          key: 'ghost',
        });
        const missingIssuer = storage.addFederatedCredential(federatedCredential('f2', 'c1', 'https://nope.example', 'repo:org/app'));
        await expect(missingIssuer).rejects.toBeInstanceOf(StorageReferenceError);
        await expect(missingIssuer).rejects.toMatchObject({ entity: 'trusted issuer', key: 'https://nope.example' });
        expect(await storage.currentRevision()).toBe(before);
        expect(await storage.listFederatedCredentials()).toEqual([]);
        expect(await storage.getTrustedIssuer('https://nope.example')).toBeUndefined();
      });

      it('deletes one credential, only through its own client', async () => {
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app'));
        await storage.addFederatedCredential(federatedCredential('f2', 'c1', GITHUB, 'repo:org/svc'));
        expect(await storage.deleteFederatedCredential('c2', 'f1')).toBe(false);
        expect(await storage.deleteFederatedCredential('c1', 'f1')).toBe(true);
        expect(await storage.deleteFederatedCredential('c1', 'f1')).toBe(false);
        expect(await storage.deleteFederatedCredential('c1', 'nope')).toBe(false);
        expect(ids(await storage.listFederatedCredentials())).toEqual(['f2']);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org/app')).toEqual([]);
      });

      it('deleting a client deletes its credentials, and leaves other clients and the issuer alone', async () => {
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app'));
        await storage.addFederatedCredential(federatedCredential('f2', 'c1', CLUSTER, 'system:serviceaccount:ns:', T0, prefix));
        await storage.addFederatedCredential(federatedCredential('f3', 'c2', GITHUB, 'repo:org/app'));
        expect(await storage.deleteClient('c1')).toBe(true);
        expect(ids(await storage.listFederatedCredentials())).toEqual(['f3']);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:org/app'))).toEqual(['f3']);
        expect(await storage.getTrustedIssuer(CLUSTER)).toBeDefined();
      });

      it('returns copies: mutating a given or returned credential changes nothing stored', async () => {
        const given = federatedCredential('f1', 'c1', GITHUB, 'repo:org/', T0, { ...prefix, audiences: ['a'], claims: { owner: 'org' } });
        await storage.addFederatedCredential(given);
        given.audiences.push('given-then-changed');
        const [listed] = await storage.listFederatedCredentials();
        listed!.audiences.push('changed');
        listed!.claims.owner = 'someone-else';
        const [found] = await storage.findFederatedCredentials(GITHUB, 'repo:org/app');
        found!.subject = 'changed';
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org/app')).toEqual([
          federatedCredential('f1', 'c1', GITHUB, 'repo:org/', T0, { ...prefix, audiences: ['a'], claims: { owner: 'org' } }),
        ]);
      });

      it('reads by a key no store can hold (a NUL byte) find nothing and do not fail; a prefix still matches a subject that goes on with one', async () => {
        await storage.addFederatedCredential(federatedCredential('e1', 'c1', GITHUB, 'repo:org/app'));
        await storage.addFederatedCredential(federatedCredential('p1', 'c1', GITHUB, 'repo:org/', T0, prefix));
        expect(await storage.getTrustedIssuer(`${GITHUB}\u0000`)).toBeUndefined();
        expect(await storage.updateTrustedIssuer(`${GITHUB}\u0000`, { isShared: false }, T0)).toBeUndefined();
        expect(await storage.deleteTrustedIssuer(`${GITHUB}\u0000`)).toBe(false);
        expect(await storage.listFederatedCredentials({ clientId: 'c1\u0000' })).toEqual([]);
        expect(await storage.listFederatedCredentials({ issuer: `${GITHUB}\u0000` })).toEqual([]);
        expect(await storage.findFederatedCredentials(`${GITHUB}\u0000`, 'repo:org/app')).toEqual([]);
        expect(await storage.deleteFederatedCredential('c1\u0000', 'e1')).toBe(false);
        expect(await storage.deleteFederatedCredential('c1', 'e1\u0000')).toBe(false);
        // A token's `sub` is whatever its issuer signed: matched as a string, as everywhere else.
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:org/app\u0000'))).toEqual(['p1']);
        expect(ids(await storage.findFederatedCredentials(GITHUB, 'repo:org/\u0000'))).toEqual(['p1']);
        expect(await storage.findFederatedCredentials(GITHUB, 'repo:org\u0000/app')).toEqual([]);
        expect(ids(await storage.listFederatedCredentials())).toEqual(['e1', 'p1']);
      });
    });

    describe('transactions and the change feed', () => {
      it('a failure half-way leaves no issuer and no credential behind, and the revision where it was', async () => {
        await storage.createClient(client('c1'));
        await storage.createTrustedIssuer(trustedIssuer(CLUSTER));
        await storage.addFederatedCredential(federatedCredential('f0', 'c1', CLUSTER, 'system:serviceaccount:ns:sa'));
        const before = await storage.currentRevision();
        const failure = new Error('killed half-way');
        await expect(
          storage.transaction(async (tx) => {
            await tx.createTrustedIssuer(trustedIssuer(GITHUB));
            await tx.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app'));
            await tx.updateTrustedIssuer(CLUSTER, { isShared: true }, T0 + 1);
            await tx.deleteFederatedCredential('c1', 'f0');
            expect(ids(await tx.findFederatedCredentials(GITHUB, 'repo:org/app'))).toEqual(['f1']);
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await storage.getTrustedIssuer(GITHUB)).toBeUndefined();
        expect(await storage.getTrustedIssuer(CLUSTER)).toEqual(trustedIssuer(CLUSTER));
        expect(ids(await storage.listFederatedCredentials())).toEqual(['f0']);
        expect(await storage.currentRevision()).toBe(before);
      });

      it('commits an issuer and its credentials together; a caught conflict inside does not undo the rest', async () => {
        await storage.createClient(client('c1'));
        await storage.transaction(async (tx) => {
          await tx.createTrustedIssuer(trustedIssuer(GITHUB));
          await tx.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app'));
          await expect(tx.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/svc'))).rejects.toBeInstanceOf(StorageConflictError);
          await tx.addFederatedCredential(federatedCredential('f2', 'c1', GITHUB, 'repo:org/svc'));
        });
        expect(ids(await storage.listFederatedCredentials({ issuer: GITHUB }))).toEqual(['f1', 'f2']);
      });

      it('names the record each write touched: issuers by issuer, credentials by their issuer', async () => {
        await storage.createClient(client('c1'));
        let since = await storage.currentRevision();
        const expectChanges = async (expected: string[]) => {
          expect(await changesAfter(since)).toEqual([...expected].sort());
          since = await storage.currentRevision();
        };
        await storage.createTrustedIssuer(trustedIssuer(GITHUB));
        await expectChanges([`trusted_issuer ${GITHUB}`]);
        await storage.updateTrustedIssuer(GITHUB, { isShared: true }, T0 + 1);
        await expectChanges([`trusted_issuer ${GITHUB}`]);
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app'));
        await expectChanges([`federated_credential ${GITHUB}`]);
        await storage.deleteFederatedCredential('c1', 'f1');
        await expectChanges([`federated_credential ${GITHUB}`]);
        // Refused writes and reads record nothing.
        await storage.createTrustedIssuer(trustedIssuer(GITHUB)).catch(() => undefined);
        await storage.addFederatedCredential(federatedCredential('f2', 'ghost', GITHUB, 'repo:org/app')).catch(() => undefined);
        await storage.findFederatedCredentials(GITHUB, 'repo:org/app');
        await storage.listTrustedIssuers();
        expect(await storage.deleteFederatedCredential('c1', 'f1')).toBe(false);
        expect(await storage.updateTrustedIssuer('https://nope.example', { isShared: true }, T0)).toBeUndefined();
        await expectChanges([]);
      });

      it('names what a cascade took with it: a client’s credentials, an issuer’s credentials', async () => {
        await storage.createClient(client('c1'));
        await storage.createClient(client('c2'));
        await storage.createTrustedIssuer(trustedIssuer(GITHUB));
        await storage.createTrustedIssuer(trustedIssuer(CLUSTER));
        await storage.addFederatedCredential(federatedCredential('f1', 'c1', GITHUB, 'repo:org/app'));
        await storage.addFederatedCredential(federatedCredential('f2', 'c1', CLUSTER, 'system:serviceaccount:ns:sa'));
        await storage.addFederatedCredential(federatedCredential('f3', 'c2', GITHUB, 'repo:org/svc'));
        await storage.addFederatedCredential(federatedCredential('f4', 'c2', GITHUB, 'repo:org/', T0, { subjectMatch: 'prefix' }));
        const beforeClientDelete = await storage.currentRevision();
        await storage.deleteClient('c1');
        expect(await changesAfter(beforeClientDelete)).toEqual(['client c1', `federated_credential ${CLUSTER}`, `federated_credential ${GITHUB}`]);
        const beforeIssuerDelete = await storage.currentRevision();
        await storage.deleteTrustedIssuer(GITHUB);
        expect(await changesAfter(beforeIssuerDelete)).toEqual([
          `federated_credential ${GITHUB}`,
          `federated_credential ${GITHUB}`,
          `trusted_issuer ${GITHUB}`,
        ]);
      });
    });
  });
}
