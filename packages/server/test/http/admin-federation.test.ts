import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { createTestApp, postToken, basic, type TestApp } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER, type AdminScope } from '../../src/admin/built-in-admin-api.js';
import { MAX_FEDERATED_CREDENTIALS_PER_CLIENT } from '../../src/federation/federation-rules.js';
import { trustedIssuerResource } from '../../src/admin/resources/trusted-issuer.js';
import { federatedCredentialResource } from '../../src/admin/resources/federated-credential.js';
import { availableStacks } from '../helpers/stacks.js';

/**
 * Workload identity federation, the management side: trusted issuers and the federated credentials
 * of clients through the admin API — shapes, the rules every write is checked against, conflicts,
 * least privilege and the audit trail.
 */
const GITHUB = 'https://token.actions.githubusercontent.com';
const CLUSTER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
/** Longer than find-my-way's default parameter bound (100 characters) once percent-encoded. */
const GKE = 'https://container.googleapis.com/v1/projects/payments-prod-42/locations/europe-west1/clusters/payments-cluster-a';
const enc = encodeURIComponent;

async function publicJwks(count = 1, kidPrefix = 'k') {
  const keys = [];
  for (let n = 0; n < count; n++) {
    const { publicKey } = await generateKeyPair('ES256');
    keys.push({ ...(await exportJWK(publicKey)), kid: `${kidPrefix}${n}`, alg: 'ES256', use: 'sig' });
  }
  return { keys };
}

