import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/http/logger.js';
import { startServer } from '../../src/http/start-server.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { generateMasterKey } from '../../src/keys/master-key.js';
import { OPAQUE_TOKEN_PREFIX } from '../../src/tokens/opaque-token-format.js';
import { availableStacks, type StackProcessArgs } from '../helpers/stacks.js';
import { startInstances, type Instance } from '../helpers/instances.js';
import { basic, createClock, form } from '../helpers/test-app.js';

/**
 * Two instances behind a load balancer, sharing PostgreSQL and Redis: an opaque token issued by one
 * is known to the other, and a revocation through either is refused by both at once — the handle
 * is gone from Redis, not waiting for a cache to expire. Nothing raw reaches either store or log.
 */
const stack = (await availableStacks()).find((candidate) => candidate.name === 'postgres+redis');
const PAYMENTS = 'https://payments.example';

describe.skipIf(!stack)('opaque tokens across instances (PostgreSQL + Redis)', () => {
  const clock = createClock(Date.now());
  const masterKey = generateMasterKey();
  let instances: Instance[] = [];
  let stopInstances: (() => Promise<void>) | undefined;
  let place: StackProcessArgs;
  let logs = '';
  let caller: string;
  let resourceServer: string;

  beforeAll(async () => {
    place = await stack!.processArgs('');
    ({ instances, close: stopInstances } = await startInstances(place, { count: 2, masterKey, now: clock.now, log: (line) => (logs += line) }));
    const { admin } = instances[0]!.runtime;
    await admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'], tokenFormat: 'opaque' });
    const client = await admin.createClient({ name: 'orders' });
    await admin.createGrant({ clientId: client.clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    const rs = await admin.createClient({ name: 'payments-api', introspectApis: [PAYMENTS] });
    caller = basic(client.clientId, client.clientSecret!);
    resourceServer = basic(rs.clientId, rs.clientSecret!);
    for (const instance of instances) await instance.runtime.registry.refresh();
  });

  afterAll(async () => {
    await stopInstances?.();
    await place?.close();
  });

  const post = async (instance: Instance, url: string, params: Record<string, string>, authorization: string) => {
    const response = await instance.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
      payload: form(params),
    });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };
  const issue = async (instance: Instance) => (await post(instance, '/oauth/token', { grant_type: 'client_credentials', audience: PAYMENTS }, caller)).body;
  const isActive = async (instance: Instance, token: string) => (await post(instance, '/oauth/introspect', { token }, resourceServer)).body.active;

  it('a token issued by one instance is active on the other', async () => {
    const [a, b] = instances as [Instance, Instance];
    const fromA = await issue(a);
    const fromB = await issue(b);
    expect(fromA.access_token).toMatch(/^m2mat_/);
    expect(await isActive(b, fromA.access_token as string)).toBe(true);
    expect(await isActive(a, fromB.access_token as string)).toBe(true);
  });

  it('revoked through one instance, it is refused by both at once, replayed or not', async () => {
    const [a, b] = instances as [Instance, Instance];
    const token = (await issue(a)).access_token as string;
    expect(await isActive(b, token)).toBe(true);
    expect((await post(b, '/oauth/revoke', { token }, caller)).status).toBe(200);
    for (let replay = 0; replay < 3; replay += 1) {
      expect(await isActive(a, token)).toBe(false);
      expect(await isActive(b, token)).toBe(false);
    }
  });

  it('a client that is not the token’s cannot revoke it through either instance', async () => {
    const [a, b] = instances as [Instance, Instance];
    const token = (await issue(a)).access_token as string;
    for (const instance of instances) expect((await post(instance, '/oauth/revoke', { token }, resourceServer)).status).toBe(200);
    expect(await isActive(b, token)).toBe(true);
  });

  it('an expired token is inactive on both', async () => {
    const [a, b] = instances as [Instance, Instance];
    const token = (await issue(a)).access_token as string;
    clock.advance(900_000);
    expect(await isActive(a, token)).toBe(false);
    expect(await isActive(b, token)).toBe(false);
  });

  it('neither PostgreSQL, Redis nor the logs of either instance hold a raw token', async () => {
    const tokens = [(await issue(instances[0]!)).access_token as string, (await issue(instances[1]!)).access_token as string];
    const atRest = await place.dumpAtRest();
    expect(atRest).toContain('"client_id"');
    for (const token of tokens) {
      const random = token.slice(OPAQUE_TOKEN_PREFIX.length, OPAQUE_TOKEN_PREFIX.length + 43);
      expect(atRest).not.toContain(random);
      expect(logs).not.toContain(random);
    }
    expect(logs).toContain('"event":"token.issued"');
  });

  it('an instance on PostgreSQL without Redis says at start that its shared state is its own', async () => {
    const databaseUrl = place.args[place.args.indexOf('--database-url') + 1]!;
    let startLogs = '';
    const logger = createLogger('warn', new Writable({ write: (chunk, _encoding, done) => ((startLogs += String(chunk)), done()) }) as never);
    const server = await startServer({ storage: await openStorage({ url: databaseUrl, poolSize: 1 }), masterKey, port: 0, logger, redisUrl: undefined });
    await server.close();
    expect(startLogs).toContain('"event":"shared_state.per_process"');
  });
});
