import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { byBucket, stateBounds, StateCapacityError, USAGE_GRANULARITIES, type SharedState, type SharedStateOptions, type UsageCount } from '../types.js';

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
 * keys by expiry (counted for `maxEntries`, walked by purge), and each owned concern a sorted set
 * per owning client (its allowance). A full bound refuses the newcomer; nothing unexpired is
 * ever evicted (see types.ts).
 */
export function createRedisState(options: RedisStateOptions): RedisState {
  const { now } = options;
  const { maxEntries: max, allowance } = stateBounds(options);
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
  for (const [name, { keys, lua }] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: keys, lua: COMMON + lua });
  const scripts = redis as unknown as Record<keyof typeof SCRIPTS, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;
  const key = (concern: string, name: string) => `${prefix}${concern}:${name}`;
  const index = (concern: string) => `${prefix}index:${concern}`;
  // The owner is a registered client's id; hashed so a key's length and alphabet do not depend on it.
  const ownerTag = (owner: string) => createHash('sha256').update(owner).digest('base64url').slice(0, 22);
  const ownedPrefix = (concern: string) => `${prefix}owner:${concern}:`;
  const owned = (concern: string, owner: string) => `${ownedPrefix(concern)}${ownerTag(owner)}`;
  const expiryOf = (value: string | null) => (value === null ? 0 : Number(value.split(':').at(-1)));
  // Usage: one hash per hour or day (fields "t|r <client id> <API>", newline-separated), and per
  // granularity an index of the buckets by expiry, so a read or a purge walks only live buckets.
  const usageBucketPrefix = (granularity: string) => `${prefix}usage:${granularity}:`;
  const usageIndex = (granularity: string) => `${prefix}usage-index:${granularity}`;

  return {
    kind: 'redis',
    async revokeToken(jti, expiresAt, owner) {
      const wait = (await scripts.keepLatest(
        key('revoked', jti),
        index('revoked'),
        owned('revoked', owner),
        expiresAt,
        now(),
        allowance.revocations,
      )) as number;
      if (wait > 0) throw new StateCapacityError('revocations', wait);
    },
    async isTokenRevoked(jti) {
      return expiryOf(await redis.get(key('revoked', jti))) > now();
    },
    async useOnce(name, expiresAt, owner) {
      const answer = (await scripts.useOnce(key('used', name), index('used'), owned('used', owner), expiresAt, now(), allowance.assertions)) as number;
      if (answer < 0) throw new StateCapacityError('assertions', -answer);
      return answer === 1;
    },
    async putOpaqueToken(name, value, expiresAt, owner) {
      const tag = ownerTag(owner);
      const wait = (await scripts.putOwned(
        key('opaque', name),
        index('opaque'),
        `${ownedPrefix('opaque')}${tag}`,
        value,
        tag,
        expiresAt,
        now(),
        allowance.opaqueTokens,
      )) as number;
      if (wait > 0) throw new StateCapacityError('opaqueTokens', wait);
    },
    async getOpaqueToken(name) {
      const stored = await redis.get(key('opaque', name));
      if (stored === null) return undefined;
      const [expiresAt, , value] = splitOwnedValue(stored);
      return expiresAt > now() ? value : undefined;
    },
    async deleteOpaqueToken(name) {
      return ((await scripts.forgetOwned(key('opaque', name), index('opaque'), ownedPrefix('opaque'), now())) as number) === 1;
    },
    async countAttempt(name, ttlMs) {
      const [count, expiresAtOrWait] = (await scripts.countAttempt(key('attempts', name), index('attempts'), ttlMs, now(), max)) as [number, number];
      if (count === 0) throw new StateCapacityError('attempts', expiresAtOrWait);
      return { count, expiresAt: expiresAtOrWait };
    },
    async peekAttempts(name) {
      const value = await redis.get(key('attempts', name));
      if (value === null) return undefined;
      const [count, expiresAt] = value.split(':').map(Number) as [number, number];
      return expiresAt > now() ? { count, expiresAt } : undefined;
    },
    async take(name, limit) {
      const [isAllowed, retryAfterMs] = (await scripts.takeToken(key('bucket', name), index('bucket'), limit.capacity, limit.refillPerSecond, now(), max)) as [
        number,
        number,
      ];
      return { isAllowed: isAllowed === 1, retryAfterMs };
    },
    async addUsage(counts) {
      // One script per bucket (an hour and a day, rarely more per batch), all in one round trip.
      const byBucketKey = new Map<string, { granularity: string; start: number; expiresAt: number; fields: (string | number)[] }>();
      for (const count of counts) {
        const name = `${count.granularity}:${count.start}`;
        let bucket = byBucketKey.get(name);
        if (!bucket) byBucketKey.set(name, (bucket = { granularity: count.granularity, start: count.start, expiresAt: 0, fields: [] }));
        bucket.expiresAt = Math.max(bucket.expiresAt, count.expiresAt);
        bucket.fields.push(`${count.clientId}\n${count.api}`, count.tokens, count.refetches);
      }
      if (byBucketKey.size === 0) return;
      const pipeline = redis.pipeline() as unknown as Record<'addUsage', (...keysAndArgs: (string | number)[]) => void> & {
        exec(): Promise<[Error | null, unknown][] | null>;
      };
      const at = now();
      for (const bucket of byBucketKey.values()) {
        const bucketPrefix = usageBucketPrefix(bucket.granularity);
        pipeline.addUsage(`${bucketPrefix}${bucket.start}`, usageIndex(bucket.granularity), bucketPrefix, bucket.start, bucket.expiresAt, at, ...bucket.fields);
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
    },
    async readUsage(query) {
      const at = now();
      const starts = (await redis.zrangebyscore(usageIndex(query.granularity), `(${at}`, '+inf'))
        .map(Number)
        .filter((start) => start >= query.since && start < query.until);
      if (starts.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const start of starts) pipeline.hgetall(`${usageBucketPrefix(query.granularity)}${start}`);
      const hashes = (await pipeline.exec()) ?? [];
      const selected = new Map<string, UsageCount>();
      hashes.forEach(([error, hash], at) => {
        if (error) throw error;
        for (const [field, value] of Object.entries(hash as Record<string, string>)) {
          const [kind, clientId, api] = field.split('\n') as [string, string, string];
          if ((query.clientId !== undefined && clientId !== query.clientId) || (query.api !== undefined && api !== query.api)) continue;
          const name = `${starts[at]}\n${clientId}\n${api}`;
          let count = selected.get(name);
          if (!count) selected.set(name, (count = { clientId, api, granularity: query.granularity, start: starts[at]!, tokens: 0, refetches: 0 }));
          if (kind === 't') count.tokens = Number(value);
          else count.refetches = Number(value);
        }
      });
      return [...selected.values()].sort(byBucket);
    },
    async consumeQuota(windows, isEnforced, tokens = 1) {
      const args = windows.flatMap((window) => [window.limit, window.endsAt]);
      const [isCounted, ...used] = (await scripts.consumeQuota(
        windows.length,
        ...windows.map((window) => key('quota', window.key)),
        isEnforced ? 1 : 0,
        now(),
        tokens,
        ...args,
      )) as number[];
      return { isCounted: isCounted === 1, used };
    },
    async purgeExpired() {
      let purged = 0;
      for (const concern of ['revoked', 'used', 'opaque', 'attempts', 'bucket']) purged += (await scripts.purge(index(concern), now())) as number;
      for (const granularity of USAGE_GRANULARITIES) {
        purged += (await scripts.purgeUsage(usageIndex(granularity), usageBucketPrefix(granularity), now())) as number;
      }
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

/** An owned value with its payload: "expiresAt:ownerTag:value" (the value may hold colons, the others do not). */
function splitOwnedValue(stored: string): [number, string, string] {
  const first = stored.indexOf(':');
  const second = stored.indexOf(':', first + 1);
  return [Number(stored.slice(0, first)), stored.slice(first + 1, second), stored.slice(second + 1)];
}

/**
 * Shared by every script. A bound with no room answers the milliseconds until its soonest entry
 * expires (0: room now); expired entries are dropped from it first, unexpired ones never.
 */
const COMMON = `
local function owner_room(set, now, allowance)
  redis.call('ZREMRANGEBYSCORE', set, '-inf', now)
  if redis.call('ZCARD', set) < allowance then return 0 end
  local first = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(first[2]) - now)
end
local function index_room(index, now, max)
  local after = string.format('(%d', now)
  if redis.call('ZCOUNT', index, after, '+inf') < max then return 0 end
  local first = redis.call('ZRANGEBYSCORE', index, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  return math.max(1, tonumber(first[2]) - now)
end
local function remember(key, index, value, expires_at, now)
  redis.call('SET', key, value, 'PX', math.max(expires_at - now, 1))
  redis.call('ZADD', index, expires_at, key)
  -- Dead members leave the index as they are passed (each once); their values expire by TTL.
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
end
local function own(set, key, expires_at, now)
  redis.call('ZADD', set, expires_at, key)
  local ttl = math.max(expires_at - now, 1)
  if redis.call('PTTL', set) < ttl then redis.call('PEXPIRE', set, ttl) end
end
`;

// Values are "expiresAt", "count:expiresAt", "tokens:updatedAt:expiresAt" (epoch ms as integers)
// or "expiresAt:ownerTag:value" (an opaque token: the owner's tag lets a revocation free its room).
const SCRIPTS = {
  // KEYS: value, index, owner's set. ARGV: value, owner tag, expiresAt, now, allowance. 0, or ms
  // until the owner has room. A key is a hash of 256 random bits: a clash never happens, and replaces.
  putOwned: {
    keys: 3,
    lua: `
local expires_at, now, allowance = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if expires_at <= now then return 0 end
local wait = owner_room(KEYS[3], now, allowance)
if wait > 0 then return wait end
remember(KEYS[1], KEYS[2], string.format('%d', expires_at) .. ':' .. ARGV[2] .. ':' .. ARGV[1], expires_at, now)
own(KEYS[3], KEYS[1], expires_at, now)
return 0`,
  },
  // KEYS: value, index. ARGV: the owners' sets' key prefix, now. Deletes the value and its place in
  // the index and in its owner's set; 1 when it was unexpired.
  forgetOwned: {
    keys: 2,
    lua: `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local expires_at, tag = string.match(value, '^(%d+):([^:]*):')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
if tag and tag ~= '' then redis.call('ZREM', ARGV[1] .. tag, KEYS[1]) end
if tonumber(expires_at or '0') > tonumber(ARGV[2]) then return 1 end
return 0`,
  },
  // KEYS: value, index, owner's set. ARGV: expiresAt, now, allowance. 0, or ms until the owner has
  // room. A later expiry wins (no new room needed); an already expired one is ignored.
  keepLatest: {
    keys: 3,
    lua: `
local expires_at, now, allowance = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if expires_at <= now then return 0 end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current <= now then
  local wait = owner_room(KEYS[3], now, allowance)
  if wait > 0 then return wait end
elseif current >= expires_at then return 0 end
remember(KEYS[1], KEYS[2], string.format('%d', expires_at), expires_at, now)
own(KEYS[3], KEYS[1], expires_at, now)
return 0`,
  },
  // KEYS: value, index, owner's set. ARGV: expiresAt, now, allowance. 1 the first time, 0 while
  // recorded and unexpired, minus the ms until room when the owner is full.
  useOnce: {
    keys: 3,
    lua: `
local expires_at, now, allowance = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if tonumber(redis.call('GET', KEYS[1]) or '0') > now then return 0 end
local wait = owner_room(KEYS[3], now, allowance)
if wait > 0 then return -wait end
remember(KEYS[1], KEYS[2], string.format('%d', expires_at), expires_at, now)
own(KEYS[3], KEYS[1], expires_at, now)
return 1`,
  },
  // KEYS: value, index. ARGV: ttlMs, now, max. Sliding: each count extends the life to now + ttl.
  // { count, expiresAt }, or { 0, ms until room } for a new key when the index is full.
  countAttempt: {
    keys: 2,
    lua: `
local ttl, now, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = 0
local value = redis.call('GET', KEYS[1])
if value then
  local c, e = string.match(value, '^(%d+):(%d+)$')
  if tonumber(e) > now then count = tonumber(c) end
end
if count == 0 then
  local wait = index_room(KEYS[2], now, max)
  if wait > 0 then return { 0, wait } end
end
count = count + 1
local expires_at = now + ttl
remember(KEYS[1], KEYS[2], string.format('%d:%d', count, expires_at), expires_at, now)
return { count, expires_at }`,
  },
  // KEYS: value, index. ARGV: capacity, refillPerSecond, now, max. The arithmetic of
  // refillBucket/bucketLifetimeMs; a new key when the index is full is refused until room.
  takeToken: {
    keys: 2,
    lua: `
local capacity, rate, now, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local available = nil
local value = redis.call('GET', KEYS[1])
if value then
  local t, u, e = string.match(value, '^([^:]+):([^:]+):([^:]+)$')
  if tonumber(e) > now then available = math.min(capacity, tonumber(t) + math.max(0, now - tonumber(u)) / 1000 * rate) end
end
if available == nil then
  local wait = index_room(KEYS[2], now, max)
  if wait > 0 then return { 0, wait } end
  available = capacity
end
local tokens, allowed, retry = available, 0, 0
if available >= 1 then tokens, allowed = available - 1, 1 else retry = math.ceil((1 - available) / rate * 1000) end
local expires_at = now + math.ceil((capacity - tokens) / rate * 1000) + 1000
remember(KEYS[1], KEYS[2], string.format('%.17g:%d:%d', tokens, now, expires_at), expires_at, now)
return { allowed, retry }`,
  },
  // KEYS: the bucket's hash, the granularity's index, the prefix of its bucket keys (a KEY so a
  // client-side key prefix applies to it too). ARGV: start, expiresAt, now, then per client and
  // API: "client\napi", tokens, refetches. A bucket dead by the clock starts again at zero; a
  // bucket lives until the latest expiry it was given.
  addUsage: {
    keys: 3,
    lua: `
local start, expires_at, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do redis.call('DEL', KEYS[3] .. dead) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local current = tonumber(redis.call('ZSCORE', KEYS[2], start) or '0')
if current <= now then redis.call('DEL', KEYS[1]) end
for i = 4, #ARGV, 3 do
  redis.call('HINCRBY', KEYS[1], 't\\n' .. ARGV[i], ARGV[i + 1])
  if tonumber(ARGV[i + 2]) > 0 then redis.call('HINCRBY', KEYS[1], 'r\\n' .. ARGV[i], ARGV[i + 2]) end
end
if current < expires_at then
  redis.call('ZADD', KEYS[2], expires_at, start)
  current = expires_at
end
redis.call('PEXPIRE', KEYS[1], math.max(current - now, 1))
local ttl = math.max(current - now, 1)
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 0`,
  },
  // KEYS: one counter per window. ARGV: enforced (1/0), now, tokens, then limit and endsAt per
  // window. Values "count:endsAt". { counted (1/0), count of each window after }: enforced,
  // nothing is counted when a window has no room for the tokens.
  consumeQuota: {
    // As many keys as windows: the caller passes their number first.
    keys: undefined,
    lua: `
local enforced, now, tokens = ARGV[1] == '1', tonumber(ARGV[2]), tonumber(ARGV[3])
local used, full = {}, false
for i, key in ipairs(KEYS) do
  local count = 0
  local value = redis.call('GET', key)
  if value then
    local c, e = string.match(value, '^(%d+):(%d+)$')
    if tonumber(e) > now then count = tonumber(c) end
  end
  used[i] = count
  if count + tokens > tonumber(ARGV[2 + 2 * i]) then full = true end
end
if enforced and full then return { 0, unpack(used) } end
for i, key in ipairs(KEYS) do
  used[i] = used[i] + tokens
  local ends = tonumber(ARGV[3 + 2 * i])
  redis.call('SET', key, string.format('%d:%d', used[i], ends), 'PX', math.max(ends - now, 1))
end
return { 1, unpack(used) }`,
  },
  // KEYS: a usage index, the prefix of its bucket keys; ARGV: now. Deletes the buckets dead by the clock.
  purgeUsage: {
    keys: 2,
    lua: `
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, start in ipairs(dead) do redis.call('DEL', KEYS[2] .. start) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return #dead`,
  },
  // KEYS: the index; ARGV: now. Deletes every entry expired by the clock (owners' sets drop
  // theirs as they are passed, and expire by TTL).
  purge: {
    keys: 1,
    lua: `
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, key in ipairs(expired) do redis.call('DEL', key) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return #expired`,
  },
};
