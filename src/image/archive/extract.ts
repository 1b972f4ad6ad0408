// Applies a tar to a directory: as a layer (the OCI image-spec's semantics, `applyLayer`) or as
// plain files (`docker cp` into a container, `extractTo`). Regular files, dirs, symlinks, hard
// links, devices and fifos keep their modes, owners, mtimes and xattrs; in layer mode whiteouts
// become overlay's own (`.wh.NAME` → a 0:0 char device, `.wh..wh..opq` → the
// trusted.overlay.opaque xattr) so the directory works as an overlay lowerdir.
//
// Nothing is ever written outside the directory: names are normalised and `..` refused, and
// every parent directory is checked to be a real directory (not a symlink or anything this or
// an earlier archive planted) before an entry is written under it. No step follows a symlink at
// the entry's own name either (O_EXCL creates, O_NOFOLLOW opens, lchown, lutimes, `chown -h`,
// `setfattr -h`). These checks hold for a tree nobody else changes meanwhile: a running
// container's is frozen for the copy (engine/container/copy-freeze.ts), since a check by path cannot
// outlast a rename by a process working in the same tree.
import { mkdir, symlink, link, lchown, lutimes, rm, lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidParameter } from '../../errors.ts';
import { run } from '../../sys/exec.ts';
import { opaqueXattr, isUnionXattr } from '../../sys/mount.ts';
import { cleanEntryName } from './safe-path.ts';
import { patchTarStreamPax, XATTR_PREFIX, xattrBytes } from './pax.ts';

export interface ApplyResult { size: number; entries: number }

