import { isIP } from 'node:net';
import { compile as compileProxyAddresses } from '@fastify/proxy-addr';

/**
 * Which X-Forwarded-For entries to believe: none (`false`), the last N hops (the number of
 * proxies in front of the server), or entries added by proxies at these addresses/CIDRs. The
 * client address is then the one the outermost trusted proxy saw, never a value the caller wrote
 * further left. `true` (believe the leftmost entry, which any caller can write) is refused.
 */
export type TrustProxy = false | number | readonly string[];

const KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/** Parses `--trust-proxy` / M2M_AUTH_TRUST_PROXY; returns a problem description instead of throwing. */
export function parseTrustProxy(value: string | undefined): { trustProxy: TrustProxy } | { problem: string } {
  if (value === undefined || value === '' || value === 'false' || value === '0') return { trustProxy: false };
  if (value === 'true') {
    return {
      problem:
        'true would believe any X-Forwarded-For a caller writes; give the number of proxies in front of the server (e.g. 1) or their addresses/CIDRs (e.g. 10.0.0.0/8,192.168.1.5)',
    };
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 10 ? { trustProxy: hops } : { problem: `${value} proxy hops is not plausible; give at most 10` };
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const invalid = entries.filter((entry) => !isAddressOrCidr(entry));
  if (invalid.length > 0 || entries.length === 0) {
    return {
      problem: `must be a number of proxy hops or a comma-separated list of addresses/CIDRs (not understood: ${invalid.map((e) => JSON.stringify(e)).join(', ') || JSON.stringify(value)})`,
    };
  }
  return { trustProxy: entries };
}

function isAddressOrCidr(entry: string): boolean {
  if (KEYWORDS.includes(entry)) return true;
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined) return false;
  const version = isIP(address);
  if (version === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d+$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * What Fastify's `trustProxy` takes for it. A hop count becomes a function of the hop index
 * (0 = the socket peer), as Express does: Fastify 5 itself now ignores a number (trusts nothing).
 * A hop count trusts whoever connects directly, so it is only safe when the server is reachable
 * through the proxies alone; a list of proxy addresses holds either way.
 */
export function fastifyTrustProxy(trustProxy: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (trustProxy === false || trustProxy === 0) return false;
  if (typeof trustProxy === 'number') return (_address, hop) => hop < trustProxy;
  return [...trustProxy];
}

/**
 * Whether the socket peer itself is a proxy this server trusts: what a header only a proxy may
 * set (RFC 9440 `Client-Cert`) requires. A hop count trusts whoever connects (the server is then
 * reachable through its proxies alone); an address list, only those addresses.
 */
export function trustsPeer(trustProxy: TrustProxy): (peerAddress: string | undefined) => boolean {
  if (trustProxy === false || trustProxy === 0) return () => false;
  if (typeof trustProxy === 'number') return (peer) => peer !== undefined;
  const isTrusted = compileProxyAddresses([...trustProxy]);
  return (peer) => peer !== undefined && isTrusted(peer, 0);
}
