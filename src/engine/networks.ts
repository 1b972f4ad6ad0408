// Networks and container endpoints: the predefined `bridge` (on the daemon's bridge, berth0 by
// default), `host` and `none`, user-defined bridge networks, and what a container gets when it
// starts on one: a named network namespace, a veth pair into each network's bridge, an address
// from the network's pool, published ports (iptables DNAT + a port proxy process), and names
// in the embedded DNS on user networks. Records live in <data-root>/network/<id>.json; the
// addresses in use are rebuilt from the containers' records when berthd starts.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { run } from '../sys/exec.ts';
import { join } from 'node:path';
import { isIPv6 } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { Conflict, InvalidParameter, NotFound } from '../errors.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import { atomicWriteJson } from '../util/atomic-write.ts';
import { newId } from '../util/ids.ts';
import type { Logger } from '../util/log.ts';
import { AddressPool, parseCidr, formatCidr, overlaps, macFor, defaultGateway } from '../network/ipam.ts';
import { ensureBridge, deleteLink, createSandbox, deleteSandbox, addEndpoint, removeEndpoint, netnsExists, awaitLinksGone, prepareSandbox, configurePrepared, listNetns, adoptSandbox, NETNS_DIR, type EndpointSpec } from '../network/links.ts';
import { ensureChains, setRules, removeRules, bridgeRules, portRules, listTags, type Rule, type PublishedPort } from '../network/firewall.ts';
import type { EventLog } from './events.ts';
import { RESOLVER_IP } from '../network/netns-sockets.ts';
import { ipv6Listenable } from '../network/ipv6-listenable.ts';

export interface IpamConfig { Subnet: string; Gateway: string; IPRange?: string }

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: IpamConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** Berth's own (not on the wire): the user gave a subnet without a gateway; dockerd then shows none. */
  GatewayImplicit?: boolean;
}

/** One network a container is on, as persisted in its record and shown by inspect. */
export interface EndpointRecord {
  IPAMConfig: { IPv4Address?: string } | null;
  Links: null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
  /** Berth's own: the host end of the veth and the name inside. */
  HostIf?: string;
  IfName?: string;
}

export interface PortBinding { HostIp: string; HostPort: string }

/** The container state the network service owns (persisted with the container). */
export interface ContainerNet {
  SandboxKey: string;
  Networks: Record<string, EndpointRecord>;
  Ports: Record<string, PortBinding[] | null>;
  ProxyPid?: number;
}

/** What the network service needs to know of a container. */
export interface NetContainer {
  id: string;
  name: string;
  hostname: string;
  networkMode: string;
  portBindings: Record<string, PortBinding[] | null>;
  publishAll: boolean;
  exposedPorts: string[];
  net: ContainerNet;
}

export interface ProxyControl {
  start(forwards: PublishedPort[], owner: string): Promise<{ pid: number; forwards: PublishedPort[] }>;
  stop(pid: number): Promise<void>;
  alive(pid: number): boolean;
  /** Running proxies and the container each serves. */
  list(): { pid: number; owner: string }[];
}

export interface NetworkServiceOptions {
  dataRoot: string;
  log: Logger;
  /** Name of the default bridge (`none` turns the default bridge network off). */
  bridge: string;
  /** Gateway address and prefix of the default bridge, e.g. 10.87.0.1/16. */
  bip: string;
  mtu: number;
  /** /16 from which user networks get /24 subnets. */
  pool: string;
  proxy: ProxyControl;
  /** Host connections to 127.0.0.x published ports through kernel NAT (the proxy then only holds the port). */
  loopbackNat: boolean;
  /** Unique per daemon (side-by-side daemons share /run/netns): names its prepared namespaces. */
  poolTag: string;
  /** How many default-bridge namespaces to keep ready (0: none). */
  poolSize: number;
  /**
   * The embedded DNS at 127.0.0.11 inside a container's namespace (network/container-dns.ts):
   * started for containers on user networks, stopped with their network.
   */
  dns?: { start(id: string, netnsPath: string, cfg: { upstreams: string[]; ndotsSet: boolean }): Promise<void>; stop(id: string): Promise<void>; running(id: string): boolean };
}

const PREDEFINED = ['bridge', 'host', 'none'];

export class NetworkService {
  /** Where network events go (set by the engine). */
  events?: EventLog;
  private readonly dir: string;
  private readonly o: NetworkServiceOptions;
  private readonly log: Logger;
  private readonly nets = new Map<string, NetworkRecord>();
  private readonly pools = new Map<string, AddressPool>();
  /** Containers with endpoints, per network ID (for inspect and DNS). */
  private readonly members = new Map<string, Map<string, NetContainer>>();
  /** Namespace deletions under way, by namespace name. */
  private readonly teardowns = new Map<string, Promise<void>>();
  /** Default-bridge namespaces made ahead of time (a start then costs one `ip` spawn, not two). */
  private readonly ready: { ns: string; hostIf: string }[] = [];
  private filling: Promise<void> | undefined;

