// The addresses of all networks: one IPv4 pool per network (and an IPv6 one where IPv6 is on),
// made from its record on first use, what an endpoint gets from them when its container starts
// or is connected (address, gateway, MAC, endpoint ID, DNS names), and the serial search for a
// free subnet for a new network. Nothing here is persisted: the addresses in use are claimed
// again from the containers' records when berthd starts (the records are the truth).
import { createHash } from 'node:crypto';
import { Conflict } from '../errors.ts';
import type { Logger } from '../util/log.ts';
import { AddressPool, overlaps, macFor, type Cidr } from './ipam.ts';
import { AddressPool6 } from './ipam6.ts';
import { v6Config, type NetworkRecord } from './network-record.ts';
import type { EndpointRecord, NetContainer } from './endpoint.ts';

export class NetworkIpam {
  private readonly pools = new Map<string, AddressPool>();
  private readonly pools6 = new Map<string, AddressPool6>();
  /** Where the next search for a free /24 of the pool starts (its index in the pool). */
  private nextSubnet = 0;
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** The next /24 of `pool` that overlaps none of `taken` (other networks' subnets, host routes). */
  freeSubnet(pool: Cidr, taken: Cidr[]): Cidr {
    // Serially, as dockerd's IPAM does: the search starts after the subnet given last, so a
    // subnet just released is not handed out again at once (wrapping round the pool).
    const count = Math.floor(pool.size / 256);
    for (let i = 0; i < count; i++) {
      const k = (this.nextSubnet + i) % count;
      const cand = { base: pool.base + k * 256, prefix: 24, size: 256 };
      if (!taken.some((t) => overlaps(t, cand))) { this.nextSubnet = (k + 1) % count; return cand; }
    }
    throw new Conflict('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  }

  pool(n: NetworkRecord): AddressPool {
    let p = this.pools.get(n.Id);
    if (!p) {
      const c = n.IPAM.Config[0]!;
      p = new AddressPool({ subnet: c.Subnet, gateway: c.Gateway, ipRange: c.IPRange });
      // the user's auxiliary addresses (hosts outside Docker) are never handed out
      for (const a of Object.values(c.AuxiliaryAddresses ?? {})) p.claim(a);
      this.pools.set(n.Id, p);
    }
    return p;
  }

  /** The IPv6 pool of a network with IPv6 enabled and an IPv6 subnet (dockerd gives no IPv6 address otherwise). */
  pool6(n: NetworkRecord): AddressPool6 | undefined {
    const c = n.EnableIPv6 ? v6Config(n) : undefined;
    if (!c) return undefined;
    let p = this.pools6.get(n.Id);
    if (!p) {
      p = new AddressPool6({ subnet: c.Subnet, gateway: c.Gateway, ipRange: c.IPRange, auxiliary: Object.values(c.AuxiliaryAddresses ?? {}) });
      this.pools6.set(n.Id, p);
    }
    return p;
  }

  /** A removed network's pools are dropped. */
  forget(n: NetworkRecord): void {
    this.pools.delete(n.Id);
    this.pools6.delete(n.Id);
  }

  /** Gives endpoint `ep` of container `c` its addresses on `n` (the ones the client asked for, or the lowest free). */
  allocate(c: NetContainer, n: NetworkRecord, ep: EndpointRecord): void {
    const pool = this.pool(n);
    const ip = pool.allocate(ep.IPAMConfig?.IPv4Address);
    ep.IPAddress = ip;
    ep.IPPrefixLen = pool.prefix;
    ep.Gateway = n.IPAM.Config[0]!.Gateway ?? '';
    const p6 = this.pool6(n);
    if (p6) {
      try {
        ep.GlobalIPv6Address = p6.allocate(ep.IPAMConfig?.IPv6Address);
      } catch (err) {
        pool.release(ip);
        ep.IPAddress = '';
        throw err;
      }
      ep.GlobalIPv6PrefixLen = p6.prefix;
      ep.IPv6Gateway = p6.gatewayText;
    }
    // Config.MacAddress names the first endpoint's MAC (moby: first network only), an endpoint's own
    // MacAddress (API 1.44+) its own; otherwise Docker's 02:42 + the IPv4 address
    const first = Object.values(c.net.Networks)[0] === ep;
    ep.MacAddress = (first && c.macAddress) || ep.DesiredMac || macFor(ip);
    ep.NetworkID = n.Id;
    ep.EndpointID = createHash('sha256').update(`${c.id}/${n.Id}/${ip}`).digest('hex');
    ep.DNSNames = n.Name === 'bridge' ? null : [c.name, c.id.slice(0, 12), ...(ep.Aliases ?? [])];
  }

  /** Gives an endpoint's addresses back to the network's pools. */
  release(n: NetworkRecord, ep: EndpointRecord): void {
    if (ep.IPAddress) this.pool(n).release(ep.IPAddress);
    if (ep.GlobalIPv6Address) this.pool6(n)?.release(ep.GlobalIPv6Address);
  }

  /** After a daemon restart: a running container's recorded addresses are taken again. */
  claim(c: NetContainer, n: NetworkRecord, ep: EndpointRecord): void {
    if (!this.pool(n).claim(ep.IPAddress)) this.log.warn({ id: c.id, ip: ep.IPAddress }, 'address claimed twice');
    if (ep.GlobalIPv6Address && !this.pool6(n)?.claim(ep.GlobalIPv6Address)) this.log.warn({ id: c.id, ip: ep.GlobalIPv6Address }, 'IPv6 address claimed twice');
  }
}

