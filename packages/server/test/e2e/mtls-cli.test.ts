import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { decodeJwt } from 'jose';
import { certificateThumbprint } from '@m2m-auth/sdk-core';
import { cli, cliJson, initStore, startServeProcess } from '../helpers/cli-process.js';
import { httpsJson } from '../helpers/https-request.js';
import { createTestCa, issueCertificate } from '../../../sdk-core/test/helpers/test-pki.js';

/**
 * Mutual TLS as an operator sets it up: clients registered with `clients create|update
 * --auth-methods tls_client_auth --tls-subject-dn / --tls-san-dns --certificate-bound`, and
 * `serve --tls-cert --tls-key --mtls-ca`; a client with its CA-issued certificate gets a token
 * bound to it from the real server process.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-mtls-cli-'));
const d = ['--data-dir', dataDir];
const PAYMENTS = 'https://payments.example';
const ca = createTestCa('/CN=m2m-auth test CA');
const serverCertificate = issueCertificate(ca, { subject: '/CN=localhost', sanDns: ['localhost'] });
const orders = issueCertificate(ca, { subject: '/O=Example/CN=orders-service', sanDns: ['orders.example'] });
const files = { ca: join(dataDir, 'ca.pem'), cert: join(dataDir, 'server.pem'), key: join(dataDir, 'server-key.pem'), leaf: join(dataDir, 'leaf.pem') };

type ClientView = Record<string, unknown> & { client_id: string };
let server: { url: string; child: ChildProcess; stderr: () => string } | undefined;
let created: ClientView;

beforeAll(async () => {
  writeFileSync(files.ca, ca.cert);
  writeFileSync(files.cert, serverCertificate.cert);
  writeFileSync(files.key, serverCertificate.key);
  writeFileSync(files.leaf, orders.cert);
  await initStore(d);
  await cliJson(['apis', 'create', '--identifier', PAYMENTS, '--scopes', 'payments:read', ...d]);
  created = await cliJson<ClientView>([
    'clients',
    'create',
    '--name',
    'orders',
    '--auth-methods',
    'tls_client_auth',
    '--tls-subject-dn',
    'CN=orders-service, O=Example',
    '--certificate-bound',
    ...d,
  ]);
  await cliJson(['grants', 'create', '--client', created.client_id, '--api', PAYMENTS, '--scopes', 'payments:read', ...d]);
}, 60_000);

afterAll(() => {
  server?.child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('clients create|update for mutual TLS', () => {
  it('registers a tls_client_auth client by subject, certificate-bound, without a secret', () => {
    expect(created).toMatchObject({
      token_endpoint_auth_methods: ['tls_client_auth'],
      tls_client_auth_subject_dn: 'CN=orders-service, O=Example',
      tls_client_auth_san_dns: [],
      tls_client_certificate_bound_access_tokens: true,
    });
    expect(created).not.toHaveProperty('client_secret');
  });

  it('moves a client from a subject to DNS names and back, and --no-certificate-bound undoes --certificate-bound', async () => {
    const other = await cliJson<ClientView>([
      'clients',
      'create',
      '--name',
      'inventory',
      '--auth-methods',
      'tls_client_auth',
      '--tls-san-dns',
      'inventory.example',
      ...d,
    ]);
    const updated = await cliJson<ClientView>([
      'clients',
      'update',
      other.client_id,
      '--tls-san-dns',
      '',
      '--tls-subject-dn',
      'CN=inventory',
      '--certificate-bound',
      ...d,
    ]);
    expect(updated).toMatchObject({
      tls_client_auth_subject_dn: 'CN=inventory',
      tls_client_auth_san_dns: [],
      tls_client_certificate_bound_access_tokens: true,
    });
    const unbound = await cliJson<ClientView>(['clients', 'update', other.client_id, '--no-certificate-bound', ...d]);
    expect(unbound.tls_client_certificate_bound_access_tokens).toBe(false);
  });

  it('refuses tls_client_auth without a subject or DNS names, and a subject that is not a DN, saying which', async () => {
    const missing = await cli(['clients', 'create', '--name', 'nameless', '--auth-methods', 'tls_client_auth', ...d]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/tls_client_auth needs exactly one of tls_client_auth_subject_dn or tls_client_auth_san_dns/);
    const garbled = await cli(['clients', 'create', '--name', 'garbled', '--auth-methods', 'tls_client_auth', '--tls-subject-dn', 'orders', ...d]);
    expect(garbled.stderr).toMatch(/tls_client_auth_subject_dn needs type=value/);
  });
});

describe('serve --mtls-ca', () => {
  it('refuses a CA file that holds no CA before it starts', async () => {
    const result = await cli(['serve', '--port', '0', '--tls-cert', files.cert, '--tls-key', files.key, '--mtls-ca', files.leaf, ...d]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/--mtls-ca \/ M2M_AUTH_MTLS_CA: .*leaf\.pem certificate 1 .* is not a CA/);
  });

  it('issues a token bound to the certificate the client connected with, and says so in discovery', async () => {
    server = await startServeProcess(['--port', '0', '--tls-cert', files.cert, '--tls-key', files.key, '--mtls-ca', files.ca, ...d]);
    expect(server.url).toMatch(/^https:/);
    expect(server.stderr()).toMatch(/mutual TLS: client certificates on this listener and trusted proxies \(CAs: .*ca\.pem\)/);
    const { body: metadata } = await httpsJson(`${server.url}/.well-known/oauth-authorization-server`, { ca: ca.cert });
    expect(metadata).toMatchObject({ tls_client_certificate_bound_access_tokens: true });
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']));
    const issued = await httpsJson(`${server.url}/oauth/token`, {
      ca: ca.cert,
      certificate: orders,
      form: { grant_type: 'client_credentials', audience: PAYMENTS, client_id: created.client_id },
    });
    expect(issued.status).toBe(200);
    expect(decodeJwt(issued.body.access_token as string).cnf).toEqual({ 'x5t#S256': certificateThumbprint(orders.x509) });
  });
});
