// COPY and ADD into a root filesystem with Docker's rules (moby builder/dockerfile/copy.go):
// a directory source copies its contents; a file goes to `dest` itself unless dest ends with `/`
// or is a directory already; several sources need a directory dest ending with `/`; missing
// parents are made 0755 (owned like the copied files); owners are 0:0 unless --chown; ADD
// unpacks local tar archives. Every path written is resolved inside the root, so a symlink in
// the image cannot send a write out of it.
import { createReadStream, type Stats } from 'node:fs';
import { chmod, chown, copyFile, lchown, lstat, mkdir, open, readdir, readlink, rm, stat, symlink, utimes, lutimes } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidParameter } from '../errors.ts';
import { extractTo, decompress } from '../image/archive/index.ts';
import { resolveInRoot } from '../util/root-paths.ts';
import { forEachBounded } from '../util/bounded.ts';
import type { IdShift } from './backend.ts';

export interface CopyOptions {
  /** Root the sources are relative to (the context, or another image's rootfs). */
  srcRoot: string;
  sources: string[];
  destRoot: string;
  /** Absolute path in the image; a trailing `/` means a directory. */
  dest: string;
  owner?: { uid: number; gid: number };
  /** --chmod: mode for every copied file and directory. */
  mode?: number;
  /** ADD: local tar archives (plain, gzip, zstd; bzip2 and xz are copied as files) are unpacked at dest. */
  unpackArchives: boolean;
  shift: IdShift;
  instruction: string;
}

async function isArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(512);
    const { bytesRead } = await fh.read(b, 0, 512, 0);
    const h = b.subarray(0, bytesRead);
    if (h.length >= 2 && h[0] === 0x1f && h[1] === 0x8b) return true;
    if (h.length >= 4 && h.readUInt32LE(0) === 0xfd2fb528) return true;
    return h.length >= 262 && h.subarray(257, 262).toString() === 'ustar';
  } finally {
    await fh.close();
  }
}

