import type { X509Certificate } from 'node:crypto';

/**
 * X.500 distinguished names as `tls_client_auth` compares them (RFC 8705 §2.1.2): the registered
 * subject is an RFC 4514 string, the certificate's is DER, and the two are equal when they name
 * the same attributes in the same order — not when their strings are. `CN=orders, O=Example` and
 * `cn=Orders,o=example` are one name; `O=Example,CN=orders` is another. Every value is compared
 * as LDAP's caseIgnoreMatch does (RFC 4518: Unicode NFKC, case folded, insignificant spaces
 * removed); the attributes of a multi-valued RDN in any order.
 *
 * A name becomes one canonical string (its RDNs in certificate order, each attribute as its OID
 * and normalised value), so comparing two names is comparing two strings.
 */
export type CanonicalName = string & { readonly __canonicalName: unique symbol };

export class DistinguishedNameError extends Error {
  override readonly name = 'DistinguishedNameError';
}

/** The longest registered subject read; an X.509 subject of this size is already absurd. */
export const MAX_DISTINGUISHED_NAME_CHARS = 1024;

/** The short names RFC 4514 §3 lists, and those X.509 client certificates commonly carry. */
const ATTRIBUTE_TYPES: Readonly<Record<string, string>> = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  TITLE: '2.5.4.12',
  GIVENNAME: '2.5.4.42',
  GN: '2.5.4.42',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  E: '1.2.840.113549.1.9.1',
};

interface Attribute {
  readonly oid: string;
  /** The normalised value, or `#` and the lowercase hex of a value that is not a string. */
  readonly value: string;
}

/** RFC 4514 §2 string → canonical name; throws DistinguishedNameError naming what is wrong. */
export function parseDistinguishedName(text: string): CanonicalName {
  if (text.length > MAX_DISTINGUISHED_NAME_CHARS) throw new DistinguishedNameError(`is longer than ${MAX_DISTINGUISHED_NAME_CHARS} characters`);
  if (text.trim() === '') throw new DistinguishedNameError('is empty');
  const rdns: Attribute[][] = [[]];
  let index = 0;
  for (;;) {
    const [attribute, next] = readAttribute(text, index);
    rdns[rdns.length - 1]!.push(attribute);
    index = next;
    if (index >= text.length) break;
    // '+' joins the next attribute to this RDN (multi-valued); ',' starts the next RDN.
    if (text[index] !== '+') rdns.push([]);
    index += 1;
  }
  // RFC 4514 §2.1 writes the last RDN of the sequence first.
  return canonical(rdns.reverse());
}

/** The certificate's subject, from its DER (Node renders names for display only, not as RFC 4514). */
export function certificateSubject(certificate: X509Certificate): CanonicalName {
  const tbs = children(certificate.raw, element(certificate.raw, 0))[0];
  if (!tbs) throw new DistinguishedNameError('certificate has no TBSCertificate');
  const fields = children(certificate.raw, tbs);
  // version [0] is optional; then serialNumber, signature, issuer, validity, subject.
  const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  if (!subject || subject.tag !== 0x30) throw new DistinguishedNameError('certificate has no subject');
  return canonical(
    children(certificate.raw, subject).map((set) =>
      children(certificate.raw, set).map((pair) => {
        const [type, value] = children(certificate.raw, pair);
        if (type?.tag !== 0x06 || !value) throw new DistinguishedNameError('certificate subject is malformed');
        return { oid: decodeOid(certificate.raw.subarray(type.start, type.end)), value: attributeValue(certificate.raw, value) };
      }),
    ),
  );
}

function canonical(rdns: Attribute[][]): CanonicalName {
  return rdns
    .map((rdn) =>
      rdn
        .map((attribute) => `${attribute.oid}=${JSON.stringify(attribute.value)}`)
        .sort()
        .join('+'),
    )
    .join(',') as CanonicalName;
}

