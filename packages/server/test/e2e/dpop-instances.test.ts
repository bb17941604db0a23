import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../src/keys/master-key.js';
import { availableStacks } from '../helpers/stacks.js';
import { startInstances, type Instance } from '../helpers/instances.js';
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

describe.skipIf(!stack)('DPoP across instances (PostgreSQL + Redis)', () => {
  const clock = createClock(Date.now());
  const masterKey = generateMasterKey();
  let instances: Instance[] = [];
  let stopInstances: () => Promise<void>;
  let removePlace: () => Promise<void>;
  let auth: string;
  let key: ProofKey;

  beforeAll(async () => {
    key = await createProofKey('ES256');
    const place = await stack!.processArgs('');
    removePlace = place.close;
    ({ instances, close: stopInstances } = await startInstances(place, { count: 2, masterKey, now: clock.now, runtime: { dpop: { requireNonce: true } } }));
    const { admin } = instances[0]!.runtime;
    await admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'] });
    const created = await admin.createClient({ name: 'orders-service' });
    await admin.createGrant({ clientId: created.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    auth = basic(created.clientId, created.clientSecret!);
    for (const instance of instances) await instance.runtime.registry.refresh();
  });

  afterAll(async () => {
    await stopInstances?.();
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
