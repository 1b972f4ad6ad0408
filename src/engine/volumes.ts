// Volumes and mounts of containers: what `-v`, `--mount`, `--tmpfs`, `--volumes-from` and the
// image's VOLUME ask for. At create, every entry is parsed and checked first (mount-spec.ts,
// moby's parser), then the volumes it names are made (anonymous ones too) and the mount points
// recorded, as moby's registerMountPoints does: --volumes-from first, then -v, then --mount
// (a later one at the same destination replaces a --volumes-from one; -v and --mount may not
// collide), then the image's VOLUMEs where nothing is mounted yet. At each start they become OCI
// mounts, parents before children (a bind inside a volume): a missing `-v` source directory is
// made, tmpfs/bind volumes are mounted, an empty volume is filled with the image's content at
// its path (copy-up, unless nocopy), shared/slave propagation is checked against the host's
// mount; at exit the volumes are released.
import { stat, mkdir, readdir, readFile, realpath } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InvalidParameter, NotFound, System } from '../errors.ts';
import { run } from '../sys/exec.ts';
import type { VolumeStore, VolumeRecord } from '../volume/store.ts';
import type { EventLog } from './events.ts';
import { filterVolumes, volumePruneFilter, type Filters } from './filters.ts';
import { parseBind, parseMountSpec, parseVolumesFrom, readWrite, tmpfsMountOptions, validateTmpfsDestination, type MountWire, type ParsedMount } from './container/mount-spec.ts';

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
  /** Berth's own: skip copy-up (`nocopy`, --volumes-from). */
  NoCopy?: boolean;
  /** Berth's own: a `-v` bind, whose missing source directory is made at start. */
  CreateSource?: boolean;
  /**
   * Berth's own: an anonymous volume for Config.Volumes (an image's VOLUME, `-v /path`), or a
   * --volumes-from copy of one. moby records no Source for these (AddMountPointWithVolume), so
   * its container list shows "" where inspect shows the volume's path.
   */
  SourceUnrecorded?: true;
  /** Berth's own: a `--mount type=tmpfs`'s mount data (`ro,mode=700,size=2m`). */
  TmpfsData?: string;
  /** Berth's own, in records made before TmpfsData: tmpfs options. */
  TmpfsOptions?: string[];
  /**
   * Berth's own: a volume mounted by its name (`-v name:/dst`). `rm -v` keeps it even when the
   * volume itself is anonymous (made by POST /volumes/create without a name): moby removes only
   * volumes whose mount named none (Spec.Source empty).
   */
  Named?: true;
}

export interface MountRequest {
  binds: string[];
  mounts: Record<string, unknown>[];
  tmpfs: Record<string, string>;
  volumesFrom: string[];
  imageVolumes: string[];
  volumeDriver?: string;
  /** Other containers' mount points, for --volumes-from (throws NotFound for a missing one). */
  mountsOf: (container: string) => MountPoint[];
}

/** An OCI mount of a start. */
export interface OciMount { source: string; destination: string; type: string; options: string[] }

