// Networks and container endpoints: the predefined `bridge` (on the daemon's bridge, berth0 by
// default), `host` and `none`, user-defined bridge networks, and what a container gets when it
// starts on one: a named network namespace, a veth pair into each network's bridge, an address
// from the network's pool, published ports (iptables DNAT + a port proxy process), and names
// in the embedded DNS on user networks. Records live in <data-root>/network/<id>.json; the
// addresses in use are rebuilt from the containers' records when berthd starts.
//
// This service keeps the records, the addresses (IPAM), the members and the events; what is made
// on the host goes through a NetworkDriver (network/network-driver.ts, the bridge one in
// network/bridge/), so this logic is tested on a fake driver without root.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidParameter, NotFound } from '../errors.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import { atomicWriteJson } from '../util/atomic-write.ts';
import type { Logger } from '../util/log.ts';
import type { EventLog } from './events.ts';
import { parseCidr, formatCidr, type Cidr } from '../network/ipam.ts';
import { NetworkIpam } from '../network/network-ipam.ts';
import { resolveName, resolveIp, type UserNetwork } from '../network/name-resolution.ts';
import { RESOLVER_IP } from '../network/netns-sockets.ts';
import { isPredefinedNetwork } from '../network/predefined.ts';
import type { Attachment, BridgeNetwork, NetworkDriver } from '../network/network-driver.ts';
import { clearAddress, checkEndpointAddresses, type EndpointInput, type EndpointRecord, type NetContainer } from '../network/endpoint.ts';
import { endpointFrom, initialEndpointsFor } from '../network/endpoint-config.ts';
import { baseRecord, bridgeName, newNetworkRecord, v4Configs, type NetworkCreateRequest, type NetworkRecord } from '../network/network-record.ts';

export type { EndpointIpamConfig, EndpointInput, EndpointRecord, PortBinding, ContainerNet, NetContainer } from '../network/endpoint.ts';
export type { IpamConfig, NetworkRecord, NetworkCreateRequest } from '../network/network-record.ts';
// for api/, which may not import network/ itself
export { isPredefinedNetwork } from '../network/predefined.ts';

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
  /** What makes networks and endpoints real on the host (network/bridge/bridge-driver.ts in production). */
  driver: NetworkDriver;
  /**
   * The embedded DNS at 127.0.0.11 inside a container's namespace (network/container-dns.ts):
   * started for containers on user networks, stopped with their network.
   */
  dns?: { start(id: string, netnsPath: string, cfg: { upstreams: string[]; ndotsSet: boolean }): Promise<void>; stop(id: string): Promise<void>; running(id: string): boolean };
}

export class NetworkService {
  /** Where network events go (set by the engine). */
  events?: EventLog;
  private readonly dir: string;
  private readonly o: NetworkServiceOptions;
  private readonly log: Logger;
  private readonly driver: NetworkDriver;
  private readonly nets = new Map<string, NetworkRecord>();
  /** The addresses of all networks. */
  private readonly ipam: NetworkIpam;
  /** Containers with endpoints, per network ID (for inspect and DNS). */
  private readonly members = new Map<string, Map<string, NetContainer>>();
  /** One removal per network (DELETE twice, or DELETE and prune). */
  private readonly removals = new KeyedMutex();

  private constructor(o: NetworkServiceOptions) {
    this.o = o;
    this.log = o.log;
    this.driver = o.driver;
    this.ipam = new NetworkIpam(o.log);
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
    await s.driver.init();
    for (const n of s.nets.values()) if (n.Driver === 'bridge') await s.driver.createNetwork(s.bridgeOf(n));
    return s;
  }

  // ---- records --------------------------------------------------------------------------------

  private async persist(n: NetworkRecord): Promise<void> {
    await atomicWriteJson(join(this.dir, `${n.Id}.json`), n);
  }

  private async ensurePredefined(): Promise<void> {
    const byName = (n: string): NetworkRecord | undefined => [...this.nets.values()].find((x) => x.Name === n);
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!byName(name)) {
        const n = baseRecord(name, driver);
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
    const n = existing ?? baseRecord('bridge', 'bridge');
    n.IPAM.Config = [want];
    n.Options = {
      'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': this.o.bridge, 'com.docker.network.driver.mtu': String(this.o.mtu),
    };
    this.nets.set(n.Id, n);
    await this.persist(n);
  }

