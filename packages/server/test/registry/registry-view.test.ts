import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRegistryView, type RegistryView } from '../../src/registry/registry-view.js';
import { createMemoryStorage } from '../../src/storage/memory/memory-storage.js';
import { createSqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { createPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import type { Storage } from '../../src/storage/types.js';
import { OAuthError } from '../../src/errors/oauth-error.js';
import { eventually, recordBuilders } from '../storage/conformance/fixtures.js';
import { createSchemaNames, isPostgresAvailable, POSTGRES_URL } from '../helpers/services.js';

const T0 = Date.UTC(2026, 0, 1);
const isPostgres = await isPostgresAvailable();
const schemas = createSchemaNames('m2m_view');
afterAll(() => schemas.dropAll());
const { api, client, grant, secret } = recordBuilders(T0);

/** Storage that counts the reads the view makes, and can hold them to show what waits. */
function observed(storage: Storage) {
  const reads: string[] = [];
  let gate: Promise<void> | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const wrapped: Storage = {
    ...storage,
    async getClient(clientId) {
      reads.push(clientId);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await gate;
        return await storage.getClient(clientId);
      } finally {
        inFlight -= 1;
      }
    },
  };
  return {
    storage: wrapped,
    reads,
    maxInFlight: () => maxInFlight,
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const views: RegistryView[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const view of views.splice(0)) view.close();
  for (const close of closers.splice(0)) await close();
});

function viewOf(storage: Storage, options: Partial<Parameters<typeof createRegistryView>[0]> = {}) {
  const view = createRegistryView({ storage, kek: Buffer.alloc(32), now: Date.now, signOn: 'event-loop', ...options });
  views.push(view);
  return view;
}

describe('registry view: bounded caches', () => {
  it('keeps at most maxEntries records, evicting the least recently used, and reports its size', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    for (let i = 0; i < 30; i += 1) await storage.createClient(client(`c${i}`));
    const seen = observed(storage);
    const view = viewOf(seen.storage, { maxEntries: 10 });
    await view.refresh();
    for (let i = 0; i < 30; i += 1) {
      await view.client(`c${i}`);
      await view.client('c0'); // kept warm: used on every round
    }
    expect(view.stats()).toMatchObject({ entries: 10, capacity: 10 });
    const before = seen.reads.length;
    await view.client('c0');
    await view.client('c29');
    expect(seen.reads.length).toBe(before); // both still cached
    await view.client('c1');
    expect(seen.reads.slice(before)).toEqual(['c1']); // evicted long ago
  });

  it('remembers unknown client ids apart, bounded, so they neither evict real clients nor reach storage twice', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    await storage.createClient(client('real'));
    const seen = observed(storage);
    const view = viewOf(seen.storage, { maxEntries: 5, maxNegativeEntries: 3 });
    await view.refresh();
    await view.client('real');
    for (const id of ['ghost-1', 'ghost-1', 'ghost-1']) expect(await view.client(id)).toBeUndefined();
    expect(seen.reads.filter((id) => id === 'ghost-1')).toHaveLength(1);
    for (let i = 0; i < 20; i += 1) await view.client(`made-up-${i}`);
    expect(view.stats()).toMatchObject({ entries: 1, negativeEntries: 3 });
    const before = seen.reads.length;
    expect((await view.client('real'))?.clientId).toBe('real');
    expect(seen.reads.length).toBe(before);
  });

  it('forgets a miss as soon as the record is created, without waiting for its TTL', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    const view = viewOf(storage, { negativeTtlMs: 3_600_000 });
    await view.refresh();
    expect(await view.client('late')).toBeUndefined();
    await storage.createClient(client('late'));
    await view.refresh();
    expect((await view.client('late'))?.clientId).toBe('late');
  });

  it('caps concurrent storage reads for uncached ids, and refuses a flood beyond the queue with 503', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    const seen = observed(storage);
    const view = viewOf(seen.storage, { maxConcurrentLoads: 4, maxQueuedLoads: 10 });
    await view.refresh();
    const release = seen.hold();
    const lookups = Array.from({ length: 50 }, (_, i) =>
      view.client(`random-${i}`).then(
        () => 'answered',
        (error: unknown) => (error instanceof OAuthError ? `${error.status} ${error.error} retry-after=${error.headers['retry-after']}` : 'other'),
      ),
    );
    await eventually(() => seen.reads.length === 4, 'the first reads to start');
    release();
    const outcomes = await Promise.all(lookups);
    expect(seen.maxInFlight()).toBe(4);
    expect(outcomes.filter((outcome) => outcome === 'answered')).toHaveLength(14);
    expect(outcomes.filter((outcome) => outcome === '503 temporarily_unavailable retry-after=1')).toHaveLength(36);
    expect(view.stats().loads).toEqual({ inFlight: 0, queued: 0, refused: 36 });
  });
});

