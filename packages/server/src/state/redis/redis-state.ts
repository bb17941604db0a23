import { Redis } from 'ioredis';
import { DEFAULT_MAX_STATE_ENTRIES, type SharedState, type SharedStateOptions } from '../types.js';

export interface RedisStateOptions extends SharedStateOptions {
  /** `redis://…` or `rediss://…`. */
  url: string;
  /** Namespace of every key, so deployments (or test runs) sharing a Redis stay apart. */
  keyPrefix?: string;
  /** Longest wait for one command before it fails (default 500 ms): a hung Redis must not hang requests. */
  commandTimeoutMs?: number;
}

export interface RedisState extends SharedState {
  /** Resolves when Redis answers a PING; fails within the command timeout while it does not. */
  ping(): Promise<void>;
}

/**
 * Shared state in Redis, for instances on several hosts. Every operation is one Lua script, so it
 * is atomic across instances. Expiry is decided by the injected clock (`now` is passed to each
 * script and stored expiries compared against it), as in the other adapters; Redis's own TTL only
 * collects entries once they are dead in real time too. Each concern keeps a sorted set of its
 * keys by expiry: the bound evicts the entries closest to expiry first, and purge walks it.
 */
export function createRedisState(options: RedisStateOptions): RedisState {
  const { now } = options;
  const max = options.maxEntries ?? DEFAULT_MAX_STATE_ENTRIES;
  const prefix = options.keyPrefix ?? 'm2m-auth:state:';
  const redis = new Redis(options.url, {
    // A command fails after commandTimeout, or at the first failed reconnect, instead of waiting
    // for Redis to come back (the caller applies its outage policy, see resilient-state.ts);
    // ioredis keeps reconnecting in the background.
    commandTimeout: options.commandTimeoutMs ?? 500,
    connectTimeout: 2000,
    // Never resent after a reconnect: a script whose answer was lost may have run (useOnce run
    // twice would call the first use of an assertion a replay).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
  });
  // Without a listener a lost connection would crash the process; commands fail and callers decide.
  redis.on('error', () => undefined);
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 2, lua: BOUND + lua });
  const scripts = redis as unknown as Record<keyof typeof SCRIPTS, (key: string, index: string, ...args: (string | number)[]) => Promise<unknown>>;
  const key = (concern: string, name: string) => `${prefix}${concern}:${name}`;
  const index = (concern: string) => `${prefix}index:${concern}`;
  const expiryOf = (value: string | null) => (value === null ? 0 : Number(value.split(':').at(-1)));

  return {
    kind: 'redis',
    async revokeToken(jti, expiresAt) {
      await scripts.keepLatest(key('revoked', jti), index('revoked'), expiresAt, now(), max);
    },
    async isTokenRevoked(jti) {
      return expiryOf(await redis.get(key('revoked', jti))) > now();
    },
    async useOnce(name, expiresAt) {
      return (await scripts.useOnce(key('used', name), index('used'), expiresAt, now(), max)) === 1;
    },
    async countAttempt(name, ttlMs) {
      const [count, expiresAt] = (await scripts.countAttempt(key('attempts', name), index('attempts'), ttlMs, now(), max)) as [number, number];
      return { count, expiresAt };
    },
    async peekAttempts(name) {
      const value = await redis.get(key('attempts', name));
      if (value === null) return undefined;
      const [count, expiresAt] = value.split(':').map(Number) as [number, number];
      return expiresAt > now() ? { count, expiresAt } : undefined;
    },
    async take(name, limit) {
      const [isAllowed, retryAfterMs] = (await scripts.takeToken(key('bucket', name), index('bucket'), limit.capacity, limit.refillPerSecond, now(), max)) as [number, number];
      return { isAllowed: isAllowed === 1, retryAfterMs };
    },
    async purgeExpired() {
      let purged = 0;
      for (const concern of ['revoked', 'used', 'attempts', 'bucket']) purged += (await scripts.purge(index(concern), index(concern), now())) as number;
      return purged;
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      redis.disconnect();
    },
  };
}

/**
 * Shared by every script: keep the concern's index within `max`, evicting the soonest to expire —
 * never the entry just written (among equal expiries Redis would pick by name, which could be it).
 */
const BOUND = `
local function bound(index, max, keep)
  local excess = redis.call('ZCARD', index) - max
  if excess <= 0 then return end
  local keep_score = redis.call('ZSCORE', index, keep)
  redis.call('ZREM', index, keep)
  local victims = redis.call('ZPOPMIN', index, excess)
  for i = 1, #victims, 2 do redis.call('DEL', victims[i]) end
  if keep_score then redis.call('ZADD', index, keep_score, keep) end
end
local function remember(key, index, value, expires_at, now, max)
  redis.call('SET', key, value, 'PX', math.max(expires_at - now, 1))
  redis.call('ZADD', index, expires_at, key)
  bound(index, max, key)
end
`;

// Values are "expiresAt", "count:expiresAt" or "tokens:updatedAt:expiresAt" (epoch ms as integers).
const SCRIPTS = {
  // ARGV: expiresAt, now, max. A later expiry wins; an already expired one is ignored.
  keepLatest: `
local expires_at, now, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if expires_at <= now then return 0 end
if tonumber(redis.call('GET', KEYS[1]) or '0') < expires_at then remember(KEYS[1], KEYS[2], string.format('%d', expires_at), expires_at, now, max) end
return 1`,
  // ARGV: expiresAt, now, max. 1 the first time, 0 while recorded and unexpired.
  useOnce: `
local expires_at, now, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if tonumber(redis.call('GET', KEYS[1]) or '0') > now then return 0 end
remember(KEYS[1], KEYS[2], string.format('%d', expires_at), expires_at, now, max)
return 1`,
  // ARGV: ttlMs, now, max. Sliding: each count extends the life to now + ttl.
  countAttempt: `
local ttl, now, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = 0
local value = redis.call('GET', KEYS[1])
if value then
  local c, e = string.match(value, '^(%d+):(%d+)$')
  if tonumber(e) > now then count = tonumber(c) end
end
count = count + 1
local expires_at = now + ttl
remember(KEYS[1], KEYS[2], string.format('%d:%d', count, expires_at), expires_at, now, max)
return { count, expires_at }`,
  // ARGV: capacity, refillPerSecond, now, max. The arithmetic of refillBucket/bucketLifetimeMs.
  takeToken: `
local capacity, rate, now, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local available = capacity
local value = redis.call('GET', KEYS[1])
if value then
  local t, u, e = string.match(value, '^([^:]+):([^:]+):([^:]+)$')
  if tonumber(e) > now then available = math.min(capacity, tonumber(t) + math.max(0, now - tonumber(u)) / 1000 * rate) end
end
local tokens, allowed, retry = available, 0, 0
if available >= 1 then tokens, allowed = available - 1, 1 else retry = math.ceil((1 - available) / rate * 1000) end
local expires_at = now + math.ceil((capacity - tokens) / rate * 1000) + 1000
remember(KEYS[1], KEYS[2], string.format('%.17g:%d:%d', tokens, now, expires_at), expires_at, now, max)
return { allowed, retry }`,
  // KEYS[1] = KEYS[2] = the index; ARGV: now. Deletes every entry expired by the clock.
  purge: `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, key in ipairs(expired) do redis.call('DEL', key) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return #expired`,
};
