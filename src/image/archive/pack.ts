// Writes a directory tree as a tar stream: `docker export` (a container's merged root), a new
// layer from a container's overlay upper dir (`docker commit`), and `docker cp` out. Every file
// type keeps its mode, owner, mtime and xattrs; hard links stay links; entries are sorted, so
// the same tree gives the same bytes. In layer mode overlay's whiteouts (0:0 char devices) and
// opaque dirs (trusted.overlay.opaque=y) become the OCI `.wh.` entries.
import { isUnionXattr } from '../../sys/mount.ts';
import { lstat, readdir, readlink, open } from 'node:fs/promises';
import { constants, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { run } from '../../sys/exec.ts';
import { patchTarStreamPax, XATTR_PREFIX } from './pax.ts';

export interface PackOptions {
  /** Layer mode: translate overlay whiteouts and opaque dirs into OCI whiteout entries. */
  layer?: boolean;
  /** Paths relative to the root (no leading slash) left out with everything under them. */
  exclude?: Set<string>;
  /** Name of the root in the archive (`docker cp` out puts the copied dir or file under its own name). */
  rootName?: string;
  /** Subtracted from every owner (userns-remap: host ids back to the container's). */
  unshift?: { uid: number; gid: number };
}

const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque', 'user.fuseoverlayfs.opaque'];
/**
 * Files are opened without following a symlink at their name: what lstat saw as a file is read,
 * never what a symlink put there later points at. (A running container's tree is frozen while it
 * is packed, engine/container/copy-freeze.ts: a check by path cannot outlast renames in the same tree.)
 */
const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;
/** Files up to this size are read whole, ahead of time, this many entries ahead. */
const PREFETCH_MAX = 256 * 1024;
const PREFETCH_WINDOW = 32;

patchTarStreamPax();

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return { devmajor: ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & ~0xff) };
}

async function readNoFollow(p: string): Promise<Buffer> {
  const fh = await open(p, READ_NOFOLLOW);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Undoes getfattr's octal quoting of paths and names. */
function attrUnquote(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(...Buffer.from(s[i]!));
    }
  }
  return Buffer.from(bytes).toString();
}

/** Every xattr under `root` (symlinks not followed), read with one getfattr. */
async function readXattrs(root: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  const { stdout } = await run('getfattr', ['-R', '-P', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root], { okCodes: [0, 1], timeoutMs: 120_000 });
  let file: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      file = {};
      out.set(attrUnquote(line.slice(8)), file);
    } else if (file && line.includes('=')) {
      const i = line.indexOf('=');
      const v = line.slice(i + 1);
      const bytes = v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v.replace(/^"|"$/g, ''));
      file[attrUnquote(line.slice(0, i))] = bytes.toString('latin1');
    }
  }
  return out;
}

