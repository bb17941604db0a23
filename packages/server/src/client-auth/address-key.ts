import { isIPv4, isIPv6 } from 'node:net';

/**
 * The unit an attacker pays for, the key of every per-address limit: an IPv4 address, or an IPv6
 * /64 (one subscriber usually holds a whole /64, so counting single IPv6 addresses would let it
 * rotate through 2^64 of them).
 *
 * The address may come from an X-Forwarded-For entry a trusted proxy wrote, and proxies spell the
 * same address several ways: with a port (`10.1.2.3:1234`, as some cloud load balancers do), in
 * brackets (`[2001:db8::1]`, `[2001:db8::1]:443`), with a zone (`fe80::1%eth0`), or IPv4 mapped
 * into IPv6 (`::ffff:10.1.2.3`, `::ffff:a01:203`). Each spelling would otherwise be a fresh
 * counter and a fresh bucket — throttling reset by changing the port — so all of them are
 * reduced to the one key of the bare address.
 */
export function addressKey(address: string): string {
  const host = withoutPort(address.trim());
  if (isIPv4(host)) return host;
  const groups = ipv6Groups(host.replace(/%.*$/, ''));
  if (!groups) return host.toLowerCase();
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** `a.b.c.d:port` → `a.b.c.d`; `[v6]` and `[v6]:port` → `v6`; anything else unchanged. */
function withoutPort(address: string): string {
  const bracketed = /^\[([^\]]*)\](?::\d{1,5})?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(address);
  return v4WithPort ? v4WithPort[1]! : address;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail included), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  if (!isIPv6(address)) return undefined;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = dotted
    ? `${address.slice(0, dotted.index)}${((Number(dotted[1]) << 8) | Number(dotted[2])).toString(16)}:${((Number(dotted[3]) << 8) | Number(dotted[4])).toString(16)}`
    : address;
  const [head = '', tail = ''] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = text.includes('::') ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
  return groups.map((group) => parseInt(group, 16));
}