describe('registry view: one entry per client', () => {
  it('keeps a client with its secrets and grants as one entry, reloading only the part that changed', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    await storage.createApi(api('https://orders.example'));
    await storage.createApi(api('https://stock.example'));
    await storage.createClient(client('svc'));
    await storage.addClientSecret(secret('sec-1', 'svc'));
    await storage.createGrant({ ...grant('cgr-1', 'svc', 'https://orders.example'), scopes: ['read'] });
    await storage.createGrant({ ...grant('cgr-2', 'svc', 'https://stock.example'), scopes: ['write'] });
    const view = viewOf(storage, { maxEntries: 1 });
    await view.refresh();
    expect(await view.client('svc')).toEqual({
      clientId: 'svc',
      isEnabled: true,
      defaultApi: null,
      grantTypes: ['client_credentials'],
      tokenEndpointAuthMethods: ['client_secret_basic', 'client_secret_post'],
      jwks: null,
    });
    expect((await view.clientSecrets('svc')).map((cached) => cached.id)).toEqual(['sec-1']);
    expect((await view.grant('svc', 'https://orders.example'))?.scopes).toEqual(['read']);
    expect((await view.grant('svc', 'https://stock.example'))?.scopes).toEqual(['write']);
    expect(view.stats().entries).toBe(1); // one client: one entry, within a capacity of one

    await storage.updateGrant('cgr-2', { scopes: [] }, T0 + 1);
    await storage.addClientSecret(secret('sec-2', 'svc', T0 + 1));
    await view.refresh();
    expect((await view.grant('svc', 'https://stock.example'))?.scopes).toEqual([]);
    expect((await view.grant('svc', 'https://orders.example'))?.scopes).toEqual(['read']);
    expect((await view.clientSecrets('svc')).map((cached) => cached.id)).toEqual(['sec-1', 'sec-2']);

    await storage.deleteGrant('cgr-1');
    await view.refresh();
    expect(await view.grant('svc', 'https://orders.example')).toBeUndefined();
    expect((await view.client('svc'))?.clientId).toBe('svc');
  });

  it('shares what repeats across clients, and the shared lists cannot be changed through one record', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    await storage.createApi(api('https://orders.example'));
    for (const id of ['a', 'b']) {
      await storage.createClient(client(id));
      await storage.createGrant({ ...grant(`cgr-${id}`, id, 'https://orders.example'), scopes: ['read'] });
    }
    const view = viewOf(storage);
    await view.refresh();
    const [a, b] = [(await view.client('a'))!, (await view.client('b'))!];
    expect(a.tokenEndpointAuthMethods).toBe(b.tokenEndpointAuthMethods);
    expect(Object.isFrozen(a.tokenEndpointAuthMethods)).toBe(true);
    const [grantA, grantB] = [(await view.grant('a', 'https://orders.example'))!, (await view.grant('b', 'https://orders.example'))!];
    expect(grantA.scopes).toBe(grantB.scopes);
    expect(() => (grantA.scopes as string[]).push('write')).toThrow(TypeError);
  });

  it('forgets a deleted client with everything read with it, and remembers the miss', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    await storage.createClient(client('gone'));
    await storage.addClientSecret(secret('sec-1', 'gone'));
    const seen = observed(storage);
    const view = viewOf(seen.storage);
    await view.refresh();
    await view.client('gone');
    await view.clientSecrets('gone');
    await storage.deleteClient('gone');
    await view.refresh();
    expect(await view.client('gone')).toBeUndefined();
    expect(view.stats().entries).toBe(0);
    const before = seen.reads.length;
    expect(await view.client('gone')).toBeUndefined();
    expect(seen.reads.length).toBe(before);
  });
});

describe('registry view: background refresh', () => {
  it('reloads only the records that changed', async () => {
    const storage = createMemoryStorage();
    closers.push(() => storage.close());
    await storage.createClient(client('busy'));
    await storage.createClient(client('other'));
    const seen = observed(storage);
    const view = viewOf(seen.storage);
    await view.refresh();
    await view.client('busy');
    await view.client('other');
    await storage.updateClient('other', { isEnabled: false }, T0 + 1);
    await view.refresh();
    expect((await view.client('other'))?.isEnabled).toBe(false);
    expect(seen.reads).toEqual(['busy', 'other', 'other']);
  });

  const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-view-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  /**
   * The scale-out promise: a write through another connection (another instance, the CLI) reaches
   * this instance's cache with no request arriving — nothing here calls the view until the change
   * has been applied. (The bound only turns a hang into a failure.)
   */
  async function provesBackgroundRefresh(server: Storage, cli: Storage) {
    await cli.createClient(client('svc'));
    const view = viewOf(server, { revisionCheckIntervalMs: 3_600_000 }); // the safety net stays out of it
    await view.refresh();
    expect((await view.client('svc'))?.isEnabled).toBe(true);
    await cli.updateClient('svc', { isEnabled: false }, T0 + 1);
    const written = await cli.currentRevision();
    const started = Date.now();
    await eventually(() => view.stats().revision === written, 'the change to reach the view');
    const elapsed = Date.now() - started;
    expect((await view.client('svc'))?.isEnabled).toBe(false);
    return elapsed;
  }

  it('SQLite: a change made through another connection reaches the cache by the background revision poll', async () => {
    const path = join(directory, 'shared.db');
    const server = createSqliteStorage({ path });
    const cli = createSqliteStorage({ path });
    closers.push(
      () => cli.close(),
      () => server.close(),
    );
    const elapsed = await provesBackgroundRefresh(server, cli);
    console.info(`sqlite: change applied after ${elapsed} ms`);
  });

  it.skipIf(!isPostgres)('PostgreSQL: a change made through another connection reaches the cache by LISTEN/NOTIFY', async () => {
    const schema = schemas.next();
    const server = await createPostgresStorage({ connectionString: POSTGRES_URL, schema, poolSize: 2 });
    const cli = await createPostgresStorage({ connectionString: POSTGRES_URL, schema, poolSize: 1 });
    closers.push(
      () => cli.close(),
      () => server.close(),
    );
    const elapsed = await provesBackgroundRefresh(server, cli);
    console.info(`postgres: change applied after ${elapsed} ms`);
  });
});
