import { join, resolve } from 'node:path';
import { openStorage, StorageAccessError } from '../storage/open-storage.js';
import type { Storage } from '../storage/types.js';
import { deriveSecrets } from '../keys/master-key.js';
import { openMasterKey } from '../keys/open-master-key.js';
import { createAdmin, type Admin } from '../admin/admin.js';
import { DATABASE_FILE, DEFAULT_DATA_DIR } from '../config/server-config.js';
import type { CommonOptions } from './output.js';

export interface CliContext {
  dataDir: string;
  storage: Storage;
  admin: Admin;
  masterKey: Buffer;
}

/**
 * Opens the data directory the server uses. SQLite in WAL mode with a busy timeout lets the CLI
 * write while a server runs; the server notices through the storage revision.
 */
export async function withCliContext<T>(options: CommonOptions, run: (context: CliContext) => Promise<T>): Promise<T> {
  const dataDir = resolve(options.dataDir ?? process.env.M2M_AUTH_DATA_DIR ?? DEFAULT_DATA_DIR);
  const databasePath = join(dataDir, DATABASE_FILE);
  const storage = await openStorage({ kind: 'sqlite', path: databasePath });
  try {
    const masterKey = await openMasterKey({ configured: process.env.M2M_AUTH_MASTER_KEY || undefined, dataDir, storage });
    const { keyEncryptionKey, secretPepper } = deriveSecrets(masterKey);
    const admin = createAdmin({ storage, kek: keyEncryptionKey, secretPepper, now: Date.now, actor: 'cli' });
    await admin.ensureSigningKeys().catch((cause: unknown) => {
      throw new StorageAccessError(databasePath, 'write signing keys to', cause);
    });
    return await run({ dataDir, storage, admin, masterKey });
  } finally {
    await storage.close();
  }
}
