// A ContainerService on a fake host, for the engine's unit tests: the real image store (one
// image, `busybox:latest`, of one empty layer, imported without root), the real volume service
// and event log, all on a temp dir; the host is test/fakes/host.ts and the network service a
// small stub (below). Nothing here needs root or touches the machine outside the temp dir.
//
// A "daemon" is one ContainerService; `restart()` starts the next one over the same data root
// and the same host, with engine.ts's start-up order (load, reconcile, boot restart policies),
// after the host has forgotten the old one's callbacks: what a berthd crash and restart is.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { NotFound } from '../../src/errors.ts';
import { silentLogger } from '../../src/util/log.ts';
import { ImageStore } from '../../src/image/store.ts';
import { parseReference } from '../../src/image/reference.ts';
import { ImageService } from '../../src/engine/images.ts';
import { VolumeService } from '../../src/engine/volumes.ts';
import { VolumeStore } from '../../src/volume/store.ts';
import { EventLog, type EngineEvent } from '../../src/engine/events.ts';
import { ContainerService, type Container } from '../../src/engine/containers.ts';
import type { NetworkService, NetworkRecord, NetContainer, EndpointRecord } from '../../src/engine/networks.ts';
import { emptyEndpoint } from '../../src/network/endpoint.ts';
import { FakeHost } from './host.ts';

/** The NetworkService methods ContainerService calls, for host and none networks only. */
type NetworkPort = Pick<NetworkService, 'defaultMode' | 'get' | 'initialEndpoints' | 'attach' | 'detach' | 'restore'
  | 'startResolver' | 'resolverRunning' | 'resolverFor' | 'hostGateway' | 'connect' | 'disconnect'>;

/**
 * The built-in `host` and `none` networks, without a default bridge (as `--bridge none`): joining
 * them has no side effect, so the stub only records who is attached. `failAttach` makes the next
 * attach fail, as a network setup that went wrong would.
 */
export class FakeNetworks implements NetworkPort {
  /** Persisted records in the real service: a restarted daemon's stub is given the same ones. */
  readonly nets: NetworkRecord[];
  constructor(nets: NetworkRecord[] = builtIn()) { this.nets = nets; }
  /** Containers with endpoints up (attached and not detached). */
  readonly attached = new Set<string>();
  failAttach?: Error;

  defaultMode(): 'bridge' | 'none' { return 'none'; }
  get(ref: string): NetworkRecord {
    const n = this.nets.find((x) => x.Name === ref || x.Id === ref);
    if (!n) throw new NotFound(`network ${ref} not found`);
    return n;
  }
  initialEndpoints(mode: string): Record<string, EndpointRecord> {
    if (mode === 'default') mode = 'none';
    return { [mode]: emptyEndpoint(this.get(mode).Id) };
  }
  async attach(c: NetContainer): Promise<string | undefined> {
    if (this.failAttach) { const e = this.failAttach; this.failAttach = undefined; throw e; }
    for (const ep of Object.values(c.net.Networks)) ep.EndpointID = randomBytes(32).toString('hex');
    c.net.SandboxID = randomBytes(32).toString('hex');
    this.attached.add(c.id);
    return undefined;
  }
  async detach(c: NetContainer): Promise<void> {
    for (const ep of Object.values(c.net.Networks)) ep.EndpointID = '';
    delete c.net.SandboxID;
    this.attached.delete(c.id);
  }
  async restore(c: NetContainer, running: boolean): Promise<void> {
    if (running) this.attached.add(c.id); else await this.detach(c);
  }
  async startResolver(): Promise<void> {}
  resolverRunning(): boolean { return false; }
  resolverFor(): string | undefined { return undefined; }
  hostGateway(): string | undefined { return undefined; }
  async connect(): Promise<void> { throw new Error('FakeNetworks: connect is not modelled'); }
  async disconnect(): Promise<void> { throw new Error('FakeNetworks: disconnect is not modelled'); }
}

function builtIn(): NetworkRecord[] {
  return (['host', 'none'] as const).map((name) => ({
    Name: name, Id: randomBytes(32).toString('hex'), Created: new Date(0).toISOString(), Scope: 'local',
    Driver: name === 'host' ? 'host' : 'null', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
  }));
}

