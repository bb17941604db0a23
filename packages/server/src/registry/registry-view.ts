import type {
  ApiRecord,
  RegisteredClient,
  RegisteredExchangePolicy,
  RegisteredFederatedCredential,
  RegisteredGrant,
  RegisteredSecret,
  RegistryChange,
  Storage,
  TrustedIssuerRecord,
} from '../storage/types.js';
import { buildKeyRing, type KeyRing } from '../keys/key-ring.js';
import type { SignOn } from '../tokens/jws-signer.js';
import { createLruCache } from './lru-cache.js';
import { DEFAULT_REGISTRY_CACHE_ENTRIES } from '../protocol/limits.js';
import { createLoadLimiter, type LoadLimiterStats } from './load-limiter.js';
import { createRecordInterning } from './record-interning.js';

/**
 * A read-through cache over storage for the request path: after the first request for a client,
 * issuing its tokens reads nothing from the database, and no request waits for a freshness check.
 * Freshness is kept in the background: storage's change feed (PostgreSQL NOTIFY, SQLite's revision
 * poll) says when something changed anywhere, `changesSince` says what, and only those entries are
 * reloaded. A periodic check is the safety net for a lost notification.
 */
export interface RegistryView {
  client(clientId: string): Promise<RegisteredClient | undefined>;
  clientSecrets(clientId: string): Promise<RegisteredSecret[]>;
  api(identifier: string): Promise<ApiRecord | undefined>;
  grant(clientId: string, apiIdentifier: string): Promise<RegisteredGrant | undefined>;
  apis(): Promise<ApiRecord[]>;
  keyRing(): Promise<KeyRing>;
  /** A trusted issuer (workload identity federation); all of them are held, they are few. */
  trustedIssuer(issuer: string): Promise<TrustedIssuerRecord | undefined>;
  /** The federated credentials a token of `issuer` with this subject may match (storage's findFederatedCredentials, cached). */
  federatedCredentials(issuer: string, subject: string): Promise<readonly RegisteredFederatedCredential[]>;
  /** The token-exchange policies of an exchanging client (few per client; cached per client). */
  exchangePolicies(clientId: string): Promise<readonly RegisteredExchangePolicy[]>;
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
  /** Bound on cached clients (each with its secret list and grants): the working set to keep. */
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

/** Misses remembered (unknown client ids, grants that do not exist). */
const DEFAULT_NEGATIVE_ENTRIES = 10_000;
/** APIs are few; the bound only matters against made-up audiences (which the negative cache takes). */
const API_CACHE_ENTRIES = 10_000;

/** Federated lookups remembered, by (issuer, subject); any federation write forgets them all (writes are rare). */
const FEDERATED_LOOKUP_ENTRIES = 10_000;
/** Exchanging clients whose policy lists are remembered; a policy write forgets only its client's. */
const EXCHANGE_POLICY_LISTS = 10_000;

/** A record being read (its promise) or read (the record itself: a settled promise per record costs memory for nothing). */
type Held<T> = T | Promise<T>;

/**
 * Everything the request path has read about one client, as one cache entry: at 100,000 clients,
 * three entries per client (client, secrets, grant) cost more in keys and slots than the records.
 * The map key is the record's own client id string, so the id is stored once.
 */
interface ClientEntry {
  client?: Held<RegisteredClient | undefined>;
  secrets?: Held<RegisteredSecret[]>;
  /** `[apiIdentifier, grant, …]`: most clients hold one or two grants, and a Map costs more than they do. */
  grants?: (string | Held<RegisteredGrant | undefined>)[];
}

/** What each per-client field holds once read. */
interface ClientFields {
  client: RegisteredClient | undefined;
  secrets: RegisteredSecret[];
}
type Field = keyof ClientFields;
const isLoading = (held: unknown): held is Promise<unknown> => held instanceof Promise;
const settled = <T>(held: Held<T>): Promise<T> => (isLoading(held) ? held : Promise.resolve(held));

export function createRegistryView(options: RegistryViewOptions): RegistryView {
  const { storage, kek, now } = options;
  const negativeTtlMs = options.negativeTtlMs ?? 30_000;
  const clients = createLruCache<ClientEntry>(options.maxEntries ?? DEFAULT_REGISTRY_CACHE_ENTRIES);
  const apis = createLruCache<Held<ApiRecord | undefined>>(API_CACHE_ENTRIES);
  // Misses are bounded apart, so made-up ids cannot evict real clients.
  const misses = createLruCache<number>(options.maxNegativeEntries ?? DEFAULT_NEGATIVE_ENTRIES);
  const limiter = createLoadLimiter({ maxConcurrent: options.maxConcurrentLoads ?? 64, maxQueued: options.maxQueuedLoads ?? 1_000 });
  const interning = createRecordInterning();
  const fieldLoaders: { [F in Field]: (clientId: string) => Promise<ClientFields[F]> } = {
    client: async (clientId) => {
      const record = await storage.getClient(clientId);
      return record && interning.client(record);
    },
    secrets: async (clientId) => interning.secrets(await storage.listClientSecrets(clientId)),
  };
  let apiList: Promise<ApiRecord[]> | undefined;
  let trustedIssuers: Promise<Map<string, TrustedIssuerRecord>> | undefined;
  const policyLists = createLruCache<Held<readonly RegisteredExchangePolicy[]>>(EXCHANGE_POLICY_LISTS);
  const federatedLookups = createLruCache<Held<readonly RegisteredFederatedCredential[]>>(FEDERATED_LOOKUP_ENTRIES);
  let keyRing: Promise<KeyRing> | undefined;
  let lastKeyRing: KeyRing | undefined;
  let knownRevision: number | undefined;

  /** A remembered miss that has not expired; an expired one is forgotten. */
  function isKnownMissing(id: string): boolean {
    const missedUntil = misses.peek(id);
    if (missedUntil === undefined) return false;
    if (missedUntil > now()) return true;
    misses.delete(id);
    return false;
  }

  function entryOf(clientId: string): ClientEntry {
    let entry = clients.peek(clientId);
    if (!entry) clients.set(clientId, (entry = { client: undefined, secrets: undefined, grants: undefined }));
    return entry;
  }

  /** Drops an entry that holds nothing any more, so a deleted client costs no slot. */
  function dropIfEmpty(clientId: string, entry: ClientEntry) {
    if (entry.client === undefined && entry.secrets === undefined && !entry.grants?.length && clients.peek(clientId) === entry) clients.delete(clientId);
  }

  function readField<F extends Field>(field: F, clientId: string): Promise<ClientFields[F] | undefined> {
    const held = clients.get(clientId)?.[field] as Held<ClientFields[F]> | undefined;
    if (held !== undefined) return settled(held);
    if (isKnownMissing(`${field}:${clientId}`)) return Promise.resolve(undefined);
    return loadField(field, clientId);
  }

  // A failure is not cached at all, so the next request retries the database.
  function loadField<F extends Field>(field: F, clientId: string): Promise<ClientFields[F]> {
    const loading: Promise<ClientFields[F]> = limiter.run(() => fieldLoaders[field](clientId));
    entryOf(clientId)[field] = loading as ClientEntry[F];
    const isCurrent = (entry: ClientEntry | undefined): entry is ClientEntry => entry?.[field] === loading;
    loading.then(
      (value) => {
        const entry = clients.peek(clientId);
        if (!isCurrent(entry)) return;
        if (value !== undefined) {
          entry[field] = value;
          // Re-keyed under the record's own id string: the request's copy is not kept.
          if (field === 'client') clients.set((value as RegisteredClient).clientId, entry);
          return;
        }
        // A client that does not exist: forget what was read with it, remember the miss.
        clients.delete(clientId);
        misses.set(`${field}:${clientId}`, now() + negativeTtlMs);
      },
      () => {
        const entry = clients.peek(clientId);
        if (!isCurrent(entry)) return;
        entry[field] = undefined;
        dropIfEmpty(clientId, entry);
      },
    );
    return loading;
  }

  function readGrant(clientId: string, apiIdentifier: string): Promise<RegisteredGrant | undefined> {
    const grants = clients.get(clientId)?.grants;
    const at = grants ? grants.indexOf(apiIdentifier) : -1;
    if (grants && at >= 0 && at % 2 === 0) return settled(grants[at + 1] as Held<RegisteredGrant | undefined>);
    if (isKnownMissing(`grant:${clientId}\n${apiIdentifier}`)) return Promise.resolve(undefined);
    return loadGrant(clientId, apiIdentifier);
  }

  function loadGrant(clientId: string, apiIdentifier: string): Promise<RegisteredGrant | undefined> {
    const loading = limiter.run(async () => {
      const record = await storage.findGrant(clientId, apiIdentifier);
      return record && interning.grant(record);
    });
    const entry = entryOf(clientId);
    forgetGrant(entry, apiIdentifier);
    // Sized to what it holds: push() onto an empty array reserves room for 17 more.
    entry.grants = entry.grants ? [...entry.grants, apiIdentifier, loading] : [apiIdentifier, loading];
    loading.then(
      (value) => {
        const current = clients.peek(clientId);
        const grants = current?.grants;
        const at = grants ? grants.indexOf(loading) : -1;
        if (!current || at < 0) return;
        if (value !== undefined) {
          grants![at] = value;
          return;
        }
        forgetGrant(current, apiIdentifier);
        dropIfEmpty(clientId, current);
        misses.set(`grant:${clientId}\n${apiIdentifier}`, now() + negativeTtlMs);
      },
      () => {
        const current = clients.peek(clientId);
        if (!current?.grants?.includes(loading)) return;
        forgetGrant(current, apiIdentifier);
        dropIfEmpty(clientId, current);
      },
    );
    return loading;
  }

  function forgetGrant(entry: ClientEntry, apiIdentifier: string) {
    const at = entry.grants ? entry.grants.indexOf(apiIdentifier) : -1;
    if (at >= 0 && at % 2 === 0) entry.grants!.splice(at, 2);
  }

  function readApi(identifier: string): Promise<ApiRecord | undefined> {
    const held = apis.get(identifier);
    if (held !== undefined) return settled(held);
    if (isKnownMissing(`api:${identifier}`)) return Promise.resolve(undefined);
    return loadApi(identifier);
  }

  function loadApi(identifier: string): Promise<ApiRecord | undefined> {
    const loading = limiter.run(() => storage.getApi(identifier));
    apis.set(identifier, loading);
    loading.then(
      (value) => {
        if (apis.peek(identifier) !== loading) return;
        if (value !== undefined) return apis.set(identifier, value);
        apis.delete(identifier);
        misses.set(`api:${identifier}`, now() + negativeTtlMs);
      },
      () => {
        if (apis.peek(identifier) === loading) apis.delete(identifier);
      },
    );
    return loading;
  }

  function loadKeyRing(): Promise<KeyRing> {
    const loading = storage.listKeys().then((records) => (lastKeyRing = buildKeyRing(records, kek, lastKeyRing, options.signOn)));
    loading.catch(() => {
      if (keyRing === loading) keyRing = undefined;
    });
    return loading;
  }

  function readTrustedIssuer(issuer: string): Promise<TrustedIssuerRecord | undefined> {
    if (!trustedIssuers) {
      const loading = storage.listTrustedIssuers().then((records) => new Map(records.map((record) => [record.issuer, record])));
      trustedIssuers = loading;
      loading.catch(() => {
        if (trustedIssuers === loading) trustedIssuers = undefined;
      });
    }
    return trustedIssuers.then((issuers) => issuers.get(issuer));
  }

  function readFederatedCredentials(issuer: string, subject: string): Promise<readonly RegisteredFederatedCredential[]> {
    const key = `${issuer}\n${subject}`;
    const held = federatedLookups.get(key);
    if (held !== undefined) return settled(held);
    const loading = limiter.run(() => storage.findFederatedCredentials(issuer, subject));
    federatedLookups.set(key, loading);
    loading.then(
      (value) => {
        if (federatedLookups.peek(key) === loading) federatedLookups.set(key, value);
      },
      () => {
        if (federatedLookups.peek(key) === loading) federatedLookups.delete(key);
      },
    );
    return loading;
  }

  function readExchangePolicies(clientId: string): Promise<readonly RegisteredExchangePolicy[]> {
    const held = policyLists.get(clientId);
    if (held !== undefined) return settled(held);
    const loading = limiter.run(async () =>
      (await storage.listExchangePolicies({ clientId })).map(({ id, subjectClientId, subjectIssuer, apiIdentifier, scopes }) => ({
        id,
        subjectClientId,
        subjectIssuer,
        apiIdentifier,
        scopes,
      })),
    );
    policyLists.set(clientId, loading);
    loading.then(
      (value) => {
        if (policyLists.peek(clientId) === loading) policyLists.set(clientId, value);
      },
      () => {
        if (policyLists.peek(clientId) === loading) policyLists.delete(clientId);
      },
    );
    return loading;
  }

  function forgetFederation() {
    trustedIssuers = undefined;
    federatedLookups.clear();
  }

  function invalidate() {
    forgetFederation();
    policyLists.clear();
    clients.clear();
    apis.clear();
    misses.clear();
    apiList = undefined;
    keyRing = undefined;
    options.onReload?.();
  }

  /**
   * Forgets what changed. Records that were cached are reloaded now, in the background, so the
   * next request for a busy client finds a load already under way instead of starting one.
   */
  function apply(changes: RegistryChange[]) {
    let isApiChanged = false;
    let isKeyChanged = false;
    const seen = new Set<string>();
    const reload = (load: () => Promise<unknown>) => void load().catch(() => undefined);
    for (const change of changes) {
      const id = `${change.entity}:${change.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      switch (change.entity) {
        case 'signing_key':
          isKeyChanged = true;
          break;
        case 'api':
          isApiChanged = true;
          misses.delete(`api:${change.key}`);
          if (apis.peek(change.key) !== undefined) reload(() => loadApi(change.key));
          break;
        case 'client':
        case 'client_secret': {
          const field: Field = change.entity === 'client' ? 'client' : 'secrets';
          misses.delete(`${field}:${change.key}`);
          if (clients.peek(change.key)?.[field] !== undefined) reload(() => loadField(field, change.key));
          break;
        }
        case 'trusted_issuer':
        case 'federated_credential':
          forgetFederation();
          break;
        case 'exchange_policy':
          policyLists.delete(change.key);
          break;
        case 'client_grant': {
          misses.delete(`grant:${change.key}`);
          const [clientId, apiIdentifier] = change.key.split('\n') as [string, string];
          const grants = clients.peek(clientId)?.grants;
          if (grants?.includes(apiIdentifier)) reload(() => loadGrant(clientId, apiIdentifier));
          break;
        }
      }
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
    client: (clientId) => readField('client', clientId),
    clientSecrets: async (clientId) => (await readField('secrets', clientId)) ?? [],
    api: readApi,
    grant: readGrant,
    apis() {
      apiList ??= storage.listApis();
      const loading = apiList;
      loading.catch(() => {
        if (apiList === loading) apiList = undefined;
      });
      return loading;
    },
    keyRing: () => (keyRing ??= loadKeyRing()),
    trustedIssuer: readTrustedIssuer,
    federatedCredentials: readFederatedCredentials,
    exchangePolicies: readExchangePolicies,
    invalidate,
    refresh,
    stats: () => ({
      entries: clients.size,
      capacity: clients.capacity,
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
