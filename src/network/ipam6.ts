// IPv6 address management for one network (a bridge network created with an IPv6 subnet):
// the subnet, its gateway (the first address after the subnet's base unless given, as
// libnetwork's default IPAM does), an optional range, and the addresses in use. Addresses are
// 128-bit, so they are bigints; a /64 is far too big to scan, so the pool hands out the lowest
// free address of the range (dockerd 20.10's order: ::1 is the gateway, containers get ::2, ::3 …)
// by walking up from the range's start past the (few) addresses in use.
// Kept apart from ipam.ts, whose IPv4 order is its own.
import { isIPv6 } from 'node:net';
import { Conflict, InvalidParameter } from '../errors.ts';

export interface Cidr6 { base: bigint; prefix: number; size: bigint }

/** An IPv6 address as a bigint; throws InvalidParameter for anything else (IPv4 too). */
export function ip6ToBig(ip: string): bigint {
  if (!isIPv6(ip) || ip.includes('%')) throw new InvalidParameter(`invalid IPv6 address: ${ip}`);
  let text = ip;
  // an embedded IPv4 tail (::ffff:1.2.3.4) as two groups
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The canonical text of an address (RFC 5952: lowercase, the longest run of zero groups as ::), as Go prints it. */
export function bigToIp6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt((7 - i) * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** `2001:db8::/64` (the address part need not be the base: libnetwork masks it). */
export function parseCidr6(cidr: string): Cidr6 {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr);
  if (!m || Number(m[2]) > 128 || !isIPv6(m[1]!)) throw new InvalidParameter(`invalid CIDR address: ${cidr}`);
  const prefix = Number(m[2]);
  const size = 1n << BigInt(128 - prefix);
  const ip = ip6ToBig(m[1]!);
  return { base: ip - (ip % size), prefix, size };
}

/** Whether `cidr` is written as an IPv6 subnet (decides which family a network's IPAM entry is). */
export function isCidr6(cidr: string): boolean {
  return cidr.includes(':');
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return ip >= c.base && ip < c.base + c.size;
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

export interface Pool6Config { subnet: string; gateway?: string; ipRange?: string; auxiliary?: string[] }

export class AddressPool6 {
  readonly subnet: Cidr6;
  readonly gateway: bigint;
  private readonly range: Cidr6;
  private readonly used = new Set<bigint>();

  constructor(c: Pool6Config) {
    this.subnet = parseCidr6(c.subnet);
    if (this.subnet.prefix > 126) throw new InvalidParameter(`subnet ${c.subnet} is too small`);
    this.gateway = c.gateway ? ip6ToBig(c.gateway) : this.subnet.base + 1n;
    if (!contains6(this.subnet, this.gateway)) throw new InvalidParameter(`failed to allocate gateway (${c.gateway}): Requested address is out of range`);
    if (this.gateway === this.subnet.base) throw new Conflict(`failed to allocate gateway (${c.gateway}): Address already in use`);
    this.range = c.ipRange ? parseCidr6(c.ipRange) : this.subnet;
    if (c.ipRange && (this.range.base < this.subnet.base || this.range.base + this.range.size > this.subnet.base + this.subnet.size)) {
      throw new InvalidParameter(`failed to allocate pool: invalid range ${c.ipRange} for subnet ${c.subnet}`);
    }
    // auxiliary addresses are the user's (routers, hosts outside Docker): never handed out
    for (const a of c.auxiliary ?? []) this.used.add(ip6ToBig(a));
  }

  get prefix(): number { return this.subnet.prefix; }
  get gatewayText(): string { return bigToIp6(this.gateway); }

  private usable(ip: bigint): boolean {
    return ip !== this.subnet.base && ip !== this.gateway;
  }

  /** Takes a given address (`--ip6`), or the lowest free one of the range. */
  allocate(want?: string): string {
    if (want) {
      const ip = isIPv6(want) ? ip6ToBig(want) : -1n;
      if (!contains6(this.subnet, ip)) throw new InvalidParameter(`Invalid address ${want}: It does not belong to any of this network's subnets`);
      if (!this.usable(ip) || this.used.has(ip)) throw new Conflict(`Address already in use: ${want}`);
      this.used.add(ip);
      return bigToIp6(ip);
    }
    // at most used.size + 2 steps: every address skipped is the base, the gateway or one in use
    for (let ip = this.range.base; ip < this.range.base + this.range.size; ip++) {
      if (!this.usable(ip) || this.used.has(ip)) continue;
      this.used.add(ip);
      return bigToIp6(ip);
    }
    throw new Conflict(`no available IPv6 addresses on this network's address pools: ${bigToIp6(this.subnet.base)}/${this.subnet.prefix}`);
  }

  /** Marks an address in use again (rebuilding from records); false when it is already taken. */
  claim(ip: string): boolean {
    const n = ip6ToBig(ip);
    if (this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  release(ip: string): void {
    this.used.delete(ip6ToBig(ip));
  }
}