const duplicate = (dest: string): InvalidParameter => new InvalidParameter(`Duplicate mount point: ${dest}`);

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

  /**
   * The container's mount points, decided at create. Everything is parsed and checked before the
   * first volume is made, so a bad entry leaves nothing behind.
   */
  async plan(r: MountRequest): Promise<MountPoint[]> {
    for (const dst of Object.keys(r.tmpfs)) validateTmpfsDestination(dst);
    const from = r.volumesFrom.map((vf) => {
      const { container, mode } = parseVolumesFrom(vf);
      // moby answers a missing container here with a 400 (the request is wrong, not the URL).
      try { return { theirs: r.mountsOf(container), mode }; } catch (err) { throw err instanceof NotFound ? new InvalidParameter(err.message) : err; }
    });
    const binds = r.binds.map((b) => parseBind(b, r.volumeDriver));
    const mounts = r.mounts.map((m) => parseMountSpec(m as MountWire, (p) => existsSync(p)));
    const tmpfsDests = new Set(Object.keys(r.tmpfs).map((t) => posix.normalize(t)));
    const taken = new Set<string>();
    for (const b of binds) {
      if (taken.has(b.destination) || tmpfsDests.has(b.destination)) throw duplicate(b.destination);
      taken.add(b.destination);
    }
    for (const [i, m] of mounts.entries()) {
      if (taken.has(m.destination)) throw duplicate(String((r.mounts[i] as MountWire).Target));
      taken.add(m.destination);
    }

    // All checked: now volumes are made. A later entry at a destination replaces an earlier one.
    const out = new Map<string, MountPoint>();
    for (const { theirs, mode } of from) {
      for (const m of theirs) {
        if (m.Type === 'volume' && m.Name && !this.store.has(m.Name)) throw new NotFound(`get ${m.Name}: no such volume`);
        // moby copies the mount point without its mode, and never copies up into it.
        const { CreateSource: _c, ...rest } = m;
        out.set(m.Destination, { ...rest, Mode: '', RW: m.RW && readWrite(mode), NoCopy: true });
      }
    }
    for (const p of [...binds, ...mounts]) out.set(p.destination, await this.mountPoint(p));
    // The image's VOLUMEs (and `-v /path`) where nothing is mounted get anonymous volumes.
    for (const dst of r.imageVolumes) {
      const d = posix.normalize(dst).replace(/(.)\/+$/, '$1');
      if (out.has(d)) continue;
      const v = await this.store.create({ anonymous: true, Driver: r.volumeDriver || undefined });
      out.set(d, { Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: d, Driver: v.Driver, Mode: '', RW: true, Propagation: '', SourceUnrecorded: true });
    }
    return [...out.values()];
  }

  private async mountPoint(p: ParsedMount): Promise<MountPoint> {
    const base = { Destination: p.destination, RW: p.rw, Mode: p.mode, Propagation: p.propagation };
    if (p.type === 'bind') return { Type: 'bind', Source: p.source, ...base, ...(p.createSource ? { CreateSource: true } : {}) };
    if (p.type === 'tmpfs') return { Type: 'tmpfs', Source: '', ...base, TmpfsData: p.tmpfsData ?? '' };
    const v = await this.store.create({ Name: p.source || undefined, Driver: p.driver, DriverOpts: p.driverOpts, Labels: p.labels, anonymous: !p.source });
    // moby's setBindModeIfNull: a local volume without a mode says `z`.
    return { Type: 'volume', Name: v.Name, Source: v.Mountpoint, Driver: v.Driver, ...base, Mode: p.mode || 'z', ...(p.copyData ? {} : { NoCopy: true }), ...(p.source ? { Named: true as const } : {}) };
  }

  /**
   * OCI mounts for a start, parents before children, with `rootfs` (the container's merged root)
   * to copy image content from into empty volumes, and the root propagation that shared/slave
   * binds need. Volumes are acquired; `releaseAll` gives them back.
   */
  async prepare(mounts: MountPoint[], tmpfs: Record<string, string>, rootfs: string, resolve: (root: string, path: string) => Promise<string>): Promise<{ mounts: OciMount[]; rootfsPropagation?: string }> {
    const out: OciMount[] = [];
    const acquired: string[] = [];
    let rootfsPropagation: string | undefined;
    // moby mounts a --tmpfs over a mount point at the same destination, instead of it.
    const tmpfsDests = new Set(Object.keys(tmpfs).map((t) => posix.normalize(t)));
    const ordered: ({ dest: string; data: string } | { dest: string; m: MountPoint })[] = [
      ...Object.entries(tmpfs).map(([dst, data]) => ({ dest: posix.normalize(dst), data })),
      ...mounts.filter((m) => !tmpfsDests.has(m.Destination)).map((m) => ({ dest: m.Destination, m })),
    ];
    // moby sorts by the number of path separators (parents first); a stable sort keeps the rest.
    ordered.sort((a, b) => depth(a.dest) - depth(b.dest));
    try {
      for (const e of ordered) {
        if ('data' in e) {
          out.push({ source: 'tmpfs', destination: e.dest, type: 'tmpfs', options: tmpfsMountOptions(e.data) });
          continue;
        }
        const m = e.m;
        if (m.Type === 'tmpfs') {
          const data = m.TmpfsData ?? [...(m.RW ? [] : ['ro']), ...(m.TmpfsOptions ?? []).filter((o) => !['nosuid', 'nodev', 'noexec'].includes(o))].join(',');
          out.push({ source: 'tmpfs', destination: m.Destination, type: 'tmpfs', options: tmpfsMountOptions(data) });
          continue;
        }
        let source = m.Source;
        if (m.Type === 'volume') {
          if (!this.store.has(m.Name!)) throw new NotFound(`get ${m.Name}: no such volume`);
          source = await this.store.acquire(m.Name!);
          acquired.push(m.Name!);
          this.eventLog?.emit('volume', 'mount', m.Name!, { destination: m.Destination, driver: m.Driver ?? 'local', propagation: m.Propagation || '', 'read/write': String(m.RW) });
          if (!m.NoCopy && await this.store.isEmpty(m.Name!)) await copyUp(join(rootfs, await resolve(rootfs, m.Destination)), source);
        } else if (m.CreateSource) {
          // moby's MkdirAll: a missing path becomes a directory; an existing file stays a file.
          await mkdir(source, { recursive: true, mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'EEXIST' && err.code !== 'ENOTDIR') throw new System(`error while creating mount source path '${source}': ${err.message}`, { cause: err });
          });
        } else {
          await stat(source).catch(() => { throw new InvalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${source}`); });
        }
        const prop = m.Propagation;
        if (m.Type === 'bind' && (prop === 'shared' || prop === 'rshared')) {
          await ensurePropagation(source, ['shared:'], 'a shared mount');
          rootfsPropagation = 'shared';
        } else if (m.Type === 'bind' && (prop === 'slave' || prop === 'rslave')) {
          await ensurePropagation(source, ['shared:', 'master:'], 'a shared or slave mount');
          if (rootfsPropagation !== 'shared') rootfsPropagation = 'rslave';
        }
        out.push({ source, destination: m.Destination, type: 'bind', options: ['rbind', ...(m.RW ? [] : ['ro']), ...(prop ? [prop] : [])] });
      }
    } catch (err) {
      for (const n of acquired) await this.store.release(n).catch(() => {});
      throw err;
    }
    return { mounts: out, rootfsPropagation };
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
      if (!v.Anonymous || m.Named) continue;
      const others = this.users(m.Name).filter((u) => u !== container);
      if (!others.length) await this.store.remove(m.Name, []).catch(() => {});
    }
  }

  /**
   * `docker volume create`. A volume made without a name is anonymous (moby 23's AnonymousLabel):
   * a prune at API 1.42+ takes it without all=true. dockerd 20.10 adds no label for it, so none is shown.
   */
  create(o: { Name?: string | null; Driver?: string | null; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }): Promise<VolumeRecord> {
    return this.store.create({ Name: o.Name ?? undefined, Driver: o.Driver ?? undefined, DriverOpts: o.DriverOpts, Labels: o.Labels, anonymous: !o.Name });
  }

  get(name: string): VolumeRecord {
    return this.store.get(name);
  }

  /** `docker volume ls` with its filters (filters.ts). */
  list(filters: Filters = new Map()): VolumeRecord[] {
    return filterVolumes(this.store.list(), (name) => this.users(name).length > 0, filters);
  }

  /** `docker system df -v`: each volume with its size and how many containers refer to it. */
  async usage(): Promise<{ volume: VolumeRecord; size: number; refCount: number }[]> {
    return Promise.all(this.store.list().map(async (v) => ({ volume: v, size: await this.store.size(v.Name), refCount: this.users(v.Name).length })));
  }

  /**
   * `docker volume prune`: unused volumes the filters keep (anonymous ones only, unless all=true
   * or `allByDefault`, the API before 1.42). A volume taken into use meanwhile is left.
   */
  async prune(filters: Filters, allByDefault: boolean): Promise<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }> {
    const keep = volumePruneFilter(filters, allByDefault);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.store.list()) {
      if (this.users(v.Name).length || !keep(v)) continue;
      const size = await this.store.size(v.Name);
      try { await this.remove(v.Name, false); } catch { continue; }
      deleted.push(v.Name);
      reclaimed += Math.max(0, size);
    }
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
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

const depth = (p: string): number => p.split('/').length - 1;

/** Unescapes a mountinfo path (octal escapes: \040 is a space). */
const unescapeMountPath = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * moby's ensureShared/ensureSharedOrSlave: a shared (or slave) bind only propagates if the host
 * mount its source lives on is itself shared (or a slave); otherwise the start is refused.
 */
async function ensurePropagation(source: string, tags: string[], what: string): Promise<void> {
  const path = await realpath(source).catch(() => source);
  let best: { mountpoint: string; optional: string[] } | undefined;
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (f.length < 7 || sep < 6) continue;
    const mp = unescapeMountPath(f[4]!);
    const under = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (under && (!best || mp.length >= best.mountpoint.length)) best = { mountpoint: mp, optional: f.slice(6, sep) };
  }
  if (!best) throw new System(`Could not find source mount of ${source}`);
  if (!best.optional.some((o) => tags.some((t) => o.startsWith(t)))) {
    throw new System(`path ${source} is mounted on ${best.mountpoint} but it is not ${what}`);
  }
}