describe('admin API: trusted issuers and federated credentials', () => {
  let t: TestApp;
  let root: { authorization: string };
  let rootClientId: string;

  beforeEach(async () => {
    t = await createTestApp();
    const boot = await t.runtime.admin.bootstrapAdminClient();
    rootClientId = boot.clientId;
    root = await bearerFor(boot.clientId, boot.clientSecret);
  });
  afterEach(() => t.close());

  async function bearerFor(clientId: string, secret: string) {
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(clientId, secret));
    expect(token.status).toBe(200);
    return { authorization: `Bearer ${token.body.access_token as string}` };
  }

  async function adminWith(scopes: AdminScope[]) {
    const client = await t.runtime.admin.createClient({ name: `ci-${scopes.join('-')}` });
    await t.runtime.admin.createGrant({ clientId: client.clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes });
    return { clientId: client.clientId, headers: await bearerFor(client.clientId, client.clientSecret!) };
  }

  const call = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string> = root, payload?: unknown) => {
    const response = await t.app.inject({ method, url: `/admin/v1${url}`, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: response.statusCode, headers: response.headers, body: response.body ? (JSON.parse(response.body) as Record<string, any>) : undefined };
  };

  const problem = (status: number, field?: string) => ({
    status,
    body: expect.objectContaining({ status, ...(field ? { errors: [expect.objectContaining({ field })] } : {}) }),
  });

  describe('trusted issuers', () => {
    it('add with the kind’s defaults, show (percent-encoded, slashes and all), list, change, remove', async () => {
      const created = await call('POST', '/trusted-issuers', root, { issuer: CLUSTER, kind: 'kubernetes' });
      expect(created.status).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      expect(created.body).toEqual({
        issuer: CLUSTER,
        kind: 'kubernetes',
        jwks_uri: null,
        jwks: null,
        token_reuse: 'allow',
        max_token_lifetime_seconds: 3600,
        shared: false,
        created_at: new Date(t.clock.now()).toISOString(),
        updated_at: new Date(t.clock.now()).toISOString(),
      });
      expect((await call('GET', `/trusted-issuers/${enc(CLUSTER)}`)).body).toEqual(created.body);

      const github = await call('POST', '/trusted-issuers', root, { issuer: GITHUB });
      expect(github.body).toMatchObject({ kind: 'oidc', token_reuse: 'refuse', shared: true });
      const gke = await call('POST', '/trusted-issuers', root, { issuer: GKE, kind: 'kubernetes', jwks_uri: `${GKE}/jwks` });
      expect(gke.status).toBe(201);
      expect(enc(GKE).length).toBeGreaterThan(100);
      expect((await call('GET', `/trusted-issuers/${enc(GKE)}`)).body).toMatchObject({ issuer: GKE, jwks_uri: `${GKE}/jwks` });
      // The same router bound held API identifiers back.
      expect((await call('POST', '/apis', root, { identifier: `${GKE}/api` })).status).toBe(201);
      expect((await call('GET', `/apis/${enc(`${GKE}/api`)}`)).body).toMatchObject({ identifier: `${GKE}/api` });
      const jwks = await publicJwks(2);
      const spiffe = await call('POST', '/trusted-issuers', root, { issuer: 'spiffe://prod.example.org', kind: 'spiffe', jwks });
      expect(spiffe.body).toMatchObject({ issuer: 'spiffe://prod.example.org', jwks, token_reuse: 'allow' });
      expect((await call('GET', `/trusted-issuers/${enc('spiffe://prod.example.org')}`)).body).toEqual(spiffe.body);

      const first = await call('GET', '/trusted-issuers?limit=3');
      // Added within one millisecond: ordered by issuer.
      expect(first.body!.items.map((item: { issuer: string }) => item.issuer)).toEqual([GKE, CLUSTER, GITHUB]);
      const rest = await call('GET', `/trusted-issuers?limit=3&cursor=${enc(first.body!.next_cursor)}`);
      expect(rest.body).toEqual({ items: [spiffe.body], next_cursor: null });

      t.clock.advance(1000);
      const changed = await call('PATCH', `/trusted-issuers/${enc(CLUSTER)}`, root, { jwks, token_reuse: 'refuse', max_token_lifetime_seconds: 600 });
      expect(changed.body).toMatchObject({ jwks, jwks_uri: null, token_reuse: 'refuse', max_token_lifetime_seconds: 600, kind: 'kubernetes' });
      expect(changed.body!.updated_at).not.toBe(changed.body!.created_at);
      expect((await call('DELETE', `/trusted-issuers/${enc(CLUSTER)}`)).status).toBe(204);
      // The path is the caller's text: echoed bounded, and withheld when it looks like a credential (as this cluster id does).
      expect((await call('GET', `/trusted-issuers/${enc(CLUSTER)}`)).body).toMatchObject({ status: 404, detail: expect.stringMatching(/^No trusted issuer /) });
      expect((await call('GET', `/trusted-issuers/${enc('https://nope.example')}`)).body).toMatchObject({ detail: 'No trusted issuer https://nope.example' });
      expect((await call('DELETE', `/trusted-issuers/${enc(CLUSTER)}`)).status).toBe(404);
      expect((await call('PATCH', `/trusted-issuers/${enc(CLUSTER)}`, root, { token_reuse: 'allow' })).status).toBe(404);
    });

    it('409 for an issuer added twice', async () => {
      expect((await call('POST', '/trusted-issuers', root, { issuer: GITHUB })).status).toBe(201);
      expect(await call('POST', '/trusted-issuers', root, { issuer: GITHUB })).toMatchObject({
        status: 409,
        body: { type: 'urn:m2m-auth:problem:conflict', detail: `Trusted issuer ${GITHUB} already exists` },
      });
    });

    it('refuses what the federation rules refuse, each as a problem naming its field, and stores nothing', async () => {
      const jwks = await publicJwks();
      const key: Record<string, unknown> = jwks.keys[0]!;
      const cases: [string, unknown, string][] = [
        ['plain http off loopback', { issuer: 'http://issuer.example' }, 'issuer'],
        ['an issuer with a query', { issuer: 'https://issuer.example/?tenant=1' }, 'issuer'],
        ['a SPIFFE ID with a path as issuer', { issuer: 'spiffe://example.org/ns/x', kind: 'spiffe', jwks }, 'issuer'],
        ['a SPIFFE issuer without keys (it has no discovery)', { issuer: 'spiffe://example.org', kind: 'spiffe' }, 'jwks'],
        ['a spiffe:// issuer of kind oidc', { issuer: 'spiffe://example.org' }, 'issuer'],
        ['jwks and jwks_uri together', { issuer: 'https://a.example', jwks, jwks_uri: 'https://a.example/keys' }, 'jwks'],
        ['a jwks_uri over plain http', { issuer: 'https://a.example', jwks_uri: 'http://a.example/keys' }, 'jwks_uri'],
        ['a jwks_uri with credentials', { issuer: 'https://a.example', jwks_uri: 'https://u:p@a.example/keys' }, 'jwks_uri'],
        ['a private key', { issuer: 'https://a.example', jwks: { keys: [{ ...key, d: 'c2VjcmV0' }] } }, 'jwks.keys.0.d'],
        ['a symmetric key', { issuer: 'https://a.example', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 'jwks.keys.0.k'],
        ['a key that cannot be imported', { issuer: 'https://a.example', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] } }, 'jwks'],
        ['the same kid twice', { issuer: 'https://a.example', jwks: { keys: [key, key] } }, 'jwks'],
        ['more than 100 keys', { issuer: 'https://a.example', jwks: { keys: Array.from({ length: 101 }, () => key) } }, 'jwks.keys'],
        ['a lifetime over a day', { issuer: 'https://a.example', max_token_lifetime_seconds: 86_401 }, 'max_token_lifetime_seconds'],
        ['a lifetime under a minute', { issuer: 'https://a.example', max_token_lifetime_seconds: 59 }, 'max_token_lifetime_seconds'],
        ['an unknown kind', { issuer: 'https://a.example', kind: 'saml' }, 'kind'],
        ['GitHub Actions marked not shared', { issuer: GITHUB, shared: false }, 'shared'],
        ['an unknown field', { issuer: 'https://a.example', jwksUri: 'https://a.example/keys' }, 'jwksUri'],
      ];
      const answers = [];
      for (const [what, body] of cases) {
        const answer = await call('POST', '/trusted-issuers', root, body);
        answers.push([what, answer.status, answer.body!.type, answer.body!.errors?.[0]?.field]);
      }
      expect(answers).toEqual(cases.map(([what, , field]) => [what, 400, 'urn:m2m-auth:problem:validation-failed', field]));
      expect((await call('GET', '/trusted-issuers')).body!.items).toEqual([]);
      // The operations check the same without the route's schema (the CLI, apply, the programmatic API).
      for (const [keys, message] of [
        [[{ ...key, d: 'c2VjcmV0' }], 'jwks must contain public keys only'],
        [[{ kty: 'oct' }], 'jwks.keys[0] is a symmetric key (kty oct): jwks must contain public keys only'],
        [[{ ...key, x: 'AAAA' }], 'jwks.keys[0] is not a usable EC public key'],
        [[key, { ...key, kid: 'k1' }, key], 'jwks.keys[2].kid "k0" is used by an earlier key'],
      ] as [Record<string, unknown>[], string][]) {
        await expect(t.runtime.admin.addTrustedIssuer({ issuer: 'https://a.example', jwks: { keys } })).rejects.toMatchObject({
          code: 'validation_failed',
          field: 'jwks',
          message,
        });
      }
      // A change is held to the same rules as the stored result.
      await call('POST', '/trusted-issuers', root, { issuer: 'https://a.example', jwks });
      expect(await call('PATCH', `/trusted-issuers/${enc('https://a.example')}`, root, { jwks_uri: 'https://a.example/keys' })).toMatchObject(
        problem(400, 'jwks'),
      );
      expect(
        (await call('PATCH', `/trusted-issuers/${enc('https://a.example')}`, root, { jwks_uri: 'https://a.example/keys', jwks: null })).body,
      ).toMatchObject({
        jwks: null,
        jwks_uri: 'https://a.example/keys',
      });
      expect(await call('PATCH', `/trusted-issuers/${enc('https://a.example')}`, root, { kind: 'spiffe' })).toMatchObject(problem(400, 'kind'));
    });
  });

  describe('federated credentials', () => {
    let clientId: string;
    beforeEach(async () => {
      clientId = (await t.runtime.admin.createClient({ name: 'deployer' })).clientId;
      await t.runtime.admin.addTrustedIssuer({ issuer: GITHUB });
      await t.runtime.admin.addTrustedIssuer({ issuer: CLUSTER, kind: 'kubernetes' });
    });

    it('add, list, remove; each credential gets its own id', async () => {
      const added = await call('POST', `/clients/${clientId}/federated-credentials`, root, {
        issuer: GITHUB,
        subject: 'repo:my-org/app:ref:refs/heads/main',
        audiences: ['https://auth.test'],
        claims: { repository_owner_id: '123456' },
        description: 'main branch deploys',
      });
      expect(added.status).toBe(201);
      const addedAt = new Date(t.clock.now()).toISOString();
      t.clock.advance(1000);
      expect(added.body).toEqual({
        id: expect.stringMatching(/^fed_[\w-]{12}$/),
        client_id: clientId,
        issuer: GITHUB,
        subject: 'repo:my-org/app:ref:refs/heads/main',
        subject_match: 'exact',
        audiences: ['https://auth.test'],
        claims: { repository_owner_id: '123456' },
        description: 'main branch deploys',
        created_at: addedAt,
      });
      const prefix = await call('POST', `/clients/${clientId}/federated-credentials`, root, {
        issuer: CLUSTER,
        subject: 'system:serviceaccount:payments:',
        subject_match: 'prefix',
      });
      expect(prefix.body).toMatchObject({ subject_match: 'prefix', audiences: [], claims: {}, description: '' });
      expect(prefix.body!.id).not.toBe(added.body!.id);
      expect((await call('GET', `/clients/${clientId}/federated-credentials`)).body).toEqual({ items: [added.body, prefix.body] });

      expect((await call('DELETE', `/clients/${clientId}/federated-credentials/${added.body!.id}`)).status).toBe(204);
      expect((await call('GET', `/clients/${clientId}/federated-credentials`)).body).toEqual({ items: [prefix.body] });
      expect((await call('DELETE', `/clients/${clientId}/federated-credentials/${added.body!.id}`)).body).toMatchObject({
        status: 404,
        detail: `Client ${clientId} has no federated credential ${added.body!.id}`,
      });
      // Another client's credential id is not this client's.
      const other = (await t.runtime.admin.createClient({ name: 'other' })).clientId;
      expect((await call('DELETE', `/clients/${other}/federated-credentials/${prefix.body!.id}`)).status).toBe(404);
    });

    it('404 for an unknown client or issuer (named); 409 for the same rule twice and past the per-client limit', async () => {
      const rule = { issuer: CLUSTER, subject: 'system:serviceaccount:payments:api' };
      expect((await call('POST', '/clients/nope/federated-credentials', root, rule)).body).toMatchObject({ status: 404, detail: 'No client with id nope' });
      expect((await call('GET', '/clients/nope/federated-credentials')).status).toBe(404);
      const unknown = await call('POST', `/clients/${clientId}/federated-credentials`, root, { ...rule, issuer: 'https://unknown.example' });
      expect(unknown.body).toMatchObject({ status: 404, detail: expect.stringContaining('No trusted issuer https://unknown.example') });
      expect((await call('POST', `/clients/${clientId}/federated-credentials`, root, rule)).status).toBe(201);
      expect((await call('POST', `/clients/${clientId}/federated-credentials`, root, { ...rule, description: 'again' })).body).toMatchObject({
        status: 409,
        detail: `Client ${clientId} already has a federated credential for ${CLUSTER} with subject "system:serviceaccount:payments:api"`,
      });
      for (let n = 1; n < MAX_FEDERATED_CREDENTIALS_PER_CLIENT; n++) {
        expect((await call('POST', `/clients/${clientId}/federated-credentials`, root, { ...rule, subject: `${rule.subject}-${n}` })).status).toBe(201);
      }
      const over = await call('POST', `/clients/${clientId}/federated-credentials`, root, { ...rule, subject: `${rule.subject}-last` });
      expect(over.body).toMatchObject({ status: 409, detail: expect.stringContaining(`the most a client may have (${MAX_FEDERATED_CREDENTIALS_PER_CLIENT})`) });
    });

    it('refuses unsafe subject rules and bad conditions, each naming its field', async () => {
      const base = { issuer: GITHUB, subject: 'repo:my-org/app:ref:refs/heads/main' };
      const cases: [string, unknown, string][] = [
        ['a wildcard subject', { ...base, subject: 'repo:my-org/*' }, 'subject'],
        [
          'a prefix not ending at a separator',
          { ...base, subject: 'repo:my-org/app', subject_match: 'prefix', claims: { repository_owner_id: '1' } },
          'subject',
        ],
        ['a prefix naming two parts', { ...base, issuer: CLUSTER, subject: 'system:serviceaccount:', subject_match: 'prefix' }, 'subject'],
        ['a prefix on a shared issuer without a claim condition', { ...base, subject: 'repo:my-org/app:', subject_match: 'prefix' }, 'subject'],
        ['an empty subject', { ...base, subject: '' }, 'subject'],
        ['an unknown subject_match', { ...base, subject_match: 'regex' }, 'subject_match'],
        ['eleven audiences', { ...base, audiences: Array.from({ length: 11 }, (_, n) => `aud-${n}`) }, 'audiences'],
        ['an empty audience', { ...base, audiences: [''] }, 'audiences.0'],
        ['an audience over 512 characters', { ...base, audiences: ['a'.repeat(513)] }, 'audiences.0'],
        ['a condition on sub', { ...base, claims: { sub: 'x' } }, 'claims'],
        ['a condition on aud', { ...base, claims: { aud: 'x' } }, 'claims'],
        ['a condition on jti', { ...base, claims: { jti: 'x' } }, 'claims'],
        ['a number as claim value', { ...base, claims: { repository_owner_id: 123 } }, 'claims.repository_owner_id'],
        ['eleven conditions', { ...base, claims: Object.fromEntries(Array.from({ length: 11 }, (_, n) => [`c${n}`, 'x'])) }, 'claims'],
        ['a claim name over 128 characters', { ...base, claims: { ['c'.repeat(129)]: 'x' } }, 'claims'],
        ['a claim value over 512 characters', { ...base, claims: { ref: 'r'.repeat(513) } }, 'claims.ref'],
      ];
      const answers = [];
      for (const [what, body] of cases) {
        const answer = await call('POST', `/clients/${clientId}/federated-credentials`, root, body);
        answers.push([what, answer.status, answer.body!.type, answer.body!.errors?.[0]?.field]);
      }
      expect(answers).toEqual(cases.map(([what, , field]) => [what, 400, 'urn:m2m-auth:problem:validation-failed', field]));
      const prefix = await call('POST', `/clients/${clientId}/federated-credentials`, root, {
        ...base,
        subject: 'repo:my-org/app:',
        subject_match: 'prefix',
        claims: { repository_owner_id: '123456' },
      });
      expect(prefix.status).toBe(201);
      expect((await call('GET', `/clients/${clientId}/federated-credentials`)).body!.items).toHaveLength(1);
    });

    it('a SPIFFE credential names a SPIFFE ID of its trust domain', async () => {
      await t.runtime.admin.addTrustedIssuer({ issuer: 'spiffe://prod.example.org', kind: 'spiffe', jwks: await publicJwks() });
      const add = (subject: string) => call('POST', `/clients/${clientId}/federated-credentials`, root, { issuer: 'spiffe://prod.example.org', subject });
      expect((await add('spiffe://staging.example.org/payments/api')).body).toMatchObject({ status: 400, errors: [{ field: 'subject' }] });
      expect((await add('spiffe://prod.example.org/payments/api')).status).toBe(201);
    });

    it('an issuer that federated credentials name is removed only with force, and they go with it, audited', async () => {
      const other = (await t.runtime.admin.createClient({ name: 'other' })).clientId;
      const a = await t.runtime.admin.addFederatedCredential(clientId, { issuer: CLUSTER, subject: 'system:serviceaccount:payments:api' });
      t.clock.advance(1000);
      const b = await t.runtime.admin.addFederatedCredential(other, { issuer: CLUSTER, subject: 'system:serviceaccount:payments:worker' });
      const refused = await call('DELETE', `/trusted-issuers/${enc(CLUSTER)}`);
      expect(refused.body).toMatchObject({ status: 409, type: 'urn:m2m-auth:problem:conflict', federated_credentials: 2 });
      expect(refused.body!.detail).toContain('named by 2 federated credential(s) of 2 client(s)');
      expect(refused.body!.detail).toContain('--force');
      expect((await call('GET', `/trusted-issuers/${enc(CLUSTER)}`)).status).toBe(200);

      expect((await call('DELETE', `/trusted-issuers/${enc(CLUSTER)}?force=true`)).status).toBe(204);
      expect((await call('GET', `/trusted-issuers/${enc(CLUSTER)}`)).status).toBe(404);
      expect((await call('GET', `/clients/${clientId}/federated-credentials`)).body!.items).toEqual([]);
      expect((await call('GET', `/clients/${other}/federated-credentials`)).body!.items).toEqual([]);
      const events = (await call('GET', '/audit-events?limit=3')).body!.items;
      expect(events.map((event: { type: string }) => event.type)).toEqual([
        'trusted_issuer.removed',
        'client.federated_credential_removed',
        'client.federated_credential_removed',
      ]);
      expect(events[0].data).toMatchObject({ issuer: CLUSTER, removedFederatedCredentials: [a.id, b.id] });
      expect(events.slice(1).map((event: { data: Record<string, unknown> }) => event.data.credentialId)).toEqual([b.id, a.id]);
      expect(events[1].data).toMatchObject({ cause: 'trusted_issuer.removed', issuer: CLUSTER });
    });

    it('an issuer becomes shared only once no bare subject prefix of it is left', async () => {
      const credential = await t.runtime.admin.addFederatedCredential(clientId, {
        issuer: CLUSTER,
        subject: 'system:serviceaccount:payments:',
        subjectMatch: 'prefix',
      });
      const refused = await call('PATCH', `/trusted-issuers/${enc(CLUSTER)}`, root, { shared: true });
      expect(refused.body).toMatchObject({ status: 409, detail: expect.stringContaining(`${credential.id} of client ${clientId}`) });
      await t.runtime.admin.removeFederatedCredential(clientId, credential.id);
      expect((await call('PATCH', `/trusted-issuers/${enc(CLUSTER)}`, root, { shared: true })).body).toMatchObject({ shared: true });
    });

    it('deleting a client deletes its federated credentials and says so in the audit log', async () => {
      const credential = await t.runtime.admin.addFederatedCredential(clientId, { issuer: CLUSTER, subject: 'system:serviceaccount:payments:api' });
      expect((await call('DELETE', `/clients/${clientId}`)).status).toBe(204);
      expect(await t.runtime.storage.listFederatedCredentials({ issuer: CLUSTER })).toEqual([]);
      const [event] = (await call('GET', '/audit-events?type=client.deleted')).body!.items;
      expect(event.data.deletedFederatedCredentials).toEqual([credential.id]);
    });

    it('audits each change by name, with the rule and never more', async () => {
      const ci = await adminWith(['clients:write', 'issuers:write', 'audit:read']);
      await call('POST', '/trusted-issuers', ci.headers, { issuer: 'https://gitlab.example.com', jwks: await publicJwks(1, 'gl') });
      await call('PATCH', `/trusted-issuers/${enc('https://gitlab.example.com')}`, ci.headers, { max_token_lifetime_seconds: 900 });
      const added = await call('POST', `/clients/${clientId}/federated-credentials`, ci.headers, {
        issuer: 'https://gitlab.example.com',
        subject: 'project_path:ops/deploy:ref_type:branch:ref:main',
      });
      await call('DELETE', `/clients/${clientId}/federated-credentials/${added.body!.id}`, ci.headers);
      await call('DELETE', `/trusted-issuers/${enc('https://gitlab.example.com')}`, ci.headers);
      const events = (await call('GET', `/audit-events?actor=${ci.clientId}`, ci.headers)).body!.items.reverse();
      expect(events.map((event: { type: string }) => event.type)).toEqual([
        'trusted_issuer.added',
        'trusted_issuer.updated',
        'client.federated_credential_added',
        'client.federated_credential_removed',
        'trusted_issuer.removed',
      ]);
      expect(events[0].data).toMatchObject({
        issuer: 'https://gitlab.example.com',
        after: { kind: 'oidc', jwks: { key_count: 1, kids: ['gl0'], sha256: expect.any(String) } },
      });
      expect(events[1].data).toEqual({ issuer: 'https://gitlab.example.com', changes: { max_token_lifetime_seconds: { before: 3600, after: 900 } } });
      const rule = {
        clientId,
        credentialId: added.body!.id,
        issuer: 'https://gitlab.example.com',
        subject: 'project_path:ops/deploy:ref_type:branch:ref:main',
        subjectMatch: 'exact',
      };
      expect(events[2].data).toMatchObject(rule);
      expect(events[3].data).toMatchObject(rule);
    });
  });

  describe('least privilege', () => {
    it('issuers:read reads, issuers:write writes; neither comes with the other scopes', async () => {
      await t.runtime.admin.addTrustedIssuer({ issuer: GITHUB });
      const reader = await adminWith(['issuers:read']);
      expect((await call('GET', '/trusted-issuers', reader.headers)).status).toBe(200);
      expect((await call('GET', `/trusted-issuers/${enc(GITHUB)}`, reader.headers)).status).toBe(200);
      const denied = await call('POST', '/trusted-issuers', reader.headers, { issuer: CLUSTER });
      expect(denied).toMatchObject({ status: 403, body: { required_scope: 'issuers:write' } });
      expect(denied.headers['www-authenticate']).toMatch(/scope="issuers:write"/);
      const writer = await adminWith(['issuers:write']);
      expect((await call('POST', '/trusted-issuers', writer.headers, { issuer: CLUSTER })).status).toBe(201);
      expect((await call('GET', '/trusted-issuers', writer.headers)).status).toBe(403);
      expect((await call('GET', `/clients/${rootClientId}/federated-credentials`, writer.headers)).status).toBe(403);
      expect((await call('POST', `/clients/${rootClientId}/federated-credentials`, writer.headers, { issuer: CLUSTER, subject: 'x:y:z' })).status).toBe(403);
    });

    it('config as code: exporting trusted issuers needs issuers:read, changing them issuers:write, federating an admin client its scopes', async () => {
      const exporter = await adminWith(['apis:read', 'clients:read', 'grants:read']);
      expect((await call('GET', '/config', exporter.headers)).status).toBe(200);
      await t.runtime.admin.addTrustedIssuer({ issuer: CLUSTER, kind: 'kubernetes' });
      expect((await call('GET', '/config', exporter.headers)).body).toMatchObject({ status: 403, required_scopes: ['issuers:read'] });
      const reader = await adminWith(['apis:read', 'clients:read', 'grants:read', 'issuers:read']);
      expect((await call('GET', '/config', reader.headers)).body).toMatchObject({ trusted_issuers: [{ issuer: CLUSTER, kind: 'kubernetes' }] });

      const applier = await adminWith(['apis:write', 'clients:write', 'grants:write']);
      const withIssuer = { version: 1, trusted_issuers: [{ issuer: CLUSTER, kind: 'kubernetes' }, { issuer: GITHUB }] };
      for (const url of ['/config/apply?dry_run=true', '/config/apply']) {
        expect((await call('POST', url, applier.headers, withIssuer)).body).toMatchObject({ status: 403, required_scopes: ['issuers:write'] });
      }
      // Without prune an issuer the document leaves out is kept: nothing to authorize.
      expect((await call('POST', '/config/apply', applier.headers, { version: 1, clients: [{ name: 'svc' }] })).status).toBe(200);

      const federator = await adminWith(['apis:write', 'clients:write', 'grants:write', 'issuers:write']);
      const rootName = (await t.runtime.admin.getClient(rootClientId)).client.name;
      const federateRoot = {
        version: 1,
        trusted_issuers: [{ issuer: CLUSTER, kind: 'kubernetes' }],
        clients: [
          {
            client_id: rootClientId,
            name: rootName,
            default_api: ADMIN_API_IDENTIFIER,
            federated_credentials: [{ issuer: CLUSTER, subject: 'system:serviceaccount:x:y' }],
          },
        ],
      };
      const refused = await call('POST', '/config/apply', federator.headers, federateRoot);
      expect(refused.status).toBe(403);
      expect(refused.body!.detail).toContain(`create federated_credential ${rootName} ← ${CLUSTER} system:serviceaccount:x:y`);
      expect(await t.runtime.storage.listFederatedCredentials({ clientId: rootClientId })).toEqual([]);
      // Once the full admin trusts the issuer, a document swapping its keys is refused, in the dry run too.
      await t.runtime.admin.addFederatedCredential(rootClientId, { issuer: CLUSTER, subject: 'system:serviceaccount:ops:admin' });
      const swap = { version: 1, trusted_issuers: [{ issuer: CLUSTER, kind: 'kubernetes', jwks: await publicJwks(1, 'attacker') }] };
      for (const url of ['/config/apply?dry_run=true', '/config/apply']) {
        const answer = await call('POST', url, federator.headers, swap);
        expect(answer.status, url).toBe(403);
        expect(answer.body!.required_scopes).toContain('keys:write');
      }
      expect((await t.runtime.admin.getTrustedIssuer(CLUSTER)).jwks).toBeNull();
    });

    it('a federated credential of a client holding admin scopes needs those scopes, to add and to remove', async () => {
      await t.runtime.admin.addTrustedIssuer({ issuer: CLUSTER, kind: 'kubernetes' });
      const ci = await adminWith(['clients:write', 'clients:read']);
      const rule = { issuer: CLUSTER, subject: 'system:serviceaccount:attacker:pod' };
      const refused = await call('POST', `/clients/${rootClientId}/federated-credentials`, ci.headers, rule);
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ type: 'urn:m2m-auth:problem:insufficient-scope' });
      expect(refused.body!.required_scopes).toContain('grants:write');
      expect(refused.body!.required_scopes).not.toContain('clients:write');
      expect(await t.runtime.storage.listFederatedCredentials({ clientId: rootClientId })).toEqual([]);
      const spy = await t.runtime.admin.createClient({ name: 'spy', introspectApis: ['*'] });
      expect((await call('POST', `/clients/${spy.clientId}/federated-credentials`, ci.headers, rule)).body).toMatchObject({
        status: 403,
        required_scopes: ['introspection:write'],
      });
      const service = await t.runtime.admin.createClient({ name: 'service' });
      const added = await call('POST', `/clients/${service.clientId}/federated-credentials`, ci.headers, rule);
      expect(added.status).toBe(201);

      const own = await t.runtime.admin.addFederatedCredential(rootClientId, { issuer: CLUSTER, subject: 'system:serviceaccount:ops:admin' });
      expect((await call('DELETE', `/clients/${rootClientId}/federated-credentials/${own.id}`, ci.headers)).status).toBe(403);
      expect((await call('DELETE', `/clients/${service.clientId}/federated-credentials/${added.body!.id}`, ci.headers)).status).toBe(204);
    });

    it('the keys and checks of an issuer that an admin client trusts change only with that client’s scopes', async () => {
      const jwks = await publicJwks(1, 'attacker');
      await t.runtime.admin.addTrustedIssuer({ issuer: CLUSTER, kind: 'kubernetes', jwksUri: `${CLUSTER}/keys` });
      await t.runtime.admin.addTrustedIssuer({ issuer: 'https://ci.example', jwksUri: 'https://ci.example/keys' });
      await t.runtime.admin.addFederatedCredential(rootClientId, { issuer: CLUSTER, subject: 'system:serviceaccount:ops:admin' });
      const service = await t.runtime.admin.createClient({ name: 'service' });
      await t.runtime.admin.addFederatedCredential(service.clientId, { issuer: 'https://ci.example', subject: 'job:build' });
      const ci = await adminWith(['issuers:write']);
      for (const change of [{ jwks, jwks_uri: null }, { jwks_uri: 'https://attacker.example/keys' }, { max_token_lifetime_seconds: 86_400 }]) {
        const refused = await call('PATCH', `/trusted-issuers/${enc(CLUSTER)}`, ci.headers, change);
        expect(refused.status, JSON.stringify(change)).toBe(403);
        expect(refused.body!.required_scopes).toContain('grants:write');
      }
      // Tightening is no escalation; nor is any change of an issuer only a service trusts.
      expect((await call('PATCH', `/trusted-issuers/${enc(CLUSTER)}`, ci.headers, { max_token_lifetime_seconds: 300 })).status).toBe(200);
      expect((await call('PATCH', `/trusted-issuers/${enc('https://ci.example')}`, ci.headers, { jwks, jwks_uri: null })).status).toBe(200);
      expect((await call('DELETE', `/trusted-issuers/${enc(CLUSTER)}?force=true`, ci.headers)).status).toBe(403);
      expect((await call('GET', `/trusted-issuers/${enc(CLUSTER)}`)).body).toMatchObject({ jwks_uri: `${CLUSTER}/keys`, max_token_lifetime_seconds: 300 });
      expect((await call('DELETE', `/trusted-issuers/${enc('https://ci.example')}?force=true`, ci.headers)).status).toBe(204);
    });
  });
});

