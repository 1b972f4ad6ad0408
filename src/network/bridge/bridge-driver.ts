// The bridge driver: what a container gets on the host when it starts on bridge networks (the
// lifecycle is in network-driver.ts). Each network is a Linux bridge with its own iptables
// rules (tag: the bridge's name); each running container a named network namespace
// (berth-<id prefix>, or a prepared one from the sandbox pool) with one veth pair per network,
// eth0 carrying the default route, and its published ports on its first network
// (port-publisher.ts). A stop deletes the namespace in the background: only a new start of the
// same container (settle) and shutdown (drain) wait for it, so `run --rm` does not pay for it.
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { run } from '../../sys/exec.ts';
import type { Logger } from '../../util/log.ts';
import { parseCidr, type Cidr } from '../ipam.ts';
import { ensureBridge, deleteLink, createSandbox, deleteSandbox, addEndpoint, removeEndpoint, netnsExists, awaitLinksGone, configurePrepared, adoptSandbox, NETNS_DIR, type EndpointSpec } from '../links.ts';
import { ensureChains, setRules, removeRules, bridgeRules, listTags } from '../firewall.ts';
import { enableForwarding } from '../forwarding.ts';
import type { NetContainer } from '../endpoint.ts';
import type { Attachment, BridgeNetwork, NetworkDriver } from '../network-driver.ts';
import { SandboxPool } from './sandbox-pool.ts';
import { PortPublisher, portTag, type ProxyControl } from './port-publisher.ts';

export interface BridgeDriverOptions {
  log: Logger;
  mtu: number;
  proxy: ProxyControl;
  /** Host connections to 127.0.0.x published ports through kernel NAT (the proxy then only holds the port). */
  loopbackNat: boolean;
  /** Leave the FORWARD policy as it is when enabling forwarding (network/forwarding.ts). */
  ipForwardNoDrop?: boolean;
  /** Unique per daemon (side-by-side daemons share /run/netns): names its prepared namespaces. */
  poolTag: string;
  /** How many default-bridge namespaces to keep ready (0: none). */
  poolSize: number;
}

export class BridgeDriver implements NetworkDriver {
  private readonly o: BridgeDriverOptions;
  private readonly log: Logger;
  private readonly pool: SandboxPool;
  private readonly ports: PortPublisher;
  /** Namespace deletions under way, by namespace name. */
  private readonly teardowns = new Map<string, Promise<void>>();

  constructor(o: BridgeDriverOptions) {
    this.o = o;
    this.log = o.log;
    this.pool = new SandboxPool({ log: o.log, tag: o.poolTag, size: o.poolSize, mtu: o.mtu });
    this.ports = new PortPublisher({ log: o.log, proxy: o.proxy, loopbackNat: o.loopbackNat });
  }

  async init(): Promise<void> {
    await ensureChains();
  }

  async createNetwork(n: BridgeNetwork): Promise<void> {
    await ensureBridge({ name: n.bridge, gatewayCidr: n.gatewayCidr, mtu: this.o.mtu, gateway6Cidr: n.gateway6Cidr });
    if (this.o.loopbackNat) await writeFileSafe(`/proc/sys/net/ipv4/conf/${n.bridge}/route_localnet`, '1');
    await setRules(n.bridge, bridgeRules({ bridge: n.bridge, subnet: n.subnet, internal: n.internal, loopbackNat: this.o.loopbackNat }));
    await enableForwarding({ noDrop: this.o.ipForwardNoDrop ?? false });
    // the default bridge's namespaces can be made ahead of time
    if (n.name === 'bridge') this.pool.bridge = n.bridge;
  }

  async removeNetwork(n: BridgeNetwork): Promise<void> {
    await removeRules(n.bridge);
    await deleteLink(n.bridge);
  }

