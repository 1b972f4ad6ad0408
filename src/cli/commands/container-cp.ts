// `berth cp`: files between a container and the local filesystem through the archive endpoints
// (HEAD/GET/PUT /containers/{id}/archive), with the path rules of docker's pkg/archive copy.go:
// a directory copied into an existing directory lands inside it, onto a new name it takes that
// name, "dir/." copies the contents, a file onto a directory goes inside it, and "-" streams a
// tar through stdin/stdout. tar-stream is imported only when a copy runs (start-up time).
import type { Readable } from 'node:stream';
import { checkOk, readAll, type EngineClient, query } from '../../client/engine-client.ts';
import { CliError, type CommandSpec, type Ctx } from '../command.ts';
import { humanSize } from '../format/units.ts';
import { writeOut } from '../shared.ts';
import { cleanPath } from '../../util/dockerignore.ts'; // filepath.Clean on Linux is path.Clean

/** Go's os.FileMode bits the archive stat header uses. */
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_IRREGULAR = 2 ** 19;

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

interface CopyInfo { path: string; exists: boolean; isDir: boolean; rebaseName?: string }

const bit = (mode: number, b: number): boolean => Math.floor(mode / b) % 2 === 1;

/** Go's error text for a failed file system call: "lstat /x: no such file or directory". */
function goFsError(err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory', EEXIST: 'file exists',
    EISDIR: 'is a directory', ELOOP: 'too many levels of symbolic links', EPERM: 'operation not permitted', ENOSPC: 'no space left on device',
  };
  if (!e?.code || !e.syscall) return e instanceof Error ? e : new Error(String(e));
  return new CliError(`${e.syscall} ${e.path ?? ''}: ${texts[e.code] ?? e.message}`);
}

// ---- path helpers (pkg/archive) ----

/** filepath.Dir: everything before the last separator, cleaned ("/a/b/." → "/a/b"). */
const dirOf = (p: string): string => cleanPath(p.slice(0, p.lastIndexOf('/') + 1));
const baseOf = (p: string): string => { if (p === '') return '.'; const s = p.replace(/\/+$/, ''); if (s === '') return '/'; return s.slice(s.lastIndexOf('/') + 1); };
const hasTrailingSep = (p: string): boolean => p.endsWith('/');
const specifiesCurrentDir = (p: string): boolean => baseOf(p) === '.';
const join = (...parts: string[]): string => cleanPath(parts.filter((x) => x !== '').join('/'));

/** archive.SplitPathDirEntry: "/a/b/." → ["/a/b", "."], "/a/b/" → ["/a", "b"]. */
function splitPathDirEntry(p: string): [string, string] {
  let c = cleanPath(p);
  if (specifiesCurrentDir(p)) c += '/.';
  return [dirOf(c), baseOf(c)];
}

/** archive.PreserveTrailingDotOrSeparator. */
function preserveTrailing(cleaned: string, original: string): string {
  if (!specifiesCurrentDir(cleaned) && specifiesCurrentDir(original)) {
    if (!hasTrailingSep(cleaned)) cleaned += '/';
    cleaned += '.';
  }
  if (!hasTrailingSep(cleaned) && hasTrailingSep(original)) cleaned += '/';
  return cleaned;
}

/** archive.GetRebaseName. */
function getRebaseName(path: string, resolved: string): [string, string | undefined] {
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(resolved)) resolved += '/.';
  if (hasTrailingSep(path) && !hasTrailingSep(resolved)) resolved += '/';
  return [resolved, baseOf(path) !== baseOf(resolved) ? baseOf(path) : undefined];
}

/** strings.Replace(name, old, new, 1), as RebaseArchiveEntries renames entries. */
function rebase(name: string, oldBase: string, newBase: string): string {
  const from = oldBase === '/' ? '' : oldBase;
  const i = name.indexOf(from);
  return i < 0 ? name : name.slice(0, i) + newBase + name.slice(i + from.length);
}

