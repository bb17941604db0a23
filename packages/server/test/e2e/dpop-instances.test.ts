import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type ServerRuntime } from '../../src/boot/create-runtime.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { openSharedState } from '../../src/state/open-state.js';
import { isResilientState } from '../../src/state/resilient-state.js';
import { generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import type { Storage } from '../../src/storage/types.js';
import type { SharedState } from '../../src/state/types.js';
import { availableStacks } from '../helpers/stacks.js';
import { basic, createClock, ISSUER, postToken } from '../helpers/test-app.js';
import { createProofKey, makeProof, type ProofKey } from '../../../sdk-core/test/helpers/dpop-proofs.js';

/**
 * Several instances behind a load balancer, sharing PostgreSQL and Redis: a DPoP proof is used
 * once per deployment — the instance that did not see it first refuses it, through Redis — and a
 * nonce one instance hands out is good on the other (it is derived from the shared master key, not
 * stored).
 */
const stack = (await availableStacks()).find((candidate) => candidate.name === 'postgres+redis');
const PAYMENTS = 'https://payments.example';
const TOKEN_URL = `${ISSUER}/oauth/token`;

interface Instance {
  app: FastifyInstance;
  runtime: ServerRuntime;
  storage: Storage;
  state: SharedState;
}

describe.skipIf(!stack)('DPoP across instances (PostgreSQL + Redis)', () => {
  const clock = createClock(Date.now());
  const masterKey = generateMasterKey();
  const instances: Instance[] = [];
  let removePlace: () => Promise<void>;
  let auth: string;
  let key: ProofKey;

  beforeAll(async () => {
    key = await createProofKey('ES256');
    const place = await stack!.processArgs('');
    removePlace = place.close;
    const databaseUrl = place.args[place.args.indexOf('--database-url') + 1]!;
    const redisUrl = place.args[place.args.indexOf('--redis-url') + 1]!;
    for (let i = 0; i < 2; i += 1) {
      const storage = await openStorage({ url: databaseUrl, poolSize: 2 });
      const state = openSharedState({ kind: 'redis', url: redisUrl }, clock.now);
      if (isResilientState(state)) await state.health.waitUntilAvailable(5000);
      const logger = createLogger('silent');
      const runtime = createRuntime({
        storage,
        state,
        masterKey: parseMasterKey(masterKey),
        issuer: ISSUER,
        logger,
        now: clock.now,
        dpop: { requireNonce: true },
      });
      await runtime.admin.ensureSigningKeys();
      const app = buildApp(runtime, { logger });
      await app.ready();
      instances.push({ app, runtime, storage, state });
    }
    const { admin } = instances[0]!.runtime;
    await admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'] });
    const created = await admin.createClient({ name: 'orders-service' });
    await admin.createGrant({ clientId: created.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    auth = basic(created.clientId, created.clientSecret!);
    for (const instance of instances) await instance.runtime.registry.refresh();
  });

  afterAll(async () => {
    for (const { app, runtime, storage, state } of instances) {
      await app.close();
      await runtime.close();
      await state.close();
      await storage.close();
    }
    await removePlace?.();
  });

  const post = (instance: Instance, dpop: string) =>
    postToken(instance.app, { grant_type: 'client_credentials', audience: PAYMENTS }, auth, { headers: { dpop } });
  const proof = (nonce?: string) => makeProof(key, { method: 'POST', url: TOKEN_URL, iat: Math.floor(clock.now() / 1000), ...(nonce ? { nonce } : {}) });

  it('a proof one instance accepted is refused by the other, and by itself again (the nonce came from the other)', async () => {
    const [a, b] = instances as [Instance, Instance];
    const nonce = (await post(b, await proof())).headers['dpop-nonce'] as string;
    const once = await proof(nonce);
    expect((await post(a, once)).body.token_type).toBe('DPoP');
    const replayed = await post(b, once);
    expect(replayed.status).toBe(400);
    expect(replayed.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/already used/) });
    expect((await post(a, once)).body.error).toBe('invalid_dpop_proof');
  });

  it('a nonce handed out by one instance is accepted by the other', async () => {
    const [a, b] = instances as [Instance, Instance];
    const challenge = await post(a, await proof());
    expect(challenge.body.error).toBe('use_dpop_nonce');
    expect((await post(b, await proof(challenge.headers['dpop-nonce'] as string))).body.token_type).toBe('DPoP');
  });
});
