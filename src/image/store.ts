// The image store: a facade over four stores that share one data root, <data-root>/image/:
//   content/sha256/<hex>      content.ts — blobs: image configs, layer tars made or loaded here
//                             (uncompressed), layers as pulled (compressed, by their registry
//                             digest), manifests
//   distribution/<diff hex>.json  blob-records.ts — for a layer: its tar size and the compressed
//                             blobs known for it (digest, media type, repositories seen in) — what
//                             push reuses
//   layers/<chain hex>/diff/  layers.ts — the extracted layer; layers/<chain hex>/meta.json marks it
//                             complete
//   imagedb/<hex>.json        images.ts — one per image: when it was last tagged, its repo digests
//   repositories.json         images.ts — tags: `docker.io/library/busybox:latest` → image ID
//   tmp/                      work in progress; swept at open
// and archive/save-load.ts for `docker save` / `docker load`. What crosses stores lives here:
// start-up reconcile, the ingest paths (import, commit, build, pull), and removal.
// Whatever an import or load fails on leaves nothing: work happens in tmp/ and becomes
// visible by rename, metadata last.
//
// Durability (util/durable.ts): what a file points at is on disk before the file is written.
// A layer: its blob fsynced, renamed into content/ and the directory fsynced; its extracted tree
// renamed under layers/ and the filesystem synced (syncfs); only then meta.json. An image: its
// config fsynced, renamed, directory fsynced; only then imagedb/<id>.json; only then the tag.
// So a power cut leaves no metadata that names missing or empty content. At open, what is
// inconsistent anyway (a data root written before this, a disk that lied) is moved to
// <data-root>/quarantine/ and reported (util/quarantine.ts), never silently deleted. Failpoints
// (util/failpoint.ts) mark each step for the crash tests.
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameter, NotFound, noSuchImage } from '../errors.ts';
import { nodeIo, mkdirDurable, type DurableIo } from '../util/durable.ts';
import { failpoint } from '../util/failpoint.ts';
import { Quarantine, quarantineWarnings } from '../util/quarantine.ts';
import { syncFs } from '../sys/syncfs.ts';
import type { Logger } from '../util/log.ts';
import type { ImageConfigFile, ContainerConfigFields } from '../types/oci-image.ts';
import type { Descriptor } from '../types/oci-distribution.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import { saveArchive, loadArchive } from './archive/save-load.ts';
import { BlobRecords, type BlobRef } from './blob-records.ts';
import { ContentStore, ContentWriter } from './content.ts';
import { hexOf } from '../util/ids.ts';
import { goArch } from '../util/platform.ts';
import { removeImage, type DeleteRecord, type RemoveOptions } from './delete.ts';
import { ImageMetadata, missingName, type HistoryRow, type ImageRecord } from './images.ts';
import { LayerStore, chainId, chainIds, type IngestedLayer } from './layers.ts';
import { normalizedName, type Reference } from './reference.ts';

export type { BlobRef } from './blob-records.ts';
export type { HistoryRow, ImageRecord } from './images.ts';

export type { ImageUsage, DeleteRecord } from './delete.ts';

/** What a pulled layer must turn out to be. */
export interface PulledLayer { desc: Descriptor; diffId: string; parentChain?: string; repo: string }

type Undo = (() => Promise<void>)[];

export class ImageStore {
  readonly root: string;
  private readonly log: Logger;
  private readonly dataRoot: string;
  private readonly content: ContentStore;
  private readonly layers: LayerStore;
  private readonly blobs: BlobRecords;
  private readonly images: ImageMetadata;
  /** How content and metadata reach the disk (a recorder in the unit tests). */
  private readonly io: Required<DurableIo>;
  /** One download of a layer at a time, however many pulls want it. */
  private layerLocks = new KeyedMutex();
  /** Layer commits and image removals, one at a time. */
  private storeLock = new KeyedMutex();

  private constructor(dataRoot: string, log: Logger, io: Required<DurableIo>) {
    this.dataRoot = dataRoot;
    this.root = join(dataRoot, 'image');
    this.log = log;
    this.io = io;
    this.content = new ContentStore(this.p('content/sha256'), io);
    this.layers = new LayerStore(this.p('layers'), this.content, io, log);
    this.blobs = new BlobRecords(this.p('distribution'), this.content, io);
    this.images = new ImageMetadata(this.root, this.content, this.layers, io);
  }

