// `docker cp` and `docker export`: files in and out of a container's root filesystem, running or
// not (a stopped container's rootfs is mounted for the call). Paths are resolved inside the
// container's root: symlinks, absolute or relative, never lead out of it.
//
// A running container is frozen for the whole call, from the path's resolution to the last byte
// of the archive, and so is every running container that shares one of its mounts or its PID
// namespace (copy-freeze.ts says why and how): otherwise their processes could swap a resolved directory for a symlink to
// the host's `/` halfway (CVE-2018-15664), and berthd, root on the host, would write or read host
// files.
import { lstat, realpath } from 'node:fs/promises';
import { resolveInRoot } from '../../util/root-paths.ts';
import type { Stats } from 'node:fs';
import { posix, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Conflict, InvalidParameter, NotFound } from '../../errors.ts';
import { packDirectory, extractTo, decompress } from '../../image/archive/index.ts';
import { resolveUser } from '../../util/user.ts';
import { withFrozen } from './copy-freeze.ts';
import type { ContainerService, Container } from '../containers.ts';

/** What `X-Docker-Container-Path-Stat` carries (moby's container.PathStat). */
export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

/** Go's os.FileMode bits, which the Docker CLI decodes from the stat header. */
function goFileMode(st: Stats): number {
  let m = st.mode & 0o777;
  if (st.mode & 0o4000) m += 2 ** 23;
  if (st.mode & 0o2000) m += 2 ** 22;
  if (st.mode & 0o1000) m += 2 ** 20;
  if (st.isDirectory()) m += 2 ** 31;
  else if (st.isSymbolicLink()) m += 2 ** 27;
  else if (st.isFIFO()) m += 2 ** 25;
  else if (st.isSocket()) m += 2 ** 24;
  else if (st.isBlockDevice()) m += 2 ** 26;
  else if (st.isCharacterDevice()) m += 2 ** 26 + 2 ** 21;
  return m;
}

function notFound(c: Container, path: string): NotFound {
  return new NotFound(`Could not find the file ${path} in container ${c.rec.Name.replace(/^\//, '')}`);
}

/**
 * Where a container path lives on the host when a mount shadows the rootfs there: the etc files
 * berthd bind-mounts (/etc/hostname, /etc/hosts, /etc/resolv.conf) and bind and volume mounts,
 * the deepest destination first, as the container sees them. A directory mount gives a new root
 * (paths below it resolve inside the mount's source, never out of it); a file mount its file.
 */
async function mounted(c: Container, resolved: string, followLast: boolean): Promise<string | undefined> {
  const r = c.rec;
  const mounts: { dest: string; source: string }[] = [
    ...(r.HostnamePath ? [{ dest: '/etc/hostname', source: r.HostnamePath }] : []),
    ...(r.HostsPath ? [{ dest: '/etc/hosts', source: r.HostsPath }] : []),
    ...(r.ResolvConfPath ? [{ dest: '/etc/resolv.conf', source: r.ResolvConfPath }] : []),
    ...(r.Mounts ?? []).filter((m) => (m.Type === 'bind' || m.Type === 'volume') && m.Source).map((m) => ({ dest: posix.normalize(m.Destination), source: m.Source })),
  ].sort((a, b) => b.dest.length - a.dest.length);
  for (const m of mounts) {
    if (resolved === m.dest) return (await lstat(m.source).then(() => true, () => false)) ? m.source : undefined;
    if (resolved.startsWith(`${m.dest}/`)) {
      const st = await lstat(m.source).catch(() => undefined);
      if (!st?.isDirectory()) return undefined;
      return join(m.source, await resolveInRoot(m.source, resolved.slice(m.dest.length), followLast));
    }
  }
  return undefined;
}

/** The bind or volume mount that holds `resolved` (the deepest one), if any. */
function mountOf(c: Container, resolved: string): { source: string; rw: boolean } | undefined {
  const hits = (c.rec.Mounts ?? []).filter((m) => (m.Type === 'bind' || m.Type === 'volume') && m.Source)
    .map((m) => ({ dest: posix.normalize(m.Destination), source: m.Source, rw: m.RW !== false }))
    .filter((m) => resolved === m.dest || resolved.startsWith(`${m.dest}/`))
    .sort((a, b) => b.dest.length - a.dest.length);
  return hits[0];
}

async function statIn(c: Container, root: string, path: string): Promise<{ stat: PathStat; hostPath: string; name: string }> {
  const resolved = await resolveInRoot(root, path, false);
  const hostPath = (await mounted(c, resolved, false)) ?? join(root, resolved);
  const st = await lstat(hostPath).catch(() => { throw notFound(c, path); });
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = await resolveInRoot(root, resolved, true);
  // The name is the last element of the path as given (`/etc/.` names `.`, as moby's does).
  const trimmed = path.replace(/\/+$/, '');
  const name = trimmed === '' ? '/' : posix.basename(trimmed);
  return {
    stat: { name, size: st.size, mode: goFileMode(st), mtime: st.mtime.toISOString(), linkTarget },
    hostPath, name: path.endsWith('/.') ? '.' : name,
  };
}

function checkUsable(c: Container): void {
  if (c.removing || c.rec.State.Status === 'removing') throw new Conflict(`container ${c.rec.Id} is being removed`);
}

/** The host directories and files a container's bind and volume mounts show it. */
function mountSources(c: Container): string[] {
  return (c.rec.Mounts ?? []).filter((m) => (m.Type === 'bind' || m.Type === 'volume') && m.Source).map((m) => posix.normalize(m.Source));
}