export interface FakeEngine {
  dataRoot: string;
  host: FakeHost;
  networks: FakeNetworks;
  images: ImageService;
  volumes: VolumeService;
  events: EventLog;
  containers: ContainerService;
  /** A crash of this daemon and the start of the next one on the same data root and host. */
  restart(): Promise<FakeEngine>;
  /** Creates a container of busybox with `body` over `{Image, Cmd}`; returns its ID. */
  create(body?: Record<string, unknown>, name?: string | null): Promise<string>;
  /** The container's state as inspect shows it. */
  state(ref: string): Container['rec']['State'];
  /** The container's directory under the data root. */
  dirOf(id: string): string;
  /** Container events' actions for one container, in order. */
  actions(id: string): string[];
}

async function emptyLayer(): Promise<Buffer> {
  const pack = tar.pack();
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * A fresh data root with the busybox image and a daemon on it. The temp dir goes in `t.after`
 * (pass the test context), even when the test fails.
 */
export async function fakeEngine(t: { after(fn: () => Promise<void> | void): void }): Promise<FakeEngine> {
  const dataRoot = await mkdtemp(join(tmpdir(), 'berth-engine-'));
  const daemons: ContainerService[] = [];
  t.after(async () => {
    // The daemons stop deciding anything (no restarts), their last writes land, then the dir goes.
    for (const d of daemons) {
      d.shuttingDown = true;
      for (const c of d.all()) if (c.restartTimer) clearTimeout(c.restartTimer);
    }
    await settle();
    await rm(dataRoot, { recursive: true, force: true, maxRetries: 3 });
  });
  // No fsync or syncfs spawns: durability is not what these tests look at.
  const { nodeIo } = await import('../../src/util/durable.ts');
  const store = await ImageStore.open(dataRoot, silentLogger, undefined, { ...nodeIo, syncFs: async () => {} });
  await store.importRootfs(Readable.from([await emptyLayer()]), {
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    comment: '', tag: parseReference('busybox:latest'),
  });
  const host = new FakeHost(join(dataRoot, 'exec-root'));
  return boot(dataRoot, host, store, new FakeNetworks(), false, daemons);
}

async function boot(dataRoot: string, host: FakeHost, store: ImageStore, networks: FakeNetworks, reconcile: boolean, daemons: ContainerService[]): Promise<FakeEngine> {
  let containers!: ContainerService;
  const images = new ImageService(store, (id) => containers.imageUsage(id), { insecureRegistries: [], registryMirrors: [] } as never, silentLogger);
  const volumes = new VolumeService(await VolumeStore.open(dataRoot, silentLogger),
    (name) => containers.all().filter((c) => (c.rec.Mounts ?? []).some((m) => m.Name === name)).map((c) => c.rec.Id));
  containers = new ContainerService({
    dataRoot, cgroupParent: '/berth-test', host, images, networks: networks as unknown as NetworkService, volumes, log: silentLogger,
    // No log rotation: its worker thread would outlive a daemon a test abandons (a "crash"), and
    // rotation has tests of its own (test/unit/runtime/log-rotation-worker.test.ts).
    logOpts: { 'max-size': '-1' },
  });
  daemons.push(containers);
  // As engine.ts wires them.
  host.runtime.onExit((id, info) => { containers.handleExit(id, info).catch(() => {}); });
  const events = await EventLog.open(dataRoot, silentLogger);
  containers.events = events;
  volumes.events = events;
  await containers.load();
  if (reconcile) {
    await containers.reconcile();
    for (const c of containers.all()) if (!c.rec.State.Running) containers.scheduleRestart(c, true);
  }
  const e: FakeEngine = {
    dataRoot, host, networks, images, volumes, events, containers,
    async restart() {
      host.crash();
      for (const c of containers.all()) if (c.restartTimer) clearTimeout(c.restartTimer);
      await events.flush();
      return boot(dataRoot, host, store, new FakeNetworks(networks.nets), true, daemons);
    },
    async create(body = {}, name = null) {
      return (await containers.create({ Image: 'busybox', Cmd: ['sleep', '1000'], ...body }, name)).Id;
    },
    state: (ref) => containers.get(ref).rec.State,
    dirOf: (id) => join(dataRoot, 'containers', id),
    actions: (id) => events.query().filter((x: EngineEvent) => x.Type === 'container' && x.Actor.ID === id).map((x) => x.Action),
  };
  return e;
}

/**
 * Waits until `cond` holds: exits are handled on later turns of the event loop, with file writes
 * in between. Polls with setImmediate, so it works under mocked setTimeout; gives up after 2 s.
 */
export async function until(cond: () => boolean, what: string): Promise<void> {
  const end = performance.now() + 2000;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Lets pending host callbacks and engine work run (a few event-loop turns with I/O). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
