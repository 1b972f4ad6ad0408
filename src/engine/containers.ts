// The container use cases: create, start, stop, kill, wait, pause, rename, remove, and the
// reconcile that finds running containers again after berthd restarts (live restore).
//
// Lifecycle: create writes metadata and the container's dirs; start mounts the overlay rootfs,
// builds the OCI spec, lets conmon run `runc create`, connects any attach that was waiting,
// then `runc start`. conmon writes the exit file when the process ends; the runtime reports it
// through onExit, which records the exit, releases the runtime state and the mount, wakes the
// waiters, and removes the container when AutoRemove is set.
import { checkConfigPresent } from './config-presence.ts';
import { mkdir, rm, readFile, writeFile, chown } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BerthError, Conflict, InvalidParameter, NotFound, NotModified, System, noSuchContainer } from '../errors.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import { newId } from '../util/ids.ts';
import type { Logger } from '../util/log.ts';
import type { ExitInfo, AttachStream } from '../runtime/runtime.ts';
import type { Host, MountPort, RuntimePort } from './host.ts';
import { buildSpec } from '../runtime/spec.ts';
import { initBinaryPath } from '../runtime/init-binary.ts';
import { checkNamespaceModes, joinNamespaces, joinNetwork, wantsInit, IN_CONTAINER_INIT, prepareShm, releaseShm } from './namespace-modes.ts';
import type { ImageService } from './images.ts';
import type { ContainerRecord } from './container-record.ts';
import { initialState, setRunning, setStartError, setPaused, refuse, notRunning, notPaused,
  canStart, canStop, canKill, canPause, canUnpause, canReachProcess, canAttach, canRemove } from './container/state.ts';
import { ContainerStore, nameInUse, type Container, type PendingAttach } from './container/store.ts';
import type { ContainerContext, NamespaceDefaults } from './container/context.ts';
import { RestartManager } from './container/restart-manager.ts';
import { handleExit } from './container/exit.ts';
import { mergeCommand, mergeConfig, createHostConfig, type Ulimit } from './container/create-config.ts';
import { isNoRestart, validateRestartPolicy } from './restart-policy.ts';
import { validateName, generateName, validateRenameTarget } from './names.ts';
import { validatePortBindings } from './port-spec.ts';
import { writeEtcFiles, containerResolverConfig, rewriteResolvConf } from './etc-files.ts';
import { parseSignal, parseKillSignal, checkKillSignal } from './signals.ts';
import { nowRfc3339 } from './status.ts';
import type { NetworkService, NetContainer, PortBinding } from './networks.ts';
import type { VolumeService } from './volumes.ts';
import { resolveInRoot } from '../util/root-paths.ts';
import { validateResources, type ResourceFields } from './resources.ts';
import { containerSpecInput, ociResources, securityOptions, blockDevice } from './container/oci-spec.ts';
import { LogRotator } from '../runtime/log-rotation.ts';
import type { EventLog } from './events.ts';
import { daemonEnvironment, replaceOrAppendEnv } from './process-env.ts';
import { LinkIndex } from './legacy-links.ts';
import { resolveLinks, registerLinks, linksView, allNames, removeLink, linkedEnv, netOf, attachNetwork, releaseNetwork,
  checkNetworkMode, connectNetwork, disconnectNetwork } from './container/network-glue.ts';
import { effectiveNetworkMode } from './host-config.ts';

export type { AttachStream, Container, PendingAttach, NamespaceDefaults };

export interface ContainerPaths { upper: string; work: string; merged: string; lower: string[] }

export interface ContainerServiceOptions {
  dataRoot: string;
  /** cgroup parent of every container of this daemon (`/berth`, or per exec root when not default). */
  cgroupParent: string;
  /** The runtime and the mounts: every side effect on the host (engine/host.ts). */
  host: Host;
  images: ImageService;
  networks: NetworkService;
  volumes: VolumeService;
  log: Logger;
  /** userns-remap: container root is this host uid/gid (size ids mapped). */
  idMap?: { uid: number; gid: number; size: number };
  /** Daemon-wide log-driver / log-opts (daemon.json). */
  logDriver?: string;
  logOpts?: Record<string, string>;
  /** daemon.json default-ulimits. */
  defaultUlimits?: Ulimit[];
  /** daemon.json `init` / `init-path` and `default-ipc-mode` (namespace-modes.ts). */
  namespaces?: NamespaceDefaults;
}


const MAX_STOP_WAIT_MS = 60_000;

