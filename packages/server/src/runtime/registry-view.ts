import type { ApiRecord, ClientGrantRecord, ClientRecord, ClientSecretRecord, Storage } from '../storage/types.js';
import { buildKeyRing, type KeyRing } from '../keys/key-ring.js';
import type { SignOn } from '../tokens/jws-signer.js';

/**
 * A read-through cache over storage for the request path: after the first request for a client,
 * issuing its tokens reads nothing from the database. Writes by this process call
 * `invalidate()`; writes by another process (the CLI, another instance) are noticed through the
 * storage revision, checked at most every `revisionCheckIntervalMs`.
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
  /** Checks the storage revision if the interval has passed; resolves when caches are current. */
  sync(): Promise<void> | undefined;
}

export interface RegistryViewOptions {
  storage: Storage;
  kek: Buffer;
  now: () => number;
  revisionCheckIntervalMs?: number;
  /** Bound on cached entries per kind, so a flood of unknown client ids cannot grow memory. */
  maxEntries?: number;
  onReload?: () => void;
  /** Where the signers built from storage run ECDSA and EdDSA signatures. */
  signOn: SignOn;
}

export function createRegistryView(options: RegistryViewOptions): RegistryView {
  const { storage, kek, now } = options;
  const interval = options.revisionCheckIntervalMs ?? 250;
  const maxEntries = options.maxEntries ?? 10_000;
  const clients = new Map<string, Promise<ClientRecord | undefined>>();
  const secrets = new Map<string, Promise<ClientSecretRecord[]>>();
  const apis = new Map<string, Promise<ApiRecord | undefined>>();
  const grants = new Map<string, Promise<ClientGrantRecord | undefined>>();
  let apiList: Promise<ApiRecord[]> | undefined;
  let keyRing: Promise<KeyRing> | undefined;
  let lastKeyRing: KeyRing | undefined;
  let knownRevision: number | undefined;
  let lastCheck = -Infinity;
  let checking: Promise<void> | undefined;

  function memo<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let entry = map.get(key);
    if (!entry) {
      if (map.size >= maxEntries) map.clear();
      entry = load();
      // Neither a failed read nor a miss stays cached: a client or grant created a moment ago
      // by another process must work at once, and a failure must retry the database.
      entry.then(
        (value) => value === undefined && map.delete(key),
        () => map.delete(key),
      );
      map.set(key, entry);
    }
    return entry;
  }

  function invalidate() {
    clients.clear();
    secrets.clear();
    apis.clear();
    grants.clear();
    apiList = undefined;
    keyRing = undefined;
    options.onReload?.();
  }

  async function checkRevision() {
    try {
      const revision = await storage.currentRevision();
      if (revision !== knownRevision) {
        if (knownRevision !== undefined) invalidate();
        knownRevision = revision;
      }
    } finally {
      checking = undefined;
    }
  }

  return {
    client: (clientId) => memo(clients, clientId, () => storage.getClient(clientId)),
    clientSecrets: (clientId) => memo(secrets, clientId, () => storage.listClientSecrets(clientId)),
    api: (identifier) => memo(apis, identifier, () => storage.getApi(identifier)),
    grant: (clientId, apiIdentifier) =>
      memo(grants, `${clientId}\n${apiIdentifier}`, () => storage.findGrant(clientId, apiIdentifier)),
    apis: () => (apiList ??= storage.listApis()),
    keyRing() {
      keyRing ??= storage.listKeys().then((records) => (lastKeyRing = buildKeyRing(records, kek, lastKeyRing, options.signOn)));
      keyRing.catch(() => (keyRing = undefined));
      return keyRing;
    },
    invalidate,
    sync() {
      if (checking) return checking;
      const at = now();
      if (at - lastCheck < interval) return undefined;
      lastCheck = at;
      return (checking = checkRevision());
    },
  };
}
