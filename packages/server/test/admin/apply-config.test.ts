import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdmin, type Admin } from '../../src/admin/admin.js';
import { allPages } from '../../src/admin/paging.js';
import { isAdminError } from '../../src/errors/admin-error.js';
import { deriveSecrets, generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import { openStorage } from '../../src/storage/open-storage.js';
import type { RegistryStores, Storage } from '../../src/storage/types.js';
import { createClock } from '../helpers/test-app.js';
import { availableStacks } from '../helpers/stacks.js';

const { keyEncryptionKey, secretPepper } = deriveSecrets(parseMasterKey(generateMasterKey()));

async function makeAdmin(storage: Storage, actor = 'cli') {
  // A clock that ticks on every read, so lists and the audit log have one order.
  const clock = createClock();
  const now = () => (clock.advance(1), clock.now());
  const admin = createAdmin({ storage, kek: keyEncryptionKey, secretPepper, now, actor });
  await admin.ensureSigningKeys();
  return admin;
}

/** Everything apply manages, without times and generated ids: what a round trip must reproduce. */
async function registry(admin: Admin) {
  const clients = await allPages((page) => admin.listClients(page));
  const names = new Map(clients.map((client) => [client.clientId, client.name]));
  return {
    apis: (await allPages((page) => admin.listApis(page))).map(({ createdAt, updatedAt, ...api }) => api),
    clients: clients.map(({ createdAt, updatedAt, ...client }) => client),
    grants: (await allPages((page) => admin.listGrants(page))).map((grant) => ({
      client: names.get(grant.clientId),
      api: grant.apiIdentifier,
      scopes: grant.scopes,
      ttl: grant.tokenTtlSeconds,
    })),
  };
}

/** A stored client's fields, taken from a client made through the admin operations (then deleted). */
async function clientRecord(admin: Admin) {
  const { client } = await admin.createClient({ name: `template-${Math.random()}` });
  await admin.deleteClient(client.clientId);
  return client;
}

/**
 * An export applied to a fresh store: `view` reads there what it reads here, the fresh store
 * exports the same document, and applying it again changes nothing.
 */
async function expectReproducedOnFreshStore<T>(admin: Admin, exported: Awaited<ReturnType<Admin['exportConfig']>>, view: (admin: Admin) => Promise<T>) {
  const fresh = await openStorage({ kind: 'memory' });
  try {
    const other = await makeAdmin(fresh);
    await other.applyConfig(structuredClone(exported));
    expect(await view(other)).toEqual(await view(admin));
    expect(await other.exportConfig()).toEqual(exported);
    expect((await other.applyConfig(exported)).plan.changes).toEqual([]);
  } finally {
    await fresh.close();
  }
}

/** The registry's audit trail, oldest first, without the signing keys made at start. */
const auditTypes = async (admin: Admin) =>
  (await admin.listAuditEvents({ limit: 1000 })).items
    .map((event) => event.type)
    .filter((type) => !type.startsWith('key.'))
    .reverse();

const document = {
  version: 1,
  apis: [
    {
      identifier: 'https://orders.example',
      name: 'Orders',
      scopes: [{ value: 'read:orders', description: 'Read orders' }, 'write:orders'],
      token_ttl_seconds: 600,
    },
    { identifier: 'https://stock.example', scopes: ['read:stock'] },
  ],
  clients: [
    { name: 'billing-service', description: 'Bills customers', default_api: 'https://orders.example' },
    { name: 'stock-sync', enabled: false, introspect_apis: ['https://stock.example'] },
  ],
  grants: [
    { client: 'billing-service', api: 'https://orders.example', scopes: ['read:orders'] },
    { client: 'stock-sync', api: 'https://stock.example', scopes: ['read:stock'], token_ttl_seconds: 120 },
  ],
};

describe.each(['memory', 'sqlite'] as const)('applyConfig on %s storage', (kind) => {
  let storage: Storage;
  let admin: Admin;

  beforeEach(async () => {
    storage = await openStorage(kind === 'memory' ? { kind } : { kind, path: ':memory:' });
    admin = await makeAdmin(storage);
  });
  afterEach(() => storage.close());

  it('plans every create, applies it, and returns each new client secret once', async () => {
    const result = await admin.applyConfig(document);
    expect(result.applied).toBe(true);
    expect(result.plan.changes.map((change) => [change.action, change.resource, change.key])).toEqual([
      ['create', 'api', 'https://orders.example'],
      ['create', 'api', 'https://stock.example'],
      ['create', 'client', 'billing-service (new)'],
      ['create', 'client', 'stock-sync (new)'],
      ['create', 'grant', 'billing-service → https://orders.example'],
      ['create', 'grant', 'stock-sync → https://stock.example'],
    ]);
    expect(result.plan.changes[1]!.after).toEqual({
      identifier: 'https://stock.example',
      name: 'https://stock.example',
      scopes: [{ value: 'read:stock', description: '' }],
      signing_alg: 'RS256',
      token_ttl_seconds: 900,
      token_format: 'jwt',
    });
    expect(result.plan.kept).toEqual([]);
    expect(result.createdSecrets).toHaveLength(2);
    expect(result.createdSecrets.map((secret) => secret.resource === 'client' && secret.name)).toEqual(['billing-service', 'stock-sync']);
    const state = await registry(admin);
    expect(state.clients.find((client) => client.name === 'stock-sync')).toMatchObject({
      isEnabled: false,
      tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post'],
    });
    expect(state.grants).toEqual([
      { client: 'billing-service', api: 'https://orders.example', scopes: ['read:orders'], ttl: null },
      { client: 'stock-sync', api: 'https://stock.example', scopes: ['read:stock'], ttl: 120 },
    ]);
    // One audit event per change, named as the single operations name them; never a secret.
    expect(await auditTypes(admin)).toEqual(['api.created', 'api.created', 'client.created', 'client.created', 'grant.created', 'grant.created']);
    const trail = JSON.stringify((await admin.listAuditEvents({ limit: 1000 })).items) + JSON.stringify(result.plan);
    for (const secret of result.createdSecrets) expect(trail).not.toContain(secret.resource === 'client' ? secret.client_secret : secret.shared_secret);
  });

  it('is idempotent: a second apply has an empty plan and writes nothing', async () => {
    await admin.applyConfig(document);
    const events = await auditTypes(admin);
    const again = await admin.applyConfig(document);
    expect(again).toEqual({ plan: { changes: [], kept: [] }, applied: false, createdSecrets: [] });
    expect(await auditTypes(admin)).toEqual(events);
  });

  it('plans updates with each changed field before and after', async () => {
    await admin.applyConfig(document);
    const changed = structuredClone(document);
    changed.apis[1]!.scopes = ['read:stock', 'write:stock'];
    (changed.apis[1] as { token_format?: string }).token_format = 'opaque';
    changed.clients[0]!.description = 'Bills everyone';
    changed.clients[1]!.enabled = true;
    changed.grants[1]!.scopes = ['read:stock', 'write:stock'];
    const result = await admin.applyConfig(changed);
    expect(result.plan.changes).toEqual([
      {
        action: 'update',
        resource: 'api',
        key: 'https://stock.example',
        changes: {
          scopes: {
            before: [{ value: 'read:stock', description: '' }],
            after: [
              { value: 'read:stock', description: '' },
              { value: 'write:stock', description: '' },
            ],
          },
          token_format: { before: 'jwt', after: 'opaque' },
        },
      },
      {
        action: 'update',
        resource: 'client',
        key: expect.stringMatching(/^billing-service \(\w+\)$/),
        changes: { description: { before: 'Bills customers', after: 'Bills everyone' } },
      },
      { action: 'update', resource: 'client', key: expect.stringMatching(/^stock-sync \(\w+\)$/), changes: { enabled: { before: false, after: true } } },
      {
        action: 'update',
        resource: 'grant',
        key: 'stock-sync → https://stock.example',
        changes: { scopes: { before: ['read:stock'], after: ['read:stock', 'write:stock'] } },
      },
    ]);
    expect(result.createdSecrets).toEqual([]);
    expect((await auditTypes(admin)).slice(-4)).toEqual(['api.updated', 'client.updated', 'client.enabled', 'grant.updated']);
    expect((await admin.applyConfig(changed)).plan.changes).toEqual([]);
  });

  it('carries sender-constraint policies: dpop_bound_access_tokens and require_sender_constrained, through apply, export and back', async () => {
    await admin.applyConfig(document);
    const strict = structuredClone(document) as typeof document & { apis: Record<string, unknown>[]; clients: Record<string, unknown>[] };
    strict.apis[0]!.require_sender_constrained = true;
    strict.clients[0]!.dpop_bound_access_tokens = true;
    const result = await admin.applyConfig(strict);
    expect(result.plan.changes.map((change) => (change.action === 'update' ? change.changes : undefined))).toEqual([
      { require_sender_constrained: { before: false, after: true } },
      { dpop_bound_access_tokens: { before: false, after: true } },
    ]);
    expect((await admin.getApi('https://orders.example')).requireSenderConstrained).toBe(true);
    const exported = await admin.exportConfig();
    expect(exported.apis?.find((api) => api.identifier === 'https://orders.example')).toMatchObject({ require_sender_constrained: true });
    expect(exported.apis?.find((api) => api.identifier === 'https://stock.example')).not.toHaveProperty('require_sender_constrained');
    expect(exported.clients?.find((client) => client.name === 'billing-service')).toMatchObject({ dpop_bound_access_tokens: true });
    expect((await admin.applyConfig(exported)).plan.changes).toEqual([]);
    // Back to the document without them: both are turned off.
    expect((await admin.applyConfig(document)).plan.changes).toHaveLength(2);
    expect((await admin.getApi('https://orders.example')).requireSenderConstrained).toBeUndefined();
  });

  it('carries mutual TLS: tls_client_auth by subject or DNS names, certificate-bound tokens, through apply, export and back', async () => {
    await admin.applyConfig(document);
    const tls = structuredClone(document) as typeof document & { clients: Record<string, unknown>[] };
    Object.assign(tls.clients[0]!, {
      token_endpoint_auth_methods: ['tls_client_auth'],
      tls_client_auth_subject_dn: 'CN=billing,O=Example',
      tls_client_certificate_bound_access_tokens: true,
    });
    const result = await admin.applyConfig(tls);
    expect(result.plan.changes.map((change) => (change.action === 'update' ? change.changes : undefined))).toEqual([
      {
        token_endpoint_auth_methods: { before: ['client_secret_basic', 'client_secret_post'], after: ['tls_client_auth'] },
        tls_client_auth_subject_dn: { before: null, after: 'CN=billing,O=Example' },
        tls_client_certificate_bound_access_tokens: { before: false, after: true },
      },
    ]);
    const exported = await admin.exportConfig();
    expect(exported.clients?.find((client) => client.name === 'billing-service')).toMatchObject({
      tls_client_auth_subject_dn: 'CN=billing,O=Example',
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(exported.clients?.find((client) => client.name === 'billing-service')).not.toHaveProperty('tls_client_auth_san_dns');
    await expectReproducedOnFreshStore(admin, exported, registry);
    // DNS names instead of the subject: the subject goes.
    const byName = structuredClone(tls);
    delete byName.clients[0]!.tls_client_auth_subject_dn;
    byName.clients[0]!.tls_client_auth_san_dns = ['billing.example'];
    await admin.applyConfig(byName);
    const billing = (await allPages((page) => admin.listClients(page))).find((client) => client.name === 'billing-service')!;
    expect(billing.tlsClientAuthSanDns).toEqual(['billing.example']);
    expect(billing.tlsClientAuthSubjectDn).toBeUndefined();
  });

  it('reports a mutual-TLS client without its subject or names, and a subject that is not a DN, at their paths', async () => {
    const broken = structuredClone(document) as typeof document & { clients: Record<string, unknown>[] };
    Object.assign(broken.clients[0]!, { token_endpoint_auth_methods: ['tls_client_auth'] });
    await expect(admin.applyConfig(broken)).rejects.toMatchObject({
      message: expect.stringContaining('clients[0]: tls_client_auth needs exactly one of tls_client_auth_subject_dn or tls_client_auth_san_dns'),
    });
    broken.clients[0]!.tls_client_auth_subject_dn = 'billing';
    await expect(admin.applyConfig(broken)).rejects.toMatchObject({
      message: expect.stringContaining('clients[0].tls_client_auth_subject_dn: tls_client_auth_subject_dn needs type=value'),
    });
  });

  it('applies, exports and removes a client token quota', async () => {
    const withQuota = structuredClone(document) as typeof document & { clients: Record<string, unknown>[] };
    withQuota.clients[0]!.quota = { per_hour: 500, mode: 'observe' };
    const created = await admin.applyConfig(withQuota);
    expect(created.plan.changes.find((change) => change.resource === 'client' && change.key.startsWith('billing-service'))?.after).toMatchObject({
      quota: { per_hour: 500, per_day: null, mode: 'observe' },
    });
    const billing = (await allPages((page) => admin.listClients(page))).find((client) => client.name === 'billing-service')!;
    expect(billing.quota).toEqual({ perHour: 500, perDay: null, mode: 'observe' });
    const exported = await admin.exportConfig();
    expect(exported.clients?.find((client) => client.name === 'billing-service')?.quota).toEqual({ per_hour: 500, per_day: null, mode: 'observe' });
    // A client without one is exported without the field.
    expect(exported.clients?.find((client) => client.name === 'stock-sync')).not.toHaveProperty('quota');
    expect((await admin.applyConfig(exported)).plan.changes).toEqual([]);
    const removed = await admin.applyConfig(document);
    expect(removed.plan.changes).toEqual([
      {
        action: 'update',
        resource: 'client',
        key: expect.stringMatching(/^billing-service \(\w+\)$/),
        changes: { quota: { before: { per_hour: 500, per_day: null, mode: 'observe' }, after: null } },
      },
    ]);
    expect((await admin.getClient(billing.clientId)).client.quota).toBeUndefined();
    await expect(admin.applyConfig({ ...document, clients: [{ name: 'x', quota: { per_hour: 0 } }], grants: [] })).rejects.toMatchObject({
      message: expect.stringContaining('clients[0].quota: quota.per_hour must be a whole number of tokens from 1'),
    });
  });

  it('keeps what the document does not list unless prune is asked for, then deletes it', async () => {
    await admin.applyConfig(document);
    const smaller = { version: 1, apis: [document.apis[0]], clients: [document.clients[0]], grants: [document.grants[0]] };
    const kept = await admin.applyConfig(smaller);
    expect(kept.applied).toBe(false);
    expect(kept.plan.changes).toEqual([]);
    expect(kept.plan.kept).toEqual([
      { resource: 'api', key: 'https://stock.example' },
      { resource: 'client', key: expect.stringMatching(/^stock-sync \(\w+\)$/) },
      { resource: 'grant', key: 'stock-sync → https://stock.example' },
    ]);

    const dry = await admin.applyConfig(smaller, { prune: true, dryRun: true });
    expect(dry.applied).toBe(false);
    expect(dry.plan.changes.map((change) => [change.action, change.resource])).toEqual([
      ['delete', 'api'],
      ['delete', 'client'],
      ['delete', 'grant'],
    ]);
    expect((await registry(admin)).apis).toHaveLength(2);

    const pruned = await admin.applyConfig(smaller, { prune: true });
    expect(pruned.applied).toBe(true);
    const state = await registry(admin);
    expect(state.apis.map((api) => api.identifier)).toEqual(['https://orders.example']);
    expect(state.clients.map((client) => client.name)).toEqual(['billing-service']);
    expect(state.grants).toHaveLength(1);
    // Children go first, each with its own event.
    expect((await auditTypes(admin)).slice(-3)).toEqual(['grant.deleted', 'client.deleted', 'api.deleted']);
  });

  it('changes nothing on a dry run', async () => {
    const result = await admin.applyConfig(document, { dryRun: true });
    expect(result.plan.changes).toHaveLength(6);
    expect(result).toMatchObject({ applied: false, createdSecrets: [] });
    expect(await registry(admin)).toEqual({ apis: [], clients: [], grants: [] });
    expect(await auditTypes(admin)).toEqual([]);
  });

  it('leaves nothing behind when a step fails half-way: no resource, no audit event', async () => {
    // The last step (a grant) fails after the APIs and clients were written in the transaction.
    const failing: Storage = {
      ...storage,
      transaction: (work) =>
        storage.transaction((tx) =>
          work({
            ...tx,
            createGrant: async (grant) => {
              if (grant.apiIdentifier === 'https://stock.example') throw new Error('disk full');
              return tx.createGrant(grant);
            },
          } as RegistryStores),
        ),
    };
    const failingAdmin = await makeAdmin(failing);
    await expect(failingAdmin.applyConfig(document)).rejects.toThrow('disk full');
    expect(await registry(admin)).toEqual({ apis: [], clients: [], grants: [] });
    expect(await auditTypes(admin)).toEqual([]);
    // The same document applies cleanly afterwards.
    expect((await admin.applyConfig(document)).plan.changes).toHaveLength(6);
  });

  it('reproduces the registry on a fresh store from its export (ids kept, new secrets issued)', async () => {
    await admin.applyConfig(document);
    await admin.createApi({ identifier: 'https://hs.example', scopes: ['x'], signingAlg: 'HS256' });
    await admin.createClient({ name: 'jwt-client', jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] } });
    const exported = await admin.exportConfig();
    expect(JSON.stringify(exported)).not.toMatch(/secret_hash|client_secret"|m2msk_/);

    const fresh = await openStorage({ kind: 'memory' });
    try {
      const other = await makeAdmin(fresh);
      const result = await other.applyConfig(structuredClone(exported));
      expect(await registry(other)).toEqual(await registry(admin));
      expect(result.createdSecrets.map((secret) => (secret.resource === 'client' ? secret.name : secret.identifier))).toEqual([
        'https://hs.example',
        'billing-service',
        'stock-sync',
      ]);
      expect(await other.exportConfig()).toEqual(exported);
      expect((await other.applyConfig(exported)).plan.changes).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

const GITHUB = 'https://token.actions.githubusercontent.com';
const CLUSTER = 'https://k8s.example/clusters/payments';

function clusterJwks(kid = 'cluster-1') {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' }] };
}

/** Trusted issuers and federated credentials, without times and generated ids: what a round trip must reproduce. */
async function federation(admin: Admin) {
  const clients = await allPages((page) => admin.listClients(page));
  const credentials = [];
  for (const client of clients) {
    for (const { id, clientId, createdAt, ...credential } of await admin.listFederatedCredentials(client.clientId))
      credentials.push({ client: client.name, ...credential });
  }
  return { issuers: (await allPages((page) => admin.listTrustedIssuers(page))).map(({ createdAt, updatedAt, ...issuer }) => issuer), credentials };
}

const federatedDocument = () => ({
  version: 1,
  trusted_issuers: [{ issuer: GITHUB }, { issuer: CLUSTER, kind: 'kubernetes', jwks: clusterJwks() }],
  clients: [
    {
      name: 'deployer',
      federated_credentials: [
        { issuer: GITHUB, subject: 'repo:my-org/app:', subject_match: 'prefix', claims: { repository_owner_id: '42' } },
        { issuer: CLUSTER, subject: 'system:serviceaccount:payments:api', audiences: ['https://auth.test'], description: 'the payments API pod' },
      ],
    },
  ],
});

/** Memory, and each stack this run reaches (SQLite; PostgreSQL, whose jsonb hands objects back in its own key order). */
const everyStore: [string, () => Promise<{ storage: Storage; close(): Promise<void> }>][] = [
  ['memory', async () => openStorage({ kind: 'memory' }).then((storage) => ({ storage, close: () => storage.close() }))],
  ...(await availableStacks()).map((stack): [string, () => Promise<{ storage: Storage; close(): Promise<void> }>] => [stack.name, () => stack.open(Date.now)]),
];

describe.each(everyStore)('applyConfig with workload identity federation on %s', (_, open) => {
  let storage: Storage;
  let admin: Admin;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ storage, close } = await open());
    admin = await makeAdmin(storage);
  });
  afterEach(() => close());

  it('creates trusted issuers with their kinds’ defaults and the clients’ federated credentials; a second apply changes nothing', async () => {
    const document = federatedDocument();
    const result = await admin.applyConfig(document);
    expect(result.plan.changes.map((change) => [change.action, change.resource, change.key])).toEqual([
      ['create', 'trusted_issuer', GITHUB],
      ['create', 'trusted_issuer', CLUSTER],
      ['create', 'client', 'deployer (new)'],
      ['create', 'federated_credential', `deployer ← ${GITHUB} repo:my-org/app: (prefix)`],
      ['create', 'federated_credential', `deployer ← ${CLUSTER} system:serviceaccount:payments:api`],
    ]);
    expect(result.plan.changes[0]!.after).toEqual({
      issuer: GITHUB,
      kind: 'oidc',
      jwks_uri: null,
      jwks: null,
      token_reuse: 'refuse',
      max_token_lifetime_seconds: 3600,
      shared: true,
    });
    expect(result.plan.changes[4]!.after).toEqual({
      client: 'deployer',
      issuer: CLUSTER,
      subject: 'system:serviceaccount:payments:api',
      subject_match: 'exact',
      audiences: ['https://auth.test'],
      claims: {},
      description: 'the payments API pod',
    });
    expect(await federation(admin)).toEqual({
      issuers: [
        { issuer: GITHUB, kind: 'oidc', jwksUri: null, jwks: null, tokenReuse: 'refuse', maxTokenLifetimeSeconds: 3600, isShared: true },
        {
          issuer: CLUSTER,
          kind: 'kubernetes',
          jwksUri: null,
          jwks: document.trusted_issuers[1]!.jwks,
          tokenReuse: 'allow',
          maxTokenLifetimeSeconds: 3600,
          isShared: false,
        },
      ],
      credentials: [
        {
          client: 'deployer',
          issuer: GITHUB,
          subject: 'repo:my-org/app:',
          subjectMatch: 'prefix',
          audiences: [],
          claims: { repository_owner_id: '42' },
          description: '',
        },
        {
          client: 'deployer',
          issuer: CLUSTER,
          subject: 'system:serviceaccount:payments:api',
          subjectMatch: 'exact',
          audiences: ['https://auth.test'],
          claims: {},
          description: 'the payments API pod',
        },
      ],
    });
    expect(await auditTypes(admin)).toEqual([
      'client.created',
      'trusted_issuer.added',
      'trusted_issuer.added',
      'client.federated_credential_added',
      'client.federated_credential_added',
    ]);
    expect(await admin.applyConfig(document)).toEqual({ plan: { changes: [], kept: [] }, applied: false, createdSecrets: [] });
  });

  it('reproduces trusted issuers and federated credentials on a fresh store from its export', async () => {
    await admin.applyConfig(federatedDocument());
    await admin.createClient({ name: 'plain' });
    const exported = await admin.exportConfig();
    expect(exported.trusted_issuers!.map((issuer) => issuer.issuer)).toEqual([GITHUB, CLUSTER]);
    expect(exported.clients!.find((client) => client.name === 'deployer')!.federated_credentials).toHaveLength(2);
    // A client without federated credentials exports as before.
    expect(exported.clients!.find((client) => client.name === 'plain')).not.toHaveProperty('federated_credentials');

    await expectReproducedOnFreshStore(admin, exported, federation);
  });

  it('plans issuer changes field by field; a credential whose rule changed is replaced, shown as an update', async () => {
    await admin.applyConfig(federatedDocument());
    const before = await admin.listFederatedCredentials((await admin.listClients()).items[0]!.clientId);
    const changed = federatedDocument();
    changed.trusted_issuers[1] = { issuer: CLUSTER, kind: 'kubernetes', jwks: clusterJwks('cluster-2') };
    (changed.trusted_issuers[0] as Record<string, unknown>).max_token_lifetime_seconds = 600;
    changed.clients[0]!.federated_credentials[1]!.audiences = ['https://auth.test', 'https://auth.example'];
    const result = await admin.applyConfig(changed);
    expect(result.plan.changes).toEqual([
      { action: 'update', resource: 'trusted_issuer', key: GITHUB, changes: { max_token_lifetime_seconds: { before: 3600, after: 600 } } },
      { action: 'update', resource: 'trusted_issuer', key: CLUSTER, changes: { jwks: expect.objectContaining({ after: changed.trusted_issuers[1]!.jwks }) } },
      {
        action: 'update',
        resource: 'federated_credential',
        key: `deployer ← ${CLUSTER} system:serviceaccount:payments:api`,
        changes: { audiences: { before: ['https://auth.test'], after: ['https://auth.test', 'https://auth.example'] } },
      },
    ]);
    expect((await auditTypes(admin)).slice(-4)).toEqual([
      'client.federated_credential_removed',
      'trusted_issuer.updated',
      'trusted_issuer.updated',
      'client.federated_credential_added',
    ]);
    const after = await admin.listFederatedCredentials(before[0]!.clientId);
    expect(after.map((credential) => credential.id)).toContain(before[0]!.id);
    expect(after.map((credential) => credential.id)).not.toContain(before[1]!.id);
    expect((await admin.applyConfig(changed)).plan.changes).toEqual([]);
  });

  it('replaces a bare subject prefix before its issuer becomes shared, in one apply', async () => {
    const document = {
      version: 1,
      trusted_issuers: [{ issuer: CLUSTER, kind: 'kubernetes', jwks: clusterJwks() }],
      clients: [{ name: 'deployer', federated_credentials: [{ issuer: CLUSTER, subject: 'system:serviceaccount:payments:', subject_match: 'prefix' }] }],
    };
    await admin.applyConfig(document);
    document.trusted_issuers[0] = { ...document.trusted_issuers[0]!, shared: true } as (typeof document.trusted_issuers)[0];
    await expect(admin.applyConfig(document)).rejects.toMatchObject({ message: expect.stringContaining('needs a claim condition') });
    (document.clients[0]!.federated_credentials[0] as Record<string, unknown>).claims = { 'kubernetes.io/namespace': 'payments' };
    const result = await admin.applyConfig(document);
    expect(result.plan.changes.map((change) => `${change.action} ${change.resource}`)).toEqual(['update trusted_issuer', 'update federated_credential']);
    expect((await federation(admin)).credentials[0]).toMatchObject({ claims: { 'kubernetes.io/namespace': 'payments' } });
  });

  it('keeps unlisted issuers and credentials unless prune, then removes the credentials before their issuer', async () => {
    await admin.applyConfig(federatedDocument());
    const smaller = federatedDocument();
    smaller.trusted_issuers = [smaller.trusted_issuers[0]!];
    smaller.clients[0]!.federated_credentials = [smaller.clients[0]!.federated_credentials[0]!];
    const kept = await admin.applyConfig(smaller);
    expect(kept.plan).toEqual({
      changes: [],
      kept: [
        { resource: 'trusted_issuer', key: CLUSTER },
        { resource: 'federated_credential', key: `deployer ← ${CLUSTER} system:serviceaccount:payments:api` },
      ],
    });
    const pruned = await admin.applyConfig(smaller, { prune: true });
    expect(pruned.plan.changes.map((change) => `${change.action} ${change.resource}`)).toEqual(['delete trusted_issuer', 'delete federated_credential']);
    expect((await auditTypes(admin)).slice(-2)).toEqual(['client.federated_credential_removed', 'trusted_issuer.removed']);
    expect((await federation(admin)).issuers.map((issuer) => issuer.issuer)).toEqual([GITHUB]);
    // Pruning a client takes its credentials first, each with its own event.
    await admin.applyConfig({ version: 1, trusted_issuers: [{ issuer: GITHUB }] }, { prune: true });
    expect((await auditTypes(admin)).slice(-2)).toEqual(['client.federated_credential_removed', 'client.deleted']);
    expect(await federation(admin)).toEqual({ issuers: [expect.objectContaining({ issuer: GITHUB })], credentials: [] });
  });
});

describe('applyConfig: documents it refuses', () => {
  let storage: Storage;
  let admin: Admin;
  beforeEach(async () => {
    storage = await openStorage({ kind: 'memory' });
    admin = await makeAdmin(storage);
  });
  afterEach(() => storage.close());

  const refusal = async (input: unknown) => {
    const error = await admin.applyConfig(input).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!isAdminError(error)) throw new Error(`expected an AdminError, got ${String(error)}`);
    expect(error.code).toBe('validation_failed');
    return error.message;
  };

  it('names every problem at its path, and changes nothing', async () => {
    const message = await refusal({
      version: 1,
      apis: [
        { identifier: 'not a uri', scopes: ['ok', 'ok'] },
        { identifier: 'https://a.example', signing_alg: 'none', token_ttl_seconds: 5, token_format: 'paseto' },
        { identifier: 'urn:m2m-auth:mine' },
      ],
      clients: [{ name: '' }, { name: 'x', token_endpoint_auth_methods: ['private_key_jwt'], colour: 'blue' }],
      grants: [
        { client: 'nobody', api: 'https://a.example' },
        { client: 'x', api: 'https://missing.example' },
        { client: 'x', api: 'https://a.example', scopes: ['undefined:scope'] },
      ],
    });
    for (const line of [
      'apis[0].identifier: identifier must be an absolute URI',
      'apis[0].scopes: scope ok is listed twice',
      'apis[1].signing_alg: alg must be one of',
      'apis[1].token_ttl_seconds: token TTL must be',
      'apis[1].token_format: token format must be one of jwt, opaque',
      'apis[2].identifier: identifiers starting with urn:m2m-auth: are reserved',
      'clients[0].name: name must be a non-empty string',
      'clients[1].colour: unknown field',
      'clients[1].jwks: private_key_jwt needs the client public keys',
      'grants[0].client: no client of the document has the client_id or name "nobody"',
      'grants[1].api: https://missing.example is not an API of this document',
      'grants[2].scopes: scope "undefined:scope" is not defined on https://a.example',
    ]) {
      expect(message).toContain(line);
    }
    expect(await registry(admin)).toEqual({ apis: [], clients: [], grants: [] });
  });

  it('refuses trusted issuers and federated credentials the federation rules refuse, each at its path', async () => {
    const { keys } = clusterJwks();
    const message = await refusal({
      version: 1,
      trusted_issuers: [
        { issuer: 'http://plain.example' },
        { issuer: 'spiffe://example.org', kind: 'spiffe' },
        { issuer: 'https://private.example', jwks: { keys: [{ ...keys[0], d: 'c2VjcmV0' }] } },
        { issuer: GITHUB, shared: false },
        { issuer: CLUSTER, jwks_uri: 'https://k8s.example/keys', audience: 'x' },
        { issuer: CLUSTER },
      ],
      clients: [
        {
          name: 'deployer',
          federated_credentials: [
            { issuer: 'https://unknown.example', subject: 'a:b:c' },
            { issuer: CLUSTER, subject: 'system:*' },
            { issuer: CLUSTER, subject: 'system:serviceaccount:payments:api', claims: { sub: 'x' } },
            { issuer: CLUSTER, subject: 'system:serviceaccount:payments:api', claims: { ref: 42 } },
            { issuer: CLUSTER, subject: 'system:serviceaccount:ops:job' },
            { issuer: CLUSTER, subject: 'system:serviceaccount:ops:job', description: 'again' },
          ],
        },
        { name: 'crowded', federated_credentials: Array.from({ length: 21 }, (_, n) => ({ issuer: CLUSTER, subject: `system:serviceaccount:ns:sa-${n}` })) },
      ],
    });
    for (const line of [
      'trusted_issuers[0].issuer: issuer must use https',
      'trusted_issuers[1].jwks: a SPIFFE trust domain has no discovery document',
      'trusted_issuers[2].jwks: jwks must contain public keys only',
      `trusted_issuers[3].shared: ${GITHUB} is shared by every customer of its platform`,
      'trusted_issuers[4].audience: unknown field',
      `trusted_issuers[5].issuer: a second trusted issuer ${CLUSTER}`,
      'clients[0].federated_credentials[0].issuer: https://unknown.example is not a trusted issuer of this document',
      'clients[0].federated_credentials[1].subject: subject is matched literally: a wildcard is not allowed',
      'clients[0].federated_credentials[2].claims: claim sub cannot be a condition',
      'clients[0].federated_credentials[3].claims: claim "ref" must be a non-empty string',
      'clients[0].federated_credentials[5].subject: a second federated credential',
      'clients[1].federated_credentials: a client may have at most 20 federated credentials',
    ]) {
      expect(message).toContain(line);
    }
    expect(await storage.listTrustedIssuers()).toEqual([]);
  });

  it('refuses to change the kind of a trusted issuer', async () => {
    await admin.addTrustedIssuer({ issuer: CLUSTER, kind: 'kubernetes' });
    expect(await refusal({ version: 1, trusted_issuers: [{ issuer: CLUSTER }] })).toContain(
      "trusted_issuers[0].kind: the server's issuer is of kind kubernetes; a kind does not change",
    );
  });

  it('refuses a document without version 1', async () => {
    expect(await refusal({ apis: [] })).toContain('version: must be 1');
    expect(await refusal([])).toContain('must be a mapping');
  });

  it('refuses a client name used as a reference that is not unique, in the document or on the server', async () => {
    expect(
      await refusal({
        version: 1,
        apis: [{ identifier: 'https://a.example' }],
        clients: [
          { name: 'twin', client_id: 'one' },
          { name: 'twin', client_id: 'two' },
        ],
        grants: [{ client: 'twin', api: 'https://a.example' }],
      }),
    ).toContain('grants[0].client: "twin" names 2 clients of the document; refer to the client by its client_id');

    // Twins made before names were unique (a database of an older version): written directly.
    for (const clientId of ['twin-1', 'twin-2']) await storage.createClient({ ...(await clientRecord(admin)), clientId, name: 'twin' });
    expect(await refusal({ version: 1, clients: [{ name: 'twin' }] })).toMatch(/clients\[0\]\.name: 2 clients on the server are named "twin"/);
    expect(
      await refusal({
        version: 1,
        apis: [{ identifier: 'https://a.example' }],
        clients: [{ name: 'twin', client_id: 'three' }],
        grants: [{ client: 'twin', api: 'https://a.example' }],
      }),
    ).toMatch(/grants\[0\]\.client: "twin" also names a client on the server that the document does not list/);
  });

  it('refuses two clients of one name in a document, and a name a client the document leaves in place has', async () => {
    const twice = await refusal({ version: 1, clients: [{ name: 'billing' }, { name: 'billing', client_id: 'billing-2' }] });
    expect(twice).toContain('clients[1].name: a second client named billing (the first is clients[0])');

    const kept = (await admin.createClient({ name: 'billing' })).clientId;
    const renamed = await admin.createClient({ name: 'reports' });
    expect(await refusal({ version: 1, clients: [{ name: 'billing', client_id: 'new-billing' }] })).toContain(
      `clients[0].name: "billing" is the name of ${kept} on the server, which the document does not list: client names are unique`,
    );
    expect(await refusal({ version: 1, clients: [{ client_id: renamed.clientId, name: 'billing' }] })).toContain(`is the name of ${kept} on the server`);
    // A name freed in the same document, by a rename or by --prune, may be given to another client.
    const swapped = await admin.applyConfig({
      version: 1,
      clients: [
        { client_id: kept, name: 'billing-old' },
        { client_id: renamed.clientId, name: 'billing' },
      ],
    });
    expect(swapped.applied).toBe(true);
    const pruned = await admin.applyConfig({ version: 1, clients: [{ client_id: 'fresh', name: 'billing-old' }] }, { prune: true });
    expect(pruned.plan.changes.map((change) => `${change.action} ${change.key}`).sort()).toEqual(
      [`create billing-old (fresh)`, `delete billing (${renamed.clientId})`, `delete billing-old (${kept})`].sort(),
    );
  });

  it('refuses scopes the built-in admin API does not define', async () => {
    const message = await refusal({
      version: 1,
      clients: [{ name: 'ci' }],
      grants: [{ client: 'ci', api: 'urn:m2m-auth:admin', scopes: ['grants:write', 'everything'] }],
    });
    expect(message).toContain('grants[0].scopes: everything not defined on urn:m2m-auth:admin');
  });
});

describe('the built-in admin API', () => {
  it('is left out of exports unless asked for; grants on it are exported and applied as any other; apply never changes or prunes it', async () => {
    const storage = await openStorage({ kind: 'memory' });
    try {
      const admin = await makeAdmin(storage);
      const bootstrapped = await admin.bootstrapAdminClient();
      const exported = await admin.exportConfig();
      expect(exported.apis).toEqual([]);
      expect(exported.grants).toEqual([
        { client: 'm2m-auth-admin', api: 'urn:m2m-auth:admin', scopes: expect.arrayContaining(['grants:write']), token_ttl_seconds: null },
      ]);
      const withAdmin = await admin.exportConfig({ includeAdmin: true });
      expect(withAdmin.apis!.map((api) => api.identifier)).toEqual(['urn:m2m-auth:admin']);

      expect((await admin.applyConfig(withAdmin, { prune: true })).plan).toEqual({ changes: [], kept: [] });
      // Pruning the last client holding admin scopes needs saying so (see the prune guard tests).
      await expect(admin.applyConfig({ version: 1 }, { prune: true })).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringMatching(/last client holding admin scopes/),
      });
      const emptied = await admin.applyConfig({ version: 1 }, { prune: true, allowAdminDeletion: true });
      expect(emptied.plan.changes.map((change) => `${change.action} ${change.resource}`)).toEqual(['delete client', 'delete grant']);
      expect((await admin.listApis()).items.map((api) => api.identifier)).toEqual(['urn:m2m-auth:admin']);
      expect((await admin.listClients()).items.map((client) => client.clientId)).not.toContain(bootstrapped.clientId);
    } finally {
      await storage.close();
    }
  });

  it('is created, as bootstrap creates it, when a document refers to it on a new registry: an export restores admin clients', async () => {
    const source = await openStorage({ kind: 'memory' });
    const fresh = await openStorage({ kind: 'memory' });
    try {
      const admin = await makeAdmin(source);
      await admin.bootstrapAdminClient();
      const exported = await admin.exportConfig();

      const other = await makeAdmin(fresh);
      const result = await other.applyConfig(exported);
      expect(result.plan.changes.map((change) => `${change.action} ${change.resource} ${change.key}`)).toEqual([
        'create api urn:m2m-auth:admin',
        expect.stringMatching(/^create client m2m-auth-admin \(\w+\)$/),
        'create grant m2m-auth-admin → urn:m2m-auth:admin',
      ]);
      expect(result.createdSecrets).toHaveLength(1);
      expect(await registry(other)).toEqual(await registry(admin));
      expect((await other.applyConfig(exported)).plan.changes).toEqual([]);
    } finally {
      await source.close();
      await fresh.close();
    }
  });
});

