import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A throwaway PKI for mutual-TLS tests and benchmarks: a CA and certificates issued by it (or
// self-signed), made with the `openssl` command line on P-256 keys. Everything is returned as PEM
// and the working directory is removed before returning. Plain JavaScript, so the benchmarks (run
// by node, not through TypeScript) share it with the tests; the types are in test-pki.d.ts.

function inTempDir(work) {
  const dir = mkdtempSync(join(tmpdir(), 'm2m-pki-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function extensions(request, isCa) {
  const san = [
    ...(request.sanDns ?? []).map((name) => `DNS:${name}`),
    ...(request.sanUri ?? []).map((uri) => `URI:${uri}`),
    ...(request.sanIp ?? []).map((ip) => `IP:${ip}`),
  ];
  return [
    isCa ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=critical,CA:FALSE',
    isCa ? 'keyUsage=critical,keyCertSign,cRLSign' : 'keyUsage=critical,digitalSignature',
    ...(isCa ? [] : ['extendedKeyUsage=clientAuth,serverAuth']),
    ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
  ].join('\n');
}

/** A new P-256 key and a signing request for `request.subject`, with the extensions file beside them. */
function newKeyAndRequest(dir, request, isCa) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'], dir);
  writeFileSync(join(dir, 'ext.cnf'), extensions(request, isCa));
  openssl(['req', '-new', '-key', 'key.pem', '-subj', request.subject, '-out', 'req.csr'], dir);
}

function read(dir) {
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  return { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8'), x509: new X509Certificate(cert) };
}

export function selfSignedCertificate(request, isCa = false) {
  return inTempDir((dir) => {
    newKeyAndRequest(dir, request, isCa);
    const days = String(request.days ?? 1);
    openssl(['x509', '-req', '-in', 'req.csr', '-signkey', 'key.pem', '-days', days, '-extfile', 'ext.cnf', '-out', 'cert.pem'], dir);
    return read(dir);
  });
}

export function createTestCa(subject = '/CN=m2m-auth test CA') {
  return selfSignedCertificate({ subject, days: 2 }, true);
}

export function issueCertificate(ca, request) {
  return inTempDir((dir) => {
    newKeyAndRequest(dir, request, false);
    writeFileSync(join(dir, 'ca.pem'), ca.cert);
    writeFileSync(join(dir, 'ca-key.pem'), ca.key);
    const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`;
    const days = String(request.days ?? 1);
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
        days,
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