export interface ApplyOptions {
  /** Refuse the archive once its entries add up to more than this many bytes (decompression bombs). */
  maxBytes?: number;
  /** Layer mode (default): `.wh.` entries are whiteouts. Off for `docker cp`, where they are files. */
  whiteouts?: boolean;
  /** `docker cp`'s noOverwriteDirNonDir: a directory may not replace a non-directory or the reverse. */
  noOverwriteDirNonDir?: boolean;
  /** Owner for every entry instead of the archive's (`docker cp -a` into a container with a user). */
  owner?: { uid: number; gid: number };
  /** Added to every owner (userns-remap: container root is this host uid/gid). */
  shift?: { uid: number; gid: number };
  /** Entries (by cleaned name) to skip: a build context's `.dockerignore`. */
  exclude?: (name: string) => boolean;
  /**
   * false: character and block devices are skipped (rootless: a user namespace may make only the
   * 0/0 whiteout device; dockerd rootless skips them too, and runc gives containers their /dev).
   */
  devices?: boolean;
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';
/** File handles finishing (chmod, utimes, close) while the next entries are read. */
const MAX_PENDING = 64;
const WRITE_BATCH = 1024 * 1024;
const SMALL_FILE = 256 * 1024;

async function finishFile(fh: FileHandle, mode: number, own: { uid: number; gid: number }, mtime: Date): Promise<void> {
  try {
    if (own.uid !== EUID || own.gid !== EGID) await fh.chown(own.uid, own.gid);
    if (!umaskExact(mode)) await fh.chmod(mode);
    await fh.utimes(mtime, mtime);
  } finally {
    await fh.close();
  }
}

/** 'wx' (O_CREAT|O_EXCL) never follows a symlink planted at the target. */
async function writeSmall(target: string, mode: number, data: Buffer, own: { uid: number; gid: number }, mtime: Date): Promise<void> {
  const fh = await open(target, 'wx', mode);
  try {
    if (data.length) await fh.write(data);
  } catch (err) {
    await fh.close();
    throw err;
  }
  await finishFile(fh, mode, own, mtime);
}

patchTarStreamPax();

// Files and dirs are created with their mode, and left alone when the umask kept it whole;
// owned by us, they need no chown when the entry names us. (The umask is read once, at start.)
const UMASK = process.umask();
const EUID = process.geteuid?.() ?? 0;
const EGID = process.getegid?.() ?? 0;
const umaskExact = (mode: number): boolean => (mode & ~0o777) === 0 && (mode & UMASK) === 0;

/** Extracts an uncompressed layer tar into `dir` (which must exist). */
export function applyLayer(input: Readable, dir: string, o: ApplyOptions = {}): Promise<ApplyResult> {
  return extractTar(input, dir, { whiteouts: true, ...o });
}

/** Extracts an uncompressed tar of plain files into `dir` (no whiteout semantics). */
export function extractTo(input: Readable, dir: string, o: ApplyOptions = {}): Promise<ApplyResult> {
  return extractTar(input, dir, { ...o, whiteouts: false });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** getfattr's path quoting, which `setfattr --restore` undoes. */
function attrQuote(path: string): string {
  let out = '';
  for (const b of Buffer.from(path)) out += b > 0x20 && b < 0x7f && b !== 0x5c && b !== 0x3d ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
  return out;
}

async function extractTar(input: Readable, dir: string, o: ApplyOptions): Promise<ApplyResult> {
  const extract = tar.extract();
  /** Paths (relative to dir) known to be real directories of this extraction. */
  const dirs = new Set<string>(['']);
  /** Directories this extraction created (empty when made), and every name it wrote. */
  const created = new Set<string>((await readdir(dir)).length === 0 ? [''] : []);
  const written = new Set<string>();
  const dirTimes: { path: string; mtime: Date }[] = [];
  const special: string[] = [];
  const xattrs = new Map<string, [string, Buffer][]>();
  const pending: Promise<void>[] = [];
  let size = 0;
  let total = 0;
  let entries = 0;

  const refuse = (name: string, why: string): never => {
    throw new InvalidParameter(`invalid tar entry ${JSON.stringify(name)}: ${why}`);
  };

  /** Makes sure every component of `rel` is a real directory inside dir, creating missing ones. */
  const ensureDir = async (rel: string, entry: string): Promise<void> => {
    if (dirs.has(rel)) return;
    let cur = '';
    for (const part of rel.split('/')) {
      cur = cur ? `${cur}/${part}` : part;
      if (dirs.has(cur)) continue;
      const p = join(dir, cur);
      const st = await lstat(p).catch(() => undefined);
      if (!st) {
        await mkdir(p, { mode: 0o755 });
        if (shift.uid || shift.gid) await lchown(p, shift.uid, shift.gid);
        created.add(cur);
      }
      else if (st.isSymbolicLink()) refuse(entry, `refusing to write through symlink ${cur}`);
      else if (!st.isDirectory()) refuse(entry, `parent ${cur} is not a directory`);
      dirs.add(cur);
    }
  };

  const forget = (rel: string): void => {
    for (const d of dirs) if (d === rel || d.startsWith(`${rel}/`)) dirs.delete(d);
  };

  const shift = o.shift ?? { uid: 0, gid: 0 };
  const owner = (h: tar.Header): { uid: number; gid: number } => o.owner ?? { uid: (h.uid ?? 0) + shift.uid, gid: (h.gid ?? 0) + shift.gid };

  // File writes run in the background, a bounded number at a time; the first failure is
  // kept (never an unhandled rejection) and thrown at the next checkpoint.
  let pendingErr: unknown;
  const settle = async (): Promise<void> => {
    await Promise.all(pending.splice(0));
    if (pendingErr) throw pendingErr;
  };
  const background = async (task: Promise<void>): Promise<void> => {
    pending.push(task.catch((e: unknown) => { pendingErr ??= e; }));
    while (pending.length >= MAX_PENDING) await pending.shift();
    if (pendingErr) throw pendingErr;
  };

  // The feeding side's failure is kept, not rethrown: the loop below may be awaiting a file
  // when it happens, and a rejected promise nobody awaits yet would crash the daemon.
  let feedErr: Error | undefined;
  const feed = pipeline(input, extract).catch((e: Error) => { feedErr = e; extract.destroy(e); });
  try {
    for await (const entry of extract) {
      const h = entry.header;
      entries++;
      total += 512 + (h.size ?? 0);
      if (o.maxBytes !== undefined && total > o.maxBytes) {
        entry.resume();
        throw new InvalidParameter(`archive exceeds the size limit of ${o.maxBytes} bytes`);
      }
      let name: string;
      try {
        name = cleanEntryName(h.name);
      } catch (err) {
        entry.resume();
        throw err;
      }
      if (name === '' || o.exclude?.(name)) { entry.resume(); continue; }
      const base = posix.basename(name);
      const parentRel = posix.dirname(name) === '.' ? '' : posix.dirname(name);
      try {
        await ensureDir(parentRel, h.name);
      } catch (err) {
        entry.resume();
        throw err;
      }
      const parent = join(dir, parentRel);
      const target = join(dir, name);
      if (o.whiteouts && base === OPAQUE) {
        entry.resume();
        (xattrs.get(parent) ?? xattrs.set(parent, []).get(parent)!).push([opaqueXattr(), Buffer.from('y')]);
        continue;
      }
      if (o.whiteouts && base.startsWith(WH)) {
        entry.resume();
        const hiddenName = base.slice(WH.length);
        if (hiddenName === '' || hiddenName === '.' || hiddenName === '..') refuse(h.name, 'invalid whiteout');
        const hidden = join(parent, hiddenName);
        await rm(hidden, { recursive: true, force: true });
        forget(parentRel ? `${parentRel}/${hiddenName}` : hiddenName);
        special.push(`mknod ${shellQuote(hidden)} c 0 0`);
        continue;
      }
      // A later entry replaces an earlier one of the same name (tar semantics), but a
      // directory stays a directory.
      // Nothing can be in the way in a directory this extraction made, unless an earlier
      // entry of the same name was: saves an lstat per entry on the common path.
      const mayExist = written.has(name) || !created.has(parentRel);
      if (mayExist && written.has(name)) await settle(); // an earlier entry of this name may still be writing
      const existing = mayExist ? await lstat(target).catch(() => undefined) : undefined;
      written.add(name);
      if (existing && !(existing.isDirectory() && h.type === 'directory')) {
        if (o.noOverwriteDirNonDir && existing.isDirectory() !== (h.type === 'directory')) {
          entry.resume();
          throw new InvalidParameter(existing.isDirectory()
            ? `cannot overwrite directory ${JSON.stringify(`/${name}`)} with non-directory`
            : `cannot overwrite non-directory ${JSON.stringify(`/${name}`)} with directory`);
        }
        await rm(target, { recursive: true, force: true });
        forget(name);
      }
      const keptDir = existing?.isDirectory() === true && h.type === 'directory';
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date(0);
      const own = owner(h);
      for (const [k, v] of Object.entries((h.pax ?? {}) as Record<string, string>)) {
        if (k.startsWith(XATTR_PREFIX) && h.type !== 'symlink' && !isUnionXattr(k.slice(XATTR_PREFIX.length))) {
          (xattrs.get(target) ?? xattrs.set(target, []).get(target)!).push([k.slice(XATTR_PREFIX.length), xattrBytes(v)]);
        }
      }
      switch (h.type) {
        case 'directory':
          entry.resume();
          if (keptDir) {
            // Through a handle that is the directory lstat saw, never what a symlink there points at.
            const dh = await open(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
            try {
              await dh.chown(own.uid, own.gid);
              await dh.chmod(mode);
            } finally {
              await dh.close();
            }
          } else {
            await mkdir(target, { mode });
            created.add(name);
            if (own.uid !== EUID || own.gid !== EGID) await lchown(target, own.uid, own.gid);
            if (!umaskExact(mode)) {
              const dh = await open(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
              await dh.chmod(mode).finally(() => dh.close());
            }
          }
          dirs.add(name);
          dirTimes.push({ path: target, mtime });
          break;
        case 'file':
        case 'contiguous-file': {
          size += h.size ?? 0;
          if ((h.size ?? 0) <= SMALL_FILE) {
            // Small files are read whole and written in the background, several at a time.
            const chunks: Buffer[] = [];
            for await (const chunk of entry) chunks.push(chunk as Buffer);
            await background(writeSmall(target, mode, Buffer.concat(chunks), own, mtime));
            break;
          }
          // 'wx' (O_CREAT|O_EXCL) never follows a symlink planted at the target.
          const fh = await open(target, 'wx', mode);
          try {
            // Written in batches of about 1 MiB: one thread-pool round trip per batch, not per chunk.
            let batch: Buffer[] = [];
            let batched = 0;
            for await (const chunk of entry) {
              batch.push(chunk as Buffer);
              batched += (chunk as Buffer).length;
              if (batched >= WRITE_BATCH) { await fh.writev(batch); batch = []; batched = 0; }
            }
            if (batch.length) await fh.writev(batch);
          } catch (err) {
            await fh.close();
            throw err;
          }
          await background(finishFile(fh, mode, own, mtime));
          break;
        }
        case 'symlink':
          entry.resume();
          // A layer's size is what moby's directory.Size counts: regular files once per inode
          // and symlinks (their lstat size, the target's length); directories count nothing.
          size += Buffer.byteLength(h.linkname ?? '');
          await symlink(h.linkname ?? '', target);
          await lchown(target, own.uid, own.gid);
          await lutimes(target, mtime, mtime).catch(() => {});
          break;
        case 'link': {
          entry.resume();
          const src = cleanEntryName(h.linkname ?? '');
          const srcParent = posix.dirname(src) === '.' ? '' : posix.dirname(src);
          await ensureDir(srcParent, h.name);
          await settle();
          const st = await lstat(join(dir, src)).catch(() => undefined);
          if (!st) refuse(h.name, `hard link target ${JSON.stringify(h.linkname)} does not exist`);
          if (st!.isDirectory()) refuse(h.name, `hard link to a directory ${JSON.stringify(h.linkname)}`);
          await link(join(dir, src), target).catch((e: Error) => refuse(h.name, `hard link to ${JSON.stringify(h.linkname)}: ${e.message}`));
          break;
        }
        case 'character-device':
        case 'block-device':
          entry.resume();
          if (o.devices === false) break;
          special.push(`mknod -m ${mode.toString(8)} ${shellQuote(target)} ${h.type === 'block-device' ? 'b' : 'c'} ${h.devmajor ?? 0} ${h.devminor ?? 0}`);
          special.push(`chown -h ${own.uid}:${own.gid} ${shellQuote(target)}`);
          break;
        case 'fifo':
          entry.resume();
          special.push(`mkfifo -m ${mode.toString(8)} ${shellQuote(target)}`);
          special.push(`chown -h ${own.uid}:${own.gid} ${shellQuote(target)}`);
          break;
        default:
          entry.resume();
      }
    }
    await feed;
    if (feedErr) throw feedErr;
    await settle();
  } catch (err) {
    extract.destroy();
    await feed;
    await Promise.allSettled(pending);
    if (err instanceof InvalidParameter) throw err;
    // A short read shows up first as the entry being destroyed; the feed says why.
    const why = feedErr ?? (err as Error);
    const msg = /Unexpected end|destroyed|premature/i.test(why.message) ? `unexpected end of archive (${why.message})` : why.message;
    throw new InvalidParameter(`invalid tar archive: ${msg}`, { cause: err });
  }
  // Devices, fifos, whiteouts and xattrs need syscalls Node lacks: one spawn for each kind.
  if (special.length) await run('sh', ['-e', '-s'], { input: special.join('\n') + '\n', timeoutMs: 120_000 });
  if (xattrs.size) {
    let dump = '';
    for (const [path, list] of xattrs) {
      dump += `# file: ${attrQuote(path)}\n`;
      for (const [k, v] of list) dump += `${attrQuote(k)}=0x${v.toString('hex')}\n`;
      dump += '\n';
    }
    await run('setfattr', ['-h', '--restore=-'], { input: dump, timeoutMs: 120_000 }).catch((e: Error) => {
      throw new InvalidParameter(`cannot apply extended attributes: ${e.message}`);
    });
  }
  for (const d of dirTimes.reverse()) await lutimes(d.path, d.mtime, d.mtime).catch(() => {});
  return { size, entries };
}
