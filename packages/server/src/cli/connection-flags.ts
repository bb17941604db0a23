import { join } from 'node:path';
import { DATABASE_FILE, type ConnectionConfig } from '../config/server-config.js';
import { urlWithoutCredentials } from '../storage/open-storage.js';

export interface ConnectionFlags {
  /** e.g. `--data-dir /srv/m2m-auth-data` or `--database-url "$M2M_AUTH_DATABASE_URL" --data-dir …`. */
  flags: string;
  /** What the copied command still needs that the flags leave out (a password, the master key). */
  note: string | undefined;
}

/**
 * The flags that send another m2m-auth command to the same database and master key, for output
 * meant to be copied (serve's next steps, the way out of an error). `--database-url` is repeated
 * whenever it is not the data directory's own SQLite file — without it the next command would
 * look for that file instead — in its environment-variable form when it came from there, else
 * without its password. `--data-dir` names the master key, unless M2M_AUTH_MASTER_KEY supplies it.
 */
export function connectionFlags(connections: Pick<ConnectionConfig, 'dataDir' | 'database'>, env: NodeJS.ProcessEnv = process.env): ConnectionFlags {
  const { dataDir, database } = connections;
  const isDataDirDatabase = database.url === `sqlite:${join(dataDir, DATABASE_FILE)}`;
  const isFromEnv = env.M2M_AUTH_DATABASE_URL === database.url;
  const isKeyFromEnv = Boolean(env.M2M_AUTH_MASTER_KEY) && !isDataDirDatabase;
  const flags: string[] = [];
  const notes: string[] = [];
  if (!isDataDirDatabase) {
    const withoutPassword = urlWithoutCredentials(database.url, { keepUser: true });
    flags.push(`--database-url ${isFromEnv ? '"$M2M_AUTH_DATABASE_URL"' : shellWord(withoutPassword)}`);
    if (!isFromEnv && withoutPassword !== database.url)
      notes.push('the database password is left out: supply it with PGPASSWORD or ~/.pgpass, or export M2M_AUTH_DATABASE_URL');
  }
  if (isKeyFromEnv) notes.push('with M2M_AUTH_MASTER_KEY set as it is here');
  else flags.push(`--data-dir ${shellWord(dataDir)}`);
  return { flags: flags.join(' '), note: notes.length > 0 ? notes.join('; ') : undefined };
}

/** A word a POSIX shell reads back unchanged. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