type Rename = (name: string) => string;

/**
 * archive.PrepareArchiveCopy: the directory to extract into and how entries must be renamed so
 * the copy ends up where docker's would.
 */
function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rename?: Rename } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CliError('cannot copy directory');
  if (!dst.exists && !src.isDir && hasTrailingSep(dst.path)) throw new CliError('no such directory');
  if (!dst.exists && !src.isDir && specifiesCurrentDir(dst.path)) throw new CliError('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dstDir, rename: (n) => rebase(n, srcBase, dstBase) };
}

// ---- the local side ----

/** archive.CopyInfoSourcePath: the local source, with symlinks in its parent resolved. */
async function localSourceInfo(path: string, followLink: boolean): Promise<CopyInfo> {
  const fs = await import('node:fs/promises');
  let resolved: string;
  let rebaseName: string | undefined;
  try {
    if (followLink) {
      [resolved, rebaseName] = getRebaseName(path, await fs.realpath(path));
    } else {
      const slash = path.lastIndexOf('/');
      const dirPart = path.slice(0, slash + 1) || '.';
      const basePart = path.slice(slash + 1);
      resolved = `${await fs.realpath(dirPart)}/${basePart}`.replace(/^\/\//, '/');
      if (hasTrailingSep(path) && baseOf(path) !== baseOf(resolved)) rebaseName = baseOf(path);
    }
    const st = await fs.lstat(resolved);
    return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
  } catch (err) {
    throw goFsError(err);
  }
}

/** archive.CopyInfoDestinationPath: follows symlinks; a missing path needs an existing parent directory. */
async function localDestInfo(path: string): Promise<CopyInfo> {
  const fs = await import('node:fs/promises');
  const original = path;
  for (let n = 0; ; n++) {
    let st;
    try {
      st = await fs.lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw goFsError(err);
      const [parent] = splitPathDirEntry(path);
      let pst;
      try { pst = await fs.stat(parent); } catch (e) { throw goFsError(e); }
      if (!pst.isDirectory()) throw new CliError('not a directory');
      return { path, exists: false, isDir: false };
    }
    if (!st.isSymbolicLink()) return { path, exists: true, isDir: st.isDirectory() };
    if (n >= 10) throw new CliError(`too many symlinks in ${original}`);
    const target = await fs.readlink(path);
    path = target.startsWith('/') ? target : join(splitPathDirEntry(path)[0], target);
  }
}

/** command.ValidateOutputPath. */
async function validateOutputPath(path: string): Promise<void> {
  const fs = await import('node:fs/promises');
  const dir = dirOf(cleanPath(path));
  if (dir !== '.' && !(await fs.stat(dir).then(() => true, () => false))) throw new CliError(`invalid output path: directory "${dir}" does not exist`);
  const st = await fs.stat(path).catch(() => undefined);
  if (st && !st.isDirectory() && !st.isFile()) {
    throw new CliError(`invalid output path: "${path}" must be a directory or a regular file: ${st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : 'got an irregular file'}`);
  }
}

/**
 * archive.TarResource: the local path as a tar stream whose entries are named from the path's
 * base ("dir/", "dir/a", or "./", "./a" for "dir/."), renamed by `rename`.
 */
async function packLocal(src: CopyInfo, rename: Rename | undefined, counter: { n: number }): Promise<Readable> {
  const tar = (await import('tar-stream')).default;
  const fs = await import('node:fs/promises');
  const { createReadStream } = await import('node:fs');
  const [srcDir, include] = splitPathDirEntry(src.path);
  const pack = tar.pack();
  const inodes = new Map<string, string>();
  const add = async (abs: string, rel: string): Promise<void> => {
    const st = await fs.lstat(abs);
    if (st.isSocket()) return;
    let name = rel;
    if (src.rebaseName) name = rebase(name, include, src.rebaseName === '/' ? '' : src.rebaseName);
    if (rename) name = rename(name);
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    const key = `${st.dev}:${st.ino}`;
    if (!st.isDirectory() && st.nlink > 1 && inodes.has(key)) {
      await entry(pack, { ...base, type: 'link', linkname: inodes.get(key)! });
      return;
    }
    if (!st.isDirectory() && st.nlink > 1) inodes.set(key, name);
    if (st.isDirectory()) {
      await entry(pack, { ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
      for (const child of (await fs.readdir(abs)).sort()) await add(`${abs}/${child}`, rel === '.' ? `./${child}` : `${rel}/${child}`);
    } else if (st.isSymbolicLink()) {
      await entry(pack, { ...base, type: 'symlink', linkname: await fs.readlink(abs) });
    } else if (st.isFile()) {
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
        createReadStream(abs).on('error', reject).pipe(w);
      });
    } else if (st.isFIFO()) {
      await entry(pack, { ...base, type: 'fifo' });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await entry(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256), devminor: st.rdev % 256 });
    }
  };
  const root = include === '.' ? srcDir : `${srcDir === '/' ? '' : srcDir}/${include}`;
  add(root, include).then(() => pack.finalize(), (err: unknown) => pack.destroy(goFsError(err)));
  const { Readable: NodeReadable } = await import('node:stream');
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const c of pack as AsyncIterable<Buffer>) {
      counter.n += c.length;
      yield c;
    }
  }
  return NodeReadable.from(counted());
}

