// How content and metadata reach stable storage, and in what order. A write is not durable until
// its data is fsynced; a rename or create is not durable until its directory is fsynced. So
// everything that one file points at (a config an imagedb entry names, the blob and extracted
// tree a layer's meta.json stands for, the bytes a registry link names) is made durable first,
// and only then is the file that points at it written — itself by atomicWrite (temp → fsync →
// rename → fsync dir). A power cut at any instant then leaves either no reference or a reference
// to complete content, never a reference to an empty file.
//
// The stores do these steps through a DurableIo rather than node:fs directly, so that a unit test
// can record the operations in order and check the rule above against a model of what survives
// a power cut (test/unit/util/durable.test.ts, test/unit/image/store-durability.test.ts).
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DurableIo {
  /** Creates (or truncates) a file with data; with sync, its data is fsynced before it closes. */
  writeFile(path: string, data: string | Uint8Array, mode: number, sync: boolean): Promise<void>;
  /** fsync(2) of a file written some other way (a stream): its data and size reach the disk. */
  fsyncFile(path: string): Promise<void>;
  /** fsync(2) of a directory: the creates, renames and removals in it reach the disk. */
  fsyncDir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /**
   * syncfs(2) of the filesystem holding path: every write on it reaches the disk. For a tree too
   * big to fsync file by file (an extracted layer). Node has no syncfs; sys/ supplies one.
   */
  syncFs?(path: string): Promise<void>;
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const fh = await open(path, flags);
  try { await fh.sync(); } finally { await fh.close(); }
}

/** The real thing: node:fs, with no syncFs (sys/syncfs.ts adds it where a store needs it). */
export const nodeIo: DurableIo = {
  async writeFile(path, data, mode, sync) {
    const fh = await open(path, 'w', mode);
    try {
      await fh.writeFile(data);
      if (sync) await fh.sync();
    } finally {
      await fh.close();
    }
  },
  fsyncFile: (path) => fsyncPath(path, 'r'),
  fsyncDir: (path) => fsyncPath(path, 'r'),
  rename,
};

/**
 * mkdir -p whose new directories survive a power cut: each directory it creates is fsynced into
 * its parent (a link written into a fresh directory is lost with the directory otherwise).
 */
export async function mkdirDurable(path: string, mode: number, io: DurableIo = nodeIo): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode });
  if (first === undefined) return;
  const made: string[] = [];
  for (let p = path; p.length >= first.length; p = dirname(p)) made.push(p);
  for (const dir of made.reverse()) await io.fsyncDir(dirname(dir));
}
