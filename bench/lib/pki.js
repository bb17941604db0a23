import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A throwaway PKI for the mutual-TLS bench: a CA and P-256 certificates it issues, made with the
// `openssl` command line as packages/sdk-core/test/helpers/test-pki.ts does (that helper is
// TypeScript, which the bench, plain JS run by node, cannot import). Valid for a day; PEM out.

function inTempDir(work) {
  const dir = mkdtempSync(join(tmpdir(), 'm2m-auth-bench-pki-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const openssl = (args, cwd) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

function extensions({ sanIp = [] }, isCa) {
  return [
    isCa ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=critical,CA:FALSE',
    isCa ? 'keyUsage=critical,keyCertSign,cRLSign' : 'keyUsage=critical,digitalSignature',
    ...(isCa ? [] : ['extendedKeyUsage=clientAuth,serverAuth']),
    ...(sanIp.length > 0 ? [`subjectAltName=${sanIp.map((ip) => `IP:${ip}`).join(',')}`] : []),
  ].join('\n');
}

function newKeyAndRequest(dir, request, isCa) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'], dir);
  writeFileSync(join(dir, 'ext.cnf'), extensions(request, isCa));
  openssl(['req', '-new', '-key', 'key.pem', '-subj', request.subject, '-out', 'req.csr'], dir);
}

function read(dir) {
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  return { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8'), x509: new X509Certificate(cert) };
}

/** A self-signed CA. `subject` is an OpenSSL `-subj` string such as `/CN=bench CA`. */
export function createCa(subject) {
  return inTempDir((dir) => {
    newKeyAndRequest(dir, { subject }, true);
    openssl(['x509', '-req', '-in', 'req.csr', '-signkey', 'key.pem', '-days', '2', '-extfile', 'ext.cnf', '-out', 'cert.pem'], dir);
    return read(dir);
  });
}

/** A leaf certificate issued by `ca`, for a client (`/O=Example/CN=orders`) or a server (`sanIp`). */
export function issueCertificate(ca, { subject, sanIp }) {
  return inTempDir((dir) => {
    newKeyAndRequest(dir, { subject, sanIp }, false);
    writeFileSync(join(dir, 'ca.pem'), ca.cert);
    writeFileSync(join(dir, 'ca-key.pem'), ca.key);
    const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`;
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'req.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca-key.pem',
        '-set_serial',
        serial,
        '-days',
        '1',
        '-extfile',
        'ext.cnf',
        '-out',
        'cert.pem',
      ],
      dir,
    );
    return read(dir);
  });
}
