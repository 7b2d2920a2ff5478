import { isIPv4, isIPv6 } from 'node:net';

/**
 * What kind of address an IP is, for the outbound address guard. Only
 * `public` is reachable without a setting; `loopback` only under
 * LATCHKEY_ALLOW_HTTP_LOOPBACK; everything else never.
 */
export type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'multicast' | 'unspecified' | 'reserved';

type Range = readonly [prefix: bigint, bits: number, kind: AddressKind];

const V4: Array<readonly [string, number, AddressKind]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  // Includes the broadcast address 255.255.255.255.
  ['240.0.0.0', 4, 'reserved'],
];

const V6: Array<readonly [string, number, AddressKind]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  // IPv4-compatible addresses (deprecated); the mapped and NAT64 forms are judged by their IPv4 part.
  ['::', 96, 'reserved'],
  ['64:ff9b:1::', 48, 'reserved'],
  ['100::', 64, 'reserved'],
  // IETF protocol assignments, Teredo among them.
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'reserved'],
  ['3fff::', 20, 'reserved'],
  ['5f00::', 16, 'reserved'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'multicast'],
];

const V4_RANGES: Range[] = V4.map(([a, bits, kind]) => [v4Bits(a), bits, kind] as const);
const V6_RANGES: Range[] = V6.map(([a, bits, kind]) => [v6Bits(a), bits, kind] as const);

function v4Bits(address: string): bigint {
  return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

/** The 128 bits of an IPv6 address (zone dropped, a trailing dotted quad folded in). */
function v6Bits(address: string): bigint {
  let text = address.replace(/%.*$/, '');
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad !== null) {
    const n = v4Bits(quad[1] as string);
    text = `${text.slice(0, quad.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function match(bits: bigint, width: number, ranges: Range[]): AddressKind | undefined {
  for (const [prefix, size, kind] of ranges) {
    const shift = BigInt(width - size);
    if (bits >> shift === prefix >> shift) return kind;
  }
  return undefined;
}

function kindOfV4(bits: bigint): AddressKind {
  return match(bits, 32, V4_RANGES) ?? 'public';
}

/** The kind of an IP address literal; anything that is not an IP literal is `reserved`. */
export function addressKind(address: string): AddressKind {
  const plain = address.replace(/^\[|\]$/g, '');
  if (isIPv4(plain)) return kindOfV4(v4Bits(plain));
  if (!isIPv6(plain)) return 'reserved';
  const bits = v6Bits(plain);
  const low32 = bits & 0xffffffffn;
  // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address itself.
  if (bits >> 32n === 0xffffn) return kindOfV4(low32);
  // NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::/48) reach the IPv4 address they carry, through a
  // gateway: a special one stays refused, and "loopback" there is the gateway's, never ours.
  const carried = bits >> 32n === 0x64ff9b0000000000000000n ? low32 : bits >> 112n === 0x2002n ? (bits >> 80n) & 0xffffffffn : undefined;
  if (carried !== undefined) {
    const embedded = kindOfV4(carried);
    return embedded === 'loopback' ? 'reserved' : embedded;
  }
  const special = match(bits, 128, V6_RANGES);
  if (special !== undefined) return special;
  // Only 2000::/3 is global unicast; the rest of the space is unassigned.
  return bits >> 125n === 1n ? 'public' : 'reserved';
}

/** Whether Latchkey may connect to an address of this kind. */
export function isPermitted(kind: AddressKind, allowLoopback: boolean): boolean {
  return kind === 'public' || (kind === 'loopback' && allowLoopback);
}

/** An operator-listed network (CIDR), in which private addresses may be reached. */
export interface Network {
  readonly v6: boolean;
  readonly prefix: bigint;
  readonly bits: number;
}

/** Parses `10.0.0.0/8` or `fd00::/8`; undefined when it is not a CIDR network. */
export function parseNetwork(cidr: string): Network | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (match === null) return undefined;
  const [, address, size] = match as unknown as [string, string, string];
  const bits = Number(size);
  if (isIPv4(address) && bits <= 32) return { v6: false, prefix: v4Bits(address), bits };
  if (isIPv6(address) && !address.includes('%') && bits <= 128) return { v6: true, prefix: v6Bits(address), bits };
  return undefined;
}

/** Whether an address (IPv4-mapped forms as their IPv4 address) lies in a network. */
export function inNetwork(address: string, network: Network): boolean {
  const plain = address.replace(/^\[|\]$/g, '');
  let v6 = isIPv6(plain);
  let bits = v6 ? v6Bits(plain) : isIPv4(plain) ? v4Bits(plain) : undefined;
  if (bits === undefined) return false;
  if (v6 && bits >> 32n === 0xffffn) {
    v6 = false;
    bits &= 0xffffffffn;
  }
  if (v6 !== network.v6) return false;
  const shift = BigInt((v6 ? 128 : 32) - network.bits);
  return bits >> shift === network.prefix >> shift;
}
