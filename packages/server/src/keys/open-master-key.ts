import { join } from 'node:path';
import type { Storage } from '../storage/types.js';
import { createMasterKeyFile, deriveSecrets, MASTER_KEY_FILE, parseMasterKey, readMasterKeyFile } from './master-key.js';
import { decryptPrivateKey } from './key-encryption.js';

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/**
 * No master key is configured or on disk, and the caller may not make one. Nothing in the storage
 * needs it yet, but a key made here would not be the one a server elsewhere (or the operator's
 * M2M_AUTH_MASTER_KEY, forgotten in this shell) uses for the same database.
 */
export class MasterKeyMissingError extends MasterKeyError {
  constructor(readonly keyFile: string) {
    super(`no master key: ${keyFile} does not exist and M2M_AUTH_MASTER_KEY is not set`);
  }
}

export interface OpenMasterKeyOptions {
  /** M2M_AUTH_MASTER_KEY (or an explicit option); else `<dataDir>/master.key`. */
  configured: string | undefined;
  dataDir: string;
  /** The opened storage the key must fit. */
  storage: Storage;
  /** How messages name the storage: the SQLite file or the database URL without its password. */
  storageName: string;
  /** Whether a missing key file may be created (when nothing in storage is protected yet); default true. */
  mayCreate?: boolean;
}

/**
 * The master key for an opened data directory, checked against what the storage holds. A new key
 * file is made only while nothing in storage was protected by a key; a missing or wrong key is
 * refused with what happened and how to recover — never replaced, which would leave every signing
 * key unreadable and every client secret unmatchable while the server looked healthy.
 */
export async function openMasterKey(options: OpenMasterKeyOptions): Promise<Buffer> {
  const keyFile = join(options.dataDir, MASTER_KEY_FILE);
  const source = options.configured !== undefined ? 'M2M_AUTH_MASTER_KEY' : keyFile;
  let masterKey = options.configured !== undefined ? parseMasterKey(options.configured) : readMasterKeyFile(options.dataDir);
  if (masterKey === undefined) {
    const held = await countProtectedRecords(options.storage);
    if (held.keys + held.secrets > 0) {
      throw new MasterKeyError(
        [
          `${keyFile} is missing, but the database ${options.storageName} holds ${held.keys} signing key(s) and ${held.secrets} client secret(s) protected by a master key.`,
          'Refusing to generate a new one: the signing keys could not be decrypted and no client secret would match.',
          `To recover, restore master.key from a backup into ${options.dataDir} (mode 0600), or set M2M_AUTH_MASTER_KEY to the original key.`,
          options.storage.kind === 'sqlite'
            ? 'To start over instead, move the whole data directory away (every client then needs a new secret).'
            : 'To start over instead, use a new, empty database (every client then needs a new secret).',
        ].join('\n'),
      );
    }
    if (options.mayCreate === false) throw new MasterKeyMissingError(keyFile);
    masterKey = createMasterKeyFile(options.dataDir);
  }
  await assertOpensSigningKeys(masterKey, options.storage, source, options.storageName);
  return masterKey;
}

async function countProtectedRecords(storage: Storage) {
  const keys = (await storage.listKeys()).length;
  let secrets = 0;
  for (const client of await storage.listClients()) secrets += (await storage.listClientSecrets(client.clientId)).length;
  return { keys, secrets };
}

/** AES-GCM authenticates: a wrong master key fails on the first key it tries to open. */
async function assertOpensSigningKeys(masterKey: Buffer, storage: Storage, source: string, storageName: string) {
  const { keyEncryptionKey } = deriveSecrets(masterKey);
  for (const key of await storage.listKeys()) {
    try {
      decryptPrivateKey(keyEncryptionKey, key.kid, key.encryptedPrivateKey);
    } catch {
      throw new MasterKeyError(
        [
          `The master key from ${source} does not open the signing keys in the database ${storageName} (signing key ${key.kid}): it is not the key this data was encrypted with.`,
          "To recover, use the original key: restore master.key from a backup, or set M2M_AUTH_MASTER_KEY to the value used before (unset it if the data directory's own master.key is the right one).",
          'Nothing was changed.',
        ].join('\n'),
      );
    }
  }
}