const stacks = await availableStacks();

describe.each(stacks.map((stack) => [stack.name, stack] as const))('trusted issuers and federated credentials on %s', (_, stack) => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ stack });
  });
  afterEach(() => t.close());

  it('are stored and read back as sent, the admin API’s answers byte for byte what a local read prints', async () => {
    const boot = await t.runtime.admin.bootstrapAdminClient();
    const token = await postToken(t.app, { grant_type: 'client_credentials', audience: ADMIN_API_IDENTIFIER }, basic(boot.clientId, boot.clientSecret));
    const headers = { authorization: `Bearer ${token.body.access_token as string}` };
    // Members in an unusual order, as a hand-written file may have them (PostgreSQL's jsonb reorders them anyway).
    const [key] = (await publicJwks(1, 'cluster-1')).keys;
    const { y, x, crv, kty, ...rest } = key!;
    const jwks = { keys: [{ y, ...rest, x, crv, kty }] };
    const added = await t.app.inject({ method: 'POST', url: '/admin/v1/trusted-issuers', headers, payload: { issuer: CLUSTER, kind: 'kubernetes', jwks } });
    expect(added.statusCode).toBe(201);
    const client = await t.runtime.admin.createClient({ name: 'worker' });
    const claims = { 'kubernetes.io/namespace': 'payments', zone: 'eu', a: 'first' };
    const credential = await t.app.inject({
      method: 'POST',
      url: `/admin/v1/clients/${client.clientId}/federated-credentials`,
      headers,
      payload: { issuer: CLUSTER, subject: 'system:serviceaccount:payments:api', audiences: ['b', 'a'], claims },
    });
    expect(credential.statusCode).toBe(201);

    const shown = await t.app.inject({ url: `/admin/v1/trusted-issuers/${enc(CLUSTER)}`, headers });
    expect(shown.body).toBe(JSON.stringify(trustedIssuerResource.toWire(await t.runtime.admin.getTrustedIssuer(CLUSTER))));
    expect(shown.json().jwks).toEqual(jwks);
    const listed = await t.app.inject({ url: `/admin/v1/clients/${client.clientId}/federated-credentials`, headers });
    const local = await t.runtime.admin.listFederatedCredentials(client.clientId);
    expect(listed.body).toBe(JSON.stringify({ items: local.map(federatedCredentialResource.toWire) }));
    expect(local[0]).toMatchObject({ audiences: ['b', 'a'], claims });

    const exported = await t.app.inject({ url: '/admin/v1/config', headers });
    expect(exported.json()).toEqual(await t.runtime.admin.exportConfig());
    const refused = await t.app.inject({ method: 'DELETE', url: `/admin/v1/trusted-issuers/${enc(CLUSTER)}`, headers });
    expect(refused.statusCode).toBe(409);
    expect((await t.app.inject({ method: 'DELETE', url: `/admin/v1/trusted-issuers/${enc(CLUSTER)}?force=true`, headers })).statusCode).toBe(204);
    expect(await t.runtime.admin.listFederatedCredentials(client.clientId)).toEqual([]);
  });
});
