// Wires the engine's services over one data root and one exec root, and runs the start-up
// reconcile that makes live restore work.
import { readFile, mkdir, chmod } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ensureDir, atomicWrite } from '../util/atomic-write.ts';
import { newId } from '../util/ids.ts';
import type { Logger } from '../util/log.ts';
import { Runtime } from '../runtime/runtime.ts';
import { ImageStore } from '../image/store.ts';
import { ImageService, type RegistrySettings } from './images.ts';
import { BuildService } from './build.ts';
import { EventLog } from './events.ts';
import { HealthMonitor } from './container/health.ts';
import { ContainerService, type NamespaceDefaults } from './containers.ts';
import { realHost } from './host.ts';
import { DEFAULT_INIT_BINARY, initVersion } from '../runtime/init-binary.ts';
import { hostAppArmor } from '../runtime/apparmor.ts';
import { ExecService } from './exec.ts';
import { NetworkService } from './networks.ts';
import { BridgeDriver } from '../network/bridge/bridge-driver.ts';
import { VolumeService } from './volumes.ts';
import { VolumeStore } from '../volume/store.ts';
import { remapRange, type IdRange } from '../sys/userns.ts';
import { EmbeddedDns } from '../network/dns-server.ts';
import { ContainerDns } from '../network/container-dns.ts';
import { NetnsSocketOpener } from '../network/netns-sockets.ts';
import { ProxyClient } from '../sys/proxy-process.ts';
import { RootlessKitPorts, rootlessKitApi } from '../network/rootlesskit-ports.ts';
import type { ProxyControl } from '../network/bridge/port-publisher.ts';
import type { RootlessMode } from '../sys/rootless.ts';
import { setOverlayDriver } from '../sys/mount.ts';
import { ForwardTable } from '../network/port-proxy.ts';

export interface EngineOptions {
  dataRoot: string;
  execRoot: string;
  runtimePath: string;
  log: Logger;
  debug: boolean;
  /** Default bridge name (`none`: no default bridge network), its gateway/prefix, MTU, user-network pool. */
  bridge: string;
  bip: string;
  mtu: number;
  addressPool: string;
  /** false: the host's connections to published 127.0.0.x ports go through the port proxy (dockerd's way). */
  userlandProxy: boolean;
  /** true: enabling forwarding leaves the filter FORWARD policy as it is (dockerd's --ip-forward-no-drop). */
  ipForwardNoDrop?: boolean;
  /** `default` or `user[:group]` with ranges in /etc/subuid and /etc/subgid; empty: no remapping. */
  usernsRemap?: string;
  /** insecure-registries, registry-mirrors, and where registry CAs live. */
  registry: RegistrySettings;
  /**
   * daemon.json default-ulimits / --default-ulimit, in HostConfig.Ulimits form: containers without
   * their own limit of a kind get these (validated by the daemon; not yet applied by the engine).
   */
  defaultUlimits?: Array<{ Name: string; Soft: number; Hard: number }>;
  /** Default log driver of containers: json-file (default), k8s-file, local or none. */
  logDriver?: string;
  /** Default log options, validated by the daemon: max-size (e.g. 10m), max-file (≥ 1), compress (bool). */
  logOpts?: Record<string, string>;
  /** daemon.json `init`, `init-path`, `default-ipc-mode`. */
  namespaces?: NamespaceDefaults;
  /** Rootless mode (sys/rootless.ts), detected by daemon/ inside RootlessKit's namespaces. */
  rootless?: RootlessMode;
  /** How root filesystems are mounted: the kernel's overlayfs (overlay2) or fuse-overlayfs. */
  storageDriver?: 'overlay2' | 'fuse-overlayfs';
}

export class Engine {
  readonly containers: ContainerService;
  readonly exec: ExecService;
  readonly images: ImageService;
  readonly runtime: Runtime;
  readonly networks: NetworkService;
  readonly volumes: VolumeService;
  readonly builds: BuildService;
  readonly events: EventLog;
  readonly health: HealthMonitor;
  readonly opts: EngineOptions;
  readonly id: string;

