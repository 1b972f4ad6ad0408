// Writes a directory tree as a tar stream (docker export, and layers made from a directory):
// every file type with its mode, owner and mtime; hard links kept as links; sorted, so the
// same tree gives the same bytes.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { createReadStream, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  return { devmajor: ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff, devminor: (rdev & 0xff) | ((rdev >> 12) & ~0xff) };
}

/** Streams the tree under `root` (not including `root` itself as `./`). */
export function packDirectory(root: string): Readable {
  const pack = tar.pack();
  const inodes = new Map<string, string>();
  const add = (header: Partial<tar.Header> & { name: string }, body?: Readable): Promise<void> => new Promise((resolve, reject) => {
    if (!body) {
      pack.entry(header as tar.Header, (err) => (err ? reject(err) : resolve()));
      return;
    }
    const e = pack.entry(header as tar.Header, (err) => (err ? reject(err) : resolve()));
    pipeline(body, e).catch(reject);
  });
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const p = join(root, r);
      const st: Stats = await lstat(p);
      const common = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
      if (st.isDirectory()) {
        await add({ ...common, type: 'directory' });
        await walk(r);
      } else if (st.isSymbolicLink()) {
        await add({ ...common, type: 'symlink', linkname: await readlink(p) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first) {
          await add({ ...common, type: 'link', linkname: first, size: 0 });
        } else {
          if (st.nlink > 1) inodes.set(key, r);
          await add({ ...common, type: 'file', size: st.size }, createReadStream(p));
        }
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        await add({ ...common, type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
      } else if (st.isFIFO()) {
        await add({ ...common, type: 'fifo' });
      }
      // sockets are not archived (tar cannot hold them)
    }
  };
  walk('').then(() => pack.finalize(), (err: Error) => pack.destroy(err));
  return pack as unknown as Readable;
}