  /** Layers are extracted with their owners shifted by this (userns-remap), and packed back unshifted. */
  get shift(): { uid: number; gid: number } { return this.layers.shift; }
  set shift(s: { uid: number; gid: number }) { this.layers.shift = s; }
  /** Rootless mode's layer extraction (LayerStore.rootless). */
  set rootless(r: LayerStore['rootless']) { this.layers.rootless = r; }

  static async open(dataRoot: string, log: Logger, shift?: { uid: number; gid: number }, io: Required<DurableIo> = { ...nodeIo, syncFs }): Promise<ImageStore> {
    const s = new ImageStore(dataRoot, log, io);
    if (shift) s.shift = shift;
    await s.loadIndex();
    return s;
  }

  /** docker info's Warnings: one per quarantine directory left on the data root. */
  warnings(): Promise<string[]> {
    return quarantineWarnings(this.dataRoot);
  }

  private p(...parts: string[]): string { return join(this.root, ...parts); }

  /**
   * Reads the store back at start-up. What a crash can leave is either work in progress (tmp/, a
   * layer dir without meta.json, an atomic write's temp file: never referenced, so removed) or
   * complete objects no image uses yet (a layer whose image config was not written: removed, as
   * a garbage collector would, and logged). Anything else that does not hold together — metadata
   * that does not parse, a config whose bytes are not its digest, an image missing a layer — is
   * inconsistent: it goes to quarantine with the layers only it used, and is reported.
   */
  private async loadIndex(): Promise<void> {
    const q = new Quarantine(this.dataRoot, this.log);
    for (const d of ['content/sha256', 'layers', 'imagedb', 'distribution', 'tmp']) await mkdirDurable(this.p(d), 0o700, this.io);
    await rm(this.p('tmp'), { recursive: true, force: true });
    await mkdir(this.p('tmp'), { mode: 0o700 });
    await this.layers.load(q);
    const quarantinedImages = await this.images.load(q);
    // Layers no image uses: a commit, import or pull cut short by a crash between its layer and
    // its image. Nothing can be running yet, so they go now (a retried pull downloads them again),
    // except those a quarantined image used: they go to quarantine with it, to recover it from.
    const used = this.images.usedChains();
    // A quarantined image whose config is unreadable may have used any of them: then none is deleted.
    const ofQuarantined = new Map(quarantinedImages.flatMap((i) => i.chains.map((c) => [c, i.id] as const)));
    const unknownOwners = quarantinedImages.filter((i) => !i.configKnown).map((i) => i.id);
    for (const [chain, meta] of this.layers.all()) {
      if (used.has(chain)) continue;
      const owner = ofQuarantined.get(chain) ?? (unknownOwners.length ? `${unknownOwners.join(', ')} (perhaps: its config is unreadable)` : undefined);
      if (owner) {
        this.layers.forget(chain);
        await q.move(this.layers.path(chain), `layer of quarantined image ${owner}`);
      } else {
        this.log.warn({ layer: chain }, 'removing a layer no image uses (an ingest cut short)');
        await this.layers.remove(chain);
      }
      const diffUsed = this.layers.all().some(([, l]) => l.diffId === meta.diffId);
      if (!diffUsed) {
        const rec = await this.blobs.readOnDisk(meta.diffId);
        const blobs = [meta.diffId, ...(rec?.blobs ?? []).map((b) => b.digest)];
        for (const b of blobs) {
          if (owner) { if (await this.content.has(b)) await q.move(this.content.path(b), `blob of quarantined image ${owner}`); } else await this.content.remove(b);
        }
        const dist = this.blobs.file(meta.diffId);
        if (owner) { if (await exists(dist)) await q.move(dist, `blob record of quarantined image ${owner}`); } else await rm(dist, { force: true });
      }
    }
    await this.blobs.load(q);
    await this.images.loadTags(q, quarantinedImages);
    await q.finish();
  }

  // ---- lookup --------------------------------------------------------------------------------

  /** Full ID, a tag (`busybox`, `busybox:1`), or a unique ID prefix — moby's lookup order. */
  resolve(ref: string): ImageRecord {
    const id = this.images.lookup(ref);
    if (!id) throw noSuchImage(missingName(ref));
    return this.images.record(id);
  }

  list(): ImageRecord[] {
    return this.images.ids().map((id) => this.images.record(id));
  }

