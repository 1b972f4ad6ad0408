// Networks and container endpoints: the predefined `bridge` (on the daemon's bridge, berth0 by
// default), `host` and `none`, user-defined bridge networks, and what a container gets when it
// starts on one: a named network namespace, a veth pair into each network's bridge, an address
// from the network's pool, published ports (iptables DNAT + a port proxy process), and names
// in the embedded DNS on user networks. Records live in <data-root>/network/<id>.json; the
// addresses in use are rebuilt from the containers' records when berthd starts.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { run } from '../sys/exec.ts';
import { join } from 'node:path';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { Conflict, Forbidden, InvalidParameter, NotFound } from '../errors.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import { atomicWriteJson } from '../util/atomic-write.ts';
import { newId } from '../util/ids.ts';
import type { Logger } from '../util/log.ts';
import { AddressPool, parseCidr, formatCidr, overlaps, macFor, intToIp, ipToInt, defaultGateway } from '../network/ipam.ts';
import { AddressPool6, parseCidr6, overlaps6, isCidr6, ip6ToBig, type Cidr6 } from '../network/ipam6.ts';
import { ensureBridge, deleteLink, createSandbox, deleteSandbox, addEndpoint, removeEndpoint, netnsExists, awaitLinksGone, prepareSandbox, configurePrepared, listNetns, adoptSandbox, NETNS_DIR, type EndpointSpec } from '../network/links.ts';
import { ensureChains, setRules, removeRules, bridgeRules, portRules, listTags, type Rule, type PublishedPort } from '../network/firewall.ts';
import { enableForwarding } from '../network/forwarding.ts';
import type { EventLog } from './events.ts';
import { RESOLVER_IP } from '../network/netns-sockets.ts';
import { ipv6Listenable } from '../network/ipv6-listenable.ts';
import { PortAllocator } from '../network/port-allocator.ts';
import { publishOrder } from '../network/port-order.ts';

/** One IPAM entry; keys in dockerd's order (Subnet, IPRange, Gateway, AuxiliaryAddresses). The first is IPv4; an IPv6 one follows. */
export interface IpamConfig { Subnet: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }

/** EndpointSettings.IPAMConfig as given (Go omits its empty fields). */
export interface EndpointIpamConfig { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] }

/** What a client may configure for an endpoint (create's EndpointsConfig entry, connect's EndpointConfig). */
export interface EndpointInput {
  Aliases?: string[] | null; IPAMConfig?: EndpointIpamConfig | null; DriverOpts?: Record<string, string> | null; MacAddress?: string | null;
  /** "name:alias": on a user network, `alias` resolves to container `name` for this container only. */
  Links?: string[] | null;
}

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  /** Options as given: null when the request had none (dockerd's nil map). */
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: IpamConfig[] };
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
  IPAMConfig: EndpointIpamConfig | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
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
  /** Berth's own: the MAC address the client asked for this endpoint (kept across restarts; MacAddress is the one in use). */
  DesiredMac?: string;
  /**
   * Berth's own: connected before the container's first start. moby 20.10's updateNetworkConfig
   * named the short ID among the aliases then, as at a start (inspect below API 1.44 shows it).
   */
  ConnectedBeforeStart?: boolean;
}

export interface PortBinding { HostIp: string; HostPort: string }