function entry(pack: import('tar-stream').Pack, header: Partial<import('tar-stream').Header>): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header as import('tar-stream').Header, (err) => (err ? reject(err) : resolve())));
}

/**
 * archive.Untar with NoLchown and NoOverwriteDirNonDir: extracts under dest, refusing entries
 * that would leave it, a directory replacing a file or the reverse; directory times are set last.
 */
async function untar(stream: Readable, dest: string, rename: Rename | undefined): Promise<void> {
  const tar = (await import('tar-stream')).default;
  const fs = await import('node:fs/promises');
  const { createWriteStream } = await import('node:fs');
  const { pipeline } = await import('node:stream/promises');
  dest = cleanPath(dest);
  const dirTimes: [string, Date][] = [];
  const inside = (p: string): boolean => p === dest || p.startsWith(dest === '/' ? '/' : `${dest}/`);
  const extract = tar.extract();
  const done = (async () => {
    for await (const e of extract) {
      const h = e.header;
      let name = cleanPath(rename ? rename(h.name) : h.name);
      if (name.startsWith('/')) name = name.slice(1) || '.';
      const path = join(dest, name);
      if (!inside(path)) throw new CliError(`${JSON.stringify(h.name)} is outside of ${JSON.stringify(dest)}`);
      await fs.mkdir(dirOf(path), { recursive: true, mode: 0o755 });
      const existing = await fs.lstat(path).catch(() => undefined);
      const isDirEntry = h.type === 'directory';
      if (existing) {
        if (existing.isDirectory() && !isDirEntry) throw new CliError(`cannot overwrite directory "${path}" with non-directory "${dest}"`);
        if (!existing.isDirectory() && isDirEntry) throw new CliError(`cannot overwrite non-directory "${path}" with directory "${dest}"`);
        if (existing.isDirectory() && name === '.') { e.resume(); continue; }
        if (!(existing.isDirectory() && isDirEntry)) await fs.rm(path, { recursive: true, force: true });
      }
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case 'directory':
          if (!existing) await fs.mkdir(path, { mode });
          break;
        case 'file':
        case 'contiguous-file':
          await pipeline(e, createWriteStream(path, { mode }));
          break;
        case 'symlink': {
          const target = join(dirOf(path), h.linkname ?? '');
          if (!(h.linkname ?? '').startsWith('/') && !inside(target)) throw new CliError(`invalid symlink "${path}" -> "${h.linkname}"`);
          await fs.symlink(h.linkname ?? '', path);
          break;
        }
        case 'link': {
          const target = join(dest, cleanPath(rename ? rename(h.linkname ?? '') : (h.linkname ?? '')));
          if (!inside(target)) throw new CliError(`invalid hardlink "${target}" -> "${h.linkname}"`);
          await fs.link(target, path);
          break;
        }
        case 'fifo': {
          const { execFile } = await import('node:child_process');
          await new Promise<void>((resolve, reject) => execFile('mkfifo', ['-m', mode.toString(8), path], (err) => (err ? reject(err) : resolve())));
          break;
        }
        default:
          // devices need privileges the CLI does not assume; docker skips what it cannot make too
          break;
      }
      e.resume();
      if (h.type !== 'symlink' && h.type !== 'link') {
        await fs.chmod(path, mode).catch(() => {});
        const mtime = h.mtime ?? new Date();
        if (h.type === 'directory') dirTimes.push([path, mtime]);
        else await fs.utimes(path, mtime, mtime).catch(() => {});
      }
    }
    for (const [p, t] of dirTimes.reverse()) await fs.utimes(p, t, t).catch(() => {});
  })();
  stream.on('error', (err) => extract.destroy(err));
  stream.pipe(extract);
  await done;
}

