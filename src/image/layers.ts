// The layer store: each layer extracted once, under <data-root>/image/layers/<chain hex>/:
//   diff/       the extracted tree (an overlay lowerdir)
//   meta.json   {diffId, chainId, size}: written last, it makes the layer exist
// A layer is keyed by its chain ID (the OCI image spec's ChainID: a layer's diff ID hashed with
// the chain below it), so the same tar on different parents is two layers, and one base shared by
// many images is one.
//
// Commit order (util/durable.ts): the layer's blob, if kept, goes into the content store durably;
// the tree is renamed under layers/ and the filesystem synced (one syncfs, not an fsync per
// file); only then meta.json. At start-up a dir without meta.json is a commit that did not finish
// (removed); one whose meta.json does not hold together is moved to quarantine.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameter } from '../errors.ts';
import { atomicWriteJson } from '../util/atomic-write.ts';
import type { DurableIo } from '../util/durable.ts';
import { failpoint } from '../util/failpoint.ts';
import type { Logger } from '../util/log.ts';
import type { Quarantine } from '../util/quarantine.ts';
import { applyLayer, decompress } from './archive/index.ts';
import type { ContentStore } from './content.ts';
import { hexOf } from '../util/ids.ts';

/** The chain ID of a layer on `parent` (the chain ID below it, none for a base layer). */
export function chainId(parent: string | undefined, diffId: string): string {
  return parent ? `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}` : diffId;
}

/** The chain ID of each layer of an image, bottom first. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(chainId(out[out.length - 1], d));
  return out;
}

export interface LayerMeta { diffId: string; chainId: string; size: number }

/** A layer ingested into tmp/: its diff ID, plain tar blob (if kept), extracted tree, sizes. */
export interface IngestedLayer { diffId: string; blob?: string; diff: string; size: number; bytes: number }

/** Free space an ingest always leaves on the data root's filesystem (a layer bigger than the rest is refused). */
const DISK_RESERVE = 512 * 1024 * 1024;

export class LayerStore {
  /** `<data-root>/image/layers` */
  readonly dir: string;
  private readonly content: ContentStore;
  private readonly io: Required<DurableIo>;
  private readonly log: Logger;
  private layers = new Map<string, LayerMeta>();
  /** Layers are extracted with their owners shifted by this (userns-remap), and packed back unshifted. */
  shift: { uid: number; gid: number } = { uid: 0, gid: 0 };
  /**
   * Rootless mode: device nodes in layers are skipped, and with a single-id user namespace (no
   * /etc/subuid range) every file belongs to root, the one id there is (sys/rootless.ts).
   */
  rootless: { devices: boolean; singleId: boolean } | undefined;

  constructor(dir: string, content: ContentStore, io: Required<DurableIo>, log: Logger) {
    this.dir = dir;
    this.content = content;
    this.io = io;
    this.log = log;
  }

