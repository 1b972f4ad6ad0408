// Volumes and mounts of containers: what `-v`, `--mount`, `--tmpfs`, `--volumes-from` and the
// image's VOLUME ask for, decided once at create (named volumes made, anonymous ones too), turned
// into OCI mounts at each start (tmpfs/bind volumes mounted, an empty volume filled with the
// image's content at its path first: copy-up), and released at exit.
import { stat, mkdir, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidParameter, NotFound } from '../errors.ts';
import { run } from '../sys/exec.ts';
import type { VolumeStore, VolumeRecord } from '../volume/store.ts';
import type { EventLog } from './events.ts';

export type { VolumeRecord };

/** One mount of a container, as inspect shows it (`Mounts`), plus what Berth needs to redo it. */
export interface MountPoint {
  Type: 'volume' | 'bind' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Berth's own: skip copy-up (`nocopy`), tmpfs options. */
  NoCopy?: boolean;
  TmpfsOptions?: string[];
}

export interface MountRequest {
  binds: string[];
  mounts: Record<string, unknown>[];
  tmpfs: Record<string, string>;
  volumesFrom: string[];
  imageVolumes: string[];
  /** Other containers' mount points, for --volumes-from. */
  mountsOf: (container: string) => MountPoint[];
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

function cleanDest(d: string): string {
  if (!d.startsWith('/')) throw new InvalidParameter(`invalid mount config: mount path must be absolute: ${d}`);
  const p = posix.normalize(d).replace(/\/+$/, '') || '/';
  if (p === '/') throw new InvalidParameter('invalid mount config: destination can\'t be \'/\'');
  return p;
}

export class VolumeService {
  /** Where volume events go (set by the engine; volume create/destroy come from the store). */
  set events(log: EventLog | undefined) {
    this.eventLog = log;
    this.store.onEvent = log ? (action, name, attrs) => log.emit('volume', action, name, attrs) : undefined;
  }

  private eventLog?: EventLog;

  readonly store: VolumeStore;
  /** Which containers refer to a volume (running or not): those may not lose it. */
  private readonly users: (volume: string) => string[];

  constructor(store: VolumeStore, users: (volume: string) => string[]) {
    this.store = store;
    this.users = users;
  }

  inUse(name: string): string[] {
    return this.users(name);
  }