/** The container state the network service owns (persisted with the container). */
export interface ContainerNet {
  SandboxKey: string;
  /**
   * A running host or none container's sandbox ID: moby makes a libnetwork sandbox for those too
   * (inspect shows its ID), while Berth needs no namespace of its own for them (runc uses the
   * host's, or makes an empty one). Bridge containers' IDs derive from SandboxKey.
   */
  SandboxID?: string;
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
  /** Config.MacAddress: the MAC of the container's first endpoint (moby applies it to the first network only). */
  macAddress?: string;
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
  /** Leave the FORWARD policy as it is when enabling forwarding (network/forwarding.ts). */
  ipForwardNoDrop?: boolean;
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
  /** Host ports of published container ports (dockerd's portallocator: serial from ip_local_port_range). */
  private readonly hostPorts = new PortAllocator();
  private readonly pools6 = new Map<string, AddressPool6>();
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
      // the user's auxiliary addresses (hosts outside Docker) are never handed out
      for (const a of Object.values(c.AuxiliaryAddresses ?? {})) p.claim(a);
      this.pools.set(n.Id, p);
    }
    return p;
  }

  /** The IPv6 pool of a network with IPv6 enabled and an IPv6 subnet (dockerd gives no IPv6 address otherwise). */
  private pool6(n: NetworkRecord): AddressPool6 | undefined {
    const c = n.EnableIPv6 ? v6Config(n) : undefined;
    if (!c) return undefined;
    let p = this.pools6.get(n.Id);
    if (!p) {
      p = new AddressPool6({ subnet: c.Subnet, gateway: c.Gateway, ipRange: c.IPRange, auxiliary: Object.values(c.AuxiliaryAddresses ?? {}) });
      this.pools6.set(n.Id, p);
    }
    return p;
  }

  private async setUpBridge(n: NetworkRecord): Promise<void> {
    const c = n.IPAM.Config[0]!;
    const bridge = this.bridgeName(n);
    const p6 = this.pool6(n);
    await ensureBridge({ name: bridge, gatewayCidr: `${c.Gateway}/${parseCidr(c.Subnet).prefix}`, mtu: this.o.mtu, gateway6Cidr: p6 ? `${p6.gatewayText}/${p6.prefix}` : undefined });
    if (this.o.loopbackNat) await writeFileSafe(`/proc/sys/net/ipv4/conf/${bridge}/route_localnet`, '1');
    await setRules(bridge, bridgeRules({ bridge, subnet: c.Subnet, internal: n.Internal, loopbackNat: this.o.loopbackNat }));
    await enableForwarding({ noDrop: this.o.ipForwardNoDrop ?? false });
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
    IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> | null }[] | null } | null;
    Options?: Record<string, string> | null; Labels?: Record<string, string> | null; EnableIPv6?: boolean | null;
  }): Promise<NetworkRecord> {
    // dockerd 20.10 takes any name with a non-blank character (libnetwork's IsValidName: spaces,
    // slashes, colons, unicode); only the predefined names (and `default`, a network mode) are refused
    if (!o.Name?.trim()) throw new InvalidParameter(`invalid name: ${o.Name ?? ''}`);
    if ([...PREDEFINED, 'default'].includes(o.Name)) throw new Forbidden(`operation is not permitted on predefined ${o.Name} network `);
    if ([...this.nets.values()].some((n) => n.Name === o.Name)) throw new Conflict(`network with name ${o.Name} already exists`);
    const driver = o.Driver || 'bridge';
    if (driver !== 'bridge') throw new NotFound(`plugin "${driver}" not found`);
    // IPAM entries by family: one IPv4 subnet (given or from the pool) and at most one IPv6 one
    const cfgs = (o.IPAM?.Config ?? []).filter((x) => !isCidr6(x.Subnet ?? ''));
    const cfgs6 = (o.IPAM?.Config ?? []).filter((x) => isCidr6(x.Subnet ?? ''));
    if (cfgs.length > 1) throw new InvalidParameter('berthd supports one IPv4 subnet per network');
    if (cfgs6.length > 1) throw new InvalidParameter('berthd supports one IPv6 subnet per network');
    if (o.EnableIPv6 && !cfgs6.length) throw new NotFound('could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
    const cfg6 = cfgs6[0] ? this.ipv6Config(cfgs6[0] as IpamConfig) : undefined;
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
      for (const xc of v4Configs(x)) {
        if (overlaps(parseCidr(xc.Subnet), subnet)) throw new Forbidden('Pool overlaps with other one on this address space');
      }
    }
    const gateway = c?.Gateway || defaultGateway(subnet, c?.IPRange);
    const cfg: IpamConfig = { Subnet: formatCidr(subnet), ...(c?.IPRange ? { IPRange: c.IPRange } : {}), Gateway: gateway, ...auxOf(c as IpamConfig | undefined) };
    new AddressPool({ subnet: cfg.Subnet, gateway: cfg.Gateway, ipRange: cfg.IPRange }); // validates
    checkAuxiliary(cfg);
    n.IPAM.Config = cfg6 ? [cfg, cfg6] : [cfg];
    n.IPAM.Options = o.IPAM?.Options ?? null;
    n.EnableIPv6 = o.EnableIPv6 ?? false;
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

  /** Checks an IPv6 IPAM entry (syntax, gateway, range, no overlap with another network's) and returns it as dockerd shows it: as given. */
  private ipv6Config(c: IpamConfig): IpamConfig {
    let subnet: Cidr6;
    try { subnet = parseCidr6(c.Subnet); } catch (e) {
      throw new InvalidParameter(`Invalid subnet ${c.Subnet} : ${(e as Error).message}`);
    }
    for (const x of this.nets.values()) {
      const xc = v6Config(x);
      if (xc && overlaps6(parseCidr6(xc.Subnet), subnet)) throw new Forbidden('Pool overlaps with other one on this address space');
    }
    const out: IpamConfig = { Subnet: c.Subnet, ...(c.IPRange ? { IPRange: c.IPRange } : {}), ...(c.Gateway ? { Gateway: c.Gateway } : {}), ...auxOf(c) };
    new AddressPool6({ subnet: out.Subnet, gateway: out.Gateway, ipRange: out.IPRange }); // validates
    checkAuxiliary(out);
    return out;
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
    const taken = [...[...this.nets.values()].flatMap((n) => v4Configs(n).map((c) => parseCidr(c.Subnet))), ...routes];
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
    this.pools6.delete(n.Id);
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
    // A network mode naming no network is accepted at create, as dockerd 20.10 accepts it: the
    // start fails with 404 'network X not found' and the container stays created.
    let n: NetworkRecord | undefined;
    let missing = false;
    try { n = this.modeNetwork(mode); } catch (err) { if (!(err instanceof NotFound)) throw err; missing = true; }
    if (!n && !missing) return out;
    // moby's verifyNetworkingConfig: a container is created on one network; more are connected later
    const given = Object.entries(endpointsConfig ?? {});
    if (given.length > 1) throw new InvalidParameter(`Container cannot be connected to network endpoints: ${given.map(([k]) => k).join(', ')}`);
    if (!n) {
      const [key, raw] = given[0] ?? [];
      if (key !== undefined && raw) { checkEndpointAddresses(raw as EndpointInput); out[key] = this.endpointFrom(undefined, raw as EndpointInput); }
      return out;
    }
    const [key, raw] = given[0] ?? [n.Name, {}];
    if (raw === null || raw === undefined) throw new InvalidParameter(`no EndpointSettings for ${key}`);
    const ec = raw as EndpointInput;
    checkEndpointAddresses(ec);
    // moby's updateContainerNetworkSettings: the entry names the container's network, whatever the
    // mode says; one for the mode's network (by name, ID or `default`) is filed under its name, one
    // for another network stays under its key and is joined at start (a missing one fails there)
    let target: NetworkRecord | undefined = n;
    if (key !== n.Name && key !== n.Id && key !== mode && key !== 'default') {
      try { target = this.get(key); } catch { target = undefined; }
      if (!target) { out[key] = this.endpointFrom(undefined, ec); return out; }
    }
    out[target.Name] = this.endpointFrom(target, ec);
    return out;
  }

  /** An endpoint as configured (nothing allocated yet): what the client gave is kept as given. */
  private endpointFrom(n: NetworkRecord | undefined, ec: EndpointInput): EndpointRecord {
    if (n?.Name === 'bridge' && (ec.IPAMConfig?.IPv4Address || ec.IPAMConfig?.IPv6Address)) throw new InvalidParameter('user specified IP address is supported on user defined networks only');
    if (n?.Name === 'bridge' && ec.Aliases?.length) throw new InvalidParameter('network-scoped alias is supported only for containers in user defined networks');
    const ep: EndpointRecord = { ...emptyEndpoint(n?.Id ?? ''), Links: ec.Links?.length ? [...ec.Links] : null, Aliases: ec.Aliases?.length ? ec.Aliases : null, IPAMConfig: ipamConfigOf(ec.IPAMConfig), DriverOpts: ec.DriverOpts ? { ...ec.DriverOpts } : null };
    if (ec.MacAddress) { ep.DesiredMac = ec.MacAddress; ep.MacAddress = ec.MacAddress; }
    return ep;
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
      ...(ep.GlobalIPv6Address ? { address6Cidr: `${ep.GlobalIPv6Address}/${ep.GlobalIPv6PrefixLen}`, defaultGateway6: gateway && !n.Internal ? ep.IPv6Gateway : undefined } : {}),
      // libnetwork puts link-local addresses in their family's link-local prefix (169.254.0.0/16, fe80::/64)
      ...(ep.IPAMConfig?.LinkLocalIPs?.length ? { linkLocalCidrs: ep.IPAMConfig.LinkLocalIPs.map((a) => `${a}/${a.includes(':') ? 64 : 16}`) } : {}),
    };
  }

  private allocate(c: NetContainer, n: NetworkRecord, ep: EndpointRecord): void {
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
  private releaseAddresses(n: NetworkRecord, ep: EndpointRecord): void {
    if (ep.IPAddress) this.pool(n).release(ep.IPAddress);
    if (ep.GlobalIPv6Address) this.pool6(n)?.release(ep.GlobalIPv6Address);
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
    // A network mode naming a network that is gone (or never was: create accepts it) fails the
    // start with moby's 404 'network X not found', even when no endpoint was recorded for it.
    const mode = c.networkMode;
    if (mode && mode !== 'default' && !PREDEFINED.includes(mode) && !mode.startsWith('container:')) this.get(mode);
    const all = Object.entries(c.net.Networks).map(([name, ep]) => [this.get(name), ep] as const);
    // host and none have no interface to make, but moby joins them all the same: an endpoint ID
    // of their own while the container runs (detach clears it).
    for (const [n, ep] of all) if (n.Driver !== 'bridge') ep.EndpointID = randomBytes(32).toString('hex');
    const entries = all.filter(([n]) => n.Driver === 'bridge');
    // moby emits `network connect` for each network a starting container joins (before `start`).
    const connected = (): void => { for (const [n] of all) this.emit(n, 'connect', c.id); };
    if (!entries.length) {
      if (all.length) c.net.SandboxID = randomBytes(32).toString('hex');
      connected();
      return undefined;
    }
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
      for (const [n, ep] of allocated) { this.releaseAddresses(n, ep); clearAddress(ep); }
      throw err;
    }
    for (const [n] of entries) this.member(n, c, true);
    connected();
    this.log.debug({ id: c.id, ms: Math.round(performance.now() - t0) }, 'network attached');
    return c.net.SandboxKey;
  }

  /**
   * Publishes the container's ports on its first network. The host ports are chosen first, as
   * dockerd's allocator does (network/port-allocator.ts), and recorded at once so that detach
   * gives them back whatever fails later; then the proxy binds them.
   */
  private async publish(c: NetContainer, n: NetworkRecord, ep: EndpointRecord): Promise<void> {
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
      started = await this.o.proxy.start(forwards, c.id);
    } catch (err) {
      throw fail(err);
    }
    c.net.ProxyPid = started.pid;
    // IPv6 listeners reach the container through the proxy alone (dockerd 20.10 without --ip6tables).
    const rules: Rule[] = started.forwards.filter((f) => !isIPv6(f.hostIp)).flatMap((f) => portRules(this.bridgeName(n), f, this.o.loopbackNat));
    await setRules(`${this.bridgeName(n)}/${c.id.slice(0, 12)}`, rules);
  }

  /** Gives a container's host ports back to the allocator (its port map is about to be dropped). */
  private releasePorts(c: NetContainer): void {
    for (const [key, binds] of Object.entries(c.net.Ports)) {
      for (const b of binds ?? []) this.hostPorts.release(b.HostIp, (key.split('/')[1] ?? 'tcp') as 'tcp' | 'udp', Number(b.HostPort));
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
      // `network disconnect` for each network it had joined (after `die`, as moby's release does)
      if (n && ep.EndpointID) this.emit(n, 'disconnect', c.id);
      if (n?.Driver === 'bridge') {
        if (published) await removeRules(`${this.bridgeName(n)}/${c.id.slice(0, 12)}`).catch(() => {});
        this.releaseAddresses(n, ep);
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
    delete c.net.SandboxID;
    // moby's releaseNetwork drops the port map: a stopped container shows `"Ports": {}` and no rows in ps.
    this.releasePorts(c);
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
      if (ep.GlobalIPv6Address && !this.pool6(n)?.claim(ep.GlobalIPv6Address)) this.log.warn({ id: c.id, ip: ep.GlobalIPv6Address }, 'IPv6 address claimed twice');
      this.member(n, c, true);
      first ??= [n, ep];
    }
    if (!first) return;
    const tag = `${this.bridgeName(first[0])}/${c.id.slice(0, 12)}`;
    const forwards: PublishedPort[] = [];
    for (const [key, binds] of Object.entries(c.net.Ports)) {
      const [port, proto] = key.split('/');
      for (const b of binds ?? []) {
        forwards.push({ proto: proto as 'tcp' | 'udp', hostIp: b.HostIp, hostPort: Number(b.HostPort), containerIp: first[1].IPAddress, containerPort: Number(port) });
        if (!this.hostPorts.claim(b.HostIp, proto as 'tcp' | 'udp', Number(b.HostPort))) this.log.warn({ id: c.id, port: `${b.HostIp}:${b.HostPort}/${proto}` }, 'host port claimed twice');
      }
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
  async connect(c: NetContainer, ref: string, cfg: EndpointInput, running: boolean): Promise<void> {
    const n = this.get(ref);
    if (n.Driver !== 'bridge') throw new InvalidParameter(`container cannot be connected to network ${n.Name}`);
    if (c.networkMode === 'host' || c.networkMode === 'none' || c.networkMode.startsWith('container:')) {
      throw new InvalidParameter(`container sharing network namespace with another container or host cannot be connected to any other network`);
    }
    // the endpoint's settings are checked first (moby's updateNetworkConfig), then whether it is
    // there; an IPv6Address of the wrong family is only found not to fit the subnet (allocation)
    checkEndpointAddresses({ ...cfg, IPAMConfig: cfg.IPAMConfig ? { ...cfg.IPAMConfig, IPv6Address: undefined } : cfg.IPAMConfig });
    const ep = this.endpointFrom(n, cfg);
    if (c.net.Networks[n.Name]) throw new Conflict(`endpoint with name ${c.name} already exists in network ${n.Name}`);
    if (running) {
      this.allocate(c, n, ep);
      const index = Object.values(c.net.Networks).filter((e) => e.IfName).length;
      const spec = this.endpointSpec(c, n, ep, index, false);
      ep.HostIf = spec.hostIf;
      ep.IfName = spec.ifName;
      try {
        await addEndpoint(this.nsName(c), spec);
      } catch (err) {
        this.releaseAddresses(n, ep);
        throw err;
      }
      this.member(n, c, true);
    }
    if (!running) ep.ConnectedBeforeStart = true;
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
    this.releaseAddresses(n, ep);
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
        // the endpoint's links first (libnetwork's alias pass): "name:alias" makes `alias` stand
        // for container `name` on this network, for this container alone
        const target = (c.net.Networks[n.Name]?.Links ?? []).map((l) => l.split(':')).find((p) => (p[1] ?? p[0])!.toLowerCase() === want)?.[0];
        for (const asked of target ? [target.toLowerCase(), want] : [want]) {
          const out: string[] = [];
          for (const other of this.containersOf(n)) {
            const ep = other.net.Networks[n.Name];
            if (ep?.IPAddress && (ep.DNSNames ?? []).some((d) => d.toLowerCase() === asked)) out.push(ep.IPAddress);
          }
          if (out.length) return out;
        }
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
  ep.GlobalIPv6Address = '';
  ep.GlobalIPv6PrefixLen = 0;
  ep.IPv6Gateway = '';
  // what the client asked for stays shown until the next start (moby keeps the endpoint config)
  ep.MacAddress = ep.DesiredMac ?? '';
  ep.EndpointID = '';
  delete ep.HostIf;
  delete ep.IfName;
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

/** A network's IPv4 IPAM entries (the first is the one in use). */
function v4Configs(n: NetworkRecord): IpamConfig[] {
  return n.IPAM.Config.filter((c) => !isCidr6(c.Subnet));
}

/** A network's IPv6 IPAM entry, if it has one. */
function v6Config(n: NetworkRecord): IpamConfig | undefined {
  return n.IPAM.Config.find((c) => isCidr6(c.Subnet));
}

function auxOf(c: IpamConfig | undefined): Pick<IpamConfig, 'AuxiliaryAddresses'> {
  return c?.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length ? { AuxiliaryAddresses: { ...c.AuxiliaryAddresses } } : {};
}

/** Auxiliary addresses must lie in their entry's subnet (libnetwork's words). */
function checkAuxiliary(c: IpamConfig): void {
  const v6 = isCidr6(c.Subnet);
  for (const [k, a] of Object.entries(c.AuxiliaryAddresses ?? {})) {
    let inside: boolean;
    try {
      if (v6) { const s = parseCidr6(c.Subnet); const ip = ip6ToBig(a); inside = ip >= s.base && ip < s.base + s.size; } else { const s = parseCidr(c.Subnet); const ip = ipToInt(a); inside = ip >= s.base && ip < s.base + s.size; }
    } catch { inside = false; }
    if (!inside) throw new Forbidden(`auxiliary address: (${k}:${a}) must belong to the master pool: ${c.Subnet}`);
  }
}

/** EndpointSettings.IPAMConfig as Go keeps it: null stays null, empty fields are dropped. */
function ipamConfigOf(c: EndpointIpamConfig | null | undefined): EndpointIpamConfig | null {
  if (!c) return null;
  return {
    ...(c.IPv4Address ? { IPv4Address: c.IPv4Address } : {}), ...(c.IPv6Address ? { IPv6Address: c.IPv6Address } : {}),
    ...(c.LinkLocalIPs?.length ? { LinkLocalIPs: [...c.LinkLocalIPs] } : {}),
  };
}

/** The addresses a client gives for an endpoint, checked with moby's words before anything is made. */
function checkEndpointAddresses(ec: EndpointInput): void {
  const ipam = ec.IPAMConfig;
  if (ipam?.IPv4Address && !isIPv4(ipam.IPv4Address)) throw new InvalidParameter(`invalid IPv4 address: ${ipam.IPv4Address}`);
  if (ipam?.IPv6Address && !isIPv6(ipam.IPv6Address)) throw new InvalidParameter(`invalid IPv6 address: ${ipam.IPv6Address}`);
  for (const a of ipam?.LinkLocalIPs ?? []) if (!isIP(a)) throw new InvalidParameter(`invalid link-local IP address: ${a}`);
  if (ec.MacAddress && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(ec.MacAddress)) throw new InvalidParameter(`invalid MAC address: ${ec.MacAddress}`);
}