const LEDGER = 'https://ledger.example';
const PAYMENTS = 'https://payments.example';

/** Exchange policies, without ids and times, their clients by name: what a round trip must reproduce. */
async function exchangePolicies(admin: Admin) {
  const names = new Map((await allPages((page) => admin.listClients(page))).map((client) => [client.clientId, client.name]));
  return (await allPages((page) => admin.listExchangePolicies(page))).map(({ id, createdAt, clientId, subjectClientId, ...policy }) => ({
    client: names.get(clientId),
    subject: subjectClientId === null ? null : (names.get(subjectClientId) ?? subjectClientId),
    ...policy,
  }));
}

const exchangeDocument = () => ({
  version: 1,
  apis: [
    { identifier: PAYMENTS, scopes: ['payments:charge', 'ledger:append'] },
    { identifier: LEDGER, scopes: ['ledger:append', 'ledger:read'] },
  ],
  trusted_issuers: [{ issuer: GITHUB }],
  clients: [{ name: 'order-service' }, { name: 'payment-service' }, { name: 'auditor' }],
  grants: [
    { client: 'order-service', api: PAYMENTS, scopes: ['payments:charge', 'ledger:append'] },
    { client: 'payment-service', api: LEDGER, scopes: ['ledger:append'] },
  ],
  exchange_policies: [
    { client: 'payment-service', subject_client: 'order-service', api: LEDGER, scopes: ['ledger:append'], description: 'charges are recorded for orders' },
    { client: 'auditor', subject_client: '*', api: LEDGER } as Record<string, unknown>,
    { client: 'auditor', subject_issuer: GITHUB, api: PAYMENTS } as Record<string, unknown>,
  ],
});

