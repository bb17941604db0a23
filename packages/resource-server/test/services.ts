import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * The Redis the tests use: M2M_AUTH_TEST_REDIS_URL, else the local default. A suite that needs it
 * is skipped when it does not answer, unless M2M_AUTH_REQUIRE_SERVICES=1 (CI), where its absence
 * fails the run instead.
 */
export const REDIS_URL = process.env.M2M_AUTH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REQUIRE_SERVICES = process.env.M2M_AUTH_REQUIRE_SERVICES === '1';

export async function isRedisAvailable(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let connectionError: Error | undefined;
  client.on('error', (error: Error) => void (connectionError ??= error));
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    const why = (connectionError ?? (error as Error)).message;
    if (REQUIRE_SERVICES) throw new Error(`M2M_AUTH_REQUIRE_SERVICES=1 but Redis at ${REDIS_URL} does not answer: ${why}`);
    return false;
  } finally {
    client.disconnect();
  }
}

/** A key prefix no other test run uses, and a way to read and remove every key under it. Call it once Redis is known to answer. */
export function createRedisNamespace() {
  const prefix = `m2m-auth-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
  const client = new Redis(REDIS_URL);
  const keys = async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found.sort();
  };
  return {
    prefix,
    client,
    keys,
    async removeAll(): Promise<void> {
      const found = await keys();
      if (found.length > 0) await client.del(...found);
      await client.quit();
    },
  };
}

/** A redis:// URL on a loopback port nothing listens on (it was free a moment ago). */
export async function closedRedisUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `redis://127.0.0.1:${port}`;
}