  private constructor(opts: EngineOptions, id: string, runtime: Runtime, images: ImageService, containers: ContainerService, builds: BuildService, events: EventLog) {
    this.opts = opts;
    this.builds = builds;
    this.events = events;
    this.id = id;
    this.runtime = runtime;
    this.images = images;
    this.containers = containers;
    this.networks = containers.networks;
    this.volumes = containers.volumes;
    this.exec = new ExecService(containers, runtime);
    this.health = new HealthMonitor(containers, this.exec, opts.log);
    containers.onStarted = (c) => this.health.start(c);
    containers.onStopped = (c) => this.health.stop(c);
    for (const c of containers.all()) if (c.rec.State.Running) this.health.start(c, true);
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    await ensureDir(opts.dataRoot);
    // Every union mount of this daemon (containers' roots, build steps) goes through one driver.
    setOverlayDriver(opts.storageDriver === 'fuse-overlayfs' ? 'fuse-overlayfs' : opts.rootless ? 'overlay-userxattr' : 'overlay');
    await ensureDir(opts.execRoot);
    const id = await engineId(opts.dataRoot);
    const runtime = new Runtime({ runtimePath: opts.runtimePath, execRoot: opts.execRoot, log: opts.log, rootless: opts.rootless });
    // userns-remap: images, containers and volumes of the remapped root live in <data-root>/<uid>.<gid>
    // (as with dockerd), their files owned by the remapped ids; the path is passable for that root.
    let idMap: IdRange | undefined;
    let root = opts.dataRoot;
    if (opts.usernsRemap) {
      idMap = await remapRange(opts.usernsRemap);
      root = join(opts.dataRoot, `${idMap.uid}.${idMap.gid}`);
      await mkdir(root, { recursive: true, mode: 0o711 });
      for (const d of [opts.dataRoot, root]) await chmod(d, 0o711);
    }
    const store = await ImageStore.open(root, opts.log, idMap ? { uid: idMap.uid, gid: idMap.gid } : undefined);
    if (opts.rootless) store.rootless = { devices: false, singleId: opts.rootless.singleId };
    let containers!: ContainerService;
    const images = new ImageService(store, (imageId) => containers.imageUsage(imageId), opts.registry, opts.log);
    // Side-by-side daemons get cgroup trees of their own, so one never sees the other's.
    const cgroupParent = opts.execRoot === '/run/berth' ? '/berth' : `/berth-${daemonTag(opts.execRoot)}`;
    let networks!: NetworkService;
    const dns = new EmbeddedDns({
      // Keyed by container ID: each container's resolver answers what its networks know.
      log: opts.log, upstreams: await hostResolvers(), lookup: (id, name) => networks.resolveName(id, name),
      reverseLookup: (id, ip) => networks.resolveIp(id, ip),
    });
    const containerDns = new ContainerDns({ dns, opener: new NetnsSocketOpener(), log: opts.log });
    // The helper that opens sockets in namespaces starts now, so the first container does not wait for it.
    containerDns.warm();
    // A proxy left by this daemon run before with userland-proxy=true would keep the ports it holds.
    if (!opts.userlandProxy) await new ProxyClient(opts.execRoot).removeAll().catch((err: Error) => opts.log.warn({ err: err.message }, 'port proxy of an earlier run not stopped'));
    const driver = new BridgeDriver({
      log: opts.log, mtu: opts.mtu, loopbackNat: !opts.userlandProxy, ipForwardNoDrop: opts.ipForwardNoDrop ?? false,
      poolTag: poolTag(opts.execRoot), poolSize: 2,
      // Published ports are held by berthd itself (kernel NAT carries the traffic, as with Docker's
      // userland-proxy=false), or by one berth-proxy process for the whole daemon.
      // Rootless, RootlessKit's port driver carries each published port from the host to the container.
      proxy: portProxy(opts),
    });
    networks = await NetworkService.open({
      dataRoot: root, log: opts.log, bridge: opts.bridge, bip: opts.bip, mtu: opts.mtu, pool: opts.addressPool,
      driver, dns: containerDns,
    });
    const volumes = new VolumeService(await VolumeStore.open(root, opts.log, idMap),
      (name) => containers.all().filter((c) => (c.rec.Mounts ?? []).some((m) => m.Name === name)).map((c) => c.rec.Id));
    containers = new ContainerService({ dataRoot: root, cgroupParent, host: realHost(runtime), images, networks, volumes, log: opts.log, idMap, logDriver: opts.logDriver, logOpts: opts.logOpts, defaultUlimits: opts.defaultUlimits, namespaces: opts.namespaces, rootless: opts.rootless });
    // Exits the runtime finds at init for containers not loaded yet are picked up again by
    // reconcile (it reads the exit file of every container recorded as running).
    runtime.onExit((cid, info) => {
      containers.handleExit(cid, info).catch((err) => opts.log.error({ id: cid, err: String(err) }, 'exit handling failed'));
    });
    const events = await EventLog.open(root, opts.log);
    containers.events = events;
    images.events = events;
    networks.events = events;
    volumes.events = events;
    await runtime.init();
    await containers.load();
    await containers.reconcile();
    // Restart policies at boot: `always`, and `unless-stopped` unless stopped by hand.
    for (const c of containers.all()) if (!c.rec.State.Running) containers.scheduleRestart(c, true);
    const running = containers.all().filter((c) => c.rec.State.Running);
    await networks.sweep(new Set(running.map((c) => c.rec.Id)), new Set(containers.all().map((c) => c.rec.Id)),
      new Set(running.map((c) => c.rec.NetworkSettings?.ProxyPid ?? 0).filter((p) => p > 0)),
      new Set(running.map((c) => (c.rec.NetworkSettings?.SandboxKey ?? '').split('/').pop() ?? '').filter(Boolean)));
    const builds = await BuildService.open({ images, containers, dataRoot: root, log: opts.log });
    return new Engine(opts, id, runtime, images, containers, builds, events);
  }

