import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type ServerRuntime } from '../../src/boot/create-runtime.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { openSharedState } from '../../src/state/open-state.js';
import { isResilientState } from '../../src/state/resilient-state.js';
import { parseMasterKey } from '../../src/keys/master-key.js';
import type { Storage } from '../../src/storage/types.js';
import type { SharedState } from '../../src/state/types.js';
import type { StackProcessArgs } from './stacks.js';
import { ISSUER } from './test-app.js';

export interface Instance {
  app: FastifyInstance;
  runtime: ServerRuntime;
  storage: Storage;
  state: SharedState;
}

/**
 * Instances behind a load balancer, in this process: each with its own storage pool, Redis
 * connection, registry cache and app, all on the database and Redis of one stack place, with one
 * master key and one clock. `log` receives every line any of them writes.
 */
export async function startInstances(
  place: StackProcessArgs,
  options: { count: number; masterKey: string; now: () => number; log?: (line: string) => void },
): Promise<{ instances: Instance[]; close(): Promise<void> }> {
  const databaseUrl = place.args[place.args.indexOf('--database-url') + 1]!;
  const redisUrl = place.args[place.args.indexOf('--redis-url') + 1]!;
  const instances: Instance[] = [];
  const close = async () => {
    for (const { app, runtime, storage, state } of instances.splice(0)) {
      await app.close();
      await runtime.close();
      await state.close();
      await storage.close();
    }
  };
  try {
    for (let i = 0; i < options.count; i += 1) {
      const storage = await openStorage({ url: databaseUrl, poolSize: 2 });
      const state = openSharedState({ kind: 'redis', url: redisUrl }, options.now);
      if (isResilientState(state)) await state.health.waitUntilAvailable(5000);
      const { log } = options;
      const logger = log
        ? createLogger('debug', new Writable({ write: (chunk, _encoding, done) => (log(String(chunk)), done()) }) as never)
        : createLogger('silent');
      const runtime = createRuntime({ storage, state, masterKey: parseMasterKey(options.masterKey), issuer: ISSUER, logger, now: options.now });
      await runtime.admin.ensureSigningKeys();
      const app = buildApp(runtime, { logger });
      await app.ready();
      instances.push({ app, runtime, storage, state });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { instances, close };
}