  /** Images committed from `id` (moby's children: they keep their parent from being deleted). */
  children(id: string): string[] {
    return this.images.children(id);
  }

  /** Each layer of an image (by chain ID) with the bytes of its files. */
  imageLayers(imageId: string): { chainId: string; size: number }[] {
    return this.chainsOf(imageId).map((c) => ({ chainId: c, size: this.layers.get(c)?.size ?? 0 }));
  }

  /** Bytes of all layers on disk, each counted once however many images share it. */
  layersSize(): number {
    return this.layers.totalSize();
  }

  /** Overlay lowerdirs for an image, topmost layer first. */
  layerDirs(imageId: string): string[] {
    return this.chainsOf(imageId).map((c) => join(this.layers.path(c), 'diff')).reverse();
  }

  private chainsOf(imageId: string): string[] {
    const img = this.images.get(imageId);
    if (!img) throw noSuchImage(imageId);
    return chainIds(img.config.rootfs?.diff_ids ?? []);
  }

  hasLayer(chainId: string): boolean {
    return this.layers.has(chainId);
  }

  hasImage(id: string): boolean {
    return this.images.has(id);
  }

  /** The image a tag points to now, if any. */
  tagged(ref: Reference): string | undefined {
    return this.images.tagged(ref);
  }

  async tag(imageId: string, ref: Reference): Promise<void> {
    await this.images.tag(imageId, ref);
  }

  /** `docker history` (see ImageMetadata.history). */
  history(ref: string): HistoryRow[] {
    return this.images.history(this.resolve(ref));
  }

  // ---- ingest ---------------------------------------------------------------------------------

  /** Moves an ingested layer into place under its chain ID, unless an identical one exists. */
  private async commitLayer(l: IngestedLayer, parentChain: string | undefined, undo: Undo): Promise<string> {
    // One layer change at a time: two commits making the same layer, or a removal deleting a
    // layer a commit is about to reuse, would otherwise race on its directory.
    return this.storeLock.run('layers', () => this.layers.commit(l, parentChain, undo));
  }

  /** Stores a config blob and registers the image; returns its ID. */
  private commitImage(configBytes: Buffer, undo: Undo, parent?: string): Promise<string> {
    return this.images.create(configBytes, this.tmpBlob('config'), undo, parent);
  }

  /** A unique path in tmp/ for small content on its way into content/ (concurrent pulls of one image). */
  private tmpBlob(name: string): string {
    return join(this.p('tmp'), `blob-${hexOf(name)}-${process.hrtime.bigint()}`);
  }