export async function copyInto(o: CopyOptions): Promise<void> {
  const uid = (o.owner?.uid ?? 0) + o.shift.uid;
  const gid = (o.owner?.gid ?? 0) + o.shift.gid;
  const destIsDirSyntax = o.dest.endsWith('/') || o.dest.endsWith('/.');
  if (o.sources.length > 1 && !destIsDirSyntax) {
    throw new InvalidParameter(`When using ${o.instruction} with more than one source file, the destination must be a directory and end with a /`);
  }

  /** Host path of an image path, its parent resolved in the root (the last element itself not followed). */
  const hostPath = async (imagePath: string): Promise<string> => {
    const parent = await resolveInRoot(o.destRoot, posix.dirname(imagePath), true);
    return join(o.destRoot, parent, posix.basename(imagePath));
  };
  /** mkdir -p inside the root: missing directories get 0755 and the copy's owner. */
  const mkdirAll = async (imagePath: string): Promise<string> => {
    const parts = posix.normalize(imagePath).split('/').filter(Boolean);
    let cur = '/';
    for (const part of parts) {
      const next = await resolveInRoot(o.destRoot, posix.join(cur, part), true);
      const host = join(o.destRoot, next);
      const st = await stat(host).catch(() => undefined);
      if (!st) {
        await mkdir(host, { mode: 0o755 });
        await chmod(host, 0o755);
        await chown(host, uid, gid);
      } else if (!st.isDirectory()) {
        throw new InvalidParameter(`${o.instruction} failed: cannot copy to ${imagePath}: ${posix.join(cur, part)} is not a directory`);
      }
      cur = next;
    }
    return cur;
  };

  /**
   * Copies one entry. `fresh`: its parent directory was made by this copy, so no symlink of the
   * image can be on the way and nothing is there yet (no resolving, no lstat of the target).
   * Directories are walked first; their files are copied 16 at a time afterwards.
   */
  // By target: a later source of the same name wins, as it would copied one after the other.
  const files = new Map<string, { src: string; st: Stats }>();
  const copyEntry = async (src: string, imagePath: string, fresh = false): Promise<void> => {
    const st = await lstat(src);
    const target = fresh ? join(o.destRoot, imagePath) : await hostPath(imagePath);
    const existing = fresh ? undefined : await lstat(target).catch(() => undefined);
    if (st.isDirectory()) {
      files.delete(target);
      if (existing && !existing.isDirectory()) await rm(target, { force: true });
      const made = !existing || !existing.isDirectory();
      if (made) await mkdir(target, { mode: 0o755 });
      // Below a directory we made ourselves, paths are plain: the resolved parent plus the name.
      const base = made ? posix.join(posix.dirname(imagePath) === '.' ? '/' : await resolveInRoot(o.destRoot, posix.dirname(imagePath), true), posix.basename(imagePath)) : imagePath;
      for (const name of await readdir(src)) await copyEntry(join(src, name), posix.join(fresh ? imagePath : base, name), made);
      dirs.push({ target, st });
      return;
    }
    if (existing?.isDirectory()) throw new InvalidParameter(`${o.instruction} failed: cannot overwrite directory ${imagePath} with a non-directory`);
    if (existing) await rm(target, { force: true });
    if (st.isSymbolicLink()) {
      files.delete(target); // never copy a queued file through a link made after it
      await symlink(await readlink(src), target);
      await lchown(target, uid, gid);
      await lutimes(target, st.atime, st.mtime).catch(() => {});
      return;
    }
    if (!st.isFile()) return; // fifos, sockets, devices: not in a build context
    files.set(target, { src, st });
  };
  /** Directories get their mode, owner and times after their contents are in. */
  const dirs: { target: string; st: Stats }[] = [];
  const finish = async (): Promise<void> => {
    const todo = [...files].map(([target, f]) => ({ target, ...f }));
    files.clear();
    await forEachBounded(todo, 16, async (f) => {
      await copyFile(f.src, f.target);
      await chmod(f.target, o.mode ?? (f.st.mode & 0o7777));
      await chown(f.target, uid, gid);
      await utimes(f.target, f.st.atime, f.st.mtime);
    });
    for (const d of dirs.splice(0).reverse()) {
      await chmod(d.target, o.mode ?? (d.st.mode & 0o7777));
      await chown(d.target, uid, gid);
      await utimes(d.target, d.st.atime, d.st.mtime);
    }
  };

  for (const rel of o.sources) {
    // The source's own symlinks (at the top) are followed inside its root, as Docker does.
    const resolved = rel === '' ? '/' : await resolveInRoot(o.srcRoot, rel, true);
    const src = join(o.srcRoot, resolved);
    const st = await stat(src).catch(() => undefined);
    if (!st) throw new InvalidParameter(`${o.instruction} failed: stat ${rel}: file does not exist`);
    if (st.isDirectory()) {
      const dir = await mkdirAll(o.dest);
      for (const name of await readdir(src)) await copyEntry(join(src, name), posix.join(dir, name));
      continue;
    }
    if (o.unpackArchives && await isArchive(src)) {
      const dir = await mkdirAll(o.dest);
      const input = await decompress(createReadStream(src));
      await extractTo(input, join(o.destRoot, dir), { whiteouts: false, shift: o.shift }).catch((e: Error) => {
        throw new InvalidParameter(`${o.instruction} failed: unpacking ${rel}: ${e.message}`);
      });
      continue;
    }
    let file = o.dest;
    if (destIsDirSyntax) {
      file = posix.join(await mkdirAll(o.dest), posix.basename(rel));
    } else {
      const existing = await stat(join(o.destRoot, await resolveInRoot(o.destRoot, o.dest, true))).catch(() => undefined);
      if (existing?.isDirectory()) file = posix.join(await resolveInRoot(o.destRoot, o.dest, true), posix.basename(rel));
      else await mkdirAll(posix.dirname(o.dest));
    }
    await copyEntry(src, file);
  }
  await finish();
}
