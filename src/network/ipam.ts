// IPv4 address management for one network: a subnet, its gateway, an optional range to hand
// addresses out of, and the set of addresses in use. Addresses are handed out round-robin
// after the last one given (as Docker does), so a released address is not reused at once.
// The set is rebuilt from the containers' records when berthd starts: the records are the truth.
import { Conflict, InvalidParameter } from '../errors.ts';

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

export interface PoolConfig { subnet: string; gateway?: string; ipRange?: string }

export class AddressPool {
  readonly subnet: Cidr;
  readonly gateway: number;
  private readonly range: Cidr;
  private readonly used = new Set<number>();
  private last: number;

  constructor(c: PoolConfig) {
    this.subnet = parseCidr(c.subnet);
    if (this.subnet.prefix > 30) throw new InvalidParameter(`subnet ${c.subnet} is too small`);
    this.gateway = c.gateway ? ipToInt(c.gateway) : this.subnet.base + 1;
    if (!contains(this.subnet, this.gateway)) throw new InvalidParameter(`gateway ${c.gateway} is not in subnet ${c.subnet}`);
    this.range = c.ipRange ? parseCidr(c.ipRange) : this.subnet;
    if (c.ipRange && (this.range.base < this.subnet.base || this.range.base + this.range.size > this.subnet.base + this.subnet.size)) {
      throw new InvalidParameter(`ip range ${c.ipRange} is not in subnet ${c.subnet}`);
    }
    this.last = this.range.base;
  }

  get prefix(): number { return this.subnet.prefix; }

  private usable(ip: number): boolean {
    return ip !== this.subnet.base && ip !== this.subnet.base + this.subnet.size - 1 && ip !== this.gateway;
  }

  /** Takes a given address (`--ip`), or the next free one. */
  allocate(want?: string): string {
    if (want) {
      const ip = ipToInt(want);
      if (!contains(this.subnet, ip) || !this.usable(ip)) throw new InvalidParameter(`address ${want} is not usable in subnet ${formatCidr(this.subnet)}`);
      if (this.used.has(ip)) throw new Conflict(`Address already in use: ${want}`);
      this.used.add(ip);
      return want;
    }
    for (let i = 1; i <= this.range.size; i++) {
      const ip = this.range.base + ((this.last - this.range.base + i) % this.range.size);
      if (!this.usable(ip) || this.used.has(ip)) continue;
      this.used.add(ip);
      this.last = ip;
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
