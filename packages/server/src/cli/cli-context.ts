import { join, resolve } from 'node:path';
import { openStorage } from '../storage/open-storage.js';
import type { Storage } from '../storage/types.js';
import { deriveSecrets, loadOrCreateMasterKeyFile, parseMasterKey } from '../keys/master-key.js';
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
  const masterKey = process.env.M2M_AUTH_MASTER_KEY ? parseMasterKey(process.env.M2M_AUTH_MASTER_KEY) : loadOrCreateMasterKeyFile(dataDir);
  const storage = await openStorage({ kind: 'sqlite', path: join(dataDir, DATABASE_FILE) });
  try {
    const { keyEncryptionKey, secretPepper } = deriveSecrets(masterKey);
    const admin = createAdmin({ storage, kek: keyEncryptionKey, secretPepper, now: Date.now, actor: 'cli' });
    await admin.ensureSigningKeys();
    return await run({ dataDir, storage, admin, masterKey });
  } finally {
    await storage.close();
  }
}
