import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../src/keys/master-key.js';
import { issuerDefaults, JWT_BEARER_ASSERTION_TYPE } from '../../src/federation/federation-rules.js';
import { availableStacks } from '../helpers/stacks.js';
import { startInstances, type Instance } from '../helpers/instances.js';
import { createClock, form, ISSUER } from '../helpers/test-app.js';
import { startPlatformIssuer, type PlatformIssuer } from '../helpers/platform-issuer.js';

/**
 * Several instances behind a load balancer share one replay policy: a platform token that its
 * issuer says must be used once is refused by every other instance after the first took it
 * (through Redis), while a Kubernetes token, meant to be reused, works on all of them.
 */
const stack = (await availableStacks()).find((candidate) => candidate.name === 'postgres+redis');
const PAYMENTS = 'https://payments.example';

describe.skipIf(!stack)('federated authentication across instances (PostgreSQL + Redis)', () => {
  const clock = createClock(Date.now());
  const masterKey = generateMasterKey();
  let instances: Instance[] = [];
  let stopInstances: (() => Promise<void>) | undefined;
  let ci: PlatformIssuer;
  let cluster: PlatformIssuer;
  let removePlace: () => Promise<void>;

  beforeAll(async () => {
    const place = await stack!.processArgs('');
    removePlace = place.close;
    ci = await startPlatformIssuer();
    cluster = await startPlatformIssuer({ alg: 'RS256' });
    ({ instances, close: stopInstances } = await startInstances(place, { count: 2, masterKey, now: clock.now }));
    const { admin, storage } = instances[0]!.runtime;
    await admin.createApi({ identifier: PAYMENTS, scopes: ['payments:read'] });
    const { clientId } = await admin.createClient({ name: 'deployer' });
    await admin.createGrant({ clientId, apiIdentifier: PAYMENTS, scopes: ['payments:read'] });
    const at = clock.now();
    for (const [issuer, kind] of [
      [ci.issuer, 'oidc'],
      [cluster.issuer, 'kubernetes'],
    ] as const) {
      await storage.createTrustedIssuer({ issuer, kind, jwksUri: null, jwks: null, ...issuerDefaults(issuer, kind), createdAt: at, updatedAt: at });
      await storage.addFederatedCredential({
        id: `fed_${kind}`,
        clientId,
        issuer,
        subject: 'workload',
        subjectMatch: 'exact',
        audiences: [],
        claims: {},
        description: '',
        createdAt: at,
      });
    }
    for (const instance of instances) await instance.runtime.registry.refresh();
  });

  afterAll(async () => {
    await stopInstances?.();
    await ci?.close();
    await cluster?.close();
    await removePlace?.();
  });

  const claims = () => {
    const nowS = Math.floor(clock.now() / 1000);
    return { sub: 'workload', aud: ISSUER, iat: nowS, exp: nowS + 600, jti: `jti-${Math.random()}` };
  };
  const post = async (instance: Instance, assertion: string) =>
    (
      await instance.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ grant_type: 'client_credentials', audience: PAYMENTS, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: assertion }),
      })
    ).statusCode;

  it('a token its issuer says to use once is taken by one instance and refused by the other', async () => {
    const [a, b] = instances as [Instance, Instance];
    const once = await ci.sign(claims());
    expect(await post(a, once)).toBe(200);
    expect(await post(b, once)).toBe(401);
    expect(await post(a, once)).toBe(401);
    const another = await ci.sign(claims());
    expect(await post(b, another)).toBe(200);
    expect(await post(a, another)).toBe(401);
  });

  it('a Kubernetes token, meant to be reused for its lifetime, works on every instance', async () => {
    const [a, b] = instances as [Instance, Instance];
    const projected = await cluster.sign(claims());
    expect(await post(a, projected)).toBe(200);
    expect(await post(b, projected)).toBe(200);
    expect(await post(a, projected)).toBe(200);
  });

  it('a credential removed through one instance stops authenticating on the other', async () => {
    const [a, b] = instances as [Instance, Instance];
    expect(await post(b, await ci.sign(claims()))).toBe(200);
    const [credential] = await a.storage.listFederatedCredentials({ issuer: ci.issuer });
    await a.storage.deleteFederatedCredential(credential!.clientId, credential!.id);
    await b.runtime.registry.refresh();
    expect(await post(b, await ci.sign(claims()))).toBe(401);
  });
});