  /** Reads layers/ back at start-up: unfinished commits are removed, inconsistent layers quarantined. */
  async load(q: Quarantine): Promise<void> {
    for (const hex of await readdir(this.dir)) {
      const dir = join(this.dir, hex);
      const text = await readFile(join(dir, 'meta.json'), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (text === undefined) {
        // meta.json is written last: without it the commit never finished and nothing names the layer.
        this.log.warn({ layer: hex }, 'removing a layer whose commit did not finish');
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      let meta: LayerMeta | undefined;
      try { meta = JSON.parse(text) as LayerMeta; } catch { /* judged below */ }
      const why = !meta || typeof meta.diffId !== 'string' ? 'meta.json does not parse'
        : meta.chainId !== `sha256:${hex}` ? `meta.json names chain ${String(meta.chainId)}`
          : !(await stat(join(dir, 'diff')).then(() => true, () => false)) ? 'the extracted layer (diff/) is missing' : undefined;
      if (why) await q.move(dir, why);
      else this.layers.set(meta!.chainId, meta!);
    }
  }

  has(chain: string): boolean { return this.layers.has(chain); }
  get(chain: string): LayerMeta | undefined { return this.layers.get(chain); }
  /** Every layer on disk, by chain ID. */
  all(): [string, LayerMeta][] { return [...this.layers]; }
  /** The directory of a layer; its tree is `diff/` in it. */
  path(chain: string): string { return join(this.dir, hexOf(chain)); }

  /** Bytes of all layers on disk, each counted once however many images share it. */
  totalSize(): number {
    let n = 0;
    for (const l of this.layers.values()) n += l.size;
    return n;
  }

  /**
   * Streams an (optionally compressed) layer tar into tmp/: hashed (diffID), kept as a blob,
   * and extracted, all in one pass. Returns the tmp paths for commit().
   */
  async ingest(body: Readable, tmp: string, allowEmpty = false, keepPlain = true): Promise<IngestedLayer> {
    // Listeners on the body before the first await: a file stream that fails to open (a layer an
    // archive names but lacks) errors meanwhile, and an 'error' nobody hears ends the process.
    const plainP = decompress(body);
    plainP.catch(() => {});
    const diff = join(tmp, 'diff');
    const blob = keepPlain ? join(tmp, 'blob') : undefined;
    await mkdir(diff, { recursive: true, mode: 0o755 });
    const hash = createHash('sha256');
    const file = blob ? createWriteStream(blob, { mode: 0o600, highWaterMark: 16 * 1024 * 1024 }) : undefined;
    let bytes = 0;
    const plain = await plainP;
    const tee = new Transform({
      highWaterMark: 4 * 1024 * 1024,
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        if (!file || file.write(chunk)) cb(null, chunk); else file.once('drain', () => cb(null, chunk));
      },
    });
    let fedErr: Error | undefined;
    const fed = pipeline(plain, tee).catch((e: Error) => { fedErr = e; tee.destroy(e); });
    const fs = await statfs(this.dir);
    const maxBytes = Math.max(0, fs.bavail * fs.bsize - DISK_RESERVE) / 2; // the blob and the extracted copy
    const applied = await applyLayer(tee, diff, {
      maxBytes, shift: this.shift,
      ...(this.rootless ? { devices: this.rootless.devices, ...(this.rootless.singleId ? { owner: { uid: 0, gid: 0 } } : {}) } : {}),
    }).catch(async (e: unknown) => {
      await fed;
      throw e;
    });
    await fed;
    if (fedErr) throw new InvalidParameter(`invalid layer archive: ${fedErr.message}`);
    if (file) await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (bytes === 0 && !allowEmpty) throw new InvalidParameter('invalid tar archive: empty body');
    failpoint('image-blob-written');
    return { diffId: `sha256:${hash.digest('hex')}`, blob, diff, size: applied.size, bytes };
  }

  /**
   * Moves an ingested layer into place under its chain ID, unless an identical one exists. The
   * layer's blob goes into content/ durably (fsync, rename, fsync dir); its tree moves under
   * layers/<chain>/ and the filesystem is synced (one syncfs, not an fsync per file); meta.json,
   * which makes the layer exist, is written last. The caller holds the store's layer lock.
   */
  async commit(l: IngestedLayer, parentChain: string | undefined, undo: (() => Promise<void>)[]): Promise<string> {
    const realChain = chainId(parentChain, l.diffId);
    if (l.blob && await this.content.commitFile(l.blob, l.diffId, l.bytes, 'image-blob-committed')) {
      undo.push(() => this.content.remove(l.diffId));
    }
    if (!this.layers.has(realChain)) {
      const dir = this.path(realChain);
      await mkdir(dir, { mode: 0o700 });
      undo.push(() => rm(dir, { recursive: true, force: true }));
      await this.io.rename(l.diff, join(dir, 'diff'));
      failpoint('image-layer-extracted');
      await this.io.syncFs(dir);
      const meta: LayerMeta = { diffId: l.diffId, chainId: realChain, size: l.size };
      await atomicWriteJson(join(dir, 'meta.json'), meta, 0o600, this.io);
      this.layers.set(realChain, meta);
      undo.push(async () => { this.layers.delete(realChain); });
      failpoint('image-layer-committed');
    }
    return realChain;
  }

  /** Forgets a layer and removes its directory; returns what it was. */
  async remove(chain: string): Promise<LayerMeta | undefined> {
    const meta = this.layers.get(chain);
    this.layers.delete(chain);
    await rm(this.path(chain), { recursive: true, force: true });
    return meta;
  }

  /** Forgets a layer whose directory the caller moves away (to quarantine). */
  forget(chain: string): void {
    this.layers.delete(chain);
  }
}