export class ContainerService {
  /** Legacy links (`--link` on the default bridge): their names resolve like container names. */
  readonly links = new LinkIndex();
  private readonly store: ContainerStore;
  private readonly ctx: ContainerContext;
  private readonly restarts: RestartManager;
  private readonly lock = new KeyedMutex();
  readonly root: string;
  private readonly runtime: RuntimePort;
  private readonly mounts: MountPort;
  private readonly images: ImageService;
  readonly networks: NetworkService;
  readonly volumes: VolumeService;
  private readonly log: Logger;
  private readonly idMap: { uid: number; gid: number; size: number } | undefined;
  private readonly cgroupParent: string;
  private readonly defaultUlimits: Ulimit[] | undefined;
  private readonly nsDefaults: NamespaceDefaults;
  private readonly logDefaults: { driver?: string; opts?: Record<string, string> };
  private readonly logRotator: LogRotator;
  /** Called after a container is removed (exec sessions, etc. drop their references). */
  onRemoved: (c: Container) => void = () => {};
  /** Where container events go (set by the engine). */
  events?: EventLog;
  /** Told when a container's process starts and when it ends (health checks follow these). */
  onStarted: (c: Container) => void = () => {};
  onStopped: (c: Container) => void = () => {};
  /** Set while berthd shuts down: exits then do not trigger restart policies. */
  shuttingDown = false;

  constructor(o: ContainerServiceOptions) {
    this.root = join(o.dataRoot, 'containers');
    this.runtime = o.host.runtime;
    this.mounts = o.host.mounts;
    this.images = o.images;
    this.networks = o.networks;
    this.volumes = o.volumes;
    this.log = o.log;
    this.idMap = o.idMap;
    this.cgroupParent = o.cgroupParent;
    this.defaultUlimits = o.defaultUlimits;
    this.nsDefaults = o.namespaces ?? { init: false, initPath: '', defaultIpcMode: 'private' };
    this.logDefaults = { driver: o.logDriver, opts: o.logOpts };
    this.logRotator = new LogRotator(o.log);
    this.store = new ContainerStore(this.root, this.links, o.log);
    this.ctx = {
      store: this.store, links: this.links, lock: this.lock, runtime: this.runtime, mounts: this.mounts, images: this.images,
      networks: this.networks, volumes: this.volumes, log: this.log, logRotator: this.logRotator, idMap: this.idMap,
      cgroupParent: this.cgroupParent, nsDefaults: this.nsDefaults, emit: (c, action, extra) => this.emit(c, action, extra),
    };
    this.restarts = new RestartManager({
      lock: this.lock, log: this.log, persist: (c) => this.persist(c), startLocked: (c) => this.startLocked(c),
      shuttingDown: () => this.shuttingDown,
    });
  }

  // ---- start-up -----------------------------------------------------------------------------

  /** Loads every container record; unreadable ones are logged and skipped, never fatal. */
  async load(): Promise<void> {
    // With userns-remap the container's root must be able to pass through to its rootfs.
    await this.store.load(this.idMap !== undefined, async (id, dir) => {
      try {
        await this.runtime.delete(id);
        await this.mounts.unmount(join(dir, 'merged'));
        await releaseShm(this.mounts, dir);
        await rm(dir, { recursive: true, force: true });
      } catch (e) {
        this.log.error({ id, err: String(e) }, 'could not sweep container dir');
      }
    });
    // Links again from each HostConfig.Links, as dockerd registers them at start-up; one whose
    // child is gone is dropped (logged), never fatal.
    for (const c of this.store.all()) {
      try {
        registerLinks(this.ctx, c.rec, resolveLinks(this.ctx, c.rec.HostConfig.NetworkMode, c.rec.HostConfig.Links as string[] | null | undefined));
      } catch (err) {
        this.log.warn({ id: c.rec.Id, err: String(err) }, 'legacy links not restored');
      }
    }
  }

  /** Matches records against what runc and conmon say now (live restore). */
  async reconcile(): Promise<void> {
    await Promise.all(this.store.all().map((c) => this.reconcileOne(c).catch((err) => {
      this.log.error({ id: c.rec.Id, err: String(err) }, 'reconcile failed');
    })));
    // Volume mounts the previous run left and no running container claimed again go now (not
    // before: a tmpfs volume's mount is its data, shared by the containers that outlived berthd).
    await this.volumes.store.dropUnclaimedMounts();
  }

  private async reconcileOne(c: Container): Promise<void> {
    const id = c.rec.Id;
    if (c.rec.State.Status === 'removing') {
      await this.remove(id, { force: true }).catch(() => {});
      return;
    }
    if (!c.rec.State.Running) {
      await releaseNetwork(this.ctx, c, true);
      // Nothing should run or be mounted for it. A start cut short by the crash may have left
      // conmon still running `runc create`: stop that first, or its runc init would outlive us.
      await this.runtime.killConmon(id).catch(() => {});
      await this.runtime.delete(id).catch(() => {});
      await this.mounts.unmount(this.paths(c).merged).catch(() => {});
      await releaseShm(this.mounts, c.dir).catch((err) => this.log.warn({ id, err: String(err) }, 'shm unmount failed'));
      return;
    }
    const st = await this.runtime.state(id);
    if (st && st.status !== 'stopped' && await this.runtime.conmonAlive(id)) {
      await this.lock.run(id, async () => {
        c.rec.State.Paused = st.status === 'paused';
        c.rec.State.Status = st.status === 'paused' ? 'paused' : 'running';
        c.rec.State.Pid = st.pid;
        this.logRotator.watch(c.rec.LogPath, c.rec.HostConfig.LogConfig, join(this.runtime.bundleDir(id), 'ctl'));
        await this.networks.restore(this.netOf(c), true).catch((err) => this.log.warn({ id, err: String(err) }, 'network restore failed'));
        // The embedded DNS lived in the previous berthd: it answers again from this one.
        await this.networks.startResolver(this.netOf(c), await containerResolverConfig({ dns: c.rec.HostConfig.Dns, search: c.rec.HostConfig.DnsSearch, options: c.rec.HostConfig.DnsOptions }));
        // Its volumes count as in use again (released at its exit).
        for (const m of c.rec.Mounts ?? []) {
          if (m.Type === 'volume' && m.Name) await this.volumes.store.acquire(m.Name).catch((err) => this.log.warn({ id, err: String(err) }, 'volume not restored'));
        }
        await this.persist(c);
      });
      return;
    }
    const exit = await this.runtime.readExit(id);
    await this.handleExit(id, exit ?? { exitCode: 255, oomKilled: false, finishedAt: new Date() }, { checked: true });
  }

