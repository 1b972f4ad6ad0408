// Published ports of containers on bridge networks (`-p`, `-P`): host ports chosen as dockerd's
// allocator chooses them (network/port-allocator.ts), bound by the daemon's port holder
// (ProxyControl: berthd itself by default, or its one berth-proxy process with userland-proxy=true;
// network/port-proxy.ts) and iptables DNAT rules for the IPv4 ones (network/firewall.ts),
// tagged <bridge>/<short ID>. The bindings are recorded in the container's Ports as soon as the
// host ports are chosen, so a teardown gives them back whatever fails later; after a daemon
// restart they are claimed again from the records.
import { isIPv6 } from 'node:net';
import { InvalidParameter } from '../../errors.ts';
import type { Logger } from '../../util/log.ts';
import { setRules, removeRules, portRules, type Rule, type PublishedPort } from '../firewall.ts';
import { ipv6Listenable } from '../ipv6-listenable.ts';
import { PortAllocator } from '../port-allocator.ts';
import { publishOrder } from '../port-order.ts';
import type { NetContainer } from '../endpoint.ts';
import type { Attachment } from '../network-driver.ts';

/**
 * What holds the host ports of the daemon's containers, keyed by container ID: berthd's own
 * ForwardTable (network/port-proxy.ts), or the ProxyClient of its berth-proxy process
 * (sys/proxy-process.ts), which outlives a berthd restart.
 */
export interface ProxyControl {
  /** Binds all of the owner's forwards or none; the pid of the process that holds them, and the forwards as bound. */
  add(owner: string, forwards: PublishedPort[]): Promise<{ pid: number; forwards: PublishedPort[] }>;
  /** Lets go of the owner's forwards; no error when it has none. */
  remove(owner: string): Promise<void>;
  /** The containers whose forwards are held now. */
  owners(): Promise<string[]>;
  /**
   * At start-up, after restore: drops what a holder that outlived the daemon still forwards for
   * containers not in `live` (RootlessKit's port driver keeps forwards by its own ids, not by owner).
   */
  sweep?(live: Set<string>): Promise<void>;
}

export interface PortPublisherOptions {
  log: Logger;
  proxy: ProxyControl;
  /** Host connections to 127.0.0.x published ports through kernel NAT (the proxy then only holds the port). */
  loopbackNat: boolean;
}

/** The firewall tag of a container's port rules on a bridge. */
export function portTag(bridge: string, containerId: string): string {
  return `${bridge}/${containerId.slice(0, 12)}`;
}

export class PortPublisher {
  /** Host ports of published container ports (dockerd's portallocator: serial from ip_local_port_range). */
  private readonly hostPorts = new PortAllocator();
  private readonly o: PortPublisherOptions;
  /** Containers whose ports this daemon has published or restored since it started: the rest are swept. */
  private readonly live = new Set<string>();

  constructor(o: PortPublisherOptions) {
    this.o = o;
  }

  /**
   * Publishes the container's ports on its first network. The host ports are chosen first, as
   * dockerd's allocator does (network/port-allocator.ts), and recorded at once so that detach
   * gives them back whatever fails later; then the proxy binds them.
   */
  async publish(c: NetContainer, a: Attachment): Promise<void> {
    const ep = a.endpoint;
    const wanted = publishedPorts(c, await ipv6Listenable());
    c.net.Ports = Object.fromEntries(c.exposedPorts.map((p) => [p, null]));
    if (!wanted.length) return;
    const fail = (err: unknown): Error => new InvalidParameter(`driver failed programming external connectivity on endpoint ${c.name} (${ep.EndpointID}): ${(err as Error).message}`, { cause: err });
    let ports: number[];
    try {
      ports = await this.hostPorts.allocate(wanted);
    } catch (err) {
      throw fail(err);
    }
    const forwards: PublishedPort[] = wanted.map((w, i) => ({ proto: w.proto, hostIp: w.hostIp, hostPort: ports[i]!, containerIp: ep.IPAddress, containerPort: w.containerPort }));
    for (const f of forwards) (c.net.Ports[`${f.containerPort}/${f.proto}`] ??= []).push({ HostIp: f.hostIp || '0.0.0.0', HostPort: String(f.hostPort) });
    let started: { pid: number; forwards: PublishedPort[] };
    try {
      started = await this.o.proxy.add(c.id, forwards);
    } catch (err) {
      throw fail(err);
    }
    this.live.add(c.id);
    // The holder's pid: what marks the container as having ports to let go of.
    c.net.ProxyPid = started.pid;
    // IPv6 listeners reach the container through the proxy alone (dockerd 20.10 without --ip6tables).
    const rules: Rule[] = started.forwards.filter((f) => !isIPv6(f.hostIp)).flatMap((f) => portRules(a.network.bridge, f, this.o.loopbackNat));
    await setRules(portTag(a.network.bridge, c.id), rules);
  }

  /** Lets go of the container's host ports, if it holds any. */
  async stopProxy(c: NetContainer): Promise<void> {
    this.live.delete(c.id);
    if (c.net.ProxyPid) {
      await this.o.proxy.remove(c.id).catch((err: Error) => this.o.log.warn({ id: c.id, err: err.message }, 'published ports not released'));
      delete c.net.ProxyPid;
    }
  }