  private async withTmp<T>(fn: (tmp: string, undo: Undo) => Promise<T>): Promise<T> {
    const tmp = await mkdtemp(join(this.p('tmp'), 'w-'));
    const undo: Undo = [];
    try {
      return await fn(tmp, undo);
    } catch (err) {
      for (const u of undo.reverse()) await u().catch(() => {});
      throw err;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** `docker import`: one layer from a rootfs tar, a config from `changes`. */
  async importRootfs(body: Readable, o: { config: ContainerConfigFields; comment: string; tag?: Reference }): Promise<ImageRecord> {
    const id = await this.withTmp(async (tmp, undo) => {
      const layer = await this.layers.ingest(body, tmp);
      await this.commitLayer(layer, undefined, undo);
      const now = new Date().toISOString();
      const config: ImageConfigFile = {
        architecture: goArch(), os: 'linux', created: now, config: o.config, comment: o.comment,
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
        history: [{ created: now, comment: o.comment }],
      };
      return this.commitImage(Buffer.from(JSON.stringify(config)), undo);
    });
    if (o.tag) await this.tag(id, o.tag);
    return this.images.record(id);
  }

  /**
   * `docker commit`: the parent's layers plus one made from `layer` (a tar); `makeConfig` gets
   * the new layer's diff ID and writes the image config.
   */
  async commitLayerImage(parentId: string | undefined, layer: Readable, makeConfig: (diffId: string) => ImageConfigFile, tag?: Reference): Promise<ImageRecord> {
    const parent = parentId ? this.images.get(parentId) : undefined;
    if (parentId && !parent) throw noSuchImage(parentId);
    const parentChain = chainIds(parent?.config.rootfs?.diff_ids ?? []).pop();
    const id = await this.withTmp(async (tmp, undo) => {
      const l = await this.layers.ingest(layer, tmp, true);
      await this.commitLayer(l, parentChain, undo);
      return this.commitImage(Buffer.from(JSON.stringify(makeConfig(l.diffId))), undo, parentId);
    });
    if (tag) await this.tag(id, tag);
    return this.images.record(id);
  }

  /** An image of existing layers and a new config (a builder's metadata step); `parent` links it for history. */
  async createImage(config: ImageConfigFile, parentId?: string): Promise<ImageRecord> {
    if (chainIds(config.rootfs?.diff_ids ?? []).some((c) => !this.layers.has(c))) throw new NotFound('a layer of the image is missing');
    const id = await this.withTmp(async (_tmp, undo) => this.commitImage(Buffer.from(JSON.stringify(config)), undo, parentId));
    return this.images.record(id);
  }

  // ---- distribution (pull / push) -----------------------------------------------------------

  /**
   * A layer as a registry sends it: the compressed bytes are kept as they came (push reuses
   * them) while they are hashed, decompressed, hashed again and extracted in the same pass. It
   * becomes visible only when both digests match; until then it lives in tmp/. Concurrent pulls
   * of one layer wait for each other, and the second finds it done.
   */
  async pullLayer(body: () => Promise<Readable>, o: PulledLayer, onPlainBytes?: (total: number) => void): Promise<'pulled' | 'exists'> {
    const chain = chainId(o.parentChain, o.diffId);
    return this.layerLocks.run(chain, async () => {
      if (this.layers.has(chain)) return 'exists';
      await this.withTmp(async (tmp, undo) => {
        const raw = new ContentWriter(join(tmp, 'raw'));
        // The raw side (hash + file) always reads to the end, so a layer whose extraction fails
        // (corrupt gzip, say) is still judged by its digest first: that is the real fault.
        const toExtract = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
        let extractFailed = false;
        const tap = new Writable({
          highWaterMark: 4 * 1024 * 1024,
          write(chunk: Buffer, _e, cb) {
            if (raw.size + chunk.length > o.desc.size) { cb(new InvalidParameter(`layer ${o.desc.digest} is larger than its manifest says (${o.desc.size} bytes)`)); return; }
            let pending = 2;
            const done = (): void => { if (--pending === 0) cb(); };
            raw.write(chunk, done);
            if (extractFailed || toExtract.write(chunk)) done(); else toExtract.once('drain', done);
          },
          final(cb) { toExtract.end(); cb(); },
        });
        const src = await body();
        let srcErr: Error | undefined;
        const fed = pipeline(src, tap).catch((e: Error) => { srcErr = e; toExtract.destroy(e); });
        let layer;
        let extractErr: unknown;
        try {
          layer = await this.layers.ingest(toExtract, tmp, true, false);
          onPlainBytes?.(layer.bytes);
        } catch (e) {
          extractErr = e;
          extractFailed = true;
          toExtract.emit('drain');
        }
        await fed;
        if (srcErr) throw srcErr;
        await raw.close();
        failpoint('image-blob-written');
        const mismatch = (got: { digest: string; size: number }): Error =>
          new InvalidParameter(`filesystem layer verification failed for digest ${o.desc.digest}: got ${got.digest} (${got.size} of ${o.desc.size} bytes)`);
        raw.verify(o.desc, mismatch);
        if (!layer) throw extractErr;
        if (layer.diffId !== o.diffId) {
          throw new InvalidParameter(`layer ${o.desc.digest} has diff ID ${layer.diffId}, the image config expects ${o.diffId}`);
        }
        if (await raw.commit(this.content, o.desc, mismatch, 'image-blob-committed')) undo.push(() => this.content.remove(o.desc.digest));
        await this.recordBlob(o.diffId, { digest: o.desc.digest, mediaType: o.desc.mediaType, size: raw.size, repos: [o.repo] }, layer.bytes);
        await this.commitLayer(layer, o.parentChain, undo);
      });
      return 'pulled';
    });
  }

  /** Remembers a compressed form of a layer (pulled, or made for a push) and where it was seen. */
  recordBlob(diffId: string, blob: BlobRef, tarSize?: number): Promise<void> {
    return this.blobs.record(diffId, blob, tarSize);
  }

  /** The compressed blobs known for a layer, each with the file that holds it. */
  compressedBlobs(diffId: string): (BlobRef & { path: string })[] {
    return this.blobs.compressed(diffId);
  }

  /** A layer as an uncompressed tar: the blob kept for it, or its compressed form decompressed. */
  layerTar(diffId: string): Promise<{ size: number; open: () => Promise<Readable> }> {
    return this.blobs.layerTar(diffId);
  }

  /** A file in tmp/ for work that ends in adoptBlob() (or is removed). */
  async tempFile(prefix: string): Promise<string> {
    return join(await mkdtemp(join(this.p('tmp'), `${prefix}-`)), 'blob');
  }

  /** Moves a verified blob file into the content store under its digest. */
  async adoptBlob(path: string, digest: string): Promise<void> {
    // The caller hashed the file as it wrote it; a copy already in the store is kept as it is.
    if (await this.content.has(digest)) await rm(path, { force: true });
    else await this.content.commitFile(path, digest, (await stat(path)).size);
    await rm(join(path, '..'), { recursive: true, force: true });
  }

  /** The config blob of an image, byte-exact (its digest is the image ID). */
  configBytes(id: string): Promise<Buffer> {
    return this.content.read(id);
  }

  /** The image manifest an image was pulled with, if it was (a push can send it unchanged). */
  async pulledManifest(id: string): Promise<Buffer | undefined> {
    const d = this.images.get(id)?.manifest;
    return d ? this.content.read(d).catch(() => undefined) : undefined;
  }

  /**
   * Registers a pulled image: its config (verified by the caller against the manifest), the
   * manifest bytes under their digest, the repo digest `name@digest`, and the tag if any.
   */
  async commitPulledImage(configBytes: Buffer, manifest: { bytes: Buffer; digest: string; image?: { bytes: Buffer; digest: string } }, repoDigest: Reference, tag?: Reference): Promise<ImageRecord> {
    const id = await this.withTmp(async (_tmp, undo) => {
      for (const m of [manifest, manifest.image]) {
        if (m && await this.content.put(m.bytes, m.digest, this.tmpBlob(m.digest))) undo.push(() => this.content.remove(m.digest));
      }
      const cfg = JSON.parse(configBytes.toString('utf8')) as ImageConfigFile;
      if (chainIds(cfg.rootfs?.diff_ids ?? []).some((c) => !this.layers.has(c))) throw new NotFound('a layer of the image is missing');
      return this.commitImage(configBytes, undo);
    });
    this.images.get(id)!.manifest = (manifest.image ?? manifest).digest;
    await this.addRepoDigest(id, `${normalizedName(repoDigest)}@${manifest.digest}`);
    if (tag) await this.tag(id, tag);
    return this.images.record(id);
  }

  /** Records `name@digest` (normalized) for an image: a name keeps only its newest digest. */
  addRepoDigest(id: string, key: string): Promise<void> {
    return this.images.addRepoDigest(id, key);
  }

  // ---- delete --------------------------------------------------------------------------------

  /** `docker rmi` with moby's rules (daemon/images/image_delete.go; see delete.ts). */
  async remove(ref: string, o: RemoveOptions): Promise<DeleteRecord[]> {
    return this.storeLock.run('layers', () => removeImage({ images: this.images, layers: this.layers, blobs: this.blobs, content: this.content }, ref, o));
  }

  // ---- save / load (archive/save-load.ts) ----------------------------------------------------

  /** `docker save`: docker-archive (manifest.json, repositories) plus the OCI layout (index.json). */
  save(refs: string[]): Readable {
    return saveArchive({
      lookup: (r) => this.images.lookup(r),
      tagKeysOf: (id) => this.images.tagKeysOf(id),
      config: (id) => this.images.get(id)!.config,
      configPath: (id) => this.content.path(id),
      layerTar: (d) => this.layerTar(d),
    }, refs);
  }

  /** `docker load`: every layer verified against the config's diff_ids before anything becomes visible. */
  async load(body: Readable): Promise<{ loaded: string[] }> {
    return this.withTmp((tmp, undo) => loadArchive({
      hasLayer: (c) => this.layers.has(c),
      ingestLayer: (b, t) => this.layers.ingest(b, t),
      commitLayer: (l, parent, u) => this.commitLayer(l, parent, u),
      commitImage: (bytes, u) => this.commitImage(bytes, u),
      tag: (id, ref) => this.tag(id, ref),
    }, body, tmp, undo));
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

