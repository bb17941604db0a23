// What the secretless examples' test needs: a real m2m-auth on loopback that trusts a loopback
// "cluster" (a platform issuer with discovery and a JWKS) and a SPIFFE trust domain (its bundle
// inline), set up through the CLI as docs/secretless.md tells an operator to — and a client that
// has no secret at all, only those two federated credentials.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, m2mAuth, startAuthServer } from '../../demo/auth-server.mjs';
import { startPlatformIssuer } from '../../demo/platform-issuer.mjs';
import { AUDIENCE } from './harness.js';

export const NAMESPACE = 'orders';
export const SERVICE_ACCOUNT_SUBJECT = `system:serviceaccount:${NAMESPACE}:reporter`;
export const TRUST_DOMAIN = 'spiffe://example.org';
export const SPIFFE_ID = `${TRUST_DOMAIN}/ns/${NAMESPACE}/sa/reporter`;

export async function startSecretlessHarness() {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-secretless-'));
  const cluster = await startPlatformIssuer();
  let auth;
  let client;
  try {
    await m2mAuth(dataDir, ['init']);
    await m2mAuth(dataDir, ['apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:orders,write:orders']);
    client = await m2mAuth(dataDir, ['clients', 'create', '--name', 'reporting-job']);
    const [secrets] = await Promise.all([
      m2mAuth(dataDir, ['clients', 'secrets', 'list', client.client_id]),
      m2mAuth(dataDir, ['grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:orders']),
    ]);
    // Nothing needs the secret `clients create` made: revoked, the client has none left to leak.
    await Promise.all(secrets.map((secret) => m2mAuth(dataDir, ['clients', 'secrets', 'revoke', client.client_id, secret.id])));

    // The cluster: keys found through its discovery document; its tokens are reused for their lifetime.
    await m2mAuth(dataDir, ['issuers', 'add', '--issuer', cluster.issuer, '--kind', 'kubernetes']);
    await m2mAuth(dataDir, [
      'clients',
      'federated',
      'add',
      '--client',
      client.client_id,
      '--issuer',
      cluster.issuer,
      '--subject',
      SERVICE_ACCOUNT_SUBJECT,
      '--claim',
      `kubernetes.io/namespace=${NAMESPACE}`,
    ]);
    // The SPIFFE trust domain: its bundle's JWT keys, stored inline (here the same key pair signs).
    const bundleFile = join(dataDir, 'bundle.json');
    writeFileSync(bundleFile, JSON.stringify(cluster.spiffeBundle()));
    await m2mAuth(dataDir, ['issuers', 'add', '--issuer', TRUST_DOMAIN, '--kind', 'spiffe', '--jwks-file', bundleFile]);
    await m2mAuth(dataDir, ['clients', 'federated', 'add', '--client', client.client_id, '--issuer', TRUST_DOMAIN, '--subject', SPIFFE_ID]);

    auth = await startAuthServer({ dataDir, port: await freePort() });
  } catch (error) {
    await cluster.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const issuer = auth.url;
  let files = 0;

  /** Writes a platform token to a new file, as the kubelet or the SPIFFE helper would; returns its path. */
  function tokenFile(token) {
    const path = join(dataDir, `platform-token-${(files += 1)}`);
    writeFileSync(path, `${token}\n`, { mode: 0o600 });
    return path;
  }

  return {
    issuer,
    dataDir,
    client,
    cluster,
    tokenFile,
    /** A projected service-account token for the m2m-auth audience, as the kubelet writes it. */
    serviceAccountToken: (claims = {}) =>
      cluster.sign({
        sub: SERVICE_ACCOUNT_SUBJECT,
        aud: [issuer],
        'kubernetes.io': { namespace: NAMESPACE, serviceaccount: { name: 'reporter', uid: '6b1f0c4e-0000-4000-8000-000000000001' } },
        ...claims,
      }),
    /** A JWT-SVID for the m2m-auth audience: no iss, the trust domain is in sub. */
    jwtSvid: (claims = {}) => cluster.sign({ sub: SPIFFE_ID, aud: [issuer], ...claims }, { lifetimeSeconds: 300, withoutIssuer: true }),
    /** The environment every secretless example reads. */
    env: (tokenPath, extra = {}) => ({ M2M_AUTH_ISSUER: issuer, PLATFORM_TOKEN_FILE: tokenPath, AUDIENCE, SCOPE: 'read:orders', ...extra }),
    async stop() {
      await auth.stop();
      await cluster.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