// ---- the container side ----

function decodeStat(header: string | string[] | undefined): PathStat | undefined {
  if (typeof header !== 'string' || !header) return undefined;
  try { return JSON.parse(Buffer.from(header, 'base64').toString()) as PathStat; } catch { return undefined; }
}

async function statPath(client: EngineClient, container: string, path: string): Promise<PathStat | undefined> {
  const res = await client.raw('HEAD', `/containers/${encodeURIComponent(container)}/archive${query({ path })}`);
  await readAll(res);
  if ((res.statusCode ?? 500) >= 400) return undefined;
  return decodeStat(res.headers['x-docker-container-path-stat']);
}

/** docker's splitCpArg: "c:/path", but "./a:b" and "/a:b" are local paths. */
export function splitCpArg(arg: string): [string, string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

async function resolveLocalPath(p: string): Promise<string> {
  const { resolve } = await import('node:path');
  return preserveTrailing(resolve(p), p);
}

interface CpOpts { followLink: boolean; copyUIDGID: boolean; quiet: boolean }

async function copyFromContainer(ctx: Ctx, container: string, srcPathIn: string, dstIn: string, o: CpOpts): Promise<void> {
  const client = ctx.client();
  let srcPath = srcPathIn;
  const dst = dstIn === '-' ? '-' : await resolveLocalPath(dstIn);
  await validateOutputPath(dst);
  let rebaseName: string | undefined;
  if (o.followLink) {
    const st = await statPath(client, container, srcPath);
    if (st && bit(st.mode, MODE_SYMLINK)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = join(splitPathDirEntry(srcPath)[0], target);
      [srcPath, rebaseName] = getRebaseName(srcPath, target);
    }
  }
  const res = await client.raw('GET', `/containers/${encodeURIComponent(container)}/archive${query({ path: srcPath })}`);
  await checkOk(res);
  if (dst === '-') {
    for await (const c of res) await writeOut(ctx.out, c as Buffer);
    return;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const src: CopyInfo = { path: srcPath, exists: true, isDir: !!stat && bit(stat.mode, MODE_DIR), rebaseName };
  let copied = 0;
  // counted as it is extracted (a 'data' listener here would start the flow before the extractor is attached)
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const c of res) {
      copied += (c as Buffer).length;
      yield c as Buffer;
    }
  }
  const dstInfo = await localDestInfo(dst);
  const renames: Rename[] = [];
  if (rebaseName) {
    const srcBase = splitPathDirEntry(src.path)[1];
    renames.push((n) => rebase(n, srcBase, rebaseName!));
  }
  let dstDir: string;
  let prepared: { dstDir: string; rename?: Rename };
  try {
    prepared = prepareArchiveCopy(src, dstInfo);
  } catch (err) {
    res.destroy();
    throw err;
  }
  dstDir = prepared.dstDir;
  if (prepared.rename) renames.push(prepared.rename);
  try {
    const { Readable: NodeReadable } = await import('node:stream');
    await untar(NodeReadable.from(counted()), dstDir, renames.length ? (n) => renames.reduce((x, f) => f(x), n) : undefined);
  } catch (err) {
    throw goFsError(err);
  }
  if (!o.quiet) ctx.err.write(`Successfully copied ${humanSize(copied)} to ${dst}\n`);
}

