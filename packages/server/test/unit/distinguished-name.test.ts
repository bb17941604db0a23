import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { X509Certificate } from 'node:crypto';
import { certificateSubject, DistinguishedNameError, parseDistinguishedName } from '../../src/client-auth/distinguished-name.js';
import { createTestCa, issueCertificate } from '../../../sdk-core/test/helpers/test-pki.js';

/**
 * tls_client_auth compares the registered subject (RFC 4514 text) with the certificate's (DER)
 * as names, never as strings (RFC 8705 §2.1.2): the same name written differently matches, a
 * different name that looks alike does not.
 */
const same = (a: string, b: string) => parseDistinguishedName(a) === parseDistinguishedName(b);

describe('RFC 4514 distinguished names, normalised', () => {
  it.each([
    ['CN=orders,O=Example', 'cn=Orders, o=EXAMPLE'],
    ['CN=orders service,O=Example', 'CN=  orders   service ,O=Example'],
    ['CN=orders,O=Example', '2.5.4.3=orders,2.5.4.10=Example'],
    ['CN=a+OU=b,O=Example', 'OU=b+CN=a,O=Example'],
    ['CN=Example\\, Inc.,C=US', 'CN=Example\\2C Inc.,C=US'],
    ['CN=Lu\\C4\\8Di\\C4\\87', 'CN=Lučić'],
    ['CN=orders', 'CN=#0c066f7264657273'],
    ['CN=ｏｒｄｅｒｓ', 'CN=orders'],
  ])('%s is the same name as %s', (a, b) => {
    expect(same(a, b)).toBe(true);
  });

  it.each([
    ['CN=orders,O=Example', 'O=Example,CN=orders', 'the order of the RDNs counts'],
    ['CN=orders,O=Example', 'CN=orders', 'a missing RDN'],
    ['CN=orders,O=Example', 'CN=orders,O=Example,C=US', 'an extra RDN'],
    ['CN=orders,O=Example', 'CN=orders+O=Example', 'one multi-valued RDN is not two RDNs'],
    ['CN=orders,O=Example', 'OU=orders,O=Example', 'another attribute type'],
    ['CN=orders\\,O=Example', 'CN=orders,O=Example', 'an escaped comma is part of the value'],
    ['CN=orders', 'CN=orders2', 'another value'],
  ])('%s is not %s (%s)', (a, b) => {
    expect(same(a, b)).toBe(false);
  });

  it.each([
    ['', /empty/],
    ['orders', /type=value/],
    ['XX=orders', /unknown attribute type/],
    ['CN=', /empty value/],
    ['CN=a;b', /unescaped/],
    ['CN=a\\', /escapes nothing/],
    ['CN=\\FF', /not UTF-8/],
    ['CN=#zz', /#hex/],
    ['CN=#0c0661', /#hex/],
    [`CN=${'a'.repeat(1100)}`, /longer than/],
  ])('refuses %j as a subject DN, saying why', (text, why) => {
    expect(() => parseDistinguishedName(text)).toThrow(DistinguishedNameError);
    expect(() => parseDistinguishedName(text)).toThrow(why);
  });
});

describe('the subject of a certificate', () => {
  const ca = createTestCa();

  it('reads as the RFC 4514 name written most-specific first', () => {
    const { x509 } = issueCertificate(ca, { subject: '/C=US/O=Example, Inc./OU=Payments/CN=orders-service' });
    expect(certificateSubject(x509)).toBe(parseDistinguishedName('CN=orders-service,OU=Payments,O=Example\\, Inc.,C=US'));
    expect(certificateSubject(x509)).toBe(parseDistinguishedName('cn=Orders-Service, ou=payments, o=example\\2c inc., c=us'));
    expect(certificateSubject(x509)).not.toBe(parseDistinguishedName('C=US,O=Example\\, Inc.,OU=Payments,CN=orders-service'));
  });

  it('keeps a multi-valued RDN together, and tells a name made to look alike apart', () => {
    const multi = issueCertificate(ca, { subject: '/O=Example/CN=orders+OU=Payments' }).x509;
    expect(certificateSubject(multi)).toBe(parseDistinguishedName('OU=Payments+CN=orders,O=Example'));
    // A value holding ",O=Example" is one CN, not the two RDNs it spells.
    const lookalike = issueCertificate(ca, { subject: '/CN=orders,O=Example' }).x509;
    expect(certificateSubject(lookalike)).not.toBe(parseDistinguishedName('CN=orders,O=Example'));
    expect(certificateSubject(lookalike)).toBe(parseDistinguishedName('CN=orders\\,O=Example'));
  });

  it('refuses DER that is not a certificate subject rather than reading past it', () => {
    const broken = Object.create(X509Certificate.prototype, { raw: { value: Buffer.from([0x30, 0x82, 0xff, 0xff, 0x30]) } }) as X509Certificate;
    expect(() => certificateSubject(broken)).toThrow(DistinguishedNameError);
  });
});

describe('names no one would write by hand', () => {
  const dnText = fc.stringMatching(/^[A-Za-z0-9=,+\\#"; .]{0,60}$/);

  it('a subject either parses or is refused with DistinguishedNameError, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(dnText, fc.string({ unit: 'grapheme', maxLength: 60 })), (text) => {
        try {
          parseDistinguishedName(text);
        } catch (error) {
          expect(error).toBeInstanceOf(DistinguishedNameError);
        }
      }),
    );
  });

  it('any escaped value reads back as itself: escaping every character changes nothing', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((value) => value.trim() !== ''),
        (value) => {
          const escaped = [...Buffer.from(value, 'utf8')].map((byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('');
          expect(parseDistinguishedName(`CN=${escaped},O=Example`)).toBe(
            parseDistinguishedName(`CN=${value.replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`)},O=Example`),
          );
        },
      ),
    );
  });

  it('DER that is not a certificate subject is refused with DistinguishedNameError, never read past its end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const raw = Buffer.concat([Buffer.from([0x30, 0x81, bytes.length & 0x7f]), Buffer.from(bytes)]);
        try {
          certificateSubject(Object.create(X509Certificate.prototype, { raw: { value: raw } }) as X509Certificate);
        } catch (error) {
          expect(error).toBeInstanceOf(DistinguishedNameError);
        }
      }),
    );
  });
});