  /** What the driver needs to know of a bridge network. */
  private bridgeOf(n: NetworkRecord): BridgeNetwork {
    const c = n.IPAM.Config[0]!;
    const p6 = this.ipam.pool6(n);
    return {
      id: n.Id, name: n.Name, bridge: bridgeName(n), subnet: c.Subnet, internal: n.Internal,
      gatewayCidr: `${c.Gateway}/${parseCidr(c.Subnet).prefix}`, gateway6Cidr: p6 ? `${p6.gatewayText}/${p6.prefix}` : undefined,
    };
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

  /** `network create`: the record is checked whole, then its bridge is made, then it is persisted. */
  async create(o: NetworkCreateRequest): Promise<NetworkRecord> {
    const n = await newNetworkRecord(o, this.list(), () => this.freeSubnet());
    await this.driver.createNetwork(this.bridgeOf(n));
    try {
      await this.persist(n);
    } catch (err) {
      await this.driver.removeNetwork(this.bridgeOf(n)).catch(() => {});
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
  private async freeSubnet(): Promise<Cidr> {
    const routes = await this.driver.hostRoutes();
    const taken = [...[...this.nets.values()].flatMap((n) => v4Configs(n).map((c) => parseCidr(c.Subnet))), ...routes];
    return this.ipam.freeSubnet(parseCidr(this.o.pool), taken);
  }

  async remove(ref: string): Promise<void> {
    const found = this.get(ref);
    // One removal per network: a second (DELETE twice, or DELETE and prune) finds it gone.
    await this.removals.run(found.Id, async () => {
      if (!this.nets.has(found.Id)) throw new NotFound(`network ${ref} not found`);
      await this.removeLocked(found.Id);
    });
  }

  private async removeLocked(ref: string): Promise<void> {
    const n = this.get(ref);
    if (isPredefinedNetwork(n.Name)) throw new Conflict(`${n.Name} is a pre-defined network and cannot be removed`);
    const users = this.containersOf(n);
    if (users.length) throw new Conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    await this.driver.removeNetwork(this.bridgeOf(n));
    await rm(join(this.dir, `${n.Id}.json`), { force: true });
    this.nets.delete(n.Id);
    this.ipam.forget(n);
    this.emit(n, 'destroy');
  }

  /** Networks no container is configured for (`docker network prune`). */
  async prune(inUse: (n: NetworkRecord) => boolean, match: (n: NetworkRecord) => boolean): Promise<string[]> {
    const out: string[] = [];
    for (const n of [...this.nets.values()]) {
      if (isPredefinedNetwork(n.Name) || inUse(n) || !match(n) || this.containersOf(n).length) continue;
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

  /** What `default` means: the `bridge` network, or `none` when the daemon runs with `--bridge none`. */
  defaultMode(): 'bridge' | 'none' {
    return [...this.nets.values()].some((n) => n.Name === 'bridge') ? 'bridge' : 'none';
  }

  /** The network record a container's NetworkMode names (bridge for default), or undefined for host/none/container:. */
  modeNetwork(mode: string): NetworkRecord | undefined {
    if (mode === 'default') mode = this.defaultMode();
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return undefined;
    const n = this.get(mode === 'default' ? 'bridge' : mode);
    return n.Driver === 'bridge' ? n : undefined;
  }

  /** The endpoints a new container starts with (network/endpoint-config.ts). */
  initialEndpoints(mode: string, endpointsConfig: Record<string, unknown> | null | undefined): Record<string, EndpointRecord> {
    return initialEndpointsFor(this, mode, endpointsConfig);
  }

  private member(n: NetworkRecord, c: NetContainer, on: boolean): void {
    let m = this.members.get(n.Id);
    if (!m) { m = new Map(); this.members.set(n.Id, m); }
    if (on) m.set(c.id, c); else m.delete(c.id);
  }

  /** The container's endpoints on bridge networks whose record exists, as the driver sees them. */
  private attachments(c: NetContainer): Attachment[] {
    const out: Attachment[] = [];
    for (const [name, ep] of Object.entries(c.net.Networks)) {
      let n: NetworkRecord | undefined;
      try { n = this.get(name); } catch { n = undefined; }
      if (n?.Driver === 'bridge') out.push({ network: this.bridgeOf(n), endpoint: ep });
    }
    return out;
  }

  /**
   * Sets up a starting container's network: namespace, endpoints, published ports. Returns the
   * namespace path for the OCI spec. On failure everything it did is undone. `pid`: adopt that
   * (created, not yet started) process's namespace (the driver says why).
   */
  async attach(c: NetContainer, pid?: number): Promise<string | undefined> {
    // A network mode naming a network that is gone (or never was: create accepts it) fails the
    // start with moby's 404 'network X not found', even when no endpoint was recorded for it.
    const mode = c.networkMode;
    if (mode && mode !== 'default' && !isPredefinedNetwork(mode) && !mode.startsWith('container:')) this.get(mode);
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
    const allocated: [NetworkRecord, EndpointRecord][] = [];
    const t0 = performance.now();
    await this.driver.settle(c);
    try {
      for (const [n, ep] of entries) { this.ipam.allocate(c, n, ep); allocated.push([n, ep]); }
      await this.driver.join(c, entries.map(([n, ep]) => ({ network: this.bridgeOf(n), endpoint: ep })), pid);
    } catch (err) {
      // detach releases what it finds recorded; addresses allocated before the failure too.
      await this.detach(c).catch(() => {});
      for (const [n, ep] of allocated) { this.ipam.release(n, ep); clearAddress(ep); }
      throw err;
    }
    for (const [n] of entries) this.member(n, c, true);
    connected();
    this.log.debug({ id: c.id, ms: Math.round(performance.now() - t0) }, 'network attached');
    return c.net.SandboxKey;
  }

  /** Tears down what attach made (idempotent: also finishes a half-done teardown after a crash). */
  async detach(c: NetContainer): Promise<void> {
    const t0 = performance.now();
    // Its sockets hold the namespace: they go first.
    if (this.o.dns?.running(c.id)) await this.o.dns.stop(c.id).catch((err) => this.log.warn({ id: c.id, err: String(err) }, 'embedded DNS not stopped'));
    await this.driver.leave(c, this.attachments(c));
    delete c.net.SandboxID;
    for (const [name, ep] of Object.entries(c.net.Networks)) {
      let n: NetworkRecord | undefined;
      try { n = this.get(name); } catch { n = undefined; }
      // `network disconnect` for each network it had joined (after `die`, as moby's release does)
      if (n && ep.EndpointID) this.emit(n, 'disconnect', c.id);
      if (n?.Driver === 'bridge') {
        this.ipam.release(n, ep);
        this.member(n, c, false);
      }
      clearAddress(ep);
    }
    this.log.debug({ id: c.id, ms: Math.round(performance.now() - t0) }, 'network detached');
  }

  /**
   * After a daemon restart: a running container's addresses are claimed again, its proxy
   * restarted if it died, its rules re-set; a container that stopped meanwhile is torn down.
   */
  async restore(c: NetContainer, running: boolean): Promise<void> {
    if (!running) { if (c.net.SandboxKey || c.net.ProxyPid) await this.detach(c); return; }
    let first: Attachment | undefined;
    for (const [name, ep] of Object.entries(c.net.Networks)) {
      let n: NetworkRecord;
      try { n = this.get(name); } catch { continue; }
      if (n.Driver !== 'bridge' || !ep.IPAddress) continue;
      this.ipam.claim(c, n, ep);
      this.member(n, c, true);
      first ??= { network: this.bridgeOf(n), endpoint: ep };
    }
    await this.driver.restore(c, first);
  }

  /**
   * What a crash between a step and its record can leave, removed at start-up: rules of
   * containers that no longer run, and proxies and namespaces of this daemon's containers that
   * are not running (other daemons' containers are not in `known`, so theirs are left alone).
   */
  async sweep(liveIds: Set<string>, known: Set<string>, recordedProxies: Set<number>, usedNetns: Set<string>): Promise<void> {
    const bridges = new Set([...this.nets.values()].filter((n) => n.Driver === 'bridge').map((n) => bridgeName(n)));
    await this.driver.sweep({ liveIds, known, recordedProxies, usedNetns, bridges });
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
    const ep = endpointFrom(n, cfg);
    if (c.net.Networks[n.Name]) throw new Conflict(`endpoint with name ${c.name} already exists in network ${n.Name}`);
    if (running) {
      this.ipam.allocate(c, n, ep);
      const index = Object.values(c.net.Networks).filter((e) => e.IfName).length;
      try {
        await this.driver.addEndpoint(c, { network: this.bridgeOf(n), endpoint: ep }, index);
      } catch (err) {
        this.ipam.release(n, ep);
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
    if (running && ep.HostIf) await this.driver.removeEndpoint(c, { network: this.bridgeOf(n), endpoint: ep }, Object.keys(c.net.Networks)[0] === n.Name);
    this.ipam.release(n, ep);
    this.member(n, c, false);
    delete c.net.Networks[n.Name];
    this.emit(n, 'disconnect', c.id);
  }

  // ---- the embedded DNS -------------------------------------------------------------------------

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
  private userNetworksOf(c: NetContainer): UserNetwork[] {
    const out: UserNetwork[] = [];
    for (const [name, ep] of Object.entries(c.net.Networks)) {
      const n = this.nets.get(ep.NetworkID) ?? [...this.nets.values()].find((x) => x.Name === name);
      if (n && n.Name !== 'bridge' && n.Driver === 'bridge' && ep.IPAddress) out.push({ name: n.Name, members: () => this.containersOf(n) });
    }
    return out;
  }

  private memberById(id: string): NetContainer | undefined {
    for (const m of this.members.values()) { const c = m.get(id); if (c) return c; }
    return undefined;
  }

  /** What the embedded DNS of container `id` answers for `name` (network/name-resolution.ts); undefined: not ours. */
  resolveName(id: string, name: string): string[] | undefined {
    const c = this.memberById(id);
    return c ? resolveName(c, this.userNetworksOf(c), name) : undefined;
  }

  /** The PTR answer for `ip` asked by container `id`. */
  resolveIp(id: string, ip: string): string | undefined {
    const c = this.memberById(id);
    return c ? resolveIp(this.userNetworksOf(c), ip) : undefined;
  }

  /** Waits for namespace deletions under way (shutdown). */
  async drain(): Promise<void> {
    await this.driver.drain();
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
