import { BlockList, isIPv4, isIP } from 'node:net';
import { certificateThumbprint, MAX_CLIENT_CERT_HEADER_LENGTH, parseClientCertHeader } from '@m2m-auth/sdk-core';
import type { BearerSources } from './bearer-token.js';

/** Which peers are TLS-terminating proxies whose `Client-Cert` header is believed. */
export type ProxyTrust = (address: string) => boolean;

/** The RFC 8705 §3.1 thumbprint of the certificate the client presented for a request, if any. */
export type PresentedThumbprint = (sources: BearerSources) => string | undefined;

/**
 * Header values whose thumbprint is kept: a proxy forwards the same few certificates again and
 * again, and parsing one costs ~130 µs against ~1 µs for the lookup. At most 16 KiB each (longer
 * ones are refused unread).
 */
const MAX_REMEMBERED_HEADERS = 256;

/**
 * The certificate the client presented for this request (RFC 8705 §3): from a trusted proxy, the
 * one it forwards in `Client-Cert` (RFC 9440) — the TLS peer there is the proxy itself; from anyone
 * else, the one in this connection's own handshake, and the header is ignored: whoever can send it
 * could name any certificate. A certificate the caller hands over itself is taken as it is. Read
 * only for a certificate-bound token.
 */
export function createPresentedThumbprint(trust: ProxyTrust | undefined): PresentedThumbprint {
  const remembered = new Map<string, string | undefined>();
  const forwarded = (header: string | string[] | undefined): string | undefined => {
    if (typeof header !== 'string' || header.length > MAX_CLIENT_CERT_HEADER_LENGTH) return undefined;
    if (remembered.has(header)) return remembered.get(header);
    const certificate = parseClientCertHeader(header);
    const thumbprint = certificate && certificateThumbprint(certificate);
    if (remembered.size >= MAX_REMEMBERED_HEADERS) remembered.delete(remembered.keys().next().value!);
    remembered.set(header, thumbprint);
    return thumbprint;
  };
  return (sources) => {
    if (sources.clientCertificate !== undefined) return certificateThumbprint(sources.clientCertificate);
    const address = sources.socket?.remoteAddress;
    if (trust && address !== undefined && isTrusted(trust, address)) return forwarded(sources.clientCertHeader);
    const peer = sources.socket?.getPeerX509Certificate?.();
    return peer && certificateThumbprint(peer);
  };
}

/** A trust function that throws trusts nobody: the header is then ignored, never believed by accident. */
function isTrusted(trust: ProxyTrust, address: string): boolean {
  try {
    return trust(address) === true;
  } catch {
    return false;
  }
}

/**
 * Addresses and CIDR ranges (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`) as a trust function. An
 * IPv4-mapped IPv6 peer (`::ffff:10.0.0.7`, a dual-stack listener's view) matches its IPv4 rules.
 * `{ invalid }` names the first entry that is neither, for the option check to report.
 */
export function proxyTrustFromList(entries: readonly string[]): ProxyTrust | { invalid: number } {
  const list = new BlockList();
  for (const [index, entry] of entries.entries()) {
    const [address = '', prefix, ...rest] = entry.trim().split('/');
    const type = isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : undefined;
    const bits = prefix === undefined ? undefined : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!type || rest.length > 0 || (bits !== undefined && !(bits <= (type === 'ipv4' ? 32 : 128)))) return { invalid: index };
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return (address) => {
    const mapped = /^::ffff:(.+)$/i.exec(address)?.[1];
    if (mapped !== undefined && isIPv4(mapped)) return list.check(mapped, 'ipv4');
    const type = isIP(address);
    return type !== 0 && list.check(address, type === 4 ? 'ipv4' : 'ipv6');
  };
}
