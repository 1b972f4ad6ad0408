// The container use cases: create, start, stop, kill, wait, pause, rename, remove, and the
// reconcile that finds running containers again after berthd restarts (live restore).
//
// Lifecycle: create writes metadata and the container's dirs; start mounts the overlay rootfs,
// builds the OCI spec, lets conmon run `runc create`, connects any attach that was waiting,
// then `runc start`. conmon writes the exit file when the process ends; the runtime reports it
// through onExit, which records the exit, releases the runtime state and the mount, wakes the
// waiters, and removes the container when AutoRemove is set.
//
// Each verb here takes the container's lock, asks state.ts's guards whether it may, and calls
// the module in container/ that owns the concern (see ARCHITECTURE.md).
import type { RootlessMode } from '../sys/rootless.ts';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound, NotModified } from '../errors.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import type { Logger } from '../util/log.ts';
import type { ContainerCreateBody, ContainerUpdateBody } from '../types/engine-api.ts';
import type { ExitInfo, AttachStream } from '../runtime/runtime.ts';
import type { Host, MountPort, RuntimePort } from './host.ts';
import type { ImageService } from './images.ts';
import { refuse, canStop, canKill, canReachProcess, canAttach, canRemove } from './container/state.ts';
import { ContainerStore, nameInUse, type Container, type PendingAttach } from './container/store.ts';
import type { ContainerContext, NamespaceDefaults } from './container/context.ts';
import { RestartManager } from './container/restart-manager.ts';
import { handleExit } from './container/exit.ts';
import type { Ulimit } from './container/create-config.ts';
import { createContainer, type CreateDefaults } from './container/create.ts';
import { startLocked } from './container/start.ts';
import { loadAll, reconcile } from './container/reconcile.ts';
import { updateLocked } from './container/update.ts';
import { teardownLocked, afterRemove, drainTeardowns } from './container/remove.ts';
import { nextExit, signal, stopProcess, killAndWait, restartFailure } from './container/stop.ts';
import { pauseLocked, unpauseLocked } from './container/pause.ts';
import { containerPaths, withRootfs, type ContainerPaths } from './container/rootfs.ts';
import { validateRenameTarget } from './container/names.ts';
import { parseSignal, parseKillSignal, checkKillSignal } from './container/signals.ts';
import type { NetworkService, NetContainer } from './networks.ts';
import type { VolumeService } from './volumes.ts';
import { LogRotator } from '../runtime/log-rotation.ts';
import type { EventLog } from './events.ts';
import { listContainers } from './filters.ts';
import type { Filters } from './filter-args.ts';
import { daemonEnvironment, replaceOrAppendEnv } from './container/process-env.ts';
import { LinkIndex } from './container/legacy-links.ts';
import { linksView, allNames, removeLink, linkedEnv, netOf, releaseNetwork, connectNetwork, disconnectNetwork } from './container/network-glue.ts';

