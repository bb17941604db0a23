import type { Storage } from '../storage/types.js';
import { openFoundation } from '../boot/open-foundation.js';
import { createAdmin, type Admin } from '../admin/admin.js';
import { readConfigFile, resolveConnectionConfig, type ConnectionConfig } from '../config/server-config.js';
import type { CommonOptions, ManagementOptions } from './output.js';
import { UsageError } from './output.js';
import { requireCredentialUrl } from './credential-url.js';
import { createRemoteAdmin } from '../remote/remote-admin.js';
import { openSharedState } from '../state/open-state.js';
import { isResilientState } from '../state/resilient-state.js';
import type { SharedState, UsageCounterStore } from '../state/types.js';

export interface CliContext {
  dataDir: string;
  storage: Storage;
  admin: Admin;
  masterKey: Buffer;
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
export async function withCliContext<T>(options: CommonOptions, run: (context: CliContext) => Promise<T>): Promise<T> {
  return withConnections(resolveCliConnections(options), run);
}

export async function withConnections<T>(connections: ConnectionConfig, run: (context: CliContext) => Promise<T>): Promise<T> {
  const { dataDir } = connections;
  // The CLI does one thing and exits: one connection is plenty.
  const foundation = await openFoundation({
    storage: { ...connections.database, poolSize: 1 },
    dataDir,
    masterKey: process.env.M2M_AUTH_MASTER_KEY,
    actor: 'cli',
  });
  // The shared state holds usage counts: opened only by a command that reads them.
  let state: SharedState | undefined;
  const usage: Pick<UsageCounterStore, 'readUsage'> = {
    async readUsage(query) {
      state ??= openSharedState(connections.redisUrl ? { kind: 'redis', url: connections.redisUrl } : { kind: 'sqlite', dataDir }, Date.now);
      if (isResilientState(state)) await state.health.waitUntilAvailable(SHARED_STATE_WAIT_MS);
      return state.readUsage(query);
    },
  };
  try {
    await foundation.prepare();
    const { storage, masterKey, secrets } = foundation;
    const admin = createAdmin({ storage, kek: secrets.keyEncryptionKey, secretPepper: secrets.secretPepper, now: Date.now, actor: 'cli', usage });
    return await run({ dataDir, storage, admin, masterKey });
  } finally {
    await state?.close();
    await foundation.close();
  }
}

/** How long a command waits for Redis to answer before it reports it unavailable. */
const SHARED_STATE_WAIT_MS = 3000;

/**
 * The Admin a management command works on: the local data directory, or with `--server` /
 * M2M_AUTH_SERVER a remote m2m-auth through its admin API, with the admin client's credentials
 * from the environment. The command cannot tell the difference, so its output is the same.
 */
export async function withAdmin<T>(options: ManagementOptions, run: (context: { admin: Admin }) => Promise<T>): Promise<T> {
  const server = options.server ?? process.env.M2M_AUTH_SERVER;
  if (!server) return withCliContext(options, ({ admin }) => run({ admin }));
  const clientId = process.env.M2M_AUTH_ADMIN_CLIENT_ID;
  const clientSecret = process.env.M2M_AUTH_ADMIN_CLIENT_SECRET;
  if (!clientId || !clientSecret) {
    throw new UsageError(
      '--server needs an admin client: set M2M_AUTH_ADMIN_CLIENT_ID and M2M_AUTH_ADMIN_CLIENT_SECRET (create one with `m2m-auth admin bootstrap` on the server host)',
    );
  }
  const tokenEndpoint = process.env.M2M_AUTH_TOKEN_ENDPOINT;
  requireCredentialUrl(server, '--server / M2M_AUTH_SERVER', tokenEndpoint ? 'the admin token' : 'the admin client secret and token');
  if (tokenEndpoint) requireCredentialUrl(tokenEndpoint, 'M2M_AUTH_TOKEN_ENDPOINT', 'the admin client secret');
  const admin = createRemoteAdmin({ server, clientId, clientSecret, ...(tokenEndpoint ? { tokenEndpoint } : {}) });
  try {
    return await run({ admin });
  } finally {
    admin.close();
  }
}
