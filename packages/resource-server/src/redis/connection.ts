import { createHash } from 'node:crypto';
import { Redis, type Cluster } from 'ioredis';
import { createOptionChecks, describeValue } from '@m2m-auth/sdk-core';

/** What the Redis stores accept: an ioredis client to share (Redis or Cluster), or a URL to connect to. */
export type RedisConnection = Redis | Cluster | string;

export interface RedisStoreOptions {
  /** An ioredis client (`new Redis(…)` or a `Cluster`), which stays yours to close, or a `redis://` / `rediss://` URL. */
  redis: RedisConnection;
  /** Put before every key. Default `m2m-auth:rs:`; give each API its own when several share one Redis. */
  keyPrefix?: string;
  /** How long one Redis command may take before it counts as a failure. Default 1000 ms. */
  timeoutMs?: number;
}

const DEFAULT_KEY_PREFIX = 'm2m-auth:rs:';
const DEFAULT_TIMEOUT_MS = 1000;

/** A client and its settings, checked once when a store is made. */
export interface RedisStoreContext {
  readonly client: Redis | Cluster;
  readonly keyPrefix: string;
  /** Runs a command, rejecting when Redis has not answered within the timeout. */
  run<T>(command: Promise<T>): Promise<T>;
  /** Closes the connection when the store opened it from a URL; a client you passed stays open. */
  close(): Promise<void>;
}

export function openRedisStore(factory: string, options: RedisStoreOptions, knownOptions: readonly string[] = []): RedisStoreContext {
  const fail = (message: string): never => {
    throw new TypeError(`${factory}: ${message}`);
  };
  const check = createOptionChecks(fail);
  const input = check.object(options, 'options', ['redis', 'keyPrefix', 'timeoutMs', ...knownOptions]);
  if (!input) return fail('the options must be an object (got undefined).');
  const keyPrefix = input.keyPrefix === '' ? '' : (check.string(input.keyPrefix, 'keyPrefix') ?? DEFAULT_KEY_PREFIX);
  const timeoutMs = check.number(input.timeoutMs, 'timeoutMs', { above: 0 }) ?? DEFAULT_TIMEOUT_MS;
  const { client, owned } = connect(input.redis, timeoutMs, fail);
  return {
    client,
    keyPrefix,
    run: (command) => withTimeout(command, timeoutMs),
    async close() {
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  };
}

function connect(redis: unknown, timeoutMs: number, fail: (message: string) => never): { client: Redis | Cluster; owned: boolean } {
  if (typeof redis === 'string') {
    if (!/^rediss?:\/\//.test(redis)) fail('redis must be a redis:// or rediss:// URL or an ioredis client (got a string that is neither).');
    const client = new Redis(redis, {
      // Commands are queued while connecting (so the first request after start-up works) but
      // fail after one reconnection attempt in an outage, instead of waiting through twenty.
      maxRetriesPerRequest: 1,
      connectTimeout: Math.max(timeoutMs, 1000),
    });
    // Without a listener ioredis prints every connection error; each failure already reaches the
    // verifier's onEvent through the request it failed. ioredis keeps reconnecting on its own.
    client.on('error', () => undefined);
    return { client, owned: true };
  }
  if (typeof redis !== 'object' || redis === null || typeof (redis as Redis).set !== 'function' || typeof (redis as Redis).get !== 'function') {
    return fail(`redis must be a redis:// or rediss:// URL or an ioredis client (got ${describeValue(redis)}).`);
  }
  return { client: redis as Redis | Cluster, owned: false };
}

function withTimeout<T>(command: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([command, timeout]).finally(() => clearTimeout(timer));
}

/** SHA-256, base64url: a key of fixed length and alphabet, whatever the input. */
export const hashKey = (value: string) => createHash('sha256').update(value).digest('base64url');