  // ---- lookup -------------------------------------------------------------------------------

  /** Full ID, name (with or without `/`), or unique ID prefix; Docker's 404 otherwise. */
  get(ref: string): Container {
    return this.store.get(ref);
  }

  all(): Container[] {
    return this.store.all();
  }

  // ---- legacy links (see legacy-links.ts) ---------------------------------------------------
  // ---- legacy links (container/network-glue.ts) ----------------------------------------------

  /** What inspect shows as HostConfig.Links: "/child:/parent/alias" per link, null without any. */
  linksView(id: string): string[] | null {
    return linksView(this.ctx, id);
  }

  /** Every name of a container as ps lists them: its own and the link names standing for it, sorted. */
  allNames(c: Container): string[] {
    return allNames(this.ctx, c);
  }

  /** `docker rm --link parent/alias` (moby rmLink): the link name goes, both containers stay. */
  removeLink(ref: string): void {
    removeLink(this.ctx, ref);
  }

  /**
   * An exec's env (moby ContainerExecStart): the container's daemon env for the exec's tty, its
   * links' variables included (a stopped child fails the exec, as in dockerd), then the exec's own.
   */
  execEnv(c: Container, tty: boolean, env: readonly string[]): string[] {
    const cfg = c.rec.Config;
    return replaceOrAppendEnv(daemonEnvironment({ hostname: cfg.Hostname, tty, linkEnv: linkedEnv(this.ctx, c), env: cfg.Env }), env);
  }

