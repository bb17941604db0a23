import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../src/admin/admin.js';
import { createMemoryStorage } from '../../src/storage/memory/memory-storage.js';
import { deriveSecrets, generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import { clientSecretMatches } from '../../src/secrets/client-secret.js';
import type { RegistryStores, Storage } from '../../src/storage/types.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';
import { createClock } from '../helpers/test-app.js';

function setup(options: { failInside?: keyof RegistryStores } = {}) {
  const clock = createClock();
  const inner = createMemoryStorage();
  // A storage whose transactions fail at one write, as a crash or a full disk half-way would.
  const storage: Storage = options.failInside
    ? {
        ...inner,
        transaction: (work) =>
          inner.transaction((tx) =>
            work({
              ...tx,
              [options.failInside!]: async () => {
                throw new Error('disk full');
              },
            }),
          ),
      }
    : inner;
  const { keyEncryptionKey, secretPepper } = deriveSecrets(parseMasterKey(generateMasterKey()));
  const admin = createAdmin({ storage, kek: keyEncryptionKey, secretPepper, now: clock.now, actor: 'cli' });
  return { admin, storage: inner, clock, secretPepper };
}

describe('admin operations are atomic', () => {
  it('a client whose secret cannot be stored is not created, and leaves no audit event', async () => {
    const { admin, storage } = setup({ failInside: 'addClientSecret' });
    await expect(admin.createClient({ name: 'billing' })).rejects.toThrow('disk full');
    expect(await storage.listClients()).toEqual([]);
    expect(await storage.listAuditEvents()).toEqual([]);
  });

  it('a change whose audit event cannot be written is rolled back', async () => {
    const { admin, storage } = setup({ failInside: 'appendAuditEvent' });
    await expect(admin.createApi({ identifier: 'https://orders.example', scopes: ['read'] })).rejects.toThrow('disk full');
    expect(await storage.getApi('https://orders.example')).toBeUndefined();
    expect(await storage.listKeys()).toEqual([]); // its signing key went with it
  });

  it('a key rotation that fails half-way leaves the old key active and no new key', async () => {
    const { admin, storage } = setup({ failInside: 'setKeyStatus' });
    await admin.ensureSigningKeys();
    const before = await storage.listKeys();
    expect(before).toHaveLength(1);
    await expect(admin.rotateSigningKey('RS256')).rejects.toThrow('disk full');
    expect(await storage.listKeys()).toEqual(before);
  });
});

describe('admin bootstrap', () => {
  it('creates the admin API and a client granted every admin scope; a supplied secret authenticates', async () => {
    const { admin, storage, secretPepper } = setup();
    expect(await admin.isRegistryEmpty()).toBe(true);
    const supplied = 'a-deployment-supplied-secret-of-40-chars!';
    const created = await admin.bootstrapAdminClient({ clientSecret: supplied });
    expect(created.clientSecret).toBe(supplied);
    const [secret] = await storage.listClientSecrets(created.clientId);
    expect(secret!.hash).not.toContain(supplied);
    expect(clientSecretMatches(secretPepper, supplied, secret!.hash)).toBe(true);
    const grant = await storage.findGrant(created.clientId, ADMIN_API_IDENTIFIER);
    expect(grant?.scopes).toEqual([
      'apis:read',
      'apis:write',
      'clients:read',
      'clients:write',
      'grants:read',
      'grants:write',
      'keys:read',
      'keys:write',
      'audit:read',
      'introspection:write',
      'issuers:read',
      'issuers:write',
      'usage:read',
      'exchange-policies:read',
      'exchange-policies:write',
      'overview:read',
      'tokens:inspect',
    ]);
    expect(await admin.isRegistryEmpty()).toBe(false);
    const [event] = (await admin.listAuditEvents()).items;
    expect(event).toMatchObject({ type: 'admin.bootstrapped', actor: 'cli', data: { secretSupplied: true } });
    expect(JSON.stringify(event)).not.toContain(supplied);
  });

  it('refuses a weak supplied secret and creates nothing', async () => {
    const { admin, storage } = setup();
    await expect(admin.bootstrapAdminClient({ clientSecret: 'short' })).rejects.toMatchObject({ code: 'validation_failed', field: 'client_secret' });
    expect(await storage.listClients()).toEqual([]);
    expect(await storage.getApi(ADMIN_API_IDENTIFIER)).toBeUndefined();
  });
});

describe('client names are unique', () => {
  it('creating or renaming to a name another client has is a conflict naming it; nothing is written', async () => {
    const { admin, storage } = setup();
    const billing = await admin.createClient({ name: 'billing' });
    const events = (await storage.listAuditEvents()).length;
    await expect(admin.createClient({ name: ' billing ' })).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
      field: 'name',
      message: `A client named "billing" already exists (${billing.clientId}): client names are unique`,
    });
    const reports = await admin.createClient({ name: 'reports' });
    await expect(admin.updateClient(reports.clientId, { name: 'billing' })).rejects.toMatchObject({ code: 'conflict', field: 'name' });
    expect((await storage.listClients()).map((client) => client.name).sort()).toEqual(['billing', 'reports']);
    expect((await storage.listAuditEvents()).length).toBe(events + 1);
    // Its own name is no conflict; a freed name can be taken.
    await expect(admin.updateClient(billing.clientId, { name: 'billing', description: 'bills' })).resolves.toMatchObject({ description: 'bills' });
    await admin.updateClient(billing.clientId, { name: 'billing-old' });
    await expect(admin.updateClient(reports.clientId, { name: 'billing' })).resolves.toMatchObject({ name: 'billing' });
  });

  it('twins an older database already holds keep working and keep their name; bootstrap picks a free default name', async () => {
    const { admin, storage } = setup();
    const { client } = await admin.createClient({ name: 'twin' });
    await storage.createClient({ ...client, clientId: 'twin-2' });
    await expect(admin.updateClient('twin-2', { name: 'twin', isEnabled: false })).resolves.toMatchObject({ name: 'twin', isEnabled: false });
    await expect(admin.createClient({ name: 'twin' })).rejects.toMatchObject({ code: 'conflict' });

    const first = await admin.bootstrapAdminClient();
    const second = await admin.bootstrapAdminClient();
    expect([(await storage.getClient(first.clientId))!.name, (await storage.getClient(second.clientId))!.name]).toEqual(['m2m-auth-admin', 'm2m-auth-admin-2']);
    await expect(admin.bootstrapAdminClient({ name: 'twin' })).rejects.toMatchObject({ code: 'conflict', field: 'name' });
  });
});

