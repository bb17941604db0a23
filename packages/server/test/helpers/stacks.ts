import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage } from '../../src/storage/open-storage.js';
import { openSharedState } from '../../src/state/open-state.js';
import { isResilientState } from '../../src/state/resilient-state.js';
import type { Storage } from '../../src/storage/types.js';
import type { SharedState } from '../../src/state/types.js';
import { createSchemaNames, deleteRedisKeys, isPostgresAvailable, isRedisAvailable, POSTGRES_URL, REDIS_URL } from './services.js';

/**
 * The storage + shared-state stacks CI runs, for the suites that must hold on each of them (the
 * attack, fault and fuzz suites): SQLite with its state file (the embedded default), and
 * PostgreSQL with Redis (several instances). A bug that only one adapter has — PostgreSQL refusing
 * a NUL byte, Redis evicting differently — is found only where the suite runs on that adapter.
 *
 * PostgreSQL+Redis is left out when either service does not answer, and its absence fails the run
 * when M2M_AUTH_REQUIRE_SERVICES=1 (services.ts). Every opening gets its own SQLite directory or
 * PostgreSQL schema and Redis key prefix, removed again by `close()`.
 */
export type StackName = 'sqlite' | 'postgres+redis';

export interface OpenedStack {
  storage: Storage;
  state: SharedState;
  /**
   * Everything the stack holds at rest, as text: the database and state files (WAL included), or
   * every row of the schema and every Redis key and value of the prefix. For checks that no raw
   * token or secret is ever stored.
   */
  dumpAtRest(): Promise<string>;
  /** Closes the storage and the state, then removes the directory, schema and keys it made. */
  close(): Promise<void>;
}

/** What a real `serve` / CLI process is given to use the stack; `close()` removes it again. */
export interface StackProcessArgs {
  args: string[];
  /** As OpenedStack's: everything the processes stored, as text. */
  dumpAtRest(): Promise<string>;
  close(): Promise<void>;
}

export interface Stack {
  name: StackName;
  /** In-process: storage and shared state on the injected clock. */
  open(now: () => number): Promise<OpenedStack>;
  /** For real processes: the flags that point `serve` and the CLI (with `dataDir`) at the stack. */
  processArgs(dataDir: string): Promise<StackProcessArgs>;
}

const sqlite: Stack = {
  name: 'sqlite',
  async open(now) {
    const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-stack-'));
    const storage = await openStorage({ url: `sqlite:${join(dir, 'm2m-auth.db')}` });
    const state = openSharedState({ kind: 'sqlite', dataDir: dir }, now);
    return {
      storage,
      state,
      dumpAtRest: async () => dumpDirectory(dir),
      close: async () => {
        await state.close();
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  // The data directory holds both the database and the state file: the default needs no flag.
  processArgs: async (dataDir) => ({ args: [], dumpAtRest: async () => dumpDirectory(dataDir), close: async () => undefined }),
};

function postgresRedis(): Stack {
  const schemas = createSchemaNames('m2m_stack');
  const place = async () => {
    const schema = schemas.next();
    await schemas.create(schema);
    const prefix = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
    return {
      databaseUrl: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      redisUrl: `${REDIS_URL}/0?keyPrefix=${encodeURIComponent(prefix)}`,
      dumpAtRest: async () => `${await dumpSchema(schema)}\n${await dumpRedis(prefix)}`,
      remove: async () => {
        await schemas.drop(schema);
        await deleteRedisKeys(prefix);
      },
    };
  };
  return {
    name: 'postgres+redis',
    async open(now) {
      const { databaseUrl, redisUrl, remove, dumpAtRest } = await place();
      const storage = await openStorage({ url: databaseUrl, poolSize: 4 });
      // As `serve --redis-url` opens it: Redis behind its outage policy. Waiting for the first
      // connection keeps the suite on Redis rather than on the per-instance fallback.
      const state = openSharedState({ kind: 'redis', url: redisUrl }, now);
      if (isResilientState(state) && !(await state.health.waitUntilAvailable(5000))) throw new Error(`Redis at ${REDIS_URL} did not answer`);
      return {
        storage,
        state,
        dumpAtRest,
        close: async () => {
          await state.close();
          await storage.close();
          await remove();
        },
      };
    },
    async processArgs() {
      const { databaseUrl, redisUrl, remove, dumpAtRest } = await place();
      return { args: ['--database-url', databaseUrl, '--redis-url', redisUrl], dumpAtRest, close: remove };
    },
  };
}

/** Every file of a data directory (databases, their WAL, the state file), as text. */
function dumpDirectory(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(dir, entry.name)).toString('latin1'))
    .join('\n');
}

/** Every row of every table of a schema, as JSON lines. */
async function dumpSchema(schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1', [schema]);
    const lines: string[] = [];
    for (const { name } of tables) {
      const { rows } = await client.query(`SELECT row_to_json(t)::text AS line FROM "${schema}"."${name}" AS t`);
      lines.push(...rows.map((row: { line: string }) => row.line));
    }
    return lines.join('\n');
  } finally {
    await client.end();
  }
}

/** Every key under a prefix with its value (strings and sorted sets), as lines. */
async function dumpRedis(prefix: string): Promise<string> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  try {
    const lines: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      for (const key of keys) {
        const type = await redis.type(key);
        const value = type === 'string' ? await redis.get(key) : type === 'zset' ? (await redis.zrange(key, 0, -1)).join(' ') : type;
        lines.push(`${key} ${value}`);
      }
      cursor = next;
    } while (cursor !== '0');
    return lines.join('\n');
  } finally {
    redis.disconnect();
  }
}

/** The stacks this run can reach: SQLite always, PostgreSQL+Redis when both answer. */
export async function availableStacks(): Promise<Stack[]> {
  const hasServices = (await isPostgresAvailable()) && (await isRedisAvailable());
  return hasServices ? [sqlite, postgresRedis()] : [sqlite];
}