/** The container whose PID namespace c's processes live in (`--pid container:X` joins X's). */
function pidNamespaceOf(c: Container): string {
  const mode = c.rec.HostConfig.PidMode ?? '';
  return mode.startsWith('container:') ? mode.slice('container:'.length) : c.rec.Id;
}

/**
 * The containers whose processes could change what a copy of c's files walks: c itself; every
 * other running container that sees one of c's mount sources, or a directory above or below one
 * (a shared volume, --volumes-from, overlapping binds); and those that share c's PID namespace
 * (`--pid container:…`), which reach c's root through /proc/PID/root. Freezing c alone would
 * leave them free to swap a directory into c's stopped or frozen view.
 */
function racers(svc: ContainerService, c: Container): Container[] {
  const mine = mountSources(c);
  const pidns = pidNamespaceOf(c);
  const within = (a: string, b: string): boolean => b === '/' || a === b || a.startsWith(`${b}/`);
  const overlaps = (a: string, b: string): boolean => within(a, b) || within(b, a);
  return [c, ...svc.all().filter((o) => o !== c && o.rec.State.Running
    && (pidNamespaceOf(o) === pidns || mountSources(o).some((s) => mine.some((m) => overlaps(s, m)))))];
}

/** Runs fn with the rootfs mounted and every container that could race it frozen, for the whole call. */
function withStillRootfs<T>(svc: ContainerService, c: Container, fn: (merged: string) => Promise<T>): Promise<T> {
  return svc.withRootfs(c, (merged) => withFrozen(svc.freezer, racers(svc, c), () => fn(merged)));
}

/** Runs `make` with the rootfs mounted (and the container frozen) until the stream it returns ends. */
export function streamFromRootfs(svc: ContainerService, c: Container, make: (merged: string) => Promise<Readable>): Promise<Readable> {
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  return new Promise<Readable>((resolve, reject) => {
    withStillRootfs(svc, c, async (merged) => {
      let out: Readable;
      try {
        out = await make(merged);
      } catch (err) {
        reject(err);
        return;
      }
      out.once('close', release);
      out.once('end', release);
      out.once('error', release);
      resolve(out);
      await released;
    }).catch(reject);
  });
}

/** HEAD /containers/{id}/archive */
export async function containerStatPath(svc: ContainerService, ref: string, path: string): Promise<PathStat> {
  const c = svc.get(ref);
  checkUsable(c);
  return withStillRootfs(svc, c, async (merged) => (await statIn(c, merged, path)).stat);
}

/** GET /containers/{id}/archive: the stat, and a tar of the path under its own name. */
export async function containerArchive(svc: ContainerService, ref: string, path: string): Promise<{ stat: PathStat; tar: Readable }> {
  const c = svc.get(ref);
  checkUsable(c);
  let stat!: PathStat;
  const tar = await streamFromRootfs(svc, c, async (merged) => {
    const s = await statIn(c, merged, path);
    stat = s.stat;
    return packDirectory(s.hostPath, { rootName: s.name, unshift: svc.idShift });
  });
  svc.emit(c, 'archive-path', { path });
  return { stat, tar };
}

/** PUT /containers/{id}/archive: extracts a tar into the directory `path`. */
export async function containerExtract(svc: ContainerService, ref: string, path: string, body: Readable,
  o: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
  const c = svc.get(ref);
  checkUsable(c);
  await withStillRootfs(svc, c, async (merged) => {
    const resolved = await resolveInRoot(merged, path, true);
    // into a volume or bind mount when one is there (docker-py's put_archive into a created
    // container's -v /vol1, as moby mounts the container's volumes for the copy); moby's
    // containerExtractToDir checks the mount's RW, and the rootfs' only when not into a mount
    const mount = mountOf(c, resolved);
    if (mount && !mount.rw) throw new InvalidParameter('mounted volume is marked read-only');
    if (!mount && c.rec.HostConfig.ReadonlyRootfs) throw new InvalidParameter('container rootfs is marked read-only');
    const inMount = mount ? await mounted(c, resolved, true) : undefined;
    const hostDir = inMount ?? join(merged, resolved);
    const st = await lstat(hostDir).catch(() => { throw notFound(c, path); });
    if (!st.isDirectory()) throw new InvalidParameter('extraction point is not a directory');
    // Belt and braces: the resolved directory must still be inside the root (or the mount's source).
    const real = await realpath(hostDir);
    const base = inMount ? await realpath(mount!.source) : merged;
    if (real !== base && !real.startsWith(`${base}/`)) throw new InvalidParameter(`path ${path} leaves the container`);
    let owner: { uid: number; gid: number } | undefined;
    if (o.copyUIDGID && c.rec.Config.User) {
      const u = await resolveUser(merged, c.rec.Config.User);
      owner = { uid: u.uid, gid: u.gid };
    }
    const shifted = owner ? { uid: owner.uid + svc.idShift.uid, gid: owner.gid + svc.idShift.gid } : undefined;
    await extractTo(await decompress(body), hostDir, { noOverwriteDirNonDir: o.noOverwriteDirNonDir, owner: shifted, shift: svc.idShift });
  });
  svc.emit(c, 'extract-to-dir', { path });
}

/** GET /containers/{id}/export: a tar of the whole filesystem. */
export async function containerExport(svc: ContainerService, ref: string): Promise<Readable> {
  const c = svc.get(ref);
  checkUsable(c);
  const out = await streamFromRootfs(svc, c, async (merged) => packDirectory(merged, { unshift: svc.idShift }));
  svc.emit(c, 'export');
  return out;
}