describe.each(everyStore)('applyConfig with token-exchange policies on %s', (_, open) => {
  let storage: Storage;
  let admin: Admin;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ storage, close } = await open());
    admin = await makeAdmin(storage);
  });
  afterEach(() => close());

  it('creates policies between the document’s clients, for any client and for a trusted issuer’s JWTs; a second apply changes nothing', async () => {
    const document = exchangeDocument();
    const result = await admin.applyConfig(document);
    expect(result.plan.changes.filter((change) => change.resource === 'exchange_policy')).toEqual([
      {
        action: 'create',
        resource: 'exchange_policy',
        key: `payment-service ← order-service → ${LEDGER}`,
        after: {
          client: 'payment-service',
          subject_client: 'order-service',
          api: LEDGER,
          scopes: ['ledger:append'],
          description: 'charges are recorded for orders',
        },
      },
      {
        action: 'create',
        resource: 'exchange_policy',
        key: `auditor ← * → ${LEDGER}`,
        after: { client: 'auditor', subject_client: '*', api: LEDGER, scopes: null, description: '' },
      },
      {
        action: 'create',
        resource: 'exchange_policy',
        key: `auditor ← ${GITHUB} → ${PAYMENTS}`,
        after: { client: 'auditor', subject_issuer: GITHUB, api: PAYMENTS, scopes: null, description: '' },
      },
    ]);
    expect(await exchangePolicies(admin)).toEqual([
      {
        client: 'payment-service',
        subject: 'order-service',
        subjectIssuer: null,
        apiIdentifier: LEDGER,
        scopes: ['ledger:append'],
        description: 'charges are recorded for orders',
      },
      { client: 'auditor', subject: '*', subjectIssuer: null, apiIdentifier: LEDGER, scopes: null, description: '' },
      { client: 'auditor', subject: null, subjectIssuer: GITHUB, apiIdentifier: PAYMENTS, scopes: null, description: '' },
    ]);
    expect((await auditTypes(admin)).filter((type) => type.startsWith('exchange_policy'))).toEqual([
      'exchange_policy.added',
      'exchange_policy.added',
      'exchange_policy.added',
    ]);
    expect(await admin.applyConfig(document)).toEqual({ plan: { changes: [], kept: [] }, applied: false, createdSecrets: [] });
  });

  it('reproduces the policies on a fresh store from its export; a registry without policies exports without the section', async () => {
    expect(await admin.exportConfig()).not.toHaveProperty('exchange_policies');
    await admin.applyConfig(exchangeDocument());
    const exported = await admin.exportConfig();
    expect(exported.exchange_policies).toEqual([
      { client: 'payment-service', subject_client: 'order-service', api: LEDGER, scopes: ['ledger:append'], description: 'charges are recorded for orders' },
      { client: 'auditor', subject_client: '*', api: LEDGER, scopes: null, description: '' },
      { client: 'auditor', subject_issuer: GITHUB, api: PAYMENTS, scopes: null, description: '' },
    ]);
    await expectReproducedOnFreshStore(admin, exported, exchangePolicies);
  });

  it('a policy whose scopes or description changed is replaced, shown as an update', async () => {
    await admin.applyConfig(exchangeDocument());
    const [before] = (await admin.listExchangePolicies()).items;
    const changed = exchangeDocument();
    changed.exchange_policies[0] = { ...changed.exchange_policies[0]!, scopes: ['ledger:append', 'ledger:read'] };
    const result = await admin.applyConfig(changed);
    expect(result.plan.changes).toEqual([
      {
        action: 'update',
        resource: 'exchange_policy',
        key: `payment-service ← order-service → ${LEDGER}`,
        changes: { scopes: { before: ['ledger:append'], after: ['ledger:append', 'ledger:read'] } },
      },
    ]);
    expect((await auditTypes(admin)).slice(-2)).toEqual(['exchange_policy.removed', 'exchange_policy.added']);
    expect((await admin.listExchangePolicies()).items.map((policy) => policy.id)).not.toContain(before!.id);
    expect((await admin.applyConfig(changed)).plan.changes).toEqual([]);
  });

  it('keeps unlisted policies unless prune, then removes each before the issuer it names; a policy naming a deleted client is not exported', async () => {
    await admin.applyConfig(exchangeDocument());
    const smaller = exchangeDocument();
    smaller.exchange_policies = [smaller.exchange_policies[0]!];
    smaller.trusted_issuers = [];
    expect((await admin.applyConfig(smaller)).plan).toEqual({
      changes: [],
      kept: [
        { resource: 'trusted_issuer', key: GITHUB },
        { resource: 'exchange_policy', key: `auditor ← * → ${LEDGER}` },
        { resource: 'exchange_policy', key: `auditor ← ${GITHUB} → ${PAYMENTS}` },
      ],
    });
    const pruned = await admin.applyConfig(smaller, { prune: true });
    expect(pruned.plan.changes.map((change) => `${change.action} ${change.resource}`)).toEqual([
      'delete trusted_issuer',
      'delete exchange_policy',
      'delete exchange_policy',
    ]);
    expect((await auditTypes(admin)).slice(-3)).toEqual(['exchange_policy.removed', 'exchange_policy.removed', 'trusted_issuer.removed']);
    expect((await exchangePolicies(admin)).map((policy) => policy.client)).toEqual(['payment-service']);

    const orders = (await admin.listClients()).items.find((client) => client.name === 'order-service')!;
    await admin.deleteClient(orders.clientId);
    expect(await exchangePolicies(admin)).toEqual([expect.objectContaining({ client: 'payment-service', subject: orders.clientId })]);
    expect((await admin.exportConfig()).exchange_policies).toEqual([]);
  });

  it('an admin client needs exchange-policies:write to change policies, and exchange-policies:read to export them', async () => {
    await admin.applyConfig({ ...exchangeDocument(), exchange_policies: [] });
    const caller = (scopes: string[]) => admin.asCaller({ clientId: 'ci', scopes: new Set(scopes) });
    const everythingElse = ['apis:read', 'apis:write', 'clients:read', 'clients:write', 'grants:read', 'grants:write', 'issuers:read', 'issuers:write'];
    await expect(caller(everythingElse).applyConfig(exchangeDocument())).rejects.toMatchObject({
      code: 'insufficient_scope',
      extensions: { required_scopes: ['exchange-policies:write'] },
    });
    await expect(caller(everythingElse).applyConfig(exchangeDocument(), { dryRun: true })).rejects.toMatchObject({ code: 'insufficient_scope' });
    await caller([...everythingElse, 'exchange-policies:write']).applyConfig(exchangeDocument());
    await expect(caller(everythingElse).exportConfig()).rejects.toMatchObject({ extensions: { required_scopes: ['exchange-policies:read'] } });
    expect((await caller([...everythingElse, 'exchange-policies:read']).exportConfig()).exchange_policies).toHaveLength(3);
  });
});