export type { AttachStream, Container, PendingAttach, NamespaceDefaults, ContainerPaths };

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
  /** Rootless mode (sys/rootless.ts): what containers may not have (cgroups). */
  rootless?: RootlessMode;
}

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
  readonly networks: NetworkService;
  readonly volumes: VolumeService;
  private readonly log: Logger;
  private readonly idMap: { uid: number; gid: number; size: number } | undefined;
  private readonly cgroupParent: string;
  private readonly createDefaults: CreateDefaults;
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
    this.networks = o.networks;
    this.volumes = o.volumes;
    this.log = o.log;
    this.idMap = o.idMap;
    this.cgroupParent = o.cgroupParent;
    this.createDefaults = { defaultUlimits: o.defaultUlimits, log: { driver: o.logDriver, opts: o.logOpts } };
    this.store = new ContainerStore(this.root, this.links, o.log);
    this.ctx = {
      store: this.store, links: this.links, lock: this.lock, runtime: this.runtime, mounts: this.mounts, images: o.images,
      networks: this.networks, volumes: this.volumes, log: this.log, logRotator: new LogRotator(o.log), idMap: this.idMap,
      cgroupParent: this.cgroupParent, rootless: o.rootless, nsDefaults: o.namespaces ?? { init: false, initPath: '', defaultIpcMode: 'private' },
      emit: (c, action, extra) => this.emit(c, action, extra),
    };
    this.restarts = new RestartManager({
      lock: this.lock, log: this.log, persist: (c) => this.persist(c), startLocked: (c) => this.startLocked(c),
      shuttingDown: () => this.shuttingDown,
    });
  }

  // ---- start-up -----------------------------------------------------------------------------

  /** Loads every container record; unreadable ones are logged and skipped, never fatal (container/reconcile.ts). */
  load(): Promise<void> {
    return loadAll(this.ctx);
  }

  /** Matches records against what runc and conmon say now (live restore: container/reconcile.ts). */
  reconcile(): Promise<void> {
    return reconcile(this.ctx, { remove: (id, o) => this.remove(id, o), handleExit: (id, info, o) => this.handleExit(id, info, o) });
  }

  // ---- lookup -------------------------------------------------------------------------------

  /** Full ID, name (with or without `/`), or unique ID prefix; Docker's 404 otherwise. */
  get(ref: string): Container {
    return this.store.get(ref);
  }

  all(): Container[] {
    return this.store.all();
  }

  /** The containers `docker ps` shows for these options, newest first (engine/filters.ts). */
  list(opts: { all: boolean; limit?: number; filters: Filters }): Container[] {
    return listContainers(this, this.ctx.images, opts);
  }

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
    return containerPaths(this.ctx, c);
  }

  /** What the network service sees of a container (its record's network state, live). */
  netOf(c: Container): NetContainer {
    return netOf(this.ctx, c);
  }

  /**
   * `docker update`: new limits (and restart policy) recorded, and applied at once to a running
   * container through the runtime (container/update.ts).
   */
  async update(ref: string, body: ContainerUpdateBody): Promise<{ Warnings: string[] | null }> {
    const c = this.get(ref);
    await this.lock.run(c.rec.Id, () => updateLocked(this.ctx, c, body));
    // dockerd's nil slice: no warnings is null, not [].
    return { Warnings: null };
  }

  /**
   * The runtime's freezer and the daemon's log, for work on a container's files that must not
   * race its processes (`docker cp`: engine/container/copy-freeze.ts). Use it under the container's lock
   * (inside withRootfs); it does not change State.
   */
  get freezer(): { runtime: Pick<RuntimePort, 'freeze' | 'thaw' | 'state'>; log: Logger } {
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

  // ---- create / start -----------------------------------------------------------------------

  /** `docker create` (container/create.ts): checked whole, then made, or nothing is left. */
  create(body: ContainerCreateBody, nameParam: string | null): Promise<{ Id: string; Warnings: string[] }> {
    return createContainer(this.ctx, this.createDefaults, body, nameParam);
  }

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

  /** The start sequence with its undo stack (container/start.ts); the caller holds the lock. */
  private startLocked(c: Container): Promise<void> {
    return startLocked(this.ctx, c, (s) => this.onStarted(s));
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

  // ---- stop / kill / restart (container/stop.ts) ----------------------------------------------

  /** Resolves with the exit code at the container's next exit. */
  nextExit(c: Container): Promise<number> {
    return nextExit(c);
  }

  async stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.get(ref);
    // A stop or kill by hand: no restart by policy until the next start.
    this.restarts.manualStop(c);
    // A restart by policy already under way (its timer fired, the start holds the lock): let it
    // finish and stop what it started, as dockerd stops a restarting container.
    if (c.rec.State.Restarting) await this.lock.run(c.rec.Id, async () => {});
    const refusal = canStop(c);
    if (refusal) {
      if (c.rec.State.Status === 'exited') await this.persist(c).catch(() => {});
      throw refusal;
    }
    const sig = parseSignal(opts.signal || c.rec.Config.StopSignal || 'SIGTERM');
    await stopProcess(this.ctx, c, sig, opts.timeout ?? c.rec.Config.StopTimeout ?? 10);
  }

  async kill(ref: string, sig?: string): Promise<void> {
    // moby parses the signal in the router, before it looks the container up.
    const n = parseKillSignal(sig);
    let c: Container;
    try { c = this.get(ref); } catch (e) {
      if (e instanceof NotFound) throw new NotFound(`Cannot kill container: ${ref}: ${e.message}`);
      throw e;
    }
    checkKillSignal(ref, n);
    refuse(canKill(c, ref));
    this.restarts.manualStop(c);
    if (n === 9) await killAndWait(this.ctx, c);
    else await signal(this.ctx, c, n);
  }

  async restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.get(ref);
    try {
      if (c.rec.State.Running) await this.stop(c.rec.Id, opts);
      await this.start(c.rec.Id);
    } catch (err) {
      throw restartFailure(ref, err);
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
    return nextExit(c);
  }

  // ---- pause / rename / remove ----------------------------------------------------------------

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.rec.Id, () => pauseLocked(this.ctx, c));
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.rec.Id, () => unpauseLocked(this.ctx, c));
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

  /** `docker rm [-f] [-v]`: with `volumes`, the container's anonymous volumes go too (container/remove.ts). */
  async remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void> {
    const c = this.get(ref);
    refuse(canRemove(c, ref, opts.force === true));
    if (c.restartTimer) this.restarts.manualStop(c);
    if (c.rec.State.Running) {
      await killAndWait(this.ctx, c);
      if (c.removed) return; // AutoRemove finished the job while we waited
    }
    // Of two removes that both passed the guard, the second finds it gone: dockerd's 409.
    if (!(await this.lock.run(c.rec.Id, () => teardownLocked(this.ctx, c)))) throw new Conflict(`removal of container ${ref} is already in progress`);
    await afterRemove(this.ctx, c, ref, opts.volumes === true);
    this.onRemoved(c);
  }

  /** Waits for the teardowns that removes left running in the background (shutdown, tests). */
  drainTeardowns(): Promise<void> {
    return drainTeardowns(this.ctx);
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

  /** Whether containers have cgroups: not rootless without delegated ones (no freezer, no cgroup counters). */
  get hasCgroups(): boolean {
    return !this.ctx.rootless || this.ctx.rootless.cgroups;
  }

  async pids(ref: string): Promise<{ container: Container; pids: number[] }> {
    const c = this.get(ref);
    refuse(canReachProcess(c));
    return { container: c, pids: await this.runtime.pids(c.rec.Id) };
  }

  /** Runs fn with the container's rootfs mounted (mounting it for the call when stopped). */
  withRootfs<T>(c: Container, fn: (merged: string, p: ContainerPaths) => Promise<T>): Promise<T> {
    return withRootfs(this.ctx, c, fn);
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    const all = this.all();
    const paused = all.filter((c) => c.rec.State.Paused).length;
    const running = all.filter((c) => c.rec.State.Running).length - paused;
    return { total: all.length, running, paused, stopped: all.length - running - paused };
  }
}