  async hostRoutes(): Promise<Cidr[]> {
    try {
      const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
      const routes = JSON.parse(stdout) as { dst: string }[];
      return routes.filter((r) => r.dst && r.dst !== 'default' && !r.dst.startsWith('127.') && !r.dst.startsWith('local'))
        .map((r) => parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`));
    } catch {
      return [];
    }
  }

  async settle(c: NetContainer): Promise<void> {
    await this.teardowns.get(this.sandboxName(c.id));
  }

  /**
   * `pid`: adopt the network namespace of that (created, not yet started) process instead of
   * making one: with userns-remap the namespace must be owned by the container's user namespace,
   * or runc 1.1 cannot join it for `exec`, and sysfs cannot be mounted.
   */
  async join(c: NetContainer, attachments: Attachment[], pid?: number): Promise<void> {
    let ns = this.sandboxName(c.id);
    const specs = attachments.map((a, i) => this.endpointSpec(c, a, i, i === 0));
    const prepared = !pid && attachments.length === 1 && attachments[0]!.network.name === 'bridge' ? this.pool.take() : undefined;
    if (pid) {
      attachments.forEach(({ endpoint: ep }, i) => { ep.HostIf = specs[i]!.hostIf; ep.IfName = specs[i]!.ifName; });
      await deleteSandbox(ns, specs.map((s) => s.hostIf));
      await awaitLinksGone(specs.map((s) => s.hostIf));
      await adoptSandbox(ns, pid, specs);
      c.net.SandboxKey = `${NETNS_DIR}/${ns}`;
    } else if (prepared) {
      ns = prepared.ns;
      specs[0]!.hostIf = prepared.hostIf;
      c.net.SandboxKey = `${NETNS_DIR}/${ns}`;
      attachments[0]!.endpoint.HostIf = prepared.hostIf;
      attachments[0]!.endpoint.IfName = specs[0]!.ifName;
      await configurePrepared(ns, specs[0]!);
    } else {
      attachments.forEach(({ endpoint: ep }, i) => { ep.HostIf = specs[i]!.hostIf; ep.IfName = specs[i]!.ifName; });
      await deleteSandbox(ns, specs.map((s) => s.hostIf)); // a leftover of a crash
      await awaitLinksGone(specs.map((s) => s.hostIf)); // the kernel may still be removing a previous run's
      await createSandbox(ns, specs);
      c.net.SandboxKey = `${NETNS_DIR}/${ns}`;
    }
    await this.ports.publish(c, attachments[0]!);
  }

  /** Tears down what join made (idempotent: also finishes a half-done teardown after a crash). */
  async leave(c: NetContainer, attachments: Attachment[]): Promise<void> {
    const published = !!c.net.ProxyPid || Object.values(c.net.Ports).some((b) => b?.length);
    await this.ports.stopProxy(c);
    if (published) for (const a of attachments) await removeRules(portTag(a.network.bridge, c.id)).catch(() => {});
    const hostIfs = Object.values(c.net.Networks).flatMap((ep) => (ep.HostIf ? [ep.HostIf] : []));
    // The namespace goes in the background: nothing waits for it but a new start of the same
    // container (settle) and shutdown (drain), so `run --rm` does not pay for it.
    const ns = this.nsName(c);
    const gone = deleteSandbox(ns, hostIfs)
      .catch((err) => this.log.warn({ id: c.id, err: String(err) }, 'network namespace not deleted'))
      .finally(() => { if (this.teardowns.get(ns) === gone) this.teardowns.delete(ns); });
    this.teardowns.set(ns, gone);
    c.net.SandboxKey = '';
    // moby's releaseNetwork drops the port map: a stopped container shows `"Ports": {}` and no rows in ps.
    this.ports.release(c);
    c.net.Ports = {};
  }

  async addEndpoint(c: NetContainer, a: Attachment, index: number): Promise<void> {
    const spec = this.endpointSpec(c, a, index, false);
    a.endpoint.HostIf = spec.hostIf;
    a.endpoint.IfName = spec.ifName;
    await addEndpoint(this.nsName(c), spec);
  }

  async removeEndpoint(c: NetContainer, a: Attachment, first: boolean): Promise<void> {
    await removeEndpoint(a.endpoint.HostIf!);
    if (first) await this.ports.unpublish(c, a.network.bridge);
  }

  async restore(c: NetContainer, first: Attachment | undefined): Promise<void> {
    if (c.net.SandboxKey && !(await netnsExists(this.nsName(c)))) this.log.warn({ id: c.id }, 'network namespace of a running container is gone');
    if (first) await this.ports.restore(c, first);
  }

  /**
   * Other daemons' containers are not in `known`, so their proxies and namespaces are left alone;
   * port rules are tagged with the container's short ID and are removed unless it runs.
   */
  async sweep(s: { liveIds: Set<string>; known: Set<string>; recordedProxies: Set<number>; usedNetns: Set<string>; bridges: Set<string> }): Promise<void> {
    await this.pool.sweep(s.usedNetns);
    await this.ports.sweep(s.known, s.recordedProxies);
    for (const id of s.known) {
      if (!s.liveIds.has(id) && await netnsExists(this.sandboxName(id))) await deleteSandbox(this.sandboxName(id), []).catch(() => {});
    }
    for (const tag of await listTags()) {
      const [bridge, cid] = tag.split('/');
      if (!cid || !s.bridges.has(bridge!)) continue;
      if (![...s.liveIds].some((id) => id.startsWith(cid))) await removeRules(tag);
    }
  }

  async drain(): Promise<void> {
    await this.pool.drain();
    await Promise.all([...this.teardowns.values()]);
  }

  private sandboxName(id: string): string {
    return `berth-${id.slice(0, 16)}`;
  }

  /** The namespace a container has (a prepared one has its own name), or would get. */
  private nsName(c: NetContainer): string {
    return c.net.SandboxKey ? c.net.SandboxKey.slice(NETNS_DIR.length + 1) : this.sandboxName(c.id);
  }

  private endpointSpec(c: NetContainer, a: Attachment, index: number, gateway: boolean): EndpointSpec {
    const { network: n, endpoint: ep } = a;
    const hostIf = `vb${createHash('sha256').update(`${c.id}/${n.id}`).digest('hex').slice(0, 11)}`;
    return {
      hostIf, ifName: `eth${index}`, mac: ep.MacAddress, addressCidr: `${ep.IPAddress}/${ep.IPPrefixLen}`,
      bridge: n.bridge, mtu: this.o.mtu, defaultGateway: gateway && !n.internal ? ep.Gateway : undefined,
      ...(ep.GlobalIPv6Address ? { address6Cidr: `${ep.GlobalIPv6Address}/${ep.GlobalIPv6PrefixLen}`, defaultGateway6: gateway && !n.internal ? ep.IPv6Gateway : undefined } : {}),
      // libnetwork puts link-local addresses in their family's link-local prefix (169.254.0.0/16, fe80::/64)
      ...(ep.IPAMConfig?.LinkLocalIPs?.length ? { linkLocalCidrs: ep.IPAMConfig.LinkLocalIPs.map((a) => `${a}/${a.includes(':') ? 64 : 16}`) } : {}),
    };
  }
}

async function writeFileSafe(path: string, data: string): Promise<void> {
  await writeFile(path, data).catch(() => {});
}
