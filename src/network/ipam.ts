// IPv4 address management for one network: a subnet, its gateway, an optional range to hand
// addresses out of, and the set of addresses in use. Addresses are handed out as libnetwork's
// default IPAM does for a bridge network in dockerd 20.10 (bitseq SetAny, not serial): the
// lowest free address of the range, so the first container gets .2, and an address released by
// a stopped container is the next one handed out again. The set is rebuilt from the containers'
// records when berthd starts: the records are the truth.
import { Conflict, Forbidden, InvalidParameter } from '../errors.ts';

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new InvalidParameter(`invalid IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr { base: number; prefix: number; size: number }

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new InvalidParameter(`invalid CIDR address: ${cidr}`);
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const ip = ipToInt(m[1]!);
  return { base: ip - (ip % size), prefix, size };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + c.size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/**
 * The gateway libnetwork gives a network created without one: the first address it hands out,
 * the lowest of the range (`--ip-range`) that is not the subnet's network address; .1 without
 * a range. So `--subnet 10.1.0.0/24 --ip-range 10.1.0.128/28` has its gateway at .128.
 */
export function defaultGateway(subnet: Cidr, ipRange?: string): string {
  const start = ipRange ? Math.max(parseCidr(ipRange).base, subnet.base + 1) : subnet.base + 1;
  return intToIp(start);
}

export interface PoolConfig { subnet: string; gateway?: string; ipRange?: string }

export class AddressPool {
  readonly subnet: Cidr;
  readonly gateway: number;
  private readonly range: Cidr;
  private readonly used = new Set<number>();

  constructor(c: PoolConfig) {
    this.subnet = parseCidr(c.subnet);
    if (this.subnet.prefix > 30) throw new InvalidParameter(`subnet ${c.subnet} is too small`);
    this.gateway = c.gateway ? ipToInt(c.gateway) : this.subnet.base + 1;
    if (!contains(this.subnet, this.gateway)) throw new InvalidParameter(`gateway ${c.gateway} is not in subnet ${c.subnet}`);
    this.range = c.ipRange ? parseCidr(c.ipRange) : this.subnet;
    if (c.ipRange && (this.range.base < this.subnet.base || this.range.base + this.range.size > this.subnet.base + this.subnet.size)) {
      throw new InvalidParameter(`ip range ${c.ipRange} is not in subnet ${c.subnet}`);
    }
  }

  get prefix(): number { return this.subnet.prefix; }

  private usable(ip: number): boolean {
    return ip !== this.subnet.base && ip !== this.subnet.base + this.subnet.size - 1 && ip !== this.gateway;
  }

  /**
   * Takes a given address (`--ip`, which may lie outside the range but not outside the subnet),
   * or the lowest free one of the range. The texts are libnetwork's: the network address, the
   * broadcast address and the gateway are held by the pool itself, so asking for them is
   * "Address already in use" too (ipamapi.ErrIPAlreadyAllocated, a forbidden error: 403).
   */
  allocate(want?: string): string {
    if (want) {
      const ip = ipToInt(want);
      if (!contains(this.subnet, ip)) throw new InvalidParameter(`Invalid address ${want}: It does not belong to any of this network's subnets`);
      if (!this.usable(ip) || this.used.has(ip)) throw new Forbidden('Address already in use');
      this.used.add(ip);
      return intToIp(ip);
    }
    for (let ip = this.range.base; ip < this.range.base + this.range.size; ip++) {
      if (!this.usable(ip) || this.used.has(ip)) continue;
      this.used.add(ip);
      return intToIp(ip);
    }
    throw new Conflict(`no available IPv4 addresses on this network's address pools: ${formatCidr(this.subnet)}`);
  }

  /** Marks an address in use again (rebuilding from records); false when it is already taken. */
  claim(ip: string): boolean {
    const n = ipToInt(ip);
    if (this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  release(ip: string): void {
    this.used.delete(ipToInt(ip));
  }

  inUse(): string[] {
    return [...this.used].sort((a, b) => a - b).map(intToIp);
  }
}

/** A MAC address from the IP, as Docker makes them (02:42 + the four IPv4 bytes). */
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((p) => Number(p).toString(16).padStart(2, '0'))].join(':');
}
