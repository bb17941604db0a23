import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL the tests use: M2M_AUTH_TEST_POSTGRES_URL, else the local default. A suite that
 * needs it is skipped when it does not answer, unless M2M_AUTH_REQUIRE_SERVICES=1 (CI), where its
 * absence fails the run instead.
 */
export const POSTGRES_URL = process.env.M2M_AUTH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REQUIRE_SERVICES = process.env.M2M_AUTH_REQUIRE_SERVICES === '1';

export async function isPostgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (REQUIRE_SERVICES) throw new Error(`M2M_AUTH_REQUIRE_SERVICES=1 but PostgreSQL at ${POSTGRES_URL} does not answer: ${(error as Error).message}`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const REDIS_URL = process.env.M2M_AUTH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function isRedisAvailable(): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    if (REQUIRE_SERVICES) throw new Error(`M2M_AUTH_REQUIRE_SERVICES=1 but Redis at ${REDIS_URL} does not answer: ${(error as Error).message}`);
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix` (a test run's own namespace; nothing else is touched). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A schema name no other test run uses; `dropSchemas` removes every one this file made. */
export function createSchemaNames(prefix = 'm2m_test') {
  const run = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const made: string[] = [];
  // Counted apart from `made`, which shrinks on drop: a name is never given twice.
  let count = 0;
  const drop = async (name: string): Promise<void> => {
    const at = made.indexOf(name);
    if (at >= 0) made.splice(at, 1);
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    } finally {
      await client.end();
    }
  };
  return {
    next(): string {
      const name = `${run}_${(count += 1)}`;
      made.push(name);
      return name;
    },
    /** Creates a schema made by `next()`: a server given it in `search_path` finds it there. */
    async create(name: string): Promise<void> {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA "${name}"`);
      } finally {
        await client.end();
      }
    },
    /** Drops one schema made by `next()` (and forgets it). */
    drop,
    async dropAll(): Promise<void> {
      for (const name of [...made]) await drop(name);
    },
  };
}
