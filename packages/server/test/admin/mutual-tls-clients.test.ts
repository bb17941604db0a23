import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { ADMIN_API_IDENTIFIER } from '../../src/admin/built-in-admin-api.js';
import { AdminError } from '../../src/errors/admin-error.js';
import { selfSignedCertificate, type TestCertificate } from '../../../sdk-core/test/helpers/test-pki.js';

/**
 * Registering mutual-TLS clients through the admin operations (the admin API, the CLI and apply
 * all call them): what each method needs, the certificates beside the keys, and least privilege.
 */
const reports = selfSignedCertificate({ subject: '/CN=reports' });
const another = selfSignedCertificate({ subject: '/CN=another' });
const jwkOf = (certificate: TestCertificate, x5c = [certificate.x509.raw.toString('base64')]) => ({
  ...(certificate.x509.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
  x5c,
});

let t: TestApp;
beforeEach(async () => (t = await createTestApp()));
afterEach(() => t.close());

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof AdminError ? { code: error.code, field: error.field, message: error.message } : error),
  );

describe('registering mutual-TLS clients', () => {
  it('creates a tls_client_auth client by subject DN without a secret, and reads it back on the wire', async () => {
    const created = await t.runtime.admin.createClient({
      name: 'orders',
      tokenEndpointAuthMethods: ['tls_client_auth'],
      tlsClientAuthSubjectDn: 'CN=orders,O=Example',
      tlsClientCertificateBoundAccessTokens: true,
    });
    expect(created.clientSecret).toBeUndefined();
    expect(created.client).toMatchObject({ tlsClientAuthSubjectDn: 'CN=orders,O=Example', tlsClientCertificateBoundAccessTokens: true });
  });

  it.each([
    ['neither a subject nor DNS names', {}, /exactly one of tls_client_auth_subject_dn or tls_client_auth_san_dns/],
    ['both', { tlsClientAuthSubjectDn: 'CN=a', tlsClientAuthSanDns: ['a.example'] }, /exactly one/],
    ['a subject that is not an RFC 4514 DN', { tlsClientAuthSubjectDn: 'orders' }, /tls_client_auth_subject_dn needs type=value/],
    ['an unknown attribute type', { tlsClientAuthSubjectDn: 'XX=orders' }, /unknown attribute type/],
    ['a wildcard DNS name', { tlsClientAuthSanDns: ['*.example'] }, /no wildcard/],
    ['a DNS name that is not one', { tlsClientAuthSanDns: ['orders service'] }, /DNS names/],
  ])('refuses tls_client_auth with %s, storing nothing', async (_name, fields, message) => {
    const error = await refusal(t.runtime.admin.createClient({ name: 'orders', tokenEndpointAuthMethods: ['tls_client_auth'], ...fields }));
    expect(error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(message) });
    expect((await t.runtime.admin.listClients()).items.map((client) => client.name)).not.toContain('orders');
  });

  it('refuses self_signed_tls_client_auth without certificates, or with a certificate of another key, or not a certificate', async () => {
    const create = (jwks?: { keys: Record<string, unknown>[] }) =>
      refusal(t.runtime.admin.createClient({ name: 'reports', tokenEndpointAuthMethods: ['self_signed_tls_client_auth'], ...(jwks ? { jwks } : {}) }));
    const { x5c: _none, ...bareKey } = jwkOf(reports);
    expect(await create()).toMatchObject({ field: 'jwks', message: expect.stringMatching(/needs the client’s certificates/) });
    expect(await create({ keys: [bareKey] })).toMatchObject({ field: 'jwks', message: expect.stringMatching(/jwks keys with x5c/) });
    expect(await create({ keys: [jwkOf(reports, [another.x509.raw.toString('base64')])] })).toMatchObject({
      message: expect.stringMatching(/x5c\[0\] certifies another key/),
    });
    expect(await create({ keys: [jwkOf(reports, ['bm90IGEgY2VydA=='])] })).toMatchObject({ message: expect.stringMatching(/base64 DER certificate/) });
    expect(await create({ keys: [jwkOf(reports)] })).toBeUndefined();
  });

  it('removes a subject with null and DNS names with [], and still holds a tls_client_auth client to one of them', async () => {
    const { clientId } = await t.runtime.admin.createClient({
      name: 'orders',
      tokenEndpointAuthMethods: ['tls_client_auth'],
      tlsClientAuthSubjectDn: 'CN=orders',
    });
    expect(await refusal(t.runtime.admin.updateClient(clientId, { tlsClientAuthSubjectDn: null }))).toMatchObject({
      message: expect.stringMatching(/exactly one/),
    });
    const moved = await t.runtime.admin.updateClient(clientId, { tlsClientAuthSubjectDn: null, tlsClientAuthSanDns: ['orders.example'] });
    expect(moved.tlsClientAuthSubjectDn).toBeUndefined();
    expect(moved.tlsClientAuthSanDns).toEqual(['orders.example']);
  });
});

describe('least privilege: a certificate a client is known by is a credential of it', () => {
  it('changing the subject, the DNS names or turning certificate binding off needs the admin scopes the client holds', async () => {
    await t.runtime.admin.bootstrapAdminClient();
    const { clientId } = await t.runtime.admin.createClient({
      name: 'root',
      tokenEndpointAuthMethods: ['tls_client_auth'],
      tlsClientAuthSubjectDn: 'CN=root',
      tlsClientCertificateBoundAccessTokens: true,
    });
    await t.runtime.admin.createGrant({ clientId, apiIdentifier: ADMIN_API_IDENTIFIER, scopes: ['clients:read', 'grants:write'] });
    const limited = t.runtime.admin.asCaller({ clientId: 'ci', scopes: new Set(['clients:read', 'clients:write']) });
    for (const patch of [
      { tlsClientAuthSubjectDn: 'CN=attacker' },
      { tlsClientAuthSubjectDn: null, tlsClientAuthSanDns: ['attacker.example'] },
      { tlsClientCertificateBoundAccessTokens: false },
    ]) {
      expect(await refusal(limited.updateClient(clientId, patch)), JSON.stringify(patch)).toMatchObject({
        code: 'insufficient_scope',
        message: expect.stringMatching(/grants:write/),
      });
    }
    expect((await t.runtime.admin.getClient(clientId)).client).toMatchObject({
      tlsClientAuthSubjectDn: 'CN=root',
      tlsClientCertificateBoundAccessTokens: true,
    });
    // Asking for more binding confers nothing: no scope needed.
    await limited.updateClient(clientId, { description: 'still root', tlsClientCertificateBoundAccessTokens: true });
  });
});
