import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateThumbprint, formatClientCertHeader, MAX_CLIENT_CERT_HEADER_LENGTH, parseClientCertHeader } from '../src/index.js';
import { createTestCa, issueCertificate, selfSignedCertificate } from './helpers/test-pki.js';

const ca = createTestCa();
const leaf = issueCertificate(ca, { subject: '/CN=orders-service/O=Example', sanDns: ['orders.example'] });

describe('certificateThumbprint (RFC 8705 §3.1)', () => {
  it('is the base64url SHA-256 of the DER, the same from the parsed certificate and its bytes', () => {
    const expected = createHash('sha256').update(leaf.x509.raw).digest('base64url');
    expect(certificateThumbprint(leaf.x509)).toBe(expected);
    expect(certificateThumbprint(new Uint8Array(leaf.x509.raw))).toBe(expected);
    expect(certificateThumbprint(selfSignedCertificate({ subject: '/CN=other' }).x509)).not.toBe(expected);
  });
});

describe('Client-Cert header (RFC 9440 §2.2)', () => {
  it('reads back the certificate a proxy forwarded, with surrounding whitespace', () => {
    const header = formatClientCertHeader(leaf.x509);
    expect(header).toMatch(/^:[A-Za-z0-9+/]+=*:$/);
    expect(parseClientCertHeader(` ${header}\t`)?.fingerprint256).toBe(leaf.x509.fingerprint256);
  });

  it('refuses anything that is not exactly one byte sequence holding one certificate', () => {
    const body = leaf.x509.raw.toString('base64');
    for (const value of [
      undefined,
      '',
      body, // no colons: a token, not a byte sequence
      `:${body}`,
      `:${body}:, :${body}:`, // a list
      [formatClientCertHeader(leaf.x509), formatClientCertHeader(leaf.x509)], // repeated field lines
      `:${body.slice(0, 40)}:`, // not a certificate
      `:${leaf.cert}:`, // PEM, not base64 DER
      `:${'A'.repeat(MAX_CLIENT_CERT_HEADER_LENGTH)}:`,
    ]) {
      expect(parseClientCertHeader(value)).toBeUndefined();
    }
  });
});
