// The content store: blobs named by their sha256 digest, one file each in one directory
// (<data-root>/image/content/sha256/ for the image store, <root>/blobs/sha256/ for the registry).
// Like containerd's content store, content arrives through a writer and has one lifecycle:
//
//   ingest  — a ContentWriter appends bytes to a file outside the store (the image store's tmp/,
//             a registry upload dir), hashing them on the way; nothing in the store names it.
//   verify  — the digest (and size, when known) of what was written is checked against what the
//             caller expects; a mismatch throws the caller's error and nothing is committed.
//   commit  — the file is fsynced, renamed into the store under its digest, and the directory
//             fsynced: once commit returns, a power cut cannot take the blob back, so metadata
//             written after it (a layer's meta.json, a registry link) never names missing bytes.
//
// A blob already in the store is kept when it is intact (the right size: a copy a crash cut short
// before this code is replaced). Writes go through a DurableIo so that tests can record their
// order (util/durable.ts); failpoints (util/failpoint.ts) name the commit step for crash tests.
import { hexOf } from '../util/ids.ts';
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { nodeIo, type DurableIo } from '../util/durable.ts';
import { failpoint, type Failpoint } from '../util/failpoint.ts';


export class ContentStore {
  /** The directory of blobs, `…/sha256`. */
  readonly dir: string;
  private readonly io: DurableIo;

  constructor(dir: string, io: DurableIo = nodeIo) {
    this.dir = dir;
    this.io = io;
  }

  path(digest: string): string { return join(this.dir, hexOf(digest)); }

  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(() => true, () => false);
  }

  read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest));
  }

  remove(digest: string): Promise<void> {
    return rm(this.path(digest), { force: true });
  }

  /**
   * The commit step: moves a verified file into the store under its digest, durably (fsync,
   * rename, fsync dir), unless an intact copy is there (one of the right size: a copy cut short by
   * a crash before this code is replaced). True when it moved the file: the caller's undo may
   * then remove the blob again.
   */
  async commitFile(path: string, digest: string, size: number, point?: Failpoint): Promise<boolean> {
    const dest = this.path(digest);
    if ((await stat(dest).catch(() => undefined))?.size === size) return false;
    await this.io.fsyncFile(path);
    await this.io.rename(path, dest);
    await this.io.fsyncDir(this.dir);
    if (point) failpoint(point);
    return true;
  }

  /**
   * Writes small content held in memory (a config, a manifest) durably, unless the same bytes
   * are there: to `tmp` (outside the store, unique per call) with its data fsynced, renamed in,
   * the directory fsynced. True when it wrote the blob.
   */
  async put(bytes: Buffer, digest: string, tmp: string): Promise<boolean> {
    const dest = this.path(digest);
    const have = await readFile(dest).catch(() => undefined);
    if (have && have.equals(bytes)) return false;
    await this.io.writeFile(tmp, bytes, 0o600, true);
    await this.io.rename(tmp, dest);
    await this.io.fsyncDir(this.dir);
    return true;
  }
}

/** What a writer holds: the digest and size of every byte written to it so far. */
export interface Written { digest: string; size: number }

/**
 * One blob on its way into a content store (the ingest step). Bytes reach its file either a body
 * at a time (append: a registry upload's PATCH requests) or a chunk at a time beside another
 * consumer (write: a pull stores the compressed bytes while it extracts them); either way they
 * are hashed as they pass, so verification never reads the file again. commit() verifies, then
 * hands the file to ContentStore.commitFile. A writer whose body broke off has its hash ahead of
 * its file: it must be dropped, not committed.
 */
export class ContentWriter {
  readonly path: string;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private file?: WriteStream;
  private readonly mode: number;
  private readonly hwm: number;

  constructor(path: string, o: { mode?: number; highWaterMark?: number } = {}) {
    this.path = path;
    this.mode = o.mode ?? 0o600;
    this.hwm = o.highWaterMark ?? 16 * 1024 * 1024;
  }

  get size(): number { return this.bytes; }

  written(): Written {
    return { digest: `sha256:${this.hash.copy().digest('hex')}`, size: this.bytes };
  }

  /** Appends a whole body to the file, hashing it on the way; the file is closed when it returns. */
  async append(body: Readable): Promise<void> {
    let n = 0;
    const hash = this.hash;
    const hashing = new Transform({
      readableHighWaterMark: this.hwm, writableHighWaterMark: this.hwm,
      transform(chunk: Buffer, _enc, cb) { hash.update(chunk); n += chunk.length; cb(null, chunk); },
    });
    await pipeline(body, hashing, createWriteStream(this.path, { flags: 'a', mode: this.mode, highWaterMark: this.hwm }));
    this.bytes += n;
  }

  /** Hashes one chunk and writes it; `cb` runs when the file takes more (backpressure). */
  write(chunk: Buffer, cb: () => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.stream().write(chunk)) cb(); else this.stream().once('drain', cb);
  }

  /** Ends chunk writes: the file is closed (commit syncs it). */
  close(): Promise<void> {
    const f = this.stream();
    return new Promise<void>((res, rej) => f.end((err?: Error | null) => (err ? rej(err) : res())));
  }

  /** The verify step: throws `mismatch(what was written)` unless it is exactly `expected`. */
  verify(expected: { digest: string; size?: number }, mismatch: (got: Written) => Error): void {
    const got = this.written();
    if (got.digest !== expected.digest || (expected.size !== undefined && got.size !== expected.size)) throw mismatch(got);
  }

  /** Verifies, then commits the file into `store` (see ContentStore.commitFile). */
  async commit(store: ContentStore, expected: { digest: string; size?: number }, mismatch: (got: Written) => Error, point?: Failpoint): Promise<boolean> {
    this.verify(expected, mismatch);
    return store.commitFile(this.path, expected.digest, this.bytes, point);
  }

  private stream(): WriteStream {
    return (this.file ??= createWriteStream(this.path, { mode: this.mode, highWaterMark: this.hwm }));
  }
}