  /** Containers keep running (live restore): shutdown only lets go of them. */
  async shutdown(): Promise<void> {
    this.containers.shuttingDown = true;
    this.health.stopAll();
    await this.containers.drainTeardowns();
    await this.networks.drain();
    await this.events.flush();
    await this.runtime.close?.();
  }

  async info(): Promise<{
    containers: number; running: number; paused: number; stopped: number; images: number; dataRoot: string;
    execRoot: string; runtime: string; cgroupVersion: '1' | '2'; id: string; name: string; debug: boolean;
    registry: RegistrySettings; securityOptions: string[]; eventListeners: number;
    /** The pool user networks take their subnets from (docker info's DefaultAddressPools); Berth's are /24s. */
    addressPools: { Base: string; Size: number }[];
    init: { binary: string; version?: { name: string; version: string; commit: string } };
    warnings: string[];
    storageDriver: string;
    noCgroups: boolean;
  }> {
    const c = this.containers.counts();
    return {
      containers: c.total, running: c.running, paused: c.paused, stopped: c.stopped,
      images: this.images.store.list().length, dataRoot: this.opts.dataRoot, execRoot: this.opts.execRoot,
      runtime: this.opts.runtimePath, cgroupVersion: await cgroupVersion(), id: this.id, name: hostname(),
      debug: this.opts.debug, registry: this.opts.registry,
      // moby fillSecurityOptions, in its order: AppArmor only where the host has it (runtime/apparmor.ts),
      // Docker's default seccomp profile (runtime/seccomp.ts); cgroup namespaces are not used (v1 host).
      securityOptions: [...(hostAppArmor.supported ? ['name=apparmor'] : []), 'name=seccomp,profile=builtin',
        ...(this.opts.usernsRemap ? ['name=userns'] : []), ...(this.opts.rootless ? ['name=rootless'] : [])],
      eventListeners: this.events.listeners,
      addressPools: [{ Base: this.opts.addressPool, Size: 24 }],
      init: { binary: this.opts.namespaces?.initPath || DEFAULT_INIT_BINARY, version: await initVersion(this.opts.namespaces?.initPath ?? '') },
      // What start-up moved to quarantine (image store), until an operator removes it.
      warnings: [...await this.images.store.warnings(), ...rootlessWarnings(this.opts.rootless, await cgroupVersion())],
      storageDriver: this.opts.storageDriver ?? 'overlay2',
      noCgroups: !!this.opts.rootless && !this.opts.rootless.cgroups,
    };
  }
}

/**
 * What names a daemon's own host objects (cgroup tree, prepared namespaces) when it is not the
 * default one: readable (the exec root's name) and unique (a hash of its path).
 */
export function daemonTag(execRoot: string): string {
  const base = execRoot.split('/').filter(Boolean).pop()?.replace(/[^a-zA-Z0-9_-]/g, '').slice(0, 16) ?? '';
  return `${base}-${createHash('sha256').update(execRoot).digest('hex').slice(0, 6)}`;
}

function poolTag(execRoot: string): string {
  return `.${daemonTag(execRoot)}`;
}

/** The host's resolvers, where the embedded DNS sends names it does not know (loopback ones are useless to containers but fine for berthd). */
async function hostResolvers(): Promise<string[]> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return text.split('\n').filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!).filter(Boolean);
}

/** A stable daemon ID per data root (docker info's ID). */
async function engineId(dataRoot: string): Promise<string> {
  const p = join(dataRoot, 'engine-id');
  try {
    return (await readFile(p, 'utf8')).trim();
  } catch {
    const id = newId();
    await atomicWrite(p, id, 0o600);
    return id;
  }
}

let cgv: '1' | '2' | undefined;
async function cgroupVersion(): Promise<'1' | '2'> {
  if (cgv) return cgv;
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  cgv = mounts.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/cgroup' && l.split(' ')[2] === 'cgroup2') ? '2' : '1';
  return cgv;
}

/** Who holds published ports: berthd itself or its berth-proxy, behind RootlessKit's port driver when rootless. */
function portProxy(opts: EngineOptions): ProxyControl {
  const own: ProxyControl = opts.userlandProxy ? new ProxyClient(opts.execRoot) : new ForwardTable();
  const socket = opts.rootless?.portDriverSocket;
  return socket ? new RootlessKitPorts(own, rootlessKitApi(socket)) : own;
}

/** dockerd's own warning of a rootless daemon without cgroups (daemon/info.go), word for word. */
function rootlessWarnings(mode: RootlessMode | undefined, version: '1' | '2'): string[] {
  if (!mode || mode.cgroups) return [];
  return [version === '2'
    ? 'WARNING: Running in rootless-mode without cgroups. Systemd is required to enable cgroups in rootless-mode.'
    : 'WARNING: Running in rootless-mode without cgroups. To enable cgroups in rootless-mode, you need to boot the system in cgroup v2 mode.'];
}
