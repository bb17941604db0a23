import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCaBundle, readCaBundle } from '../../src/config/mtls-ca.js';
import { ConfigError } from '../../src/config/server-config.js';
import { trustsPeer } from '../../src/config/trust-proxy.js';
import { createTestCa, issueCertificate } from '../../../sdk-core/test/helpers/test-pki.js';

const root = createTestCa('/CN=root');
const intermediate = createTestCa('/CN=intermediate');
const leaf = issueCertificate(root, { subject: '/CN=orders' });
const directory = mkdtempSync(join(tmpdir(), 'm2m-mtls-ca-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('the --mtls-ca bundle', () => {
  it('holds every CA certificate of a PEM file, roots and intermediates alike', () => {
    expect(parseCaBundle(`${root.cert}\n${intermediate.cert}`).map((ca) => ca.subject)).toEqual(['CN=root', 'CN=intermediate']);
  });

  it('refuses a file without certificates, an unreadable one, and a certificate that is not a CA', () => {
    expect(() => parseCaBundle(root.key)).toThrow(/no PEM certificate/);
    expect(() => parseCaBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(/certificate 1 cannot be read/);
    expect(() => parseCaBundle(`${root.cert}${leaf.cert}`)).toThrow(/certificate 2 \(CN=orders\) is not a CA/);
  });

  it('is read at start, a problem reported as a configuration error naming the setting', () => {
    const good = join(directory, 'ca.pem');
    writeFileSync(good, root.cert);
    expect(readCaBundle(good).toString()).toBe(root.cert);
    const leafOnly = join(directory, 'leaf.pem');
    writeFileSync(leafOnly, leaf.cert);
    expect(() => readCaBundle(leafOnly)).toThrow(ConfigError);
    expect(() => readCaBundle(leafOnly)).toThrow(/--mtls-ca \/ M2M_AUTH_MTLS_CA: .*leaf\.pem certificate 1 \(CN=orders\) is not a CA/);
    expect(() => readCaBundle(join(directory, 'missing.pem'))).toThrow(/missing\.pem does not exist/);
  });
});

describe('which socket peers may set Client-Cert', () => {
  it('none without --trust-proxy; any with a hop count (the server is reachable through its proxies only); else the listed ones', () => {
    expect(trustsPeer(false)('127.0.0.1')).toBe(false);
    expect(trustsPeer(1)('203.0.113.7')).toBe(true);
    const listed = trustsPeer(['10.0.0.0/8', 'loopback']);
    expect(['10.1.2.3', '127.0.0.1', '::1', '::ffff:10.0.0.5'].map(listed)).toEqual([true, true, true, true]);
    expect(['203.0.113.7', '192.168.1.5', undefined].map(listed)).toEqual([false, false, false]);
  });
});
