import type { ApiRecord, ClientGrantRecord, ClientRecord, ClientSecretRecord, RegistryChange, Storage } from '../storage/types.js';
import { buildKeyRing, type KeyRing } from '../keys/key-ring.js';
import type { SignOn } from '../tokens/jws-signer.js';
import { createLruCache } from './lru-cache.js';
import { createLoadLimiter, type LoadLimiterStats } from './load-limiter.js';

/**
 * A read-through cache over storage for the request path: after the first request for a client,
 * issuing its tokens reads nothing from the database, and no request waits for a freshness check.
 * Freshness is kept in the background: storage's change feed (PostgreSQL NOTIFY, SQLite's revision
 * poll) says when something changed anywhere, `changesSince` says what, and only those entries are
 * reloaded. A periodic check is the safety net for a lost notification.
 */
export interface RegistryView {
  client(clientId: string): Promise<ClientRecord | undefined>;
  clientSecrets(clientId: string): Promise<ClientSecretRecord[]>;
  api(identifier: string): Promise<ApiRecord | undefined>;
  grant(clientId: string, apiIdentifier: string): Promise<ClientGrantRecord | undefined>;
  apis(): Promise<ApiRecord[]>;
  keyRing(): Promise<KeyRing>;
  /** Drops every cached entry; the next read goes to storage. */
  invalidate(): void;
  /** Applies the writes committed so far (by anyone); resolves when the caches reflect them. */
  refresh(): Promise<void>;
  stats(): RegistryCacheStats;
  /** Stops the background refresh. */
  close(): void;
}

export interface RegistryCacheStats {
  entries: number;
  capacity: number;
  negativeEntries: number;
  negativeCapacity: number;
  loads: LoadLimiterStats;
  /** Revision the caches reflect; undefined until the first refresh. */
  revision: number | undefined;
}

export interface RegistryViewOptions {
  storage: Storage;
  kek: Buffer;
  now: () => number;
  /** Safety net: how often the revision is checked even without a notification. */
  revisionCheckIntervalMs?: number;
  /** Bound on cached records (clients, secret lists, grants, APIs): the working set to keep. */
  maxEntries?: number;
  /** Bound on remembered misses (unknown client ids, grants that do not exist), kept apart. */
  maxNegativeEntries?: number;
  /** How long a miss is remembered; a write naming the record forgets it sooner. */
  negativeTtlMs?: number;
  /** Storage reads for uncached records at once, and how many may wait (see load-limiter). */
  maxConcurrentLoads?: number;
  maxQueuedLoads?: number;
  onReload?: () => void;
  /** Background refresh failed (the database is unreachable); the caches keep serving. */
  onRefreshError?: (error: unknown) => void;
  /** Where the signers built from storage run ECDSA and EdDSA signatures. */
  signOn: SignOn;
}

/** ~100,000 clients, each with its secret list and a grant or two. */
export const DEFAULT_REGISTRY_CACHE_ENTRIES = 400_000;
const DEFAULT_NEGATIVE_ENTRIES = 10_000;

type Kind = 'client' | 'secrets' | 'api' | 'grant';
const CHANGED_KIND: Record<RegistryChange['entity'], Kind | undefined> = {
  client: 'client',
  client_secret: 'secrets',
  client_grant: 'grant',
  api: 'api',
  signing_key: undefined,
};