  private constructor(o: NetworkServiceOptions) {
    this.o = o;
    this.log = o.log;
    this.dir = join(o.dataRoot, 'network');
  }

  static async open(o: NetworkServiceOptions): Promise<NetworkService> {
    const s = new NetworkService(o);
    await mkdir(s.dir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(s.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const n = JSON.parse(await readFile(join(s.dir, f), 'utf8')) as NetworkRecord;
        s.nets.set(n.Id, n);
      } catch (err) {
        o.log.warn({ file: f, err: String(err) }, 'ignoring unreadable network record');
      }
    }
    await s.ensurePredefined();
    await ensureChains();
    for (const n of s.nets.values()) if (n.Driver === 'bridge') await s.setUpBridge(n);
    return s;
  }

  // ---- records --------------------------------------------------------------------------------

  private async persist(n: NetworkRecord): Promise<void> {
    await atomicWriteJson(join(this.dir, `${n.Id}.json`), n);
  }

  private base(name: string, driver: NetworkRecord['Driver']): NetworkRecord {
    return {
      Name: name, Id: newId(), Created: new Date().toISOString(), Scope: 'local', Driver: driver, EnableIPv4: true,
      EnableIPv6: false, IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: false, Attachable: false,
      Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
    };
  }

  private async ensurePredefined(): Promise<void> {
    const byName = (n: string): NetworkRecord | undefined => [...this.nets.values()].find((x) => x.Name === n);
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!byName(name)) {
        const n = this.base(name, driver);
        this.nets.set(n.Id, n);
        await this.persist(n);
      }
    }
    const existing = byName('bridge');
    if (this.o.bridge === 'none') {
      if (existing) { this.nets.delete(existing.Id); await rm(join(this.dir, `${existing.Id}.json`), { force: true }); }
      return;
    }
    const gw = this.o.bip.split('/')[0]!;
    const subnet = formatCidr(parseCidr(this.o.bip));
    const want = { Subnet: subnet, Gateway: gw };
    const n = existing ?? this.base('bridge', 'bridge');
    n.IPAM.Config = [want];
    n.Options = {
      'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': this.o.bridge, 'com.docker.network.driver.mtu': String(this.o.mtu),
    };
    this.nets.set(n.Id, n);
    await this.persist(n);
  }

  bridgeName(n: NetworkRecord): string {
    return n.Options['com.docker.network.bridge.name'] || `br-${n.Id.slice(0, 12)}`;
  }

  private pool(n: NetworkRecord): AddressPool {
    let p = this.pools.get(n.Id);
    if (!p) {
      const c = n.IPAM.Config[0]!;
      p = new AddressPool({ subnet: c.Subnet, gateway: c.Gateway, ipRange: c.IPRange });
      this.pools.set(n.Id, p);
    }
    return p;
  }

  private async setUpBridge(n: NetworkRecord): Promise<void> {
    const c = n.IPAM.Config[0]!;
    const bridge = this.bridgeName(n);
    await ensureBridge({ name: bridge, gatewayCidr: `${c.Gateway}/${parseCidr(c.Subnet).prefix}`, mtu: this.o.mtu });
    if (this.o.loopbackNat) await writeFileSafe(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1');
    await setRules(bridge, bridgeRules({ bridge, subnet: c.Subnet, internal: n.Internal, loopbackNat: this.o.loopbackNat }));
    await writeFileSafe(`/proc/sys/net/ipv4/ip_forward`, '1');
  }

  /** A network by full ID, name, or unique ID prefix (moby's order). */
  get(ref: string): NetworkRecord {
    const all = [...this.nets.values()];
    const hit = all.find((n) => n.Id === ref) ?? all.find((n) => n.Name === ref);
    if (hit) return hit;
    const pre = all.filter((n) => ref.length > 0 && n.Id.startsWith(ref));
    if (pre.length === 1) return pre[0]!;
    if (pre.length > 1) throw new NotFound(`network ${ref} is ambiguous (${pre.length} matches found based on ID prefix)`);
    throw new NotFound(`network ${ref} not found`);
  }

  list(): NetworkRecord[] {
    return [...this.nets.values()];
  }

  /** The containers on a network, for inspect. */
  containersOf(n: NetworkRecord): NetContainer[] {
    return [...(this.members.get(n.Id)?.values() ?? [])];
  }

  // ---- create / remove --------------------------------------------------------------------------

  async create(o: {
    Name: string; Driver?: string; Internal?: boolean; Attachable?: boolean; CheckDuplicate?: boolean;
    IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null } | null;
    Options?: Record<string, string> | null; Labels?: Record<string, string> | null; EnableIPv6?: boolean | null;
  }): Promise<NetworkRecord> {
    if (!o.Name) throw new InvalidParameter('network name is required');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.Name)) throw new InvalidParameter(`invalid network name "${o.Name}": must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
    if (PREDEFINED.includes(o.Name)) throw new Conflict(`operation is not permitted on predefined ${o.Name} network`);
    if ([...this.nets.values()].some((n) => n.Name === o.Name)) throw new Conflict(`network with name ${o.Name} already exists`);
    const driver = o.Driver || 'bridge';
    if (driver !== 'bridge') throw new NotFound(`plugin "${driver}" not found`);
    if (o.EnableIPv6) throw new InvalidParameter('IPv6 networks are not supported by berthd yet');
    const cfgs = o.IPAM?.Config ?? [];
    if (cfgs.length > 1) throw new InvalidParameter('berthd supports one IPv4 subnet per network');
    const n = this.base(o.Name, 'bridge');
    n.Internal = o.Internal ?? false;
    n.Attachable = o.Attachable ?? false;
    n.Labels = o.Labels ?? {};
    n.Options = { ...(o.Options ?? {}) };
    const bridge = n.Options['com.docker.network.bridge.name'];
    if (bridge !== undefined) {
      if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new InvalidParameter(`invalid bridge name "${bridge}": at most 15 letters, digits, '.', '_' or '-'`);
      if ([...this.nets.values()].some((x) => x.Driver === 'bridge' && this.bridgeName(x) === bridge)) throw new Conflict(`bridge name ${bridge} is already in use by another network`);
    }
    const c = cfgs[0];
    let subnet: ReturnType<typeof parseCidr> | undefined;
    try { subnet = c?.Subnet ? parseCidr(c.Subnet) : undefined; } catch (e) {
      // dockerd's words (libnetwork's ipam); the status stays a 400 where dockerd 20.10 gave a 500
      throw new InvalidParameter(`Invalid subnet ${c!.Subnet} : ${(e as Error).message}`);
    }
    if (!subnet) subnet = await this.freeSubnet();
    for (const x of this.nets.values()) {
      for (const xc of x.IPAM.Config) {
        if (overlaps(parseCidr(xc.Subnet), subnet)) throw new Conflict(`invalid pool request: Pool overlaps with other one on this address space`);
      }
    }
    const gateway = c?.Gateway || defaultGateway(subnet, c?.IPRange);
    const cfg: IpamConfig = { Subnet: formatCidr(subnet), Gateway: gateway, ...(c?.IPRange ? { IPRange: c.IPRange } : {}) };
    new AddressPool({ subnet: cfg.Subnet, gateway: cfg.Gateway, ipRange: cfg.IPRange }); // validates
    n.IPAM.Config = [cfg];
    if (c?.Subnet && !c.Gateway) n.GatewayImplicit = true;
    await this.setUpBridge(n);
    try {
      await this.persist(n);
    } catch (err) {
      await this.tearDownBridge(n).catch(() => {});
      throw err;
    }
    this.nets.set(n.Id, n);
    this.emit(n, 'create');
    return n;
  }

  private emit(n: NetworkRecord, action: string, container?: string): void {
    this.events?.emit('network', action, n.Id, { ...(container ? { container } : {}), name: n.Name, type: n.Driver });
  }

  /** The next /24 of the pool that overlaps no network and no host route. */
  /** Where the next search for a free /24 of the pool starts (its index in the pool). */
  private nextSubnet = 0;

  private async freeSubnet(): Promise<ReturnType<typeof parseCidr>> {
    const pool = parseCidr(this.o.pool);
    const routes = await hostRoutes();
    const taken = [...[...this.nets.values()].flatMap((n) => n.IPAM.Config.map((c) => parseCidr(c.Subnet))), ...routes];
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

  private async tearDownBridge(n: NetworkRecord): Promise<void> {
    const bridge = this.bridgeName(n);
    await removeRules(bridge);
    await deleteLink(bridge);
  }

  async remove(ref: string): Promise<void> {
    const found = this.get(ref);
    // One removal per network: a second (DELETE twice, or DELETE and prune) finds it gone.
    await this.removals.run(found.Id, async () => {
      if (!this.nets.has(found.Id)) throw new NotFound(`network ${ref} not found`);
      await this.removeLocked(found.Id);
    });
  }

  private readonly removals = new KeyedMutex();

  private async removeLocked(ref: string): Promise<void> {
    const n = this.get(ref);
    if (PREDEFINED.includes(n.Name)) throw new Conflict(`${n.Name} is a pre-defined network and cannot be removed`);
    const users = this.containersOf(n);
    if (users.length) throw new Conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    await this.tearDownBridge(n);
    await rm(join(this.dir, `${n.Id}.json`), { force: true });
    this.nets.delete(n.Id);
    this.pools.delete(n.Id);
    this.emit(n, 'destroy');
  }

  /** Networks no container is configured for (`docker network prune`). */
  async prune(inUse: (n: NetworkRecord) => boolean, match: (n: NetworkRecord) => boolean): Promise<string[]> {
    const out: string[] = [];
    for (const n of [...this.nets.values()]) {
      if (PREDEFINED.includes(n.Name) || inUse(n) || !match(n) || this.containersOf(n).length) continue;
      try {
        await this.remove(n.Id);
      } catch (err) {
        if (err instanceof NotFound) continue; // removed meanwhile
        throw err;
      }
      out.push(n.Name);
    }
    return out;
  }

  // ---- endpoints ----------------------------------------------------------------------------------

  /** The network record a container's NetworkMode names (bridge for default), or undefined for host/none/container:. */
  /** What `default` means: the `bridge` network, or `none` when the daemon runs with `--bridge none`. */
  defaultMode(): 'bridge' | 'none' {
    return [...this.nets.values()].some((n) => n.Name === 'bridge') ? 'bridge' : 'none';
  }

  modeNetwork(mode: string): NetworkRecord | undefined {
    if (mode === 'default') mode = this.defaultMode();
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return undefined;
    const n = this.get(mode === 'default' ? 'bridge' : mode);
    return n.Driver === 'bridge' ? n : undefined;
  }

  /** The endpoints a new container starts with: its network mode's network, with the user's settings. */
  initialEndpoints(mode: string, endpointsConfig: Record<string, unknown> | null | undefined): Record<string, EndpointRecord> {
    const out: Record<string, EndpointRecord> = {};
    if (mode === 'default') mode = this.defaultMode();
    if (mode === 'host' || mode === 'none') { out[mode] = emptyEndpoint(this.get(mode).Id); return out; }
    const n = this.modeNetwork(mode);
    if (!n) return out;
    const ec = ((endpointsConfig ?? {})[n.Name] ?? (endpointsConfig ?? {})[mode] ?? {}) as { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null };
    if (ec.IPAMConfig?.IPv4Address && n.Name === 'bridge') throw new InvalidParameter('user specified IP address is supported on user defined networks only');
    if (ec.Aliases?.length && n.Name === 'bridge') throw new InvalidParameter('network-scoped alias is supported only for containers in user defined networks');
    out[n.Name] = { ...emptyEndpoint(n.Id), Aliases: ec.Aliases?.length ? ec.Aliases : null, IPAMConfig: ec.IPAMConfig?.IPv4Address ? { IPv4Address: ec.IPAMConfig.IPv4Address } : null };
    return out;
  }

  private sandboxName(id: string): string {
    return `berth-${id.slice(0, 16)}`;
  }

  /** The namespace a container has (a prepared one has its own name), or would get. */
  private nsName(c: NetContainer): string {
    return c.net.SandboxKey ? c.net.SandboxKey.slice(NETNS_DIR.length + 1) : this.sandboxName(c.id);
  }

  private poolPrefix(): string {
    return `berth-p${this.o.poolTag}-`;
  }

  /** Tops the ready namespaces up, in the background, one at a time. */
  private refill(): void {
    const bridgeNet = [...this.nets.values()].find((n) => n.Name === 'bridge');
    if (!bridgeNet || this.o.poolSize <= 0 || this.filling) return;
    this.filling = (async () => {
      while (this.ready.length < this.o.poolSize) {
        const ns = `${this.poolPrefix()}${randomBytes(4).toString('hex')}`;
        const hostIf = `vb${randomBytes(6).toString('hex').slice(0, 11)}`;
        try {
          await prepareSandbox(ns, hostIf, this.bridgeName(bridgeNet), this.o.mtu);
        } catch (err) {
          this.log.warn({ err: String(err) }, 'could not prepare a network namespace');
          await deleteSandbox(ns, [hostIf]).catch(() => {});
          return;
        }
        this.ready.push({ ns, hostIf });
      }
    })().finally(() => { this.filling = undefined; });
  }

  private endpointSpec(c: NetContainer, n: NetworkRecord, ep: EndpointRecord, index: number, gateway: boolean): EndpointSpec {
    const hostIf = `vb${createHash('sha256').update(`${c.id}/${n.Id}`).digest('hex').slice(0, 11)}`;
    return {
      hostIf, ifName: `eth${index}`, mac: ep.MacAddress, addressCidr: `${ep.IPAddress}/${ep.IPPrefixLen}`,
      bridge: this.bridgeName(n), mtu: this.o.mtu, defaultGateway: gateway && !n.Internal ? ep.Gateway : undefined,
    };
  }

  private allocate(c: NetContainer, n: NetworkRecord, ep: EndpointRecord): void {
    const pool = this.pool(n);
    const ip = pool.allocate(ep.IPAMConfig?.IPv4Address);
    ep.IPAddress = ip;
    ep.IPPrefixLen = pool.prefix;
    ep.Gateway = n.IPAM.Config[0]!.Gateway;
    ep.MacAddress = macFor(ip);
    ep.NetworkID = n.Id;
    ep.EndpointID = createHash('sha256').update(`${c.id}/${n.Id}/${ip}`).digest('hex');
    ep.DNSNames = n.Name === 'bridge' ? null : [c.name, c.id.slice(0, 12), ...(ep.Aliases ?? [])];
  }

  private member(n: NetworkRecord, c: NetContainer, on: boolean): void {
    let m = this.members.get(n.Id);
    if (!m) { m = new Map(); this.members.set(n.Id, m); }
    if (on) m.set(c.id, c); else m.delete(c.id);
  }

  /**
   * Sets up a starting container's network: namespace, endpoints, published ports. Returns the
   * namespace path for the OCI spec. On failure everything it did is undone.
   */
  /**
   * `pid`: adopt the network namespace of that (created, not yet started) process instead of
   * making one: with userns-remap the namespace must be owned by the container's user namespace,
   * or runc 1.1 cannot join it for `exec`, and sysfs cannot be mounted.
   */
  async attach(c: NetContainer, pid?: number): Promise<string | undefined> {
    const all = Object.entries(c.net.Networks).map(([name, ep]) => [this.get(name), ep] as const);
    // host and none have no interface to make, but moby joins them all the same: an endpoint ID
    // of their own while the container runs (detach clears it).
    for (const [n, ep] of all) if (n.Driver !== 'bridge') ep.EndpointID = randomBytes(32).toString('hex');
    const entries = all.filter(([n]) => n.Driver === 'bridge');
    if (!entries.length) return undefined;
    let ns = this.sandboxName(c.id);
    const allocated: [NetworkRecord, EndpointRecord][] = [];
    const t0 = performance.now();
    await this.teardowns.get(ns);
    try {
      for (const [n, ep] of entries) { this.allocate(c, n, ep); allocated.push([n, ep]); }
      const specs = entries.map(([n, ep], i) => this.endpointSpec(c, n, ep, i, i === 0));
      const prepared = !pid && entries.length === 1 && entries[0]![0].Name === 'bridge' ? this.ready.shift() : undefined;
      if (pid) {
        entries.forEach(([, ep], i) => { ep.HostIf = specs[i]!.hostIf; ep.IfName = specs[i]!.ifName; });
        await deleteSandbox(ns, specs.map((s) => s.hostIf));
        await awaitLinksGone(specs.map((s) => s.hostIf));
        await adoptSandbox(ns, pid, specs);
        c.net.SandboxKey = `${NETNS_DIR}/${ns}`;
      } else if (prepared) {
        ns = prepared.ns;
        specs[0]!.hostIf = prepared.hostIf;
        c.net.SandboxKey = `${NETNS_DIR}/${ns}`;
        entries[0]![1].HostIf = prepared.hostIf;
        entries[0]![1].IfName = specs[0]!.ifName;
        this.refill();
        await configurePrepared(ns, specs[0]!);
      } else {
        entries.forEach(([, ep], i) => { ep.HostIf = specs[i]!.hostIf; ep.IfName = specs[i]!.ifName; });
        await deleteSandbox(ns, specs.map((s) => s.hostIf)); // a leftover of a crash
        await awaitLinksGone(specs.map((s) => s.hostIf)); // the kernel may still be removing a previous run's
        await createSandbox(ns, specs);
        c.net.SandboxKey = `${NETNS_DIR}/${ns}`;
      }
      await this.publish(c, entries[0]![0], entries[0]![1]);
    } catch (err) {
      // detach releases what it finds recorded; addresses allocated before the failure too.
      await this.detach(c).catch(() => {});
      for (const [n, ep] of allocated) { if (ep.IPAddress) this.pool(n).release(ep.IPAddress); clearAddress(ep); }
      throw err;
    }
    for (const [n] of entries) this.member(n, c, true);
    this.log.debug({ id: c.id, ms: Math.round(performance.now() - t0) }, 'network attached');
    return c.net.SandboxKey;
  }

  /** Publishes the container's ports on its first network: the proxy binds first (a port in use fails here). */
  private async publish(c: NetContainer, n: NetworkRecord, ep: EndpointRecord): Promise<void> {
    const wanted = publishedPorts(c, await ipv6Listenable());
    c.net.Ports = Object.fromEntries(c.exposedPorts.map((p) => [p, null]));
    if (!wanted.length) return;
    const forwards: PublishedPort[] = wanted.map((w) => ({ ...w, containerIp: ep.IPAddress }));
    let started: { pid: number; forwards: PublishedPort[] };
    try {
      started = await this.o.proxy.start(forwards, c.id);
    } catch (err) {
      throw new InvalidParameter(`driver failed programming external connectivity on endpoint ${c.name}: ${(err as Error).message}`);
    }
    c.net.ProxyPid = started.pid;
    // IPv6 listeners reach the container through the proxy alone (dockerd 20.10 without --ip6tables).
    const rules: Rule[] = started.forwards.filter((f) => !isIPv6(f.hostIp)).flatMap((f) => portRules(this.bridgeName(n), f, this.o.loopbackNat));
    await setRules(`${this.bridgeName(n)}/${c.id.slice(0, 12)}`, rules);
    for (const f of started.forwards) {
      const key = `${f.containerPort}/${f.proto}`;
      (c.net.Ports[key] ??= []).push({ HostIp: f.hostIp || '0.0.0.0', HostPort: String(f.hostPort) });
    }
  }

  /** Tears down what attach made (idempotent: also finishes a half-done teardown after a crash). */
  async detach(c: NetContainer): Promise<void> {
    const t0 = performance.now();
    const published = !!c.net.ProxyPid || Object.values(c.net.Ports).some((b) => b?.length);
    // Its sockets hold the namespace: they go first.
    if (this.o.dns?.running(c.id)) await this.o.dns.stop(c.id).catch((err) => this.log.warn({ id: c.id, err: String(err) }, 'embedded DNS not stopped'));
    if (c.net.ProxyPid) { await this.o.proxy.stop(c.net.ProxyPid).catch(() => {}); delete c.net.ProxyPid; }
    const hostIfs: string[] = [];
    for (const [name, ep] of Object.entries(c.net.Networks)) {
      let n: NetworkRecord | undefined;
      try { n = this.get(name); } catch { n = undefined; }
      if (n?.Driver === 'bridge') {
        if (published) await removeRules(`${this.bridgeName(n)}/${c.id.slice(0, 12)}`).catch(() => {});
        if (ep.IPAddress) this.pool(n).release(ep.IPAddress);
        this.member(n, c, false);
      }
      if (ep.HostIf) hostIfs.push(ep.HostIf);
      clearAddress(ep);
    }
    // The namespace goes in the background: nothing waits for it but a new start of the same
    // container (attach) and shutdown (drain), so `run --rm` does not pay for it.
    const ns = this.nsName(c);
    const gone = deleteSandbox(ns, hostIfs)
      .catch((err) => this.log.warn({ id: c.id, err: String(err) }, 'network namespace not deleted'))
      .finally(() => { if (this.teardowns.get(ns) === gone) this.teardowns.delete(ns); });
    this.teardowns.set(ns, gone);
    c.net.SandboxKey = '';
    // moby's releaseNetwork drops the port map: a stopped container shows `"Ports": {}` and no rows in ps.
    c.net.Ports = {};
    this.log.debug({ id: c.id, ms: Math.round(performance.now() - t0) }, 'network detached');
  }

  /**
   * After a daemon restart: a running container's addresses are claimed again, its proxy
   * restarted if it died, its rules re-set; a container that stopped meanwhile is torn down.
   */
  async restore(c: NetContainer, running: boolean): Promise<void> {
    if (!running) { if (c.net.SandboxKey || c.net.ProxyPid) await this.detach(c); return; }
    const ns = this.nsName(c);
    if (c.net.SandboxKey && !(await netnsExists(ns))) this.log.warn({ id: c.id }, 'network namespace of a running container is gone');
    let first: [NetworkRecord, EndpointRecord] | undefined;
    for (const [name, ep] of Object.entries(c.net.Networks)) {
      let n: NetworkRecord;
      try { n = this.get(name); } catch { continue; }
      if (n.Driver !== 'bridge' || !ep.IPAddress) continue;
      if (!this.pool(n).claim(ep.IPAddress)) this.log.warn({ id: c.id, ip: ep.IPAddress }, 'address claimed twice');
      this.member(n, c, true);
      first ??= [n, ep];
    }
    if (!first) return;
    const tag = `${this.bridgeName(first[0])}/${c.id.slice(0, 12)}`;
    const forwards: PublishedPort[] = [];
    for (const [key, binds] of Object.entries(c.net.Ports)) {
      const [port, proto] = key.split('/');
      for (const b of binds ?? []) forwards.push({ proto: proto as 'tcp' | 'udp', hostIp: b.HostIp, hostPort: Number(b.HostPort), containerIp: first[1].IPAddress, containerPort: Number(port) });
    }
    if (!forwards.length) return;
    if (!c.net.ProxyPid || !this.o.proxy.alive(c.net.ProxyPid)) {
      const started = await this.o.proxy.start(forwards, c.id).catch((err: Error) => { this.log.warn({ id: c.id, err: err.message }, 'port proxy could not be restarted'); return undefined; });
      c.net.ProxyPid = started?.pid;
    }
    await setRules(tag, forwards.filter((f) => !isIPv6(f.hostIp)).flatMap((f) => portRules(this.bridgeName(first[0]), f, this.o.loopbackNat)));
  }

  /**
   * What a crash between a step and its record can leave, removed at start-up: rules of
   * containers that no longer run, and proxies and namespaces of this daemon's containers that
   * are not running (other daemons' containers are not in `known`, so theirs are left alone).
   */
  async sweep(liveIds: Set<string>, known: Set<string>, recordedProxies: Set<number>, usedNetns: Set<string>): Promise<void> {
    // Prepared namespaces of an earlier run that no container took: gone; then a fresh supply.
    for (const ns of await listNetns(this.poolPrefix())) {
      if (!usedNetns.has(ns) && !this.ready.some((r) => r.ns === ns)) await deleteSandbox(ns, []).catch(() => {});
    }
    this.refill();
    for (const p of this.o.proxy.list()) {
      if (known.has(p.owner) && !recordedProxies.has(p.pid)) await this.o.proxy.stop(p.pid).catch(() => {});
    }
    for (const id of known) {
      if (!liveIds.has(id) && await netnsExists(this.sandboxName(id))) await deleteSandbox(this.sandboxName(id), []).catch(() => {});
    }
    const bridges = new Set([...this.nets.values()].filter((n) => n.Driver === 'bridge').map((n) => this.bridgeName(n)));
    for (const tag of await listTags()) {
      const [bridge, cid] = tag.split('/');
      if (!cid || !bridges.has(bridge!)) continue;
      if (![...liveIds].some((id) => id.startsWith(cid))) await removeRules(tag);
    }
  }

  /** `docker network connect` of a running container: one more interface, now. */
  async connect(c: NetContainer, ref: string, cfg: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null }, running: boolean): Promise<void> {
    const n = this.get(ref);
    if (n.Driver !== 'bridge') throw new InvalidParameter(`container cannot be connected to network ${n.Name}`);
    if (c.networkMode === 'host' || c.networkMode === 'none' || c.networkMode.startsWith('container:')) {
      throw new InvalidParameter(`container sharing network namespace with another container or host cannot be connected to any other network`);
    }
    if (c.net.Networks[n.Name]) throw new Conflict(`endpoint with name ${c.name} already exists in network ${n.Name}`);
    if (n.Name === 'bridge' && (cfg.Aliases?.length || cfg.IPAMConfig?.IPv4Address)) throw new InvalidParameter('network-scoped alias and user specified IP are supported only for user defined networks');
    const ep: EndpointRecord = { ...emptyEndpoint(n.Id), Aliases: cfg.Aliases?.length ? cfg.Aliases : null, IPAMConfig: cfg.IPAMConfig?.IPv4Address ? { IPv4Address: cfg.IPAMConfig.IPv4Address } : null };
    if (running) {
      this.allocate(c, n, ep);
      const index = Object.values(c.net.Networks).filter((e) => e.IfName).length;
      const spec = this.endpointSpec(c, n, ep, index, false);
      ep.HostIf = spec.hostIf;
      ep.IfName = spec.ifName;
      try {
        await addEndpoint(this.nsName(c), spec);
      } catch (err) {
        this.pool(n).release(ep.IPAddress);
        throw err;
      }
      this.member(n, c, true);
    }
    c.net.Networks[n.Name] = ep;
    this.emit(n, 'connect', c.id);
  }

  async disconnect(c: NetContainer, ref: string, running: boolean): Promise<void> {
    const n = this.get(ref);
    const ep = c.net.Networks[n.Name];
    if (!ep) throw new InvalidParameter(`container ${c.id} is not connected to network ${n.Name}`);
    if (running && ep.HostIf) {
      await removeEndpoint(ep.HostIf);
      if (Object.keys(c.net.Networks)[0] === n.Name && c.net.ProxyPid) {
        await this.o.proxy.stop(c.net.ProxyPid).catch(() => {});
        delete c.net.ProxyPid;
        await removeRules(`${this.bridgeName(n)}/${c.id.slice(0, 12)}`);
      }
    }
    if (ep.IPAddress) this.pool(n).release(ep.IPAddress);
    this.member(n, c, false);
    delete c.net.Networks[n.Name];
    this.emit(n, 'disconnect', c.id);
  }

  /**
   * Starts the embedded DNS of a container with an address on a user network (resolv.conf says
   * 127.0.0.11); `cfg.upstreams` are where names it does not know go. A failure is logged, not
   * fatal, as in moby (the container runs, its lookups time out).
   */
  async startResolver(c: NetContainer, cfg: { upstreams: string[]; ndotsSet: boolean }): Promise<void> {
    if (!this.o.dns || !c.net.SandboxKey || !this.userNetworksOf(c).length) return;
    await this.o.dns.start(c.id, c.net.SandboxKey, cfg)
      .catch((err) => this.log.warn({ id: c.id, err: String(err) }, 'embedded DNS not available'));
  }

  /** Whether the container's embedded DNS is up (a bridge container connected to a user network gets one then). */
  resolverRunning(id: string): boolean {
    return this.o.dns?.running(id) ?? false;
  }

  /** The user networks a container has an address on, in its endpoints' order. */
  private userNetworksOf(c: NetContainer): [NetworkRecord, EndpointRecord][] {
    const out: [NetworkRecord, EndpointRecord][] = [];
    for (const [name, ep] of Object.entries(c.net.Networks)) {
      const n = this.nets.get(ep.NetworkID) ?? [...this.nets.values()].find((x) => x.Name === name);
      if (n && n.Name !== 'bridge' && n.Driver === 'bridge' && ep.IPAddress) out.push([n, ep]);
    }
    return out;
  }

  private memberById(id: string): NetContainer | undefined {
    for (const m of this.members.values()) { const c = m.get(id); if (c) return c; }
    return undefined;
  }

  /**
   * What the embedded DNS of container `id` answers for `name` (lowercase, no trailing dot), as
   * moby's sandbox.ResolveName: the name on the container's user networks in order, then for
   * `a.b.c` the name `a.b` on network `c` and `a` on network `b.c`. On a network a name is a
   * container name, a short ID or a network alias (DNSNames), case-insensitive; all containers
   * that hold it answer. Undefined: not ours (forwarded).
   */
  resolveName(id: string, name: string): string[] | undefined {
    const c = this.memberById(id);
    if (!c) return undefined;
    const nets = this.userNetworksOf(c);
    const tries: [string, string | undefined][] = [[name, undefined]];
    for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) tries.push([name.slice(0, i), name.slice(i + 1)]);
    for (const [want, netName] of tries) {
      for (const [n] of nets) {
        if (netName !== undefined && n.Name.toLowerCase() !== netName) continue;
        const out: string[] = [];
        for (const other of this.containersOf(n)) {
          const ep = other.net.Networks[n.Name];
          if (ep?.IPAddress && (ep.DNSNames ?? []).some((d) => d.toLowerCase() === want)) out.push(ep.IPAddress);
        }
        if (out.length) return out;
      }
    }
    return undefined;
  }

  /** The PTR answer for `ip` asked by container `id`: `<name>.<network>` of the container holding it on one of its user networks. */
  resolveIp(id: string, ip: string): string | undefined {
    const c = this.memberById(id);
    if (!c) return undefined;
    for (const [n] of this.userNetworksOf(c)) {
      for (const other of this.containersOf(n)) {
        if (other.net.Networks[n.Name]?.IPAddress === ip) return `${other.name}.${n.Name}`;
      }
    }
    return undefined;
  }

  /** Waits for namespace deletions under way (shutdown). */
  async drain(): Promise<void> {
    this.o.poolSize = 0;
    await this.filling;
    for (const p of this.ready.splice(0)) await deleteSandbox(p.ns, [p.hostIf]).catch(() => {});
    await Promise.all([...this.teardowns.values()]);
  }

  /** The default bridge's gateway: what `host-gateway` in `--add-host` means. */
  hostGateway(): string | undefined {
    return [...this.nets.values()].find((n) => n.Name === 'bridge')?.IPAM.Config[0]?.Gateway;
  }

  /** The nameserver resolv.conf names on a container of this network mode: the embedded DNS on a user network. */
  resolverFor(mode: string): string | undefined {
    const n = this.modeNetwork(mode);
    return n && n.Name !== 'bridge' && n.Driver === 'bridge' ? RESOLVER_IP : undefined;
  }
}

export function emptyEndpoint(networkId = ''): EndpointRecord {
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, NetworkID: networkId, EndpointID: '',
    Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

function clearAddress(ep: EndpointRecord): void {
  ep.IPAddress = '';
  ep.IPPrefixLen = 0;
  ep.Gateway = '';
  ep.MacAddress = '';
  ep.EndpointID = '';
  delete ep.HostIf;
  delete ep.IfName;
}

/**
 * `-p` bindings (and `-P` for every exposed port) as forwards, host ports 0 when random. With
 * `v6` (the host can listen on IPv6) a binding without a host address also gets a `::` twin
 * right after it, as dockerd 20.10's bridge driver makes (allocatePortsInternal): the userland
 * proxy forwards it to the container's IPv4 address, and takes the twin's port when random.
 */
export function publishedPorts(c: NetContainer, v6 = false): Omit<PublishedPort, 'containerIp'>[] {
  const out: Omit<PublishedPort, 'containerIp'>[] = [];
  const keys = new Set([...Object.keys(c.portBindings), ...(c.publishAll ? c.exposedPorts : [])]);
  for (const key of keys) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    if (!m) throw new InvalidParameter(`invalid port specification: "${key}"`);
    if (m[2] === 'sctp') throw new InvalidParameter('sctp ports are not supported by berthd');
    const binds = c.portBindings[key]?.length ? c.portBindings[key]! : [{ HostIp: '', HostPort: '' }];
    for (const b of binds) {
      const hp = b.HostPort ? Number(b.HostPort.split('-')[0]) : 0;
      if (!Number.isInteger(hp) || hp < 0 || hp > 65535) throw new InvalidParameter(`invalid host port: ${b.HostPort}`);
      if (b.HostIp && b.HostIp.includes(':')) throw new InvalidParameter('IPv6 host addresses are not supported by berthd yet');
      out.push({ proto: (m[2] ?? 'tcp') as 'tcp' | 'udp', hostIp: b.HostIp || '0.0.0.0', hostPort: hp, containerPort: Number(m[1]) });
      if (v6 && !b.HostIp) out.push({ ...out[out.length - 1]!, hostIp: '::' });
    }
  }
  return out;
}

async function hostRoutes(): Promise<ReturnType<typeof parseCidr>[]> {
  try {
    const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
    const routes = JSON.parse(stdout) as { dst: string }[];
    return routes.filter((r) => r.dst && r.dst !== 'default' && !r.dst.startsWith('127.') && !r.dst.startsWith('local'))
      .map((r) => parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`));
  } catch {
    return [];
  }
}

async function writeFileSafe(path: string, data: string): Promise<void> {
  await writeFile(path, data).catch(() => {});
}