  /** `network disconnect` from the network the ports are published on: they go with it. */
  async unpublish(c: NetContainer, bridge: string): Promise<void> {
    if (!c.net.ProxyPid) return;
    await this.stopProxy(c);
    await removeRules(portTag(bridge, c.id));
  }

  /** Gives a container's host ports back to the allocator (its port map is about to be dropped). */
  release(c: NetContainer): void {
    for (const [key, binds] of Object.entries(c.net.Ports)) {
      for (const b of binds ?? []) this.hostPorts.release(b.HostIp, (key.split('/')[1] ?? 'tcp') as 'tcp' | 'udp', Number(b.HostPort));
    }
  }

  /** After a daemon restart: the recorded host ports claimed again and bound again unless the proxy still holds them, the rules re-set. */
  async restore(c: NetContainer, first: Attachment): Promise<void> {
    const tag = portTag(first.network.bridge, c.id);
    const forwards: PublishedPort[] = [];
    for (const [key, binds] of Object.entries(c.net.Ports)) {
      const [port, proto] = key.split('/');
      for (const b of binds ?? []) {
        forwards.push({ proto: proto as 'tcp' | 'udp', hostIp: b.HostIp, hostPort: Number(b.HostPort), containerIp: first.endpoint.IPAddress, containerPort: Number(port) });
        if (!this.hostPorts.claim(b.HostIp, proto as 'tcp' | 'udp', Number(b.HostPort))) this.o.log.warn({ id: c.id, port: `${b.HostIp}:${b.HostPort}/${proto}` }, 'host port claimed twice');
      }
    }
    if (!forwards.length) return;
    this.live.add(c.id);
    if (!(await this.o.proxy.owners()).includes(c.id)) {
      const started = await this.o.proxy.add(c.id, forwards).catch((err: Error) => { this.o.log.warn({ id: c.id, err: err.message }, 'published ports could not be bound again'); return undefined; });
      if (started) c.net.ProxyPid = started.pid;
    }
    await setRules(tag, forwards.filter((f) => !isIPv6(f.hostIp)).flatMap((f) => portRules(first.network.bridge, f, this.o.loopbackNat)));
  }

  /**
   * At start-up, after every running container was restored: forwards the holder keeps for
   * containers that are not running (they stopped or went while berthd was down, or a crash came
   * between bind and record) are removed. The holder serves this daemon alone, so neither the
   * daemon's other containers (`known`) nor the recorded pids are needed to tell whose they are.
   */
  async sweep(_known?: Set<string>, _recordedPids?: Set<number>): Promise<void> {
    const held = await this.o.proxy.owners().catch((err: Error) => { this.o.log.warn({ err: err.message }, 'port proxy not reachable'); return [] as string[]; });
    for (const owner of held) {
      if (!this.live.has(owner)) await this.o.proxy.remove(owner).catch((err: Error) => this.o.log.warn({ id: owner, err: err.message }, 'published ports not released'));
    }
    await this.o.proxy.sweep?.(this.live).catch((err: Error) => this.o.log.warn({ err: err.message }, 'published ports of the port driver not released'));
  }
}

/** A binding to publish: host port 0 when any will do, hostPortEnd above hostPort for a range ("8000-8005:80"). */
export type WantedPort = Omit<PublishedPort, 'containerIp'> & { hostPortEnd: number };

/**
 * `-p` bindings (and `-P` for every unbound exposed port) as forwards, in dockerd's order
 * (network/port-order.ts), host ports 0 when random. With `v6` (the host can listen on IPv6) a
 * binding without a host address also gets a `::` twin right after it, as dockerd 20.10's
 * bridge driver makes (allocatePortsInternal): the userland proxy forwards it to the
 * container's IPv4 address; its host port comes from the `::` table of the allocator.
 */
export function publishedPorts(c: NetContainer, v6 = false): WantedPort[] {
  const out: WantedPort[] = [];
  const ports = [...new Set([...c.exposedPorts, ...Object.keys(c.portBindings)])];
  for (const b of publishOrder(ports, c.portBindings, c.publishAll)) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(b.key);
    if (!m) throw new InvalidParameter(`invalid port specification: "${b.key}"`);
    if (m[2] === 'sctp') throw new InvalidParameter('sctp ports are not supported by berthd');
    const r = /^(\d+)(?:-(\d+))?$/.exec(b.HostPort ?? '');
    const hp = r ? Number(r[1]) : 0;
    const end = r?.[2] ? Number(r[2]) : hp;
    if ((b.HostPort && !r) || hp > 65535 || end > 65535 || end < hp) throw new InvalidParameter(`invalid host port: ${b.HostPort}`);
    if (b.HostIp && b.HostIp.includes(':')) throw new InvalidParameter('IPv6 host addresses are not supported by berthd yet');
    out.push({ proto: (m[2] ?? 'tcp') as 'tcp' | 'udp', hostIp: b.HostIp || '0.0.0.0', hostPort: hp, hostPortEnd: end, containerPort: Number(m[1]) });
    if (v6 && !b.HostIp) out.push({ ...out[out.length - 1]!, hostIp: '::' });
  }
  return out;
}
