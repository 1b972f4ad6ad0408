// Named volumes of the `local` driver: <data-root>/volumes/<name>/_data holds the data,
// <data-root>/volumes/<name>/volume.json the metadata (written atomically). Driver options as
// Docker's local driver takes them: `type=tmpfs` (a tmpfs mounted on _data while the volume is
// in use), `type=none,o=bind,device=/path` (the path bind-mounted on _data while in use), or none
// (a plain directory).
//
// Mounts and live restore: a tmpfs or bind volume is mounted while at least one running container
// uses it (`acquire`/`release` count the users). The mount is the volume's data for a tmpfs, so it
// must outlive berthd as its containers do: a restarted berthd adopts a mount it finds in place
// (reconcile re-acquires it for each container still running) and only after reconcile unmounts
// the ones no running container claimed (`dropUnclaimedMounts`). Unmounting at start-up and
// mounting again would give new containers an empty tmpfs while the running ones keep the old one.
import { mkdir, readdir, readFile, rm, access, chmod, chown, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidParameter, NotFound } from '../errors.ts';
import { atomicWriteJson, fsyncDir } from '../util/atomic-write.ts';
import type { Logger } from '../util/log.ts';
import { run } from '../sys/exec.ts';
import { isMounted, unmount } from '../sys/mount.ts';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
  /** Berth's own: made for one container (`VOLUME` in the image, `-v /path`); `rm -v` removes it. */
  Anonymous: boolean;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeStore {
  private readonly root: string;
  private readonly log: Logger;
  private readonly vols = new Map<string, VolumeRecord>();
  /** Mounts of tmpfs/bind volumes, by name: how many running containers use each. */
  private readonly active = new Map<string, number>();
  /** Volumes found mounted at open (a previous berthd's mounts), until claimed or dropped. */
  private readonly adopted = new Set<string>();

  private constructor(root: string, log: Logger) {
    this.root = root;
    this.log = log;
  }

  /** userns-remap: new volumes belong to the remapped root, and the path to them is passable. */
  private owner: { uid: number; gid: number } | undefined;

  static async open(dataRoot: string, log: Logger, owner?: { uid: number; gid: number }): Promise<VolumeStore> {
    const s = new VolumeStore(join(dataRoot, 'volumes'), log);
    s.owner = owner;
    await mkdir(s.root, { recursive: true, mode: owner ? 0o711 : 0o700 });
    if (owner) await chmod(s.root, 0o711);
    for (const name of await readdir(s.root)) {
      try {
        const v = JSON.parse(await readFile(join(s.root, name, 'volume.json'), 'utf8')) as VolumeRecord;
        s.vols.set(v.Name, v);
        // A previous daemon run's mount is kept: containers that outlived it (live restore) may
        // still use it. dropUnclaimedMounts unmounts it once reconcile has found no user.
        if (await isMounted(v.Mountpoint)) s.adopted.add(v.Name);
      } catch {
        log.warn({ volume: name }, 'removing a volume dir without readable metadata');
        await rm(join(s.root, name), { recursive: true, force: true });
      }
    }
    return s;
  }

  list(): VolumeRecord[] {
    return [...this.vols.values()];
  }

  get(name: string): VolumeRecord {
    const v = this.vols.get(name);
    if (!v) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  has(name: string): boolean {
    return this.vols.has(name);
  }

  /** Told of each volume made or removed (the engine turns it into an event). */
  onEvent?: (action: 'create' | 'destroy', name: string, attributes: Record<string, string>) => void;

  async create(o: { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null; anonymous?: boolean }): Promise<VolumeRecord> {
    const driver = o.Driver || 'local';
    const name = o.Name || randomBytes(32).toString('hex');
    if (driver !== 'local') throw new NotFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    if (!NAME_RE.test(name)) throw new InvalidParameter(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    const existing = this.vols.get(name);
    if (existing) return existing; // Docker: creating an existing volume returns it
    const opts = o.DriverOpts ?? {};
    for (const k of Object.keys(opts)) if (!['type', 'o', 'device', 'size'].includes(k)) throw new InvalidParameter(`invalid option: "${k}"`);
    if (opts.type && opts.type !== 'tmpfs' && opts.type !== 'none') throw new InvalidParameter(`unsupported volume type "${opts.type}": use tmpfs or none (with o=bind,device=/path)`);
    if (opts.type !== 'tmpfs' && (opts.type === 'none' || opts.device)) {
      if (!/(^|,)bind(,|$)/.test(opts.o ?? '') || !opts.device?.startsWith('/')) throw new InvalidParameter('a local volume of type none needs o=bind and an absolute device path');
      await access(opts.device).catch(() => { throw new InvalidParameter(`failed to mount local volume: mount ${opts.device}: no such file or directory`); });
    }
    const dir = join(this.root, name);
    const v: VolumeRecord = {
      Name: name, Driver: 'local', Mountpoint: join(dir, '_data'), CreatedAt: new Date().toISOString(),
      Labels: o.Labels ?? {}, Options: opts, Scope: 'local', Anonymous: o.anonymous ?? false,
    };
    await mkdir(v.Mountpoint, { recursive: true, mode: 0o755 });
    if (this.owner) await chown(v.Mountpoint, this.owner.uid, this.owner.gid);
    try {
      await atomicWriteJson(join(dir, 'volume.json'), v);
      // The volume's own directory entry: without it a power cut takes back a volume `create` returned.
      await fsyncDir(this.root);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    this.vols.set(name, v);
    this.onEvent?.('create', name, { driver: 'local' });
    return v;
  }

  /** Makes the volume's data reachable at its Mountpoint (tmpfs and bind volumes mount on first use). */
  async acquire(name: string): Promise<string> {
    const v = this.get(name);
    const n = this.active.get(name) ?? 0;
    if (n === 0 && (v.Options.type === 'tmpfs' || v.Options.device)) {
      if (!(await isMounted(v.Mountpoint))) {
        if (v.Options.type === 'tmpfs') {
          const o = [v.Options.o, v.Options.size ? `size=${v.Options.size}` : ''].filter(Boolean).join(',');
          await run('mount', ['-t', 'tmpfs', ...(o ? ['-o', o] : []), 'tmpfs', v.Mountpoint]);
        } else {
          await run('mount', ['--bind', v.Options.device!, v.Mountpoint]);
        }
      }
    }
    this.active.set(name, n + 1);
    this.adopted.delete(name);
    return v.Mountpoint;
  }

  /**
   * A user of the volume is gone; the last one unmounts it. A release without an acquire in this
   * run (a container that exited while berthd was down, found by reconcile) changes nothing: the
   * mount may be shared with a container reconcile has not reached yet, and dropUnclaimedMounts
   * decides about it.
   */
  async release(name: string): Promise<void> {
    const had = this.active.get(name) ?? 0;
    if (had === 0) return;
    const n = had - 1;
    if (n > 0) { this.active.set(name, n); return; }
    this.active.delete(name);
    const v = this.vols.get(name);
    if (v && (v.Options.type === 'tmpfs' || v.Options.device)) await unmount(v.Mountpoint).catch((err) => this.log.warn({ volume: name, err: String(err) }, 'volume unmount failed'));
  }

  /**
   * After reconcile: the mounts a previous run left that no running container claimed again go
   * (their containers exited while berthd was down), as their last release would have done.
   */
  async dropUnclaimedMounts(): Promise<void> {
    for (const name of [...this.adopted]) {
      this.adopted.delete(name);
      if (this.active.has(name)) continue;
      const v = this.vols.get(name);
      if (!v) continue;
      await unmount(v.Mountpoint).catch((err) => this.log.warn({ volume: name, err: String(err) }, 'unmount of an unused volume failed'));
    }
  }

  /** Whether a volume holds anything (copy-up only fills an empty one). */
  async isEmpty(name: string): Promise<boolean> {
    return (await readdir(this.get(name).Mountpoint).catch(() => [])).length === 0;
  }

  async remove(name: string, inUse: string[], force = false): Promise<void> {
    const v = this.vols.get(name);
    if (!v) { if (force) return; throw new NotFound(`get ${name}: no such volume`); }
    if (inUse.length) throw new Conflict(`remove ${name}: volume is in use - [${inUse.join(', ')}]`);
    if (await isMounted(v.Mountpoint)) await unmount(v.Mountpoint);
    await rm(join(this.root, name), { recursive: true, force: true });
    this.vols.delete(name);
    this.onEvent?.('destroy', name, { driver: 'local' });
  }

  /** Bytes under a volume's data (`docker system df -v`), -1 when unreadable. */
  /** What moby's directory.Size counts: files and symlinks once per inode, directories nothing. */
  async size(name: string): Promise<number> {
    const seen = new Set<bigint>();
    const walk = async (dir: string): Promise<number> => {
      let n = 0;
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = join(dir, e.name);
        if (e.isDirectory()) { n += await walk(p); continue; }
        const st = await lstat(p, { bigint: true }).catch(() => undefined);
        if (!st || st.size === 0n || seen.has(st.ino)) continue;
        seen.add(st.ino);
        n += Number(st.size);
      }
      return n;
    };
    try { return await walk(this.get(name).Mountpoint); } catch { return -1; }
  }
}
