import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startChildServer } from '../lib/child-server.js';
import { freePort } from '../lib/free-port.js';
import { createTestCa, issueCertificate } from '../../packages/sdk-core/test/helpers/test-pki.js';
import { measureSideBySide, sideBySideTable } from '../lib/side-by-side.js';

const m2mAuthBin = fileURLToPath(new URL('../../packages/server/bin/m2m-auth.js', import.meta.url));
const apiServer = fileURLToPath(new URL('./api-server.js', import.meta.url));
const AUDIENCE = 'https://api.bench.example';
const CERTIFICATE_CLIENT_DN = 'CN=bench-orders,O=Example';
const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * What mutual TLS (RFC 8705) costs against secrets and bearer tokens, side by side in one run, on
 * one server (SQLite, one worker, ES256 tokens, a TLS listener with --mtls-ca) and one Express API
 * (resource-server SDK over node:https with requestCert). Every variant is over TLS, so the
 * comparison is mutual TLS against plain TLS, not against plain HTTP:
 * - at the token endpoint, a secret client (HTTP Basic, no certificate); a tls_client_auth client
 *   (its certificate alone, client_id in the form) whose tokens are bound to it; and a secret
 *   client whose tokens are bound to the certificate it presents (binding without certificate
 *   authentication);
 * - at the API, an unbound token without a certificate, and a certificate-bound token presented
 *   with its certificate (the SDK's verified-token cache on in both, as by default).
 * autocannon keeps each of its connections open for the whole run, so each connection's handshake
 * (certificate or not) is paid once per run and the figures are the cost per request on an open
 * connection.
 */
export async function runMtlsSuite({ connections, repetitions, durationSeconds, progress }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-mtls-'));
  const cli = (...args) => JSON.parse(execFileSync(process.execPath, [m2mAuthBin, ...args, '--data-dir', dataDir, '--json'], { encoding: 'utf8' }));
  const port = await freePort();
  const issuer = `https://127.0.0.1:${port}`;
  const tokenEndpoint = `${issuer}/oauth/token`;
  let server;
  let api;
  try {
    progress('mtls: making a CA and certificates with openssl');
    const ca = createTestCa('/CN=m2m-auth bench CA');
    const serverCertificate = issueCertificate(ca, { subject: '/CN=localhost', sanIp: ['127.0.0.1'] });
    // OpenSSL's -subj lists RDNs from the root: /O=Example/CN=bench-orders is RFC 4514's CN=bench-orders,O=Example.
    const ordersCertificate = issueCertificate(ca, { subject: '/O=Example/CN=bench-orders' });
    const boundSecretCertificate = issueCertificate(ca, { subject: '/O=Example/CN=bench-bound-secret' });
    const files = { ca: join(dataDir, 'ca.pem'), cert: join(dataDir, 'server.pem'), key: join(dataDir, 'server-key.pem') };
    writeFileSync(files.ca, ca.cert);
    writeFileSync(files.cert, serverCertificate.cert);
    writeFileSync(files.key, serverCertificate.key, { mode: 0o600 });

    cli('init');
    cli('apis', 'create', '--identifier', AUDIENCE, '--scopes', 'read:things', '--alg', 'ES256', '--token-ttl', '3600');
    const secretClient = cli('clients', 'create', '--name', 'bench-secret');
    const certificateClient = cli(
      'clients',
      'create',
      '--name',
      'bench-orders',
      '--auth-methods',
      'tls_client_auth',
      '--tls-subject-dn',
      CERTIFICATE_CLIENT_DN,
      '--certificate-bound',
    );
    const boundSecretClient = cli('clients', 'create', '--name', 'bench-bound-secret', '--certificate-bound');
    for (const client of [secretClient, certificateClient, boundSecretClient]) {
      cli('grants', 'create', '--client', client.client_id, '--api', AUDIENCE, '--scopes', 'read:things');
    }

    const trustingCa = { ca: ca.cert };
    server = await startChildServer({
      command: process.execPath,
      args: [
        '--max-semi-space-size=4',
        m2mAuthBin,
        'serve',
        '--port',
        String(port),
        '--issuer',
        issuer,
        '--data-dir',
        dataDir,
        '--workers',
        '1',
        '--tls-cert',
        files.cert,
        '--tls-key',
        files.key,
        '--mtls-ca',
        files.ca,
      ],
      probeUrl: `${issuer}/healthz`,
      probe: (url, signal) => send(url, { tls: trustingCa, signal }),
    });
    const apiPort = await freePort();
    api = await startChildServer({
      command: process.execPath,
      args: [apiServer],
      env: { ISSUER: issuer, AUDIENCE, PORT: String(apiPort), TLS_CERT: files.cert, TLS_KEY: files.key, NODE_EXTRA_CA_CERTS: files.ca },
      readyLine: true,
    });
    const apiUrl = `https://127.0.0.1:${apiPort}`;

    const ordersTls = { cert: ordersCertificate.cert, key: ordersCertificate.key };
    const boundSecretTls = { cert: boundSecretCertificate.cert, key: boundSecretCertificate.key };
    const form = (extra = {}) => new URLSearchParams({ grant_type: 'client_credentials', audience: AUDIENCE, ...extra }).toString();
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
    const secretHeaders = { ...formHeaders, authorization: basic(secretClient.client_id, secretClient.client_secret) };
    const boundSecretHeaders = { ...formHeaders, authorization: basic(boundSecretClient.client_id, boundSecretClient.client_secret) };
    const certificateForm = form({ client_id: certificateClient.client_id });

    const token = async (headers, body, tls) => {
      const answer = await send(tokenEndpoint, { method: 'POST', headers, body, tls: { ...trustingCa, ...tls } });
      if (answer.status !== 200) throw new Error(`mtls bench: token request answered ${answer.status} ${answer.body}`);
      return JSON.parse(answer.body);
    };
    const unbound = await token(secretHeaders, form(), {});
    const bound = await token(formHeaders, certificateForm, ordersTls);
    const boundBySecret = await token(boundSecretHeaders, form(), boundSecretTls);
    if (cnfOf(unbound.access_token) !== undefined) throw new Error('mtls bench: the secret client got a bound token');
    for (const answer of [bound, boundBySecret]) {
      if (cnfOf(answer.access_token)?.['x5t#S256'] === undefined) throw new Error(`mtls bench: no certificate-bound token (${JSON.stringify(answer)})`);
    }

    const variants = [
      { side: 'token endpoint', name: 'client secret (HTTP Basic)', pid: server.pid, url: tokenEndpoint, method: 'POST', headers: secretHeaders, body: form() },
      {
        side: 'token endpoint',
        name: 'tls_client_auth, bound token (certificate alone)',
        pid: server.pid,
        url: tokenEndpoint,
        method: 'POST',
        headers: formHeaders,
        body: certificateForm,
        tls: ordersTls,
      },
      {
        side: 'token endpoint',
        name: 'client secret + certificate, bound token',
        pid: server.pid,
        url: tokenEndpoint,
        method: 'POST',
        headers: boundSecretHeaders,
        body: form(),
        tls: boundSecretTls,
      },
      {
        side: 'API',
        name: 'bearer, unbound token, no certificate',
        pid: api.pid,
        url: `${apiUrl}/bearer`,
        headers: { authorization: `Bearer ${unbound.access_token}` },
      },
      {
        side: 'API',
        name: 'certificate-bound token with its certificate',
        pid: api.pid,
        url: `${apiUrl}/bound`,
        headers: { authorization: `Bearer ${bound.access_token}` },
        tls: ordersTls,
      },
    ];
    const load = async (variant, seconds) => {
      const { url, method = 'GET', headers, body, tls } = variant;
      const result = await autocannon({
        url,
        method,
        headers,
        ...(body ? { body } : {}),
        connections,
        duration: seconds,
        pipelining: 1,
        // autocannon sets rejectUnauthorized: false on its side: only the client certificate matters here.
        ...(tls ? { tlsOptions: tls } : {}),
      });
      return {
        requestsPerSecond: result.requests.total / seconds,
        total: result.requests.total,
        p99Ms: result.latency.p99,
        failed: result.non2xx + result.errors + result.timeouts,
      };
    };
    return await measureSideBySide({ suite: 'mtls', variants, load, connections, repetitions, durationSeconds, progress });
  } finally {
    await api?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The claims' cnf, read without verifying: only to check the setup before measuring. */
function cnfOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')).cnf;
}

/** One HTTPS request with its own TLS options (a client certificate, the bench CA); the whole body as text. */
function send(url, { method = 'GET', headers = {}, body, tls, signal = AbortSignal.timeout(10_000) }) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ...tls, agent: false, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function mtlsTable(results) {
  return sideBySideTable(results, {
    setup:
      'keep-alive connections, all over TLS; token endpoint: SQLite, one worker, ES256 tokens, --mtls-ca; API: Express over node:https (requestCert), resource-server SDK, one process',
    baselineLabel: 'vs baseline',
  });
}