  /** A container event with Docker's attributes: its labels, image and name, plus `extra`. */
  emit(c: Container, action: string, extra: Record<string, string> = {}): void {
    this.events?.emit('container', action, c.rec.Id,
      { ...(c.rec.Config.Labels ?? {}), image: c.rec.Config.Image, name: c.rec.Name.replace(/^\//, ''), ...extra },
      { from: c.rec.Config.Image });
  }

  paths(c: Container): ContainerPaths {
    return {
      upper: join(c.dir, 'upper'), work: join(c.dir, 'work'), merged: join(c.dir, 'merged'),
      lower: this.lowerDirs(c),
    };
  }

  private lowerDirs(c: Container): string[] {
    let dirs: string[] = [];
    try { dirs = this.images.store.layerDirs(c.rec.Image); } catch { /* image gone: empty lower */ }
    return dirs.length ? dirs : [join(c.dir, 'empty')];
  }

  /** The architecture the container's image is built for (its seccomp filter's); undefined when the image is gone. */
  private imageArch(c: Container): string | undefined {
    try { return this.images.store.resolve(c.rec.Image).config.architecture; } catch { return undefined; }
  }

  /** What the network service sees of a container (its record's network state, live). */
  /** What the network service sees of a container (its record's network state, live). */
  netOf(c: Container): NetContainer {
    return netOf(this.ctx, c);
  }
  /**
   * `docker update`: new limits (and restart policy) recorded, and applied at once to a running
   * container through the runtime. Fields left out or zero keep their value, as in Docker.
   */
  async update(ref: string, body: Record<string, unknown>): Promise<{ Warnings: string[] | null }> {
    const c = this.get(ref);
    const keys: (keyof ResourceFields)[] = ['Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'OomKillDisable', 'NanoCpus',
      'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight', 'BlkioDeviceReadBps',
      'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'];
    await this.lock.run(c.rec.Id, async () => {
      const hc = c.rec.HostConfig as Record<string, unknown>;
      const next: Record<string, unknown> = { ...hc };
      for (const k of keys) {
        const v = body[k];
        if (v === undefined || v === null || v === 0 || v === '' || (Array.isArray(v) && !v.length)) continue;
        next[k] = v;
      }
      const rp = body.RestartPolicy as { Name?: string; MaximumRetryCount?: number } | undefined;
      const policy = rp?.Name ? { Name: rp.Name, MaximumRetryCount: rp.MaximumRetryCount ?? 0 } : undefined;
      // moby checks the policy itself first (verifyContainerSettings, unwrapped), then the
      // container's limits and AutoRemove inside UpdateContainer, whose errors it wraps with the ID.
      if (policy) validateRestartPolicy(policy);
      // moby verifies the update's own limits first (verifyPlatformContainerResources; an update
      // may give --memory-swap alone), then compares them with the container's.
      const given = Object.fromEntries(keys.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
      if (!given.Memory) delete given.MemorySwap;
      validateResources(given as ResourceFields);
      // A memory limit above the recorded swap total (create made it 2 × Memory; 0 without -m)
      // needs a new total in the same update (moby container.UpdateContainer, a 409).
      const memory = typeof body.Memory === 'number' ? body.Memory : 0;
      if (memory && !body.MemorySwap && memory > (typeof hc.MemorySwap === 'number' ? hc.MemorySwap : 0)) {
        throw new Conflict(`Cannot update container ${c.rec.Id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`);
      }
      if (policy) {
        if (c.rec.HostConfig.AutoRemove && !isNoRestart(policy)) {
          throw new InvalidParameter(`Cannot update container ${c.rec.Id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
        }
        next.RestartPolicy = policy;
      }
      validateResources(next as ResourceFields);
      if (c.rec.State.Running) {
        const res = ociResources(next as ResourceFields, blockDevice);
        await this.runtime.update(c.rec.Id, res).catch((err: Error) => {
          throw new InvalidParameter(`Cannot update container ${c.rec.Id}: ${err.message}`);
        });
      }
      Object.assign(hc, next);
      await this.persist(c);
    });
    // dockerd's nil slice: no warnings is null, not [].
    return { Warnings: null };
  }

  /**
   * The runtime's freezer and the daemon's log, for work on a container's files that must not
   * race its processes (`docker cp`: engine/copy-freeze.ts). Use it under the container's lock
   * (inside withRootfs); it does not change State.
   */
  get freezer(): { runtime: Pick<RuntimePort, 'pause' | 'resume' | 'state'>; log: Logger } {
    return { runtime: this.runtime, log: this.log };
  }

  /** How host ids relate to the container's (userns-remap), for files copied in and out. */
  get idShift(): { uid: number; gid: number } {
    return this.idMap ? { uid: this.idMap.uid, gid: this.idMap.gid } : { uid: 0, gid: 0 };
  }

  /** The cgroup path runc was given for the container (stats read it). */
  cgroupPathOf(c: Container): string {
    return `${this.cgroupParent}/${c.rec.Id}`;
  }

  /** `docker network connect`: now when running, at the next start otherwise. */
  async connectNetwork(ref: string, network: string, cfg: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null }): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.rec.Id, () => connectNetwork(this.ctx, c, network, cfg));
  }

  async disconnectNetwork(ref: string, network: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.rec.Id, () => disconnectNetwork(this.ctx, c, network));
  }

  /** Which containers use an image (the image service refuses deletes with it). */
  imageUsage(imageId: string): { all: string[]; running: string[] } {
    const users = this.all().filter((c) => c.rec.Image === imageId);
    return { all: users.map((c) => c.rec.Id), running: users.filter((c) => c.rec.State.Running).map((c) => c.rec.Id) };
  }

  private persist(c: Container): Promise<void> {
    return this.store.persist(c);
  }

  /** Writes a container's record after a change made outside this service (its health). */
  persistState(c: Container): Promise<void> {
    return this.lock.run(c.rec.Id, () => this.persist(c));
  }

  // ---- create -------------------------------------------------------------------------------

  async create(body: unknown, nameParam: string | null): Promise<{ Id: string; Warnings: string[] }> {
    // The request schemas (zod) load with the first create, not at start-up (memory).
    const { createBodySchema, decode, liftEmbeddedHostConfig } = await import('./container-config.ts');
    body = liftEmbeddedHostConfig(body);
    const input = decode(createBodySchema, body, 'ContainerConfigWrapper');
    checkConfigPresent(body, input);
    const image = this.images.store.resolve(input.Image);
    const hc = input.HostConfig ?? {};
    const nsModes = checkNamespaceModes({ ...input, HostConfig: hc }, (ref) => this.get(ref), this.nsDefaults.defaultIpcMode);
    const networkMode = nsModes.NetworkMode || 'default';
    checkNetworkMode(this.ctx, networkMode);
    validatePortBindings(hc.PortBindings);
    validateResources(hc as ResourceFields);
    securityOptions((hc as { SecurityOpt?: string[] | null }).SecurityOpt);
    // Berth has one runtime, runc (no containerd, so none of its shim names): moby's
    // verifyPlatformContainerSettings refuses a name it does not know with this text.
    const runtimeName = (hc as { Runtime?: string | null }).Runtime;
    if (runtimeName && runtimeName !== 'runc') throw new InvalidParameter(`Unknown runtime specified ${runtimeName}`);
    const endpoints = this.networks.initialEndpoints(networkMode, input.NetworkingConfig?.EndpointsConfig);
    const ic = (image.config.config ?? {}) as Record<string, unknown>;

    // Merge the image's defaults under the user's config (moby daemon/commit.go merge()).
    const { entrypoint, cmd, argv } = mergeCommand(input, ic);

    const name = nameParam ? validateName(nameParam) : generateName((n) => this.store.nameOwner(n) !== undefined);
    const taken = this.store.nameOwner(name);
    if (taken) throw nameInUse(name, taken);
    const id = newId();
    const dir = this.store.dirOf(id);
    const config = mergeConfig(input, ic, { id, networkMode, entrypoint, cmd });

    const hostConfig = createHostConfig(input.HostConfig, { ...nsModes, NetworkMode: networkMode }, { defaultUlimits: this.defaultUlimits, log: this.logDefaults });
    const linked = resolveLinks(this.ctx, hostConfig.NetworkMode, hostConfig.Links as string[] | null | undefined);

    // Reserve the name before the first await so two concurrent creates cannot both take it.
    this.store.reserveName(name, id);
    let mounts: Awaited<ReturnType<VolumeService['plan']>> = [];
    try {
      mounts = await this.volumes.plan({
        binds: hc.Binds ?? [], mounts: hc.Mounts ?? [], tmpfs: (hc.Tmpfs ?? {}) as Record<string, string>,
        volumesFrom: hc.VolumesFrom ?? [], imageVolumes: Object.keys((config.Volumes as object | null) ?? {}), volumeDriver: String(hc.VolumeDriver ?? ''),
        mountsOf: (ref) => this.get(ref).rec.Mounts ?? [],
      });
      await mkdir(dir, { mode: this.idMap ? 0o711 : 0o710 });
      await Promise.all(['upper', 'work', 'merged', 'empty'].map((d) => mkdir(join(dir, d), { mode: 0o755 })));
      // The container's own / belongs to its (remapped) root.
      if (this.idMap) await chown(join(dir, 'upper'), this.idMap.uid, this.idMap.gid);
      const etc = await writeEtcFiles(dir, {
        hostname: config.Hostname, domainname: config.Domainname, networkMode: hostConfig.NetworkMode,
        extraHosts: hostConfig.ExtraHosts ?? undefined, dns: hostConfig.Dns, dnsSearch: hostConfig.DnsSearch,
        dnsOptions: hostConfig.DnsOptions, hostGateway: this.networks.hostGateway(),
      });
      const rec: ContainerRecord = {
        Id: id,
        Created: nowRfc3339(),
        Path: argv[0]!,
        Args: argv.slice(1),
        State: initialState(),
        Image: image.id,
        Name: `/${name}`,
        RestartCount: 0,
        LogPath: (hostConfig.LogConfig as { Type: string }).Type === 'none' ? '' : join(dir, 'container.log'),
        HostnamePath: etc.hostname,
        HostsPath: etc.hosts,
        ResolvConfPath: etc.resolvConf,
        Config: config,
        HostConfig: hostConfig,
        NetworkSettings: { SandboxKey: '', Networks: endpoints, Ports: {} },
        Mounts: mounts,
        SystemPathsRecorded: true,
      };
      await this.store.write(dir, rec);
      registerLinks(this.ctx, rec, linked);
      this.emit(this.store.track(rec), 'create');
    } catch (err) {
      this.store.releaseName(name, id);
      await this.volumes.removeAnonymous(mounts, id).catch(() => {});
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      throw err;
    }
    return { Id: id, Warnings: [] };
  }

  // ---- start --------------------------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const c = this.get(ref);
    this.restarts.reset(c);
    try {
      await this.lock.run(c.rec.Id, () => this.startLocked(c));
    } catch (err) {
      // moby removes an AutoRemove container whose start failed; `docker run --rm` waits for it.
      if (c.rec.HostConfig.AutoRemove && !(err instanceof NotModified) && !c.rec.State.Running) {
        await this.remove(c.rec.Id, { force: true }).catch(() => {});
      }
      throw err;
    }
  }

  private async startLocked(c: Container): Promise<void> {
    const id = c.rec.Id;
    const st = c.rec.State;
    refuse(canStart(c));
    const p = this.paths(c);
    const undo: Array<() => Promise<unknown>> = [];
    /** Work that must finish before the process runs (the embedded DNS). */
    const ready: Promise<unknown>[] = [];
    try {
      if (!(await this.mounts.isMounted(p.merged))) {
        await this.mounts.mountOverlay(p.merged, { lowerdirs: p.lower, upperdir: p.upper, workdir: p.work });
        undo.push(() => this.mounts.unmount(p.merged));
      }
      const cfg = c.rec.Config;
      const hc = c.rec.HostConfig;
      // A create without any HostConfig recorded no Runtime; moby names the default one at the start.
      if (!(hc as Record<string, unknown>).Runtime) (hc as Record<string, unknown>).Runtime = 'runc';
      if (cfg.WorkingDir) await mkdir(join(p.merged, cfg.WorkingDir), { recursive: true }).catch(() => {});
      const volumeMounts = await this.volumes.prepare(c.rec.Mounts ?? [], (hc.Tmpfs ?? {}) as Record<string, string>, p.merged, (root, path) => resolveInRoot(root, path, true));
      undo.push(() => this.volumes.releaseAll(c.rec.Mounts ?? []));
      let netnsPath: string | undefined;
      if (hc.NetworkMode.startsWith('container:')) {
        netnsPath = joinNetwork(c.rec, (ref) => this.get(ref));
      } else if (!this.idMap) {
        netnsPath = await attachNetwork(this.ctx, c, undo, undefined, ready);
      }
      const joined = joinNamespaces(c.rec, (ref) => this.get(ref));
      const ownShm = await prepareShm(this.mounts, c.rec, c.dir);
      if (ownShm) undo.push(() => releaseShm(this.mounts, c.dir));
      const init = wantsInit(c.rec, this.nsDefaults.init) ? { source: initBinaryPath(this.nsDefaults.initPath), target: IN_CONTAINER_INIT } : undefined;
      const spec = await buildSpec(containerSpecInput(c.rec, {
        rootfs: p.merged, linkEnv: linkedEnv(this.ctx, c), netnsPath, joined, ownShm, init, volumeMounts,
        imageArch: this.imageArch(c), cgroupsPath: `${this.cgroupParent}/${id}`, idMap: this.idMap,
      }));
      c.runtimeClean = false;
      await this.logRotator.prepare(c.rec.LogPath, c.rec.HostConfig.LogConfig, join(this.runtime.bundleDir(id), 'ctl'));
      undo.push(() => this.logRotator.unwatch(c.rec.LogPath));
      const created = await this.runtime.create(id, spec, {
        logPath: c.rec.LogPath, tty: cfg.Tty, openStdin: cfg.OpenStdin, stdinOnce: cfg.StdinOnce,
      });
      undo.push(() => this.runtime.delete(id));
      // userns-remap: the network goes into the namespace runc made inside the user namespace.
      if (this.idMap && !hc.NetworkMode.startsWith('container:')) await attachNetwork(this.ctx, c, undo, created.pid, ready);
      // Attaches that arrived before start (docker run, start -a) connect now, before the
      // process runs, so no output is lost.
      const pending = c.pendingAttach.splice(0);
      await Promise.all(pending.map(async (a) => {
        try { a.deliver(await this.runtime.attach(id, { stdin: a.stdin })); } catch (e) { a.fail(e as Error); }
      }));
      await Promise.all(ready);
      await this.runtime.start(id);
      setRunning(st, created.pid);
      await this.persist(c);
      this.emit(c, 'start');
      this.onStarted(c);
    } catch (err) {
      for (const u of undo.reverse()) await u().catch(() => {});
      const msg = err instanceof Error ? err.message : String(err);
      setStartError(st, msg);
      await this.persist(c).catch(() => {});
      for (const a of c.pendingAttach.splice(0)) a.fail(err as Error);
      throw err;
    }
  }

  /**
   * Records an exit reported by conmon (container/exit.ts); idempotent (reconcile and the
   * watcher may both call it). `checked`: reconcile has asked the runtime already.
   */
  handleExit(id: string, info: ExitInfo, opts: { checked?: boolean } = {}): Promise<void> {
    return handleExit(this.ctx, {
      restarts: this.restarts, onStopped: (c) => this.onStopped(c), releaseNetwork: (c) => releaseNetwork(this.ctx, c),
      remove: (cid, o) => this.remove(cid, o),
    }, id, info, opts);
  }

  /** The restart policy after an exit or at boot (container/restart-manager.ts). */
  scheduleRestart(c: Container, atBoot: boolean): void {
    this.restarts.schedule(c, atBoot);
  }

  /** A stop or kill by hand: no restart by policy until the next start. */
  private manualStop(c: Container): void {
    this.restarts.manualStop(c);
  }

  // ---- stop / kill / restart ------------------------------------------------------------------

  /** Resolves with the exit code at the container's next exit. */
  nextExit(c: Container): Promise<number> {
    return new Promise((resolve) => c.exitWaiters.add(resolve));
  }

  async stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.get(ref);
    this.manualStop(c);
    // A restart by policy already under way (its timer fired, the start holds the lock): let it
    // finish and stop what it started, as dockerd stops a restarting container.
    if (c.rec.State.Restarting) await this.lock.run(c.rec.Id, async () => {});
    const refusal = canStop(c);
    if (refusal) {
      if (c.rec.State.Status === 'exited') await this.persist(c).catch(() => {});
      throw refusal;
    }
    const sig = parseSignal(opts.signal || c.rec.Config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? c.rec.Config.StopTimeout ?? 10;
    const exited = this.nextExit(c);
    await this.signal(c, sig);
    if (timeout >= 0) {
      const done = await Promise.race([exited.then(() => true), sleep(timeout * 1000).then(() => false)]);
      if (done) { this.emit(c, 'stop'); return; }
      await this.signal(c, 9);
    }
    await Promise.race([exited, sleep(MAX_STOP_WAIT_MS).then(() => { throw new System(`container ${c.rec.Id} did not exit after SIGKILL`); })]);
    this.emit(c, 'stop');
  }

  private async signal(c: Container, sig: number): Promise<void> {
    this.emit(c, 'kill', { signal: String(sig) });
    try {
      await this.runtime.kill(c.rec.Id, sig, sig === 9);
      // A frozen process only acts on its signal once thawed (moby does the same).
      if (c.rec.State.Paused && (sig === 9 || sig === 15)) {
        await this.runtime.resume(c.rec.Id).catch(() => {});
        c.rec.State.Paused = false;
        c.rec.State.Status = 'running';
      }
    } catch (err) {
      // The process may have exited between our check and the signal; that is not an error.
      const st = await this.runtime.state(c.rec.Id).catch(() => undefined);
      if (st && st.status !== 'stopped') throw err;
    }
  }

  async kill(ref: string, signal?: string): Promise<void> {
    // moby parses the signal in the router, before it looks the container up.
    const sig = parseKillSignal(signal);
    let c: Container;
    try { c = this.get(ref); } catch (e) {
      if (e instanceof NotFound) throw new NotFound(`Cannot kill container: ${ref}: ${e.message}`);
      throw e;
    }
    checkKillSignal(ref, sig);
    refuse(canKill(c, ref));
    this.manualStop(c);
    if (sig === 9) {
      const exited = this.nextExit(c);
      await this.signal(c, sig);
      await Promise.race([exited, sleep(MAX_STOP_WAIT_MS)]);
      return;
    }
    await this.signal(c, sig);
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.get(ref);
    try {
      if (c.rec.State.Running) await this.stop(c.rec.Id, opts);
      await this.start(c.rec.Id);
    } catch (err) {
      // moby ContainerRestart wraps what failed, named as the client gave it, in a plain error
      // (a 500); Berth keeps the class of a client's fault (a container marked for removal is a
      // 409, not a fault of the daemon) and says it the same way.
      const message = `Cannot restart container ${ref}: ${err instanceof Error ? err.message : String(err)}`;
      if (err instanceof BerthError && err.status >= 400 && err.status < 500) {
        throw new (err.constructor as new (m: string) => BerthError)(message);
      }
      throw new System(message);
    }
    this.emit(c, 'restart');
  }

  // ---- wait ---------------------------------------------------------------------------------

  /**
   * Resolves the container now (a 404 must come before the response headers), and returns a
   * promise for the exit code under Docker's three conditions. `lenient`: dockerd 20.10 (API
   * 1.41) waits for not-running on an unknown condition; newer ones refuse it.
   */
  wait(ref: string, condition: string | null, lenient = false): Promise<number> {
    const c = this.get(ref);
    let cond = condition || 'not-running';
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) {
      if (!lenient) throw new InvalidParameter(`invalid condition: "${cond}"`);
      cond = 'not-running';
    }
    if (cond === 'removed') return new Promise((resolve) => c.removeWaiters.add(resolve));
    if (cond === 'not-running' && !c.rec.State.Running) return Promise.resolve(c.rec.State.ExitCode);
    return this.nextExit(c);
  }

  // ---- pause / rename / remove ----------------------------------------------------------------

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.rec.Id, async () => {
      refuse(canPause(c));
      await this.runtime.pause(c.rec.Id).catch(async (err: unknown) => {
        // It exited before its exit was handled: as far as the client is concerned, not running.
        const now = await this.runtime.state(c.rec.Id).catch(() => undefined);
        if (!now || now.status === 'stopped') throw notRunning(c);
        throw err;
      });
      setPaused(c.rec.State, true);
      await this.persist(c);
      this.emit(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.rec.Id, async () => {
      refuse(canUnpause(c));
      await this.runtime.resume(c.rec.Id).catch(async (err: unknown) => {
        const now = await this.runtime.state(c.rec.Id).catch(() => undefined);
        if (!now || now.status === 'stopped') throw notPaused(c);
        throw err;
      });
      setPaused(c.rec.State, false);
      await this.persist(c);
      this.emit(c, 'unpause');
    });
  }

  async rename(ref: string, newName: string): Promise<void> {
    const c = this.get(ref);
    if (!newName) throw new InvalidParameter('Neither old nor new names may be empty');
    const name = validateRenameTarget(newName);
    await this.lock.run(c.rec.Id, async () => {
      const old = c.rec.Name.replace(/^\//, '');
      if (name === old) throw new InvalidParameter('Renaming a container with the same name as its current name');
      this.store.reserveName(name, c.rec.Id, (taken) => new Conflict(`Error when allocating new name: ${nameInUse(name, taken).message}`));
      c.rec.Name = `/${name}`;
      try {
        await this.persist(c);
      } catch (err) {
        this.store.releaseName(name, c.rec.Id);
        c.rec.Name = `/${old}`;
        throw err;
      }
      this.store.releaseName(old, c.rec.Id);
      this.links.renameParent(c.rec.Id, old, name);
      this.emit(c, 'rename', { oldName: `/${old}` });
    });
  }

  /** `docker rm [-f] [-v]`: with `volumes`, the container's anonymous volumes go too. */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    const c = this.get(ref);
    const id = c.rec.Id;
    refuse(canRemove(c, ref, opts.force === true));
    if (c.restartTimer) this.manualStop(c);
    if (c.rec.State.Running) {
      const exited = this.nextExit(c);
      await this.signal(c, 9);
      await Promise.race([exited, sleep(MAX_STOP_WAIT_MS)]);
      if (c.removed) return; // AutoRemove finished the job while we waited
    }
    await this.lock.run(id, async () => {
      if (c.removed) return;
      c.removing = true;
      const prev = c.rec.State.Status === 'removing' ? 'exited' : c.rec.State.Status;
      c.rec.State.Status = 'removing';
      try {
        // Persisted first: a crash from here on is finished by reconcile, never half-undone.
        await this.persist(c).catch(() => {});
        if (!c.runtimeClean) await this.runtime.delete(id);
        await releaseNetwork(this.ctx, c);
        await this.mounts.unmount(join(c.dir, 'merged'));
        await releaseShm(this.mounts, c.dir);
        await rm(c.dir, { recursive: true, force: true });
      } catch (err) {
        c.removing = false;
        c.rec.State.Status = prev;
        await this.persist(c).catch(() => {});
        throw err;
      }
      c.removed = true;
      this.store.forget(c);
      this.links.removed(id, c.rec.Name);
    });
    if (opts.volumes) await this.volumes.removeAnonymous(c.rec.Mounts ?? [], id).catch((err) => this.log.warn({ id, err: String(err) }, 'removing anonymous volumes failed'));
    for (const p of c.pendingAttach.splice(0)) p.fail(noSuchContainer(ref));
    for (const w of c.exitWaiters) w(c.rec.State.ExitCode);
    for (const w of c.removeWaiters) w(c.rec.State.ExitCode);
    c.exitWaiters.clear();
    c.removeWaiters.clear();
    this.emit(c, 'destroy');
    this.onRemoved(c);
  }

  // ---- attach -------------------------------------------------------------------------------

  /**
   * Gives an attach stream now when the container runs, or at its next start otherwise (what
   * `docker run` and `docker start -a` rely on: they attach first, then start).
   */
  attach(ref: string, opts: { stdin: boolean }): { container: Container; stream: Promise<AttachStream>; cancel: () => void } {
    const c = this.get(ref);
    refuse(canAttach(c));
    const stdin = opts.stdin && c.rec.Config.OpenStdin;
    this.emit(c, 'attach');
    if (c.rec.State.Running) return { container: c, stream: this.runtime.attach(c.rec.Id, { stdin }), cancel: () => {} };
    let entry!: PendingAttach;
    const stream = new Promise<AttachStream>((deliver, fail) => { entry = { stdin, deliver, fail }; });
    c.pendingAttach.push(entry);
    // cancel: the client went away before the start; forget it so start does not connect for nobody.
    return { container: c, stream, cancel: () => { c.pendingAttach = c.pendingAttach.filter((p) => p !== entry); } };
  }

  async resize(ref: string, h: number, w: number): Promise<void> {
    const c = this.get(ref);
    refuse(canReachProcess(c));
    if (!c.rec.Config.Tty) return;
    await this.runtime.resize(c.rec.Id, h, w);
    this.emit(c, 'resize', { height: String(h), width: String(w) });
  }

  // ---- runtime info -------------------------------------------------------------------------

  async pids(ref: string): Promise<{ container: Container; pids: number[] }> {
    const c = this.get(ref);
    refuse(canReachProcess(c));
    return { container: c, pids: await this.runtime.pids(c.rec.Id) };
  }

  /** Runs fn with the container's rootfs mounted (mounting it for the call when stopped). */
  async withRootfs<T>(c: Container, fn: (merged: string, p: ContainerPaths) => Promise<T>): Promise<T> {
    const p = this.paths(c);
    return this.lock.run(c.rec.Id, async () => {
      // A remove that got the lock first has taken the container away.
      if (c.removed || c.removing) throw noSuchContainer(c.rec.Id);
      const mounted = await this.mounts.isMounted(p.merged);
      if (!mounted) await this.mounts.mountOverlay(p.merged, { lowerdirs: p.lower, upperdir: p.upper, workdir: p.work });
      try {
        return await fn(p.merged, p);
      } finally {
        if (!mounted && !c.rec.State.Running) await this.mounts.unmount(p.merged).catch(() => {});
      }
    });
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    const all = this.all();
    const paused = all.filter((c) => c.rec.State.Paused).length;
    const running = all.filter((c) => c.rec.State.Running).length - paused;
    return { total: all.length, running, paused, stopped: all.length - running - paused };
  }

}


function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