describe('applyConfig: exchange policies it refuses', () => {
  let storage: Storage;
  let admin: Admin;
  beforeEach(async () => {
    storage = await openStorage({ kind: 'memory' });
    admin = await makeAdmin(storage);
  });
  afterEach(() => storage.close());

  it('names each problem at its path, never targets the admin API, and changes nothing', async () => {
    const document = exchangeDocument();
    document.exchange_policies = [
      { client: 'payment-service', subject_client: 'order-service', api: 'urn:m2m-auth:admin' },
      { client: 'payment-service', subject_client: 'order-service', subject_issuer: GITHUB, api: LEDGER },
      { client: 'payment-service', api: LEDGER },
      { client: 'ghost', subject_client: 'order-service', api: LEDGER },
      { client: 'payment-service', subject_issuer: 'https://nope.example', api: LEDGER },
      { client: 'payment-service', subject_client: 'order-service', api: LEDGER, scopes: ['payments:charge'] },
      { client: 'payment-service', subject_client: 'order-service', api: 'https://nope.example' },
      { client: 'auditor', subject_client: '*', api: LEDGER, scopes: ['ledger:read'] },
      { client: 'auditor', subject_client: '*', api: LEDGER, color: 'red' },
    ] as Record<string, unknown>[];
    const error = await admin.applyConfig(document).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!isAdminError(error)) throw new Error(`expected an AdminError, got ${String(error)}`);
    expect(error.message.split('\n').slice(1)).toEqual([
      '  exchange_policies[0].api: tokens of urn:m2m-auth:admin are never obtained by token exchange: an admin client gets its own with the client credentials grant',
      '  exchange_policies[1]: an exchange policy names exactly one subject: subject_client (a client of the document, or *) or subject_issuer',
      '  exchange_policies[2]: an exchange policy names exactly one subject: subject_client (a client of the document, or *) or subject_issuer',
      '  exchange_policies[3].client: no client of the document has the client_id or name "ghost"',
      `  exchange_policies[4].subject_issuer: https://nope.example is not a trusted issuer of this document (list it under trusted_issuers)`,
      `  exchange_policies[5].scopes: scope "payments:charge" is not defined on ${LEDGER} (defined: ledger:append, ledger:read)`,
      '  exchange_policies[6].api: https://nope.example is not an API of this document (list it under apis)',
      '  exchange_policies[8].color: unknown field (expected one of client, subject_client, subject_issuer, api, scopes, description)',
      `  exchange_policies[8].api: a second exchange policy for this client and subject on auditor ← * → ${LEDGER} (the first is exchange_policies[7])`,
    ]);
    expect(await storage.listApis()).toEqual([]);
  });
});
