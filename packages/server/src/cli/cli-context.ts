import type { Storage } from '../storage/types.js';
import { openFoundation } from '../boot/open-foundation.js';
import { createAdmin, type Admin } from '../admin/admin.js';
import type { SigningKeySummary } from '../admin/keys.js';
import { readConfigFile, resolveConnectionConfig, type ConnectionConfig } from '../config/server-config.js';
import { DatabaseMissingError } from '../storage/open-storage.js';
import { MasterKeyMissingError } from '../keys/open-master-key.js';
import type { CommonOptions, ManagementOptions } from './output.js';
import { UsageError } from './output.js';
import { requireCredentialUrl } from './credential-url.js';
import { createRemoteAdmin } from '../remote/remote-admin.js';
import { localStore, remoteStore, reportStore } from './store-report.js';
import { connectionFlags } from './connection-flags.js';

export interface CliContext {
  dataDir: string;
  storage: Storage;
  admin: Admin;
  masterKey: Buffer;
  /** Signing keys made on opening (a database that had none). */
  createdKeys: SigningKeySummary[];
}

export interface OpenOptions {
  /**
   * Whether a missing database or master key may be made. Only `init`, `migrate`, `admin
   * bootstrap` and `serve` make them; every other command refuses, naming the path it looked at.
   */
  mayCreate?: boolean;
}

/**
 * Where the data is, from the same sources as `serve` (flags, environment, the M2M_AUTH_CONFIG
 * file), so a CLI command and a server given the same environment share one database.
 */
export function resolveCliConnections(options: CommonOptions): ConnectionConfig {
  const file = process.env.M2M_AUTH_CONFIG ? readConfigFile(process.env.M2M_AUTH_CONFIG) : {};
  const { dataDir, databaseUrl, redisUrl } = options;
  return resolveConnectionConfig({ dataDir, databaseUrl, redisUrl }, process.env, file);
}

/**
 * Opens the database the server uses. SQLite in WAL mode with a busy timeout lets the CLI write
 * while a server runs; PostgreSQL takes concurrent writers anyway. Servers notice the change
 * through the storage revision (or its notification).
 */
export async function withCliContext<T>(options: CommonOptions, run: (context: CliContext) => Promise<T>, open: OpenOptions = {}): Promise<T> {
  const connections = resolveCliConnections(options);
  reportStore(localStore(connections));
  return withConnections(connections, run, open);
}

export async function withConnections<T>(connections: ConnectionConfig, run: (context: CliContext) => Promise<T>, open: OpenOptions = {}): Promise<T> {
  const { dataDir } = connections;
  // The CLI does one thing and exits: one connection is plenty.
  const foundation = await openFoundation({
    storage: { ...connections.database, poolSize: 1 },
    dataDir,
    masterKey: process.env.M2M_AUTH_MASTER_KEY,
    actor: 'cli',
    mayCreate: open.mayCreate === true,
  }).catch((error: unknown) => {
    throw error instanceof DatabaseMissingError || error instanceof MasterKeyMissingError ? new UsageError(howToCreate(error, connections)) : error;
  });
  try {
    const { createdKeys } = await foundation.prepare();
    const { storage, masterKey, secrets } = foundation;
    const admin = createAdmin({ storage, kek: secrets.keyEncryptionKey, secretPepper: secrets.secretPepper, now: Date.now, actor: 'cli' });
    return await run({ dataDir, storage, admin, masterKey, createdKeys });
  } finally {
    await foundation.close();
  }
}

/** What is missing, in the CLI's words: the path it looked at, and the commands that make it. */
function howToCreate(error: DatabaseMissingError | MasterKeyMissingError, connections: ConnectionConfig): string {
  const { flags, note } = connectionFlags(connections);
  const create = [`  m2m-auth init ${flags}`, ...(note ? [`  (${note})`] : [])];
  if (error instanceof MasterKeyMissingError) {
    return [
      `${error.message}.`,
      `The database ${localStore(connections).location} exists, so its master key is kept elsewhere: set M2M_AUTH_MASTER_KEY to the key its server uses, or point --data-dir (M2M_AUTH_DATA_DIR) at the directory that holds its master.key.`,
      'On a new deployment, create the master key with:',
      ...create,
      'Nothing was created.',
    ].join('\n');
  }
  const { missing } = error;
  if (missing.kind === 'postgres') {
    return [
      `${error.message}: m2m-auth has not set it up (or the URL names another database or schema).`,
      'Check --database-url (M2M_AUTH_DATABASE_URL), or set the database up with:',
      ...create,
      '(`m2m-auth migrate` creates only the schema; starting `m2m-auth serve` on it does both.) Nothing was changed.',
    ].join('\n');
  }
  const where =
    missing.reason === 'no-file'
      ? `${error.message}.`
      : missing.reason === 'no-directory'
        ? `${error.message} (looked for its database ${missing.path}).`
        : `${error.message}: it cannot hold the database ${missing.path}.`;
  return [
    where,
    'Run the command where the data directory is, or point --data-dir (M2M_AUTH_DATA_DIR) or --database-url at it. To start a new one:',
    ...create,
    `(starting \`m2m-auth serve ${flags}\` creates it too). Nothing was created.`,
  ].join('\n');
}

/**
 * The Admin a management command works on: the local data directory, or with `--server` /
 * M2M_AUTH_SERVER a remote m2m-auth through its admin API, with the admin client's credentials
 * from the environment. The command cannot tell the difference, so its output is the same.
 */
export async function withAdmin<T>(options: ManagementOptions, run: (context: { admin: Admin }) => Promise<T>): Promise<T> {
  const server = options.server ?? process.env.M2M_AUTH_SERVER;
  if (!server) return withCliContext(options, ({ admin }) => run({ admin }));
  // The URLs first: a malformed one is the mistake to report, whatever else is missing.
  const tokenEndpoint = process.env.M2M_AUTH_TOKEN_ENDPOINT;
  requireCredentialUrl(server, '--server / M2M_AUTH_SERVER', tokenEndpoint ? 'the admin token' : 'the admin client secret and token');
  if (tokenEndpoint) requireCredentialUrl(tokenEndpoint, 'M2M_AUTH_TOKEN_ENDPOINT', 'the admin client secret');
  const clientId = process.env.M2M_AUTH_ADMIN_CLIENT_ID;
  const clientSecret = process.env.M2M_AUTH_ADMIN_CLIENT_SECRET;
  if (!clientId || !clientSecret) {
    throw new UsageError(
      '--server needs an admin client: set M2M_AUTH_ADMIN_CLIENT_ID and M2M_AUTH_ADMIN_CLIENT_SECRET (create one with `m2m-auth admin bootstrap` on the server host)',
    );
  }
  reportStore(remoteStore(server));
  const admin = createRemoteAdmin({ server, clientId, clientSecret, ...(tokenEndpoint ? { tokenEndpoint } : {}) });
  try {
    return await run({ admin });
  } finally {
    admin.close();
  }
}
