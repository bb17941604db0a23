import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PKI for mutual-TLS tests: a CA and certificates issued by it (or self-signed), made
 * with the `openssl` command line on P-256 keys, valid for a day. Everything is returned as PEM and
 * the working directory is removed before returning.
 */

export interface TestCertificate {
  readonly cert: string;
  readonly key: string;
  readonly x509: X509Certificate;
}

export interface CertificateRequest {
  /** An OpenSSL `-subj` string, e.g. `/CN=orders-service/O=Example`. */
  readonly subject: string;
  readonly sanDns?: readonly string[];
  readonly sanUri?: readonly string[];
  /** IP addresses (a server certificate for 127.0.0.1). */
  readonly sanIp?: readonly string[];
  /** Days of validity (default 1); a negative number makes an already expired certificate. */
  readonly days?: number;
}

function inTempDir<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'm2m-pki-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function extensions(request: CertificateRequest, isCa: boolean): string {
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

function newKey(dir: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'key.pem'], dir);
}

function read(dir: string): TestCertificate {
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  return { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8'), x509: new X509Certificate(cert) };
}

/** A self-signed certificate: a CA when `isCa`, else a leaf for `self_signed_tls_client_auth`. */
export function selfSignedCertificate(request: CertificateRequest, isCa = false): TestCertificate {
  return inTempDir((dir) => {
    newKey(dir);
    writeFileSync(join(dir, 'ext.cnf'), extensions(request, isCa));
    openssl(['req', '-new', '-key', 'key.pem', '-subj', request.subject, '-out', 'req.csr'], dir);
    const days = String(request.days ?? 1);
    openssl(['x509', '-req', '-in', 'req.csr', '-signkey', 'key.pem', '-days', days, '-extfile', 'ext.cnf', '-out', 'cert.pem'], dir);
    return read(dir);
  });
}

/** A certificate authority to issue client (and server) certificates from. */
export function createTestCa(subject = '/CN=m2m-auth test CA'): TestCertificate {
  return selfSignedCertificate({ subject, days: 2 }, true);
}

/** A leaf certificate issued by `ca`. */
export function issueCertificate(ca: TestCertificate, request: CertificateRequest): TestCertificate {
  return inTempDir((dir) => {
    newKey(dir);
    writeFileSync(join(dir, 'ca.pem'), ca.cert);
    writeFileSync(join(dir, 'ca-key.pem'), ca.key);
    writeFileSync(join(dir, 'ext.cnf'), extensions(request, false));
    openssl(['req', '-new', '-key', 'key.pem', '-subj', request.subject, '-out', 'req.csr'], dir);
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
        `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`,
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