/** Streams the tree under `root` (not including `root` itself, unless `rootName` is given). */
export function packDirectory(root: string, o: PackOptions = {}): Readable {
  const pack = tar.pack();
  const inodes = new Map<string, string>();
  const add = (h: Partial<tar.Header> & { name: string }, body?: Readable): Promise<void> => new Promise((resolve, reject) => {
    const header = h as tar.Header;
    if (!body) {
      // An empty regular file needs an (empty) body, or tar-stream waits for one.
      if (header.type === 'file') pack.entry(header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
      return;
    }
    const e = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    pipeline(body, e).catch(reject);
  });
  const addBuffer = (h: Partial<tar.Header> & { name: string }, data: Buffer): Promise<void> => new Promise((resolve, reject) => {
    pack.entry(h as tar.Header, data, (err) => (err ? reject(err) : resolve()));
  });
  const prefix = (r: string): string => (o.rootName === undefined ? r : r ? `${o.rootName}/${r}` : o.rootName);
  let xattrs = new Map<string, Record<string, string>>();

  /** One entry, with a small file's content already read (prefetched in parallel, written in order). */
  const entry = async (r: string, p: string, st: Stats, data?: Buffer): Promise<void> => {
    const name = prefix(r);
    const un = o.unshift ?? { uid: 0, gid: 0 };
    // An id outside the container's range shows as nobody, as inside the container.
    const uid = st.uid - un.uid >= 0 && st.uid - un.uid < 65536 ? st.uid - un.uid : 65534;
    const gid = st.gid - un.gid >= 0 && st.gid - un.gid < 65536 ? st.gid - un.gid : 65534;
    const common = { name, mode: st.mode & 0o7777, uid: un.uid || un.gid ? uid : st.uid, gid: un.uid || un.gid ? gid : st.gid, mtime: st.mtime };
    const attrs = xattrs.get(p) ?? {};
    const pax: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (!isUnionXattr(k)) pax[`${XATTR_PREFIX}${k}`] = v;
    const withPax = Object.keys(pax).length ? { pax } : {};
    if (st.isDirectory()) {
      // Directories end in a slash in what clients read (GET archive, export), as in moby's tars
      // (archive.canonicalTarName): dockerode's getArchive users see `sub/`. Layers keep their
      // names, so the digests of layers Berth already made stay reproducible.
      await add({ ...common, name: o.layer ? name : `${name}/`, ...withPax, type: 'directory' });
      // The kernel marks an opaque dir trusted.overlay.opaque, or user.overlay.opaque with
      // userxattr (rootless); fuse-overlayfs user.fuseoverlayfs.opaque.
      if (o.layer && OPAQUE_XATTRS.some((x) => attrs[x] === 'y')) {
        await add({ name: `${name}/.wh..wh..opq`, mode: 0, uid: 0, gid: 0, mtime: st.mtime, type: 'file', size: 0 });
      }
    } else if (st.isSymbolicLink()) {
      await add({ ...common, type: 'symlink', linkname: await readlink(p) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first) {
        await add({ ...common, ...withPax, type: 'link', linkname: first, size: 0 });
      } else {
        if (st.nlink > 1) inodes.set(key, name);
        if (data && data.length === st.size) await addBuffer({ ...common, ...withPax, type: 'file', size: st.size }, data);
        else await add({ ...common, ...withPax, type: 'file', size: st.size }, st.size ? (await open(p, READ_NOFOLLOW)).createReadStream({ highWaterMark: 1024 * 1024, end: st.size - 1 }) : undefined);
      }
    } else if (st.isCharacterDevice() && st.rdev === 0 && o.layer) {
      const slash = name.lastIndexOf('/');
      await add({ name: `${name.slice(0, slash + 1)}.wh.${name.slice(slash + 1)}`, mode: 0, uid: 0, gid: 0, mtime: st.mtime, type: 'file', size: 0 });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      await add({ ...common, ...withPax, type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
    } else if (st.isFIFO()) {
      await add({ ...common, ...withPax, type: 'fifo' });
    }
    // sockets are not archived (tar cannot hold them)
  };

  /** Every path under `abs` in archive order (sorted, parents first), with readdir's file types. */
  const list = async (rel: string, abs: string, out: [string, string][]): Promise<void> => {
    const dirents = (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (o.exclude?.has(r)) continue;
      out.push([r, join(abs, d.name)]);
      if (d.isDirectory()) await list(r, join(abs, d.name), out);
    }
  };

  (async () => {
    xattrs = await readXattrs(root);
    const paths: [string, string][] = [];
    const st = await lstat(root);
    if (o.rootName !== undefined) paths.push(['', root]);
    if (st.isDirectory()) await list('', root, paths);
    // lstat and small reads run ahead of the packer (the thread pool works in parallel); the
    // entries still go into the archive in order.
    const load = async ([r, p]: [string, string]): Promise<{ r: string; p: string; st: Stats; data?: Buffer }> => {
      const s = await lstat(p);
      const data = s.isFile() && s.size > 0 && s.size <= PREFETCH_MAX && s.nlink === 1 ? await readNoFollow(p).catch(() => undefined) : undefined;
      return { r, p, st: s, data };
    };
    const window: Promise<{ r: string; p: string; st: Stats; data?: Buffer }>[] = [];
    let next = 0;
    while (next < paths.length && window.length < PREFETCH_WINDOW) window.push(load(paths[next++]!));
    while (window.length) {
      const e = await window.shift()!;
      if (next < paths.length) window.push(load(paths[next++]!));
      await entry(e.r, e.p, e.st, e.data);
    }
  })().then(() => pack.finalize(), (err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}