  /** Parses a `-v` entry: `name:/dst[:opts]`, `/host:/dst[:opts]`. */
  private async fromBind(spec: string): Promise<MountPoint> {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3) throw new InvalidParameter(`invalid volume specification: '${spec}'`);
    const [src, dst, opts = ''] = parts as [string, string, string?];
    const flags = opts.split(',').filter(Boolean);
    for (const f of flags) {
      if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'consistent', 'cached', 'delegated'].includes(f) && !PROPAGATIONS.has(f)) {
        throw new InvalidParameter(`invalid mode: ${f}`);
      }
    }
    const rw = !flags.includes('ro');
    const propagation = flags.find((f) => PROPAGATIONS.has(f)) ?? 'rprivate';
    const Destination = cleanDest(dst);
    if (src.startsWith('/')) {
      // -v creates a missing host directory, as Docker does (--mount refuses instead).
      await mkdir(src, { recursive: true });
      return { Type: 'bind', Source: src, Destination, Mode: opts, RW: rw, Propagation: propagation };
    }
    const v = await this.store.create({ Name: src });
    return { Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination, Driver: 'local', Mode: flags.filter((f) => f !== 'nocopy').join(',') || 'z', RW: rw, Propagation: '', NoCopy: flags.includes('nocopy') };
  }

  /** Parses a `--mount` entry (HostConfig.Mounts). */
  private async fromMount(m: Record<string, unknown>): Promise<MountPoint> {
    const type = String(m.Type ?? '');
    const target = String(m.Target ?? m.Destination ?? '');
    if (!target) throw new InvalidParameter('invalid mount config: Target must not be empty');
    const Destination = cleanDest(target);
    const rw = m.ReadOnly !== true;
    if (type === 'bind') {
      const src = String(m.Source ?? '');
      if (!src.startsWith('/')) throw new InvalidParameter(`invalid mount config for type "bind": invalid mount path: '${src}' mount path must be absolute`);
      await stat(src).catch(() => { throw new InvalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${src}`); });
      const prop = String((m.BindOptions as { Propagation?: string } | undefined)?.Propagation ?? '') || 'rprivate';
      if (!PROPAGATIONS.has(prop)) throw new InvalidParameter(`invalid propagation mode: ${prop}`);
      return { Type: 'bind', Source: src, Destination, Mode: '', RW: rw, Propagation: prop };
    }
    if (type === 'volume') {
      const vo = (m.VolumeOptions ?? {}) as { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
      const src = String(m.Source ?? '');
      const v = await this.store.create({ Name: src || undefined, Driver: vo.DriverConfig?.Name, DriverOpts: vo.DriverConfig?.Options, Labels: vo.Labels, anonymous: !src });
      return { Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination, Driver: 'local', Mode: 'z', RW: rw, Propagation: '', NoCopy: vo.NoCopy === true };
    }
    if (type === 'tmpfs') {
      if (m.Source) throw new InvalidParameter('invalid mount config for type "tmpfs": source must not be specified');
      const to = (m.TmpfsOptions ?? {}) as { SizeBytes?: number; Mode?: number };
      const opts = [...(to.SizeBytes ? [`size=${to.SizeBytes}`] : []), ...(to.Mode ? [`mode=${to.Mode.toString(8)}`] : [])];
      return { Type: 'tmpfs', Source: '', Destination, Mode: '', RW: rw, Propagation: '', TmpfsOptions: opts };
    }
    throw new InvalidParameter(`invalid mount config: mount type unknown: "${type}"`);
  }

  /** The container's mount points, decided at create; volumes it names are made now. */
  async plan(r: MountRequest): Promise<MountPoint[]> {
    const out: MountPoint[] = [];
    const add = (m: MountPoint): void => {
      if (out.some((o) => o.Destination === m.Destination)) throw new InvalidParameter(`Duplicate mount point: ${m.Destination}`);
      out.push(m);
    };
    for (const b of r.binds) add(await this.fromBind(b));
    for (const m of r.mounts) add(await this.fromMount(m));
    for (const [dst, o] of Object.entries(r.tmpfs)) {
      const opts = o.split(',').filter(Boolean);
      add({ Type: 'tmpfs', Source: '', Destination: cleanDest(dst), Mode: o, RW: !opts.includes('ro'), Propagation: '', TmpfsOptions: opts.filter((x) => x !== 'ro' && x !== 'rw') });
    }
    for (const vf of r.volumesFrom) {
      const [name, mode] = vf.split(':') as [string, string?];
      if (mode && mode !== 'ro' && mode !== 'rw') throw new InvalidParameter(`invalid mode for volumes-from: ${mode}`);
      let theirs: MountPoint[];
      try { theirs = r.mountsOf(name); } catch (err) { if (err instanceof NotFound) throw new InvalidParameter(err.message); throw err; }
      for (const m of theirs) {
        if (m.Type === 'tmpfs' || out.some((o) => o.Destination === m.Destination)) continue;
        out.push({ ...m, RW: mode ? mode === 'rw' : m.RW });
      }
    }
    // The image's VOLUMEs (and `-v /path`) not covered otherwise get anonymous volumes.
    for (const dst of r.imageVolumes) {
      const d = cleanDest(dst);
      if (out.some((o) => o.Destination === d)) continue;
      const v = await this.store.create({ anonymous: true });
      out.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: d, Driver: 'local', Mode: '', RW: true, Propagation: '' });
    }
    return out;
  }

  /**
   * OCI mounts for a start, with `rootfs` (the container's merged root) to copy image content
   * from into empty volumes. Volumes are acquired; `releaseAll` gives them back.
   */
  async prepare(mounts: MountPoint[], rootfs: string, resolve: (root: string, path: string) => Promise<string>): Promise<{ source: string; destination: string; type: string; options: string[] }[]> {
    const out: { source: string; destination: string; type: string; options: string[] }[] = [];
    const acquired: string[] = [];
    try {
      for (const m of mounts) {
        if (m.Type === 'tmpfs') {
          out.push({ source: 'tmpfs', destination: m.Destination, type: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(m.RW ? [] : ['ro']), ...(m.TmpfsOptions ?? [])] });
          continue;
        }
        let source = m.Source;
        if (m.Type === 'volume') {
          if (!this.store.has(m.Name!)) throw new NotFound(`volume ${m.Name} of this container was removed`);
          source = await this.store.acquire(m.Name!);
          acquired.push(m.Name!);
          this.eventLog?.emit('volume', 'mount', m.Name!, { destination: m.Destination, driver: 'local', propagation: m.Propagation || '', 'read/write': String(m.RW) });
          if (!m.NoCopy && await this.store.isEmpty(m.Name!)) await copyUp(join(rootfs, await resolve(rootfs, m.Destination)), source);
        } else {
          await stat(source).catch(() => { throw new InvalidParameter(`bind source path does not exist: ${source}`); });
        }
        out.push({ source, destination: m.Destination, type: 'bind', options: ['rbind', m.Propagation || 'rprivate', m.RW ? 'rw' : 'ro'] });
      }
    } catch (err) {
      for (const n of acquired) await this.store.release(n).catch(() => {});
      throw err;
    }
    return out;
  }

  async releaseAll(mounts: MountPoint[]): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.Name || !this.store.has(m.Name)) continue;
      await this.store.release(m.Name);
      this.eventLog?.emit('volume', 'unmount', m.Name, { driver: 'local' });
    }
  }

  /** `docker rm -v`: the container's anonymous volumes no other container uses. */
  async removeAnonymous(mounts: MountPoint[], container: string): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.Name || !this.store.has(m.Name)) continue;
      const v: VolumeRecord = this.store.get(m.Name);
      if (!v.Anonymous) continue;
      const others = this.users(m.Name).filter((u) => u !== container);
      if (!others.length) await this.store.remove(m.Name, []).catch(() => {});
    }
  }

  /** `docker volume rm [-f]`: never a volume a container refers to; -f only forgives a missing one. */
  async remove(name: string, force: boolean): Promise<void> {
    await this.store.remove(name, this.users(name), force);
  }
}

/** Copies the image's content at a volume's path into the (empty) volume, keeping owners and modes. */
async function copyUp(from: string, to: string): Promise<void> {
  const st = await stat(from).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if (!(await readdir(from)).length) return;
  await run('cp', ['-a', `${from}/.`, `${to}/`], { timeoutMs: 300_000 });
  // The volume's root takes the directory's owner and mode, as in Docker.
  await run('chown', [`${st.uid}:${st.gid}`, to]);
  await run('chmod', [(st.mode & 0o7777).toString(8), to]);
}
