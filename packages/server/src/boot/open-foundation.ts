import { join } from 'node:path';
import type { Storage } from '../storage/types.js';
import {
  DatabaseMissingError,
  findMissingDatabase,
  openStorage,
  parseDatabaseUrl,
  redactDatabaseUrl,
  StorageAccessError,
  type OpenStorageOptions,
} from '../storage/open-storage.js';
import { DATABASE_FILE } from '../config/server-config.js';
import { deriveSecrets, generateMasterKey, parseMasterKey, type DerivedSecrets } from '../keys/master-key.js';
import { openMasterKey } from '../keys/open-master-key.js';
import { createAdmin } from '../admin/admin.js';
import type { SigningKeySummary } from '../admin/keys.js';

/**
 * What every m2m-auth process stands on, opened in one place for `serve`, `startServer` and the
 * CLI alike: the database, the master key checked against it (a data directory it does not fit
 * is refused before anything is added to it) and the secrets derived from it. `prepare()` then
 * makes sure signing keys exist and the built-in admin API is current: a separate step, because
 * a server listens (answering 503 while starting) before generating a first key, which can take
 * a second.
 */
export interface Foundation {
  readonly storage: Storage;
  readonly masterKey: Buffer;
  readonly secrets: DerivedSecrets;
  /** Signing keys made and admin scopes added, for the caller's log. */
  prepare(): Promise<{ createdKeys: SigningKeySummary[]; addedAdminScopes: string[] }>;
  /** Closes the storage. */
  close(): Promise<void>;
}

export interface FoundationOptions {
  /** An opened Storage (the foundation then owns it), `memory`, or where to open one. */
  storage: Storage | 'memory' | OpenStorageOptions;
  /** The home of `master.key` (and of the SQLite file by default). */
  dataDir: string;
  /** A configured master key (flag or M2M_AUTH_MASTER_KEY); in memory without one, a fresh key. */
  masterKey?: string | undefined;
  /** Recorded in the audit log for keys made at start: `server` or `cli`. */
  actor: string;
  now?: () => number;
  /**
   * Whether a missing database or master key may be created (default true: a server's first
   * start, `init`). False refuses with DatabaseMissingError or MasterKeyMissingError and leaves
   * no file behind: a management command pointed at the wrong place must not set up a new one.
   */
  mayCreate?: boolean;
}

export async function openFoundation(options: FoundationOptions): Promise<Foundation> {
  const mayCreate = options.mayCreate !== false;
  if (!mayCreate && typeof options.storage === 'object' && 'url' in options.storage) {
    const missing = await findMissingDatabase(options.storage);
    if (missing) throw new DatabaseMissingError(missing);
  }
  const storage = await openStorageChoice(options.storage);
  try {
    const masterKey =
      !options.masterKey && options.storage === 'memory'
        ? parseMasterKey(generateMasterKey())
        : await openMasterKey({
            configured: options.masterKey || undefined,
            dataDir: options.dataDir,
            storage,
            storageName: describeStorage(options),
            mayCreate,
          });
    const secrets = deriveSecrets(masterKey);
    const admin = createAdmin({
      storage,
      kek: secrets.keyEncryptionKey,
      secretPepper: secrets.secretPepper,
      now: options.now ?? Date.now,
      actor: options.actor,
    });
    async function prepare() {
      const createdKeys = await admin.ensureSigningKeys().catch((cause: unknown) => {
        throw storage.kind === 'sqlite' ? new StorageAccessError(describeStorage(options), 'write signing keys to', cause) : cause;
      });
      return { createdKeys, addedAdminScopes: await admin.upgradeBuiltInAdminApi() };
    }
    return { storage, masterKey, secrets, prepare, close: () => storage.close() };
  } catch (error) {
    await storage.close();
    throw error;
  }
}

function openStorageChoice(choice: FoundationOptions['storage']): Promise<Storage> {
  if (choice === 'memory') return openStorage({ kind: 'memory' });
  if ('url' in choice) return openStorage(choice);
  return Promise.resolve(choice);
}

/** The SQLite file's path, or the URL without its password: how errors name the database. */
function describeStorage(options: Pick<FoundationOptions, 'storage' | 'dataDir'>): string {
  const choice = options.storage;
  if (typeof choice === 'object' && 'url' in choice) {
    const location = parseDatabaseUrl(choice.url);
    return location.kind === 'sqlite' ? location.path : redactDatabaseUrl(choice.url);
  }
  if (typeof choice === 'object') return `(the ${choice.kind} storage passed in)`;
  return choice === 'memory' ? '(in memory)' : join(options.dataDir, DATABASE_FILE);
}