async function copyToContainer(ctx: Ctx, container: string, srcIn: string, dstPath: string, o: CpOpts): Promise<void> {
  const client = ctx.client();
  const srcPath = srcIn === '-' ? '-' : await resolveLocalPath(srcIn);
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false };
  let st = await statPath(client, container, dstPath);
  if (st && bit(st.mode, MODE_SYMLINK)) {
    let target = st.linkTarget;
    if (!target.startsWith('/')) target = join(splitPathDirEntry(dstPath)[0], target);
    dstInfo.path = target;
    st = await statPath(client, container, target);
  }
  if (st) {
    const m = st.mode;
    // command.ValidateOutputPathFileMode
    const why = bit(m, MODE_DEVICE) ? 'got a device' : bit(m, MODE_IRREGULAR) ? 'got an irregular file' : '';
    if (why) throw new CliError(`destination "${container}:${dstPath}" must be a directory or a regular file: ${why}`);
    dstInfo.exists = true;
    dstInfo.isDir = bit(m, MODE_DIR);
  }
  let body: Readable;
  let target: string;
  const counter = { n: 0 };
  if (srcPath === '-') {
    if (!dstInfo.isDir) throw new CliError(`destination "${container}:${dstPath}" must be a directory`);
    body = ctx.stdin;
    target = dstInfo.path;
  } else {
    const src = await localSourceInfo(srcPath, o.followLink);
    const prepared = prepareArchiveCopy(src, dstInfo);
    body = await packLocal(src, prepared.rename, counter);
    target = prepared.dstDir;
  }
  const res = await client.raw('PUT', `/containers/${encodeURIComponent(container)}/archive${query({
    path: target, noOverwriteDirNonDir: 'true', copyUIDGID: o.copyUIDGID ? 'true' : undefined,
  })}`, body, { 'Content-Type': 'application/x-tar' });
  await checkOk(res);
  await readAll(res);
  if (!o.quiet) ctx.err.write(`Successfully copied ${humanSize(counter.n)} to ${container}:${dstInfo.path}\n`);
}

export const cpCommand: CommandSpec = {
  paths: [['container', 'cp'], ['cp']],
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  description: "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
  args: { min: 2, max: 2 },
  flags: [
    { name: 'archive', short: 'a', type: 'bool', desc: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', desc: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  async run(ctx, args, o) {
    const [source, destination] = args as [string, string];
    if (source === '') throw new CliError('source can not be empty');
    if (destination === '') throw new CliError('destination can not be empty');
    // without -q, progress is shown only when stdout is a terminal (docker's rule)
    const quiet = o.changed('quiet') ? o.bool('quiet') : !(ctx.out as { isTTY?: boolean }).isTTY;
    const opts: CpOpts = { followLink: o.bool('follow-link'), copyUIDGID: o.bool('archive'), quiet };
    const [srcContainer, srcPath] = splitCpArg(source);
    const [dstContainer, dstPath] = splitCpArg(destination);
    if (srcContainer && dstContainer) throw new CliError('copying between containers is not supported');
    if (srcContainer) return copyFromContainer(ctx, srcContainer, srcPath, dstPath, opts);
    if (dstContainer) return copyToContainer(ctx, dstContainer, srcPath, dstPath, opts);
    throw new CliError('must specify at least one container source');
  },
};
