// '@m2m-auth/resource-server/redis': state shared by every instance of an API through Redis. Its
// own entry point so that only services that use it need ioredis (an optional peer dependency).
export { createRedisReplayStore, type RedisReplayStore, type RedisReplayStoreOptions } from './redis/replay-store.js';
export { createRedisIntrospectionCache, type RedisIntrospectionCache } from './redis/introspection-cache.js';
export type { RedisConnection, RedisStoreOptions } from './redis/connection.js';
