// Writes a directory tree as a tar stream: `docker export` (a container's merged root), a new
// layer from a container's overlay upper dir (`docker commit`), and `docker cp` out. Every file
// type keeps its mode, owner, mtime and xattrs; hard links stay links; entries are sorted, so
// the same tree gives the same bytes. In layer mode overlay's whiteouts (0:0 char devices) and
// opaque dirs (trusted.overlay.opaque=y) become the OCI `.wh.` entries.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { createReadStream, type Stats } from 'node:fs';
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
}

const OVERLAY_XATTR = 'trusted.overlay.';

patchTarStreamPax();

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return { devmajor: ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & ~0xff) };
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
  const prefix = (r: string): string => (o.rootName === undefined ? r : r ? `${o.rootName}/${r}` : o.rootName);
  let xattrs = new Map<string, Record<string, string>>();

  const entry = async (r: string, p: string, st: Stats): Promise<void> => {
    const name = prefix(r);
    const common = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    const attrs = xattrs.get(p) ?? {};
    const pax: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (!k.startsWith(OVERLAY_XATTR)) pax[`${XATTR_PREFIX}${k}`] = v;
    const withPax = Object.keys(pax).length ? { pax } : {};
    if (st.isDirectory()) {
      await add({ ...common, ...withPax, type: 'directory' });
      if (o.layer && attrs['trusted.overlay.opaque'] === 'y') {
        await add({ name: `${name}/.wh..wh..opq`, mode: 0, uid: 0, gid: 0, mtime: st.mtime, type: 'file', size: 0 });
      }
      await walk(r, p);
    } else if (st.isSymbolicLink()) {
      await add({ ...common, type: 'symlink', linkname: await readlink(p) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first) {
        await add({ ...common, ...withPax, type: 'link', linkname: first, size: 0 });
      } else {
        if (st.nlink > 1) inodes.set(key, name);
        await add({ ...common, ...withPax, type: 'file', size: st.size }, st.size ? createReadStream(p) : undefined);
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

  const walk = async (rel: string, abs: string): Promise<void> => {
    const names = (await readdir(abs)).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      if (o.exclude?.has(r)) continue;
      const p = join(abs, n);
      await entry(r, p, await lstat(p));
    }
  };

  (async () => {
    xattrs = await readXattrs(root);
    const st = await lstat(root);
    if (o.rootName !== undefined) await entry('', root, st);
    else await walk('', root);
  })().then(() => pack.finalize(), (err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}
