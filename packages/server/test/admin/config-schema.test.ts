import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { createAdmin } from '../../src/admin/admin.js';
import { parseConfigDocument } from '../../src/admin/config-document.js';
import { renderConfigDocumentSchema } from '../../src/admin/resources/config-document.js';
import { deriveSecrets, generateMasterKey, parseMasterKey } from '../../src/keys/master-key.js';
import { openStorage } from '../../src/storage/open-storage.js';
import { createClock } from '../helpers/test-app.js';

/** The JSON Schema shipped for editors must accept what export writes and reject what apply refuses. */
const schema = JSON.parse(readFileSync(new URL('../../schema/m2m-auth-config.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

describe('schema/m2m-auth-config.schema.json', () => {
  it('is exactly what the resource definitions generate (run `npm run schema:config` after changing a resource)', () => {
    expect(readFileSync(new URL('../../schema/m2m-auth-config.schema.json', import.meta.url), 'utf8')).toBe(renderConfigDocumentSchema());
  });

  it('accepts every document export writes', async () => {
    const storage = await openStorage({ kind: 'memory' });
    try {
      const { keyEncryptionKey, secretPepper } = deriveSecrets(parseMasterKey(generateMasterKey()));
      const admin = createAdmin({ storage, kek: keyEncryptionKey, secretPepper, now: createClock().now, actor: 'test' });
      await admin.bootstrapAdminClient();
      await admin.createApi({
        identifier: 'https://orders.example',
        name: 'Orders',
        scopes: [{ value: 'read:orders', description: 'Read orders' }, 'write:orders'],
        tokenTtlSeconds: 600,
      });
      await admin.createApi({ identifier: 'https://hs.example', scopes: ['x'], signingAlg: 'HS256' });
      const client = await admin.createClient({ name: 'billing', description: 'Bills', defaultApi: 'https://orders.example' });
      await admin.createClient({ name: 'jwt', jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }] } });
      await admin.updateClient(client.clientId, { isEnabled: false });
      await admin.addTrustedIssuer({ issuer: 'https://token.actions.githubusercontent.com' });
      await admin.addTrustedIssuer({
        issuer: 'spiffe://prod.example.org',
        kind: 'spiffe',
        jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'svid-1' }] },
      });
      await admin.addFederatedCredential(client.clientId, {
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'repo:my-org/app:',
        subjectMatch: 'prefix',
        claims: { repository_owner_id: '42' },
      });
      await admin.addFederatedCredential(client.clientId, { issuer: 'spiffe://prod.example.org', subject: 'spiffe://prod.example.org/billing' });
      await admin.createGrant({ clientId: client.clientId, apiIdentifier: 'https://orders.example', scopes: ['read:orders'], tokenTtlSeconds: 120 });
      for (const includeAdmin of [false, true]) {
        const document = await admin.exportConfig({ includeAdmin });
        expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
      }
      expect(validate({ version: 1 })).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it.each([
    ['no version', { apis: [] }, ''],
    ['a wrong version', { version: 2 }, '/version'],
    ['an unknown top-level field', { version: 1, client: [] }, ''],
    ['an API without identifier', { version: 1, apis: [{ name: 'x' }] }, '/apis/0'],
    ['an identifier with a fragment', { version: 1, apis: [{ identifier: 'https://a.example/#x' }] }, '/apis/0/identifier'],
    ['an unknown algorithm', { version: 1, apis: [{ identifier: 'https://a.example', signing_alg: 'none' }] }, '/apis/0/signing_alg'],
    ['a TTL out of range', { version: 1, apis: [{ identifier: 'https://a.example', token_ttl_seconds: 5 }] }, '/apis/0/token_ttl_seconds'],
    ['a scope with a space', { version: 1, apis: [{ identifier: 'https://a.example', scopes: ['read orders'] }] }, '/apis/0/scopes/0'],
    ['a client without name', { version: 1, clients: [{ description: 'x' }] }, '/clients/0'],
    ['a misspelt client field', { version: 1, clients: [{ name: 'x', enabeld: false }] }, '/clients/0'],
    ['a private JWK', { version: 1, clients: [{ name: 'x', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }] }, '/clients/0/jwks'],
    [
      'a nested value inside a JWK',
      { version: 1, clients: [{ name: 'x', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', extra: { a: { b: 1 } } }] } }] },
      '/clients/0/jwks',
    ],
    ['a grant without api', { version: 1, grants: [{ client: 'x' }] }, '/grants/0'],
    ['an unknown issuer kind', { version: 1, trusted_issuers: [{ issuer: 'https://a.example', kind: 'saml' }] }, '/trusted_issuers/0/kind'],
    [
      'a private key in an issuer’s keys',
      { version: 1, trusted_issuers: [{ issuer: 'https://a.example', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] } }] },
      '/trusted_issuers/0/jwks',
    ],
    [
      'a federated credential without subject',
      { version: 1, trusted_issuers: [{ issuer: 'https://a.example' }], clients: [{ name: 'x', federated_credentials: [{ issuer: 'https://a.example' }] }] },
      '/clients/0/federated_credentials/0',
    ],
    [
      'a claim condition that is not a string',
      {
        version: 1,
        trusted_issuers: [{ issuer: 'https://a.example' }],
        clients: [{ name: 'x', federated_credentials: [{ issuer: 'https://a.example', subject: 's', claims: { owner_id: 42 } }] }],
      },
      '/clients/0/federated_credentials/0/claims/owner_id',
    ],
  ])('rejects %s, as apply does', (_, document, path) => {
    expect(validate(document)).toBe(false);
    expect(validate.errors!.map((error) => error.instancePath)).toContain(path);
    expect(() => parseConfigDocument(document)).toThrow('The configuration document is invalid');
  });
});