export function createRegistryView(options: RegistryViewOptions): RegistryView {
  const { storage, kek, now } = options;
  const negativeTtlMs = options.negativeTtlMs ?? 30_000;
  const entries = createLruCache<Promise<unknown>>(options.maxEntries ?? DEFAULT_REGISTRY_CACHE_ENTRIES);
  const misses = createLruCache<number>(options.maxNegativeEntries ?? DEFAULT_NEGATIVE_ENTRIES);
  const limiter = createLoadLimiter({ maxConcurrent: options.maxConcurrentLoads ?? 64, maxQueued: options.maxQueuedLoads ?? 1_000 });
  const loaders: Record<Kind, (key: string) => Promise<unknown>> = {
    client: (clientId) => storage.getClient(clientId),
    secrets: (clientId) => storage.listClientSecrets(clientId),
    api: (identifier) => storage.getApi(identifier),
    grant: (key) => {
      const [clientId, apiIdentifier] = key.split('\n') as [string, string];
      return storage.findGrant(clientId, apiIdentifier);
    },
  };
  let apiList: Promise<ApiRecord[]> | undefined;
  let keyRing: Promise<KeyRing> | undefined;
  let lastKeyRing: KeyRing | undefined;
  let knownRevision: number | undefined;

  function cached<T>(kind: Kind, key: string): Promise<T> {
    const id = `${kind}:${key}`;
    const entry = entries.get(id);
    if (entry) return entry as Promise<T>;
    const missedUntil = misses.peek(id);
    if (missedUntil !== undefined) {
      if (missedUntil > now()) return Promise.resolve(undefined as T);
      misses.delete(id);
    }
    return load<T>(kind, key);
  }

  function load<T>(kind: Kind, key: string): Promise<T> {
    const id = `${kind}:${key}`;
    const entry = limiter.run(() => loaders[kind](key));
    entries.set(id, entry);
    // A miss moves to the negative cache (bounded apart, so made-up ids cannot evict real
    // clients); a failure is not cached at all, so the next request retries the database.
    entry.then(
      (value) => {
        if (value !== undefined || entries.peek(id) !== entry) return;
        entries.delete(id);
        misses.set(id, now() + negativeTtlMs);
      },
      () => {
        if (entries.peek(id) === entry) entries.delete(id);
      },
    );
    return entry as Promise<T>;
  }

  function loadKeyRing(): Promise<KeyRing> {
    const loading = storage.listKeys().then((records) => (lastKeyRing = buildKeyRing(records, kek, lastKeyRing, options.signOn)));
    loading.catch(() => {
      if (keyRing === loading) keyRing = undefined;
    });
    return loading;
  }

  function invalidate() {
    entries.clear();
    misses.clear();
    apiList = undefined;
    keyRing = undefined;
    options.onReload?.();
  }

  /**
   * Forgets what changed. Entries that were cached are reloaded now, in the background, so the
   * next request for a busy client finds a load already under way instead of starting one.
   */
  function apply(changes: RegistryChange[]) {
    let isApiChanged = false;
    let isKeyChanged = false;
    const seen = new Set<string>();
    for (const change of changes) {
      const kind = CHANGED_KIND[change.entity];
      if (change.entity === 'signing_key') isKeyChanged = true;
      if (change.entity === 'api') isApiChanged = true;
      if (!kind) continue;
      const id = `${kind}:${change.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      misses.delete(id);
      if (entries.peek(id) === undefined) continue;
      entries.delete(id);
      load(kind, change.key).catch(() => undefined);
    }
    if (isApiChanged) {
      apiList = undefined;
      options.onReload?.();
    }
    if (isKeyChanged && keyRing) keyRing = loadKeyRing();
  }

  let refreshing: Promise<void> | undefined;
  let isRefreshWanted = false;

  async function refreshLoop() {
    try {
      do {
        isRefreshWanted = false;
        if (knownRevision === undefined) {
          // First sight of the database: whatever was loaded before this revision is suspect.
          const revision = await storage.currentRevision();
          invalidate();
          knownRevision = revision;
          continue;
        }
        const result = await storage.changesSince(knownRevision);
        if (result) {
          apply(result.changes);
          knownRevision = result.revision;
        } else {
          // Too far behind the bounded history: read the revision first, so a write racing the
          // reload is caught next time rather than lost.
          const revision = await storage.currentRevision();
          invalidate();
          knownRevision = revision;
        }
      } while (isRefreshWanted);
    } catch (error) {
      options.onRefreshError?.(error);
    } finally {
      refreshing = undefined;
    }
  }

  function refresh(): Promise<void> {
    if (refreshing) {
      isRefreshWanted = true;
      return refreshing;
    }
    return (refreshing = refreshLoop());
  }

  const stopWatching = storage.watchChanges(() => void refresh());
  const safetyNet = setInterval(() => void refresh(), options.revisionCheckIntervalMs ?? 5_000).unref();
  void refresh();

  return {
    client: (clientId) => cached('client', clientId),
    clientSecrets: (clientId) => cached<ClientSecretRecord[]>('secrets', clientId),
    api: (identifier) => cached('api', identifier),
    grant: (clientId, apiIdentifier) => cached('grant', `${clientId}\n${apiIdentifier}`),
    apis() {
      apiList ??= storage.listApis();
      const loading = apiList;
      loading.catch(() => {
        if (apiList === loading) apiList = undefined;
      });
      return loading;
    },
    keyRing: () => (keyRing ??= loadKeyRing()),
    invalidate,
    refresh,
    stats: () => ({
      entries: entries.size,
      capacity: entries.capacity,
      negativeEntries: misses.size,
      negativeCapacity: misses.capacity,
      loads: limiter.stats(),
      revision: knownRevision,
    }),
    close() {
      stopWatching();
      clearInterval(safetyNet);
    },
  };
}