/** RFC 4518's string preparation, reduced to what matters for comparing names: NFKC, case, spaces. */
function normalised(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

function readAttribute(text: string, start: number): [Attribute, number] {
  const equals = text.indexOf('=', start);
  if (equals < 0) throw new DistinguishedNameError(`needs type=value at character ${start + 1}`);
  const type = text.slice(start, equals).trim();
  const oid = /^\d+(\.\d+)+$/.test(type) ? type : ATTRIBUTE_TYPES[type.toUpperCase()];
  if (!oid)
    throw new DistinguishedNameError(
      `has an unknown attribute type ${JSON.stringify(type.slice(0, 40))} (use a short name such as CN, O, OU, C, or a dotted OID)`,
    );
  let index = equals + 1;
  while (text[index] === ' ') index += 1;
  if (text[index] === '#') {
    const match = /^#((?:[0-9A-Fa-f]{2})+)/.exec(text.slice(index));
    if (!match) throw new DistinguishedNameError(`has a malformed #hex value for ${type}`);
    const der = Buffer.from(match[1]!, 'hex');
    let value: DerElement | undefined;
    try {
      value = element(der, 0);
    } catch {
      // reported below
    }
    if (value?.end !== der.length) throw new DistinguishedNameError(`has a malformed #hex value for ${type}`);
    index += match[0].length;
    while (text[index] === ' ') index += 1;
    if (index < text.length && text[index] !== ',' && text[index] !== '+') throw new DistinguishedNameError(`has text after the #hex value for ${type}`);
    return [{ oid, value: attributeValue(der, value) }, index];
  }
  const bytes: number[] = [];
  for (; index < text.length && text[index] !== ',' && text[index] !== '+'; index += 1) {
    // By code point: a character outside the BMP is two UTF-16 units, one UTF-8 sequence.
    const char = String.fromCodePoint(text.codePointAt(index)!);
    if (char === '\\') {
      const pair = /^[0-9A-Fa-f]{2}/.exec(text.slice(index + 1, index + 3));
      if (pair) {
        bytes.push(parseInt(pair[0], 16));
        index += 2;
      } else if (index + 1 < text.length && ' "#+,;<=>\\'.includes(text[index + 1]!)) {
        bytes.push(text.charCodeAt(index + 1));
        index += 1;
      } else {
        throw new DistinguishedNameError(`has a backslash that escapes nothing in the value of ${type}`);
      }
    } else if (char === '"' || char === ';' || char === '<' || char === '>') {
      throw new DistinguishedNameError(`has ${char} unescaped in the value of ${type} (write \\${char})`);
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
      index += char.length - 1;
    }
  }
  let value: string;
  try {
    value = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new DistinguishedNameError(`has escaped bytes that are not UTF-8 in the value of ${type}`);
  }
  if (normalised(value) === '') throw new DistinguishedNameError(`has an empty value for ${type}`);
  return [{ oid, value: normalised(value) }, index];
}

/** An attribute value: a string type decoded and normalised; anything else kept as its hex DER. */
function attributeValue(der: Buffer, value: DerElement): string {
  const contents = der.subarray(value.start, value.end);
  switch (value.tag) {
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
    case 0x1a: // VisibleString
      return normalised(contents.toString('utf8'));
    case 0x14: // TeletexString, read as Latin-1 as most software does
      return normalised(contents.toString('latin1'));
    case 0x1e: // BMPString: UTF-16 big-endian
      return normalised(Buffer.from(contents).swap16().toString('utf16le'));
    default:
      return `#${der.subarray(value.headerStart, value.end).toString('hex')}`;
  }
}

interface DerElement {
  readonly tag: number;
  readonly headerStart: number;
  readonly start: number;
  readonly end: number;
}

/** One DER TLV at `offset` (definite lengths only, as DER has). */
function element(der: Buffer, offset: number): DerElement {
  const tag = der[offset];
  let length = der[offset + 1];
  if (tag === undefined || length === undefined || (tag & 0x1f) === 0x1f) throw new DistinguishedNameError('malformed DER');
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > der.length) throw new DistinguishedNameError('malformed DER');
    length = der.readUIntBE(start, octets);
    start += octets;
  }
  const end = start + length;
  if (end > der.length) throw new DistinguishedNameError('malformed DER');
  return { tag, headerStart: offset, start, end };
}

function children(der: Buffer, parent: DerElement): DerElement[] {
  const found: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end;) {
    const child = element(der, offset);
    if (child.end > parent.end) throw new DistinguishedNameError('malformed DER');
    found.push(child);
    offset = child.end;
  }
  return found;
}

function decodeOid(bytes: Buffer): string {
  const arcs: number[] = [];
  let arc = 0;
  for (const byte of bytes) {
    arc = arc * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(arc);
      arc = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  const [a, b] = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [a, b, ...arcs].join('.');
}