describe('built-in admin API upgrade', () => {
  it('an existing admin API gains introspection:write; full admins gain it too, narrower admins do not; a second run writes nothing', async () => {
    const { admin, storage } = setup();
    const boot = await admin.bootstrapAdminClient();
    const ci = await admin.createClient({ name: 'ci' });
    await admin.createGrant({ clientId: ci.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['grants:write'] });
    // The registry as a version without the scope left it.
    const api = (await storage.getApi(ADMIN_API_IDENTIFIER))!;
    const old = api.scopes.filter((scope) => scope.value !== 'introspection:write');
    await storage.updateApi(ADMIN_API_IDENTIFIER, { scopes: old }, api.updatedAt);
    const full = (await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!;
    await storage.updateGrant(full.id, { scopes: old.map((scope) => scope.value) }, full.updatedAt);

    expect(await admin.upgradeBuiltInAdminApi()).toEqual(['introspection:write']);
    expect((await storage.getApi(ADMIN_API_IDENTIFIER))!.scopes.map((scope) => scope.value)).toContain('introspection:write');
    expect((await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!.scopes).toContain('introspection:write');
    expect((await storage.findGrant(ci.clientId, ADMIN_API_IDENTIFIER))!.scopes).toEqual(['grants:write']);
    const [event] = (await admin.listAuditEvents({ type: 'admin.upgraded' })).items;
    expect(event?.data).toMatchObject({ addedScopes: ['introspection:write'], widenedGrants: [full.id] });
    const events = (await storage.listAuditEvents()).length;
    expect(await admin.upgradeBuiltInAdminApi()).toEqual([]);
    expect((await storage.listAuditEvents()).length).toBe(events);
  });

  it('an admin API from before usage counting gains usage:read, and its full admins with it', async () => {
    const { admin, storage } = setup();
    const boot = await admin.bootstrapAdminClient();
    const api = (await storage.getApi(ADMIN_API_IDENTIFIER))!;
    const old = api.scopes.filter((scope) => scope.value !== 'usage:read');
    await storage.updateApi(ADMIN_API_IDENTIFIER, { scopes: old }, api.updatedAt);
    const full = (await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!;
    await storage.updateGrant(full.id, { scopes: old.map((scope) => scope.value) }, full.updatedAt);
    expect(await admin.upgradeBuiltInAdminApi()).toEqual(['usage:read']);
    expect((await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!.scopes).toContain('usage:read');
  });
});

describe('built-in admin API upgrade for the web console', () => {
  it('an admin API from before the console gains overview:read and tokens:inspect; full admins gain them, narrower admins do not', async () => {
    const { admin, storage } = setup();
    const boot = await admin.bootstrapAdminClient();
    const auditor = await admin.createClient({ name: 'auditor' });
    await admin.createGrant({ clientId: auditor.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['audit:read'] });
    const api = (await storage.getApi(ADMIN_API_IDENTIFIER))!;
    const old = api.scopes.filter((scope) => scope.value !== 'overview:read' && scope.value !== 'tokens:inspect');
    await storage.updateApi(ADMIN_API_IDENTIFIER, { scopes: old }, api.updatedAt);
    const full = (await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!;
    await storage.updateGrant(full.id, { scopes: old.map((scope) => scope.value) }, full.updatedAt);

    expect(await admin.upgradeBuiltInAdminApi()).toEqual(['overview:read', 'tokens:inspect']);
    expect((await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!.scopes.slice(-2)).toEqual(['overview:read', 'tokens:inspect']);
    expect((await storage.findGrant(auditor.clientId, ADMIN_API_IDENTIFIER))!.scopes).toEqual(['audit:read']);
  });
});

describe('built-in admin API upgrade to workload identity federation', () => {
  it('an admin API from before trusted issuers gains issuers:read and issuers:write, and so do its full admins only', async () => {
    const { admin, storage } = setup();
    const boot = await admin.bootstrapAdminClient();
    const reader = await admin.createClient({ name: 'reader' });
    await admin.createGrant({ clientId: reader.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['apis:read', 'clients:read'] });
    const api = (await storage.getApi(ADMIN_API_IDENTIFIER))!;
    const old = api.scopes.filter((scope) => !scope.value.startsWith('issuers:'));
    await storage.updateApi(ADMIN_API_IDENTIFIER, { scopes: old }, api.updatedAt);
    const full = (await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!;
    await storage.updateGrant(full.id, { scopes: old.map((scope) => scope.value) }, full.updatedAt);

    expect(await admin.upgradeBuiltInAdminApi()).toEqual(['issuers:read', 'issuers:write']);
    expect((await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!.scopes.slice(-2)).toEqual(['issuers:read', 'issuers:write']);
    expect((await storage.findGrant(reader.clientId, ADMIN_API_IDENTIFIER))!.scopes).toEqual(['apis:read', 'clients:read']);
    expect(await admin.upgradeBuiltInAdminApi()).toEqual([]);
  });
});

describe('built-in admin API upgrade to token-exchange policies', () => {
  it('an admin API from before exchange policies gains exchange-policies:read and :write, and so do its full admins only', async () => {
    const { admin, storage } = setup();
    const boot = await admin.bootstrapAdminClient();
    const issuers = await admin.createClient({ name: 'issuers' });
    await admin.createGrant({ clientId: issuers.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['issuers:read', 'issuers:write'] });
    const api = (await storage.getApi(ADMIN_API_IDENTIFIER))!;
    const old = api.scopes.filter((scope) => !scope.value.startsWith('exchange-policies:'));
    await storage.updateApi(ADMIN_API_IDENTIFIER, { scopes: old }, api.updatedAt);
    const full = (await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!;
    await storage.updateGrant(full.id, { scopes: old.map((scope) => scope.value) }, full.updatedAt);

    expect(await admin.upgradeBuiltInAdminApi()).toEqual(['exchange-policies:read', 'exchange-policies:write']);
    expect((await storage.findGrant(boot.clientId, ADMIN_API_IDENTIFIER))!.scopes.slice(-2)).toEqual(['exchange-policies:read', 'exchange-policies:write']);
    expect((await storage.findGrant(issuers.clientId, ADMIN_API_IDENTIFIER))!.scopes).toEqual(['issuers:read', 'issuers:write']);
    expect(await admin.upgradeBuiltInAdminApi()).toEqual([]);
  });
});

describe('audit retention', () => {
  it('prunes events older than the retention and keeps the rest', async () => {
    const { admin, clock } = setup();
    await admin.createApi({ identifier: 'https://old.example' });
    clock.advance(91 * 86_400_000);
    await admin.createApi({ identifier: 'https://new.example' });
    expect(await admin.pruneAuditEvents(90)).toBe(1);
    expect((await admin.listAuditEvents()).items.map((event) => event.data.identifier)).toEqual(['https://new.example']);
    await expect(admin.pruneAuditEvents(0)).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('paging', () => {
  it('walks every client with opaque cursors and refuses a forged cursor', async () => {
    const { admin } = setup();
    for (let i = 0; i < 7; i += 1) await admin.createClient({ name: `svc-${i}` });
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.listClients({ limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      names.push(...page.items.map((client) => client.name));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(names.sort()).toEqual(['svc-0', 'svc-1', 'svc-2', 'svc-3', 'svc-4', 'svc-5', 'svc-6']);
    await expect(admin.listClients({ cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'validation_failed', field: 'cursor' });
    await expect(admin.listClients({ limit: 0 })).rejects.toMatchObject({ field: 'limit' });
  });
});
