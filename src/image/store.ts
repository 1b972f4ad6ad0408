// The image store: content-addressed blobs, layers extracted once and keyed by chain ID, image
// configs keyed by their digest (the image ID), and tags.
//
// On disk, under <data-root>/image/:
//   content/sha256/<hex>      blobs: image configs, layer tars made or loaded here (uncompressed),
//                             layers as pulled (compressed, by their registry digest), manifests
//   distribution/<diff hex>.json  for a layer: its tar size and the compressed blobs known for it
//                             (digest, media type, repositories seen in) — what push reuses
//   layers/<chain hex>/diff/  the extracted layer; layers/<chain hex>/meta.json marks it complete
//   imagedb/<hex>.json        one per image: when it was last tagged, its repo digests
//   repositories.json         tags: `docker.io/library/busybox:latest` → image ID
//   tmp/                      work in progress; swept at open
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
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, statfs, mkdtemp, copyFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { Conflict, InvalidParameter, NotFound, noSuchImage } from '../errors.ts';
import { atomicWriteJson, serialJsonWriter } from '../util/atomic-write.ts';
import { nodeIo, mkdirDurable, type DurableIo } from '../util/durable.ts';
import { failpoint } from '../util/failpoint.ts';
import { Quarantine, quarantineWarnings } from '../util/quarantine.ts';
import { syncFs } from '../sys/syncfs.ts';
import { shortId } from '../util/ids.ts';
import type { Logger } from '../util/log.ts';
import type { ImageConfigFile, ContainerConfigFields } from '../types/oci-image.ts';
import type { Descriptor } from '../types/oci-distribution.ts';
import { KeyedMutex } from '../util/keyed-mutex.ts';
import { applyLayer, decompress, cleanEntryName } from './archive/index.ts';
import { parseReference, tagKey, familiarFromKey, familiarString, normalizedName, type Reference } from './reference.ts';
import { readOciLayout } from './oci-layout.ts';

export interface ImageRecord {
  id: string;
  config: ImageConfigFile;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  lastTagTime?: string;
  /** The image this one was committed from (`docker commit`), when it is local. */
  parent?: string;
}

export interface ImageUsage { all: string[]; running: string[] }

export type DeleteRecord = { Untagged: string } | { Deleted: string };

const hexOf = (d: string): string => d.replace(/^sha256:/, '');

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}` : d);
  }
  return out;
}

interface LayerMeta { diffId: string; chainId: string; size: number }

/** A layer ingested into tmp/: its diff ID, plain tar blob (if kept), extracted tree, sizes. */
interface IngestedLayer { diffId: string; blob?: string; diff: string; size: number; bytes: number }

/** imagedb/<hex>.json: what the config blob does not say. */
interface ImageDbEntry { lastTagTime?: string; parent?: string; repoDigests?: string[]; manifest?: string }

/** A compressed form of a layer, and the repositories (`host/path`) known to hold it. */
export interface BlobRef { digest: string; mediaType: string; size: number; repos: string[] }

/** distribution/<diff hex>.json */
interface DiffRecord { tarSize: number; blobs: BlobRef[] }

/** What a pulled layer must turn out to be. */
export interface PulledLayer { desc: Descriptor; diffId: string; parentChain?: string; repo: string }

/** Free space an ingest always leaves on the data root's filesystem (a layer bigger than the rest is refused). */
const DISK_RESERVE = 512 * 1024 * 1024;

export class ImageStore {
  readonly root: string;
  private readonly log: Logger;
  private images = new Map<string, { config: ImageConfigFile; lastTagTime?: string; parent?: string; repoDigests?: string[]; manifest?: string }>();
  private tags = new Map<string, string>();
  /** How content and metadata reach the disk (a recorder in the unit tests). */
  private readonly io: Required<DurableIo>;
  /** repositories.json is rewritten by concurrent tag/untag calls: one write at a time, newest state */
  private readonly serialWrite: ReturnType<typeof serialJsonWriter>;
  private layers = new Map<string, LayerMeta>();
  private diffs = new Map<string, DiffRecord>();
  /** One download of a layer at a time, however many pulls want it. */
  private layerLocks = new KeyedMutex();
  /** Layer commits and image removals, one at a time. */
  private storeLock = new KeyedMutex();

  private constructor(root: string, log: Logger, io: Required<DurableIo>) {
    this.root = root;
    this.log = log;
    this.io = io;
    this.serialWrite = serialJsonWriter(io);
  }

  /** Layers are extracted with their owners shifted by this (userns-remap), and packed back unshifted. */
  shift: { uid: number; gid: number } = { uid: 0, gid: 0 };

  static async open(dataRoot: string, log: Logger, shift?: { uid: number; gid: number }, io: Required<DurableIo> = { ...nodeIo, syncFs }): Promise<ImageStore> {
    const s = new ImageStore(join(dataRoot, 'image'), log, io);
    if (shift) s.shift = shift;
    await s.loadIndex(dataRoot);
    return s;
  }

  private dataRoot = '';

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
  private async loadIndex(dataRoot: string): Promise<void> {
    this.dataRoot = dataRoot;
    const q = new Quarantine(dataRoot, this.log);
    for (const d of ['content/sha256', 'layers', 'imagedb', 'distribution', 'tmp']) await mkdirDurable(this.p(d), 0o700, this.io);
    await rm(this.p('tmp'), { recursive: true, force: true });
    await mkdir(this.p('tmp'), { mode: 0o700 });
    for (const hex of await readdir(this.p('layers'))) {
      const dir = this.p('layers', hex);
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
          : !(await exists(join(dir, 'diff'))) ? 'the extracted layer (diff/) is missing' : undefined;
      if (why) await q.move(dir, why);
      else this.layers.set(meta!.chainId, meta!);
    }
    const quarantinedImages: { id: string; chains: string[]; configKnown: boolean }[] = [];
    for (const f of await readdir(this.p('imagedb'))) {
      if (f.startsWith('.') && f.endsWith('.tmp')) { await rm(this.p('imagedb', f), { force: true }); continue; } // an atomic write cut short
      if (!f.endsWith('.json')) continue;
      const hex = f.slice(0, -5);
      const cfgPath = this.p('content/sha256', hex);
      let meta: ImageDbEntry | undefined;
      let config: ImageConfigFile | undefined;
      let why: string | undefined;
      try { meta = JSON.parse(await readFile(this.p('imagedb', f), 'utf8')) as ImageDbEntry; } catch (err) { why = `imagedb entry unreadable: ${(err as Error).message}`; }
      const cfgBytes = await readFile(cfgPath).catch(() => undefined);
      if (!cfgBytes) why ??= 'its config blob is missing';
      else if (createHash('sha256').update(cfgBytes).digest('hex') !== hex) why ??= `its config blob does not match its digest (${cfgBytes.length} bytes)`;
      else {
        try { config = JSON.parse(cfgBytes.toString('utf8')) as ImageConfigFile; } catch { why ??= 'its config blob does not parse'; }
      }
      const chains = config ? chainIds(config.rootfs?.diff_ids ?? []) : [];
      if (!why && chains.some((c) => !this.layers.has(c))) why = `layer ${chains.find((c) => !this.layers.has(c))} is missing`;
      if (why) {
        await q.move(this.p('imagedb', f), why);
        if (cfgBytes) await q.move(cfgPath, `config of quarantined image sha256:${hex}`);
        quarantinedImages.push({ id: `sha256:${hex}`, chains, configKnown: !!config });
        continue;
      }
      this.images.set(`sha256:${hex}`, { config: config!, lastTagTime: meta!.lastTagTime, parent: meta!.parent, repoDigests: meta!.repoDigests, manifest: meta!.manifest });
    }
    // Layers no image uses: a commit, import or pull cut short by a crash between its layer and
    // its image. Nothing can be running yet, so they go now (a retried pull downloads them again),
    // except those a quarantined image used: they go to quarantine with it, to recover it from.
    const used = new Set([...this.images.values()].flatMap((i) => chainIds(i.config.rootfs?.diff_ids ?? [])));
    // A quarantined image whose config is unreadable may have used any of them: then none is deleted.
    const ofQuarantined = new Map(quarantinedImages.flatMap((i) => i.chains.map((c) => [c, i.id] as const)));
    const unknownOwners = quarantinedImages.filter((i) => !i.configKnown).map((i) => i.id);
    for (const [chain, meta] of [...this.layers]) {
      if (used.has(chain)) continue;
      this.layers.delete(chain);
      const owner = ofQuarantined.get(chain) ?? (unknownOwners.length ? `${unknownOwners.join(', ')} (perhaps: its config is unreadable)` : undefined);
      if (owner) {
        await q.move(this.p('layers', hexOf(chain)), `layer of quarantined image ${owner}`);
      } else {
        this.log.warn({ layer: chain }, 'removing a layer no image uses (an ingest cut short)');
        await rm(this.p('layers', hexOf(chain)), { recursive: true, force: true });
      }
      const diffUsed = [...this.layers.values()].some((l) => l.diffId === meta.diffId);
      if (!diffUsed) {
        const rec = await readFile(this.p('distribution', `${hexOf(meta.diffId)}.json`), 'utf8').then((t) => JSON.parse(t) as DiffRecord, () => undefined);
        const blobs = [meta.diffId, ...(rec?.blobs ?? []).map((b) => b.digest)];
        for (const b of blobs) {
          const path = this.p('content/sha256', hexOf(b));
          if (owner) { if (await exists(path)) await q.move(path, `blob of quarantined image ${owner}`); } else await rm(path, { force: true });
        }
        const dist = this.p('distribution', `${hexOf(meta.diffId)}.json`);
        if (owner) { if (await exists(dist)) await q.move(dist, `blob record of quarantined image ${owner}`); } else await rm(dist, { force: true });
      }
    }
    for (const f of await readdir(this.p('distribution'))) {
      if (f.startsWith('.') && f.endsWith('.tmp')) { await rm(this.p('distribution', f), { force: true }); continue; }
      if (!f.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(await readFile(this.p('distribution', f), 'utf8')) as DiffRecord;
        if (!Array.isArray(rec.blobs)) throw new Error('no blobs list');
        rec.blobs = rec.blobs.filter((b) => existsSync(this.p('content/sha256', hexOf(b.digest))));
        this.diffs.set(`sha256:${f.slice(0, -5)}`, rec);
      } catch (err) { await q.move(this.p('distribution', f), `blob record unreadable: ${(err as Error).message}`); }
    }
    const reposText = await readFile(this.p('repositories.json'), 'utf8').catch(() => undefined);
    if (reposText !== undefined) {
      let repos: { tags: Record<string, string> } | undefined;
      try {
        repos = JSON.parse(reposText) as { tags: Record<string, string> };
        if (!repos || typeof repos.tags !== 'object' || repos.tags === null) throw new Error('no tags map');
      } catch (err) {
        repos = undefined;
        await q.move(this.p('repositories.json'), `tags unreadable: ${(err as Error).message}`);
      }
      let dropped = false;
      for (const [k, v] of Object.entries(repos?.tags ?? {})) {
        if (this.images.has(v)) { this.tags.set(k, v); continue; }
        q.note(`tag ${familiarFromKey(k)}`, `pointed at image ${v}, which is ${quarantinedImages.some((i) => i.id === v) ? 'in quarantine' : 'missing'}`);
        dropped = true;
      }
      // The report keeps what was dropped; the file says what is true now (or the next start reports it again).
      if (dropped) await this.saveTags();
    }
    await q.finish();
  }

  // ---- lookup --------------------------------------------------------------------------------

  private record(id: string): ImageRecord {
    const img = this.images.get(id)!;
    const repoTags = [...this.tags].filter(([, v]) => v === id).map(([k]) => familiarFromKey(k)).sort();
    const size = chainIds(img.config.rootfs?.diff_ids ?? []).reduce((n, c) => n + (this.layers.get(c)?.size ?? 0), 0);
    const parent = img.parent && this.images.has(img.parent) ? img.parent : undefined;
    const repoDigests = (img.repoDigests ?? []).map(familiarDigestRef).sort();
    return { id, config: img.config, repoTags, repoDigests, size, lastTagTime: img.lastTagTime, parent };
  }

  /** Full ID, a tag (`busybox`, `busybox:1`), or a unique ID prefix — moby's lookup order. */
  resolve(ref: string): ImageRecord {
    const id = this.lookup(ref);
    if (!id) throw noSuchImage(missingName(ref));
    return this.record(id);
  }

  private lookup(ref: string): string | undefined {
    if (/^sha256:[0-9a-f]{64}$/.test(ref)) return this.images.has(ref) ? ref : undefined;
    if (/^[0-9a-f]{64}$/.test(ref) && this.images.has(`sha256:${ref}`)) return `sha256:${ref}`;
    let parsed: Reference | undefined;
    try { parsed = parseReference(ref); } catch { /* maybe an ID prefix */ }
    if (parsed && !parsed.digest) {
      const hit = this.tags.get(tagKey(parsed));
      if (hit) return hit;
    }
    if (parsed?.digest) {
      const key = `${normalizedName(parsed)}@${parsed.digest}`;
      for (const [id, img] of this.images) if (img.repoDigests?.includes(key)) return id;
    }
    const hex = ref.replace(/^sha256:/, '');
    if (/^[0-9a-f]+$/.test(hex)) {
      const hits = [...this.images.keys()].filter((k) => k.slice(7).startsWith(hex));
      if (hits.length === 1) return hits[0];
    }
    if (!parsed && !/^[0-9a-f]+$/.test(hex)) parseReference(ref); // rethrow the format error
    return undefined;
  }

  list(): ImageRecord[] {
    return [...this.images.keys()].map((id) => this.record(id));
  }

  /** Images committed from `id` (moby's children: they keep their parent from being deleted). */
  children(id: string): string[] {
    return [...this.images].filter(([, v]) => v.parent === id).map(([k]) => k);
  }

  /** Each layer of an image (by chain ID) with the bytes of its files. */
  imageLayers(imageId: string): { chainId: string; size: number }[] {
    const img = this.images.get(imageId);
    if (!img) throw noSuchImage(imageId);
    return chainIds(img.config.rootfs?.diff_ids ?? []).map((c) => ({ chainId: c, size: this.layers.get(c)?.size ?? 0 }));
  }

  /** Bytes of all layers on disk, each counted once however many images share it. */
  layersSize(): number {
    let n = 0;
    for (const l of this.layers.values()) n += l.size;
    return n;
  }

  /** Overlay lowerdirs for an image, topmost layer first. */
  layerDirs(imageId: string): string[] {
    const img = this.images.get(imageId);
    if (!img) throw noSuchImage(imageId);
    return chainIds(img.config.rootfs?.diff_ids ?? []).map((c) => this.p('layers', hexOf(c), 'diff')).reverse();
  }

  // ---- ingest ---------------------------------------------------------------------------------

  /**
   * Streams an (optionally compressed) layer tar into tmp/: hashed (diffID), kept as a blob,
   * and extracted, all in one pass. Returns the tmp paths for commitLayer().
   */
  private async ingestLayer(body: Readable, tmp: string, allowEmpty = false, keepPlain = true): Promise<{ diffId: string; blob?: string; diff: string; size: number; bytes: number }> {
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
    const fs = await statfs(this.root);
    const maxBytes = Math.max(0, fs.bavail * fs.bsize - DISK_RESERVE) / 2; // the blob and the extracted copy
    const applied = await applyLayer(tee, diff, { maxBytes, shift: this.shift }).catch(async (e: unknown) => {
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

  /** Moves an ingested layer into place under its chain ID, unless an identical one exists. */
  private async commitLayer(l: IngestedLayer, parentChain: string | undefined, undo: (() => Promise<void>)[]): Promise<string> {
    // One layer change at a time: two commits making the same layer, or a removal deleting a
    // layer a commit is about to reuse, would otherwise race on its directory.
    return this.storeLock.run('layers', () => this.commitLayerLocked(l, parentChain, undo));
  }

  /**
   * The layer's blob goes into content/ durably (fsync, rename, fsync dir); its tree moves under
   * layers/<chain>/ and the filesystem is synced (one syncfs, not an fsync per file); meta.json,
   * which makes the layer exist, is written last.
   */
  private async commitLayerLocked(l: IngestedLayer, parentChain: string | undefined, undo: (() => Promise<void>)[]): Promise<string> {
    const realChain = parentChain ? `sha256:${createHash('sha256').update(`${parentChain} ${l.diffId}`).digest('hex')}` : l.diffId;
    if (l.blob) await this.commitBlob(l.blob, l.diffId, l.bytes, undo);
    if (!this.layers.has(realChain)) {
      const dir = this.p('layers', hexOf(realChain));
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

  /**
   * Moves a blob file from tmp/ into content/ under its digest, durably, unless an intact copy
   * is there (one of the right size: a copy cut short by a crash before this code is replaced).
   */
  private async commitBlob(path: string, digest: string, size: number, undo: (() => Promise<void>)[]): Promise<void> {
    const dest = this.p('content/sha256', hexOf(digest));
    if ((await stat(dest).catch(() => undefined))?.size === size) return;
    await this.io.fsyncFile(path);
    await this.io.rename(path, dest);
    await this.io.fsyncDir(this.p('content/sha256'));
    undo.push(() => rm(dest, { force: true }));
    failpoint('image-blob-committed');
  }

  /** Writes small content (a config, a manifest) into content/ durably, unless the same bytes are there. */
  private async commitSmallBlob(bytes: Buffer, digest: string, undo: (() => Promise<void>)[]): Promise<void> {
    const dest = this.p('content/sha256', hexOf(digest));
    const have = await readFile(dest).catch(() => undefined);
    if (have && have.equals(bytes)) return;
    const tmp = join(this.p('tmp'), `blob-${hexOf(digest)}-${process.hrtime.bigint()}`); // unique: concurrent pulls of one image
    await this.io.writeFile(tmp, bytes, 0o600, true);
    await this.io.rename(tmp, dest);
    await this.io.fsyncDir(this.p('content/sha256'));
    undo.push(() => rm(dest, { force: true }));
  }

  /** Stores a config blob and registers the image; returns its ID. */
  private async commitImage(configBytes: Buffer, undo: (() => Promise<void>)[], parent?: string): Promise<string> {
    const hex = createHash('sha256').update(configBytes).digest('hex');
    const id = `sha256:${hex}`;
    if (this.images.has(id)) return id;
    await this.commitSmallBlob(configBytes, id, undo);
    failpoint('image-config-written');
    const entry: ImageDbEntry = parent ? { parent } : {};
    await atomicWriteJson(this.p('imagedb', `${hex}.json`), entry, 0o600, this.io);
    failpoint('image-imagedb-written');
    this.images.set(id, { config: JSON.parse(configBytes.toString('utf8')) as ImageConfigFile, parent });
    return id;
  }

  private async withTmp<T>(fn: (tmp: string, undo: (() => Promise<void>)[]) => Promise<T>): Promise<T> {
    const tmp = await mkdtemp(join(this.p('tmp'), 'w-'));
    const undo: (() => Promise<void>)[] = [];
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
      const layer = await this.ingestLayer(body, tmp);
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
    return this.record(id);
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
      const l = await this.ingestLayer(layer, tmp, true);
      await this.commitLayer(l, parentChain, undo);
      return this.commitImage(Buffer.from(JSON.stringify(makeConfig(l.diffId))), undo, parentId);
    });
    if (tag) await this.tag(id, tag);
    return this.record(id);
  }

  /** An image of existing layers and a new config (a builder's metadata step); `parent` links it for history. */
  async createImage(config: ImageConfigFile, parentId?: string): Promise<ImageRecord> {
    if (chainIds(config.rootfs?.diff_ids ?? []).some((c) => !this.layers.has(c))) throw new NotFound('a layer of the image is missing');
    const id = await this.withTmp(async (_tmp, undo) => this.commitImage(Buffer.from(JSON.stringify(config)), undo, parentId));
    return this.record(id);
  }

  // ---- distribution (pull / push) -----------------------------------------------------------

  hasLayer(chainId: string): boolean {
    return this.layers.has(chainId);
  }

  hasImage(id: string): boolean {
    return this.images.has(id);
  }

  /** The image a tag points to now, if any. */
  tagged(ref: Reference): string | undefined {
    return this.tags.get(tagKey(ref));
  }

  /**
   * A layer as a registry sends it: the compressed bytes are kept as they came (push reuses
   * them) while they are hashed, decompressed, hashed again and extracted in the same pass. It
   * becomes visible only when both digests match; until then it lives in tmp/. Concurrent pulls
   * of one layer wait for each other, and the second finds it done.
   */
  async pullLayer(body: () => Promise<Readable>, o: PulledLayer, onPlainBytes?: (total: number) => void): Promise<'pulled' | 'exists'> {
    const chain = o.parentChain ? `sha256:${createHash('sha256').update(`${o.parentChain} ${o.diffId}`).digest('hex')}` : o.diffId;
    return this.layerLocks.run(chain, async () => {
      if (this.layers.has(chain)) return 'exists';
      await this.withTmp(async (tmp, undo) => {
        const rawPath = join(tmp, 'raw');
        const raw = createWriteStream(rawPath, { mode: 0o600, highWaterMark: 16 * 1024 * 1024 });
        const rawHash = createHash('sha256');
        let rawBytes = 0;
        // The raw side (hash + file) always reads to the end, so a layer whose extraction fails
        // (corrupt gzip, say) is still judged by its digest first: that is the real fault.
        const toExtract = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
        let extractFailed = false;
        const tap = new Writable({
          highWaterMark: 4 * 1024 * 1024,
          write(chunk: Buffer, _e, cb) {
            rawHash.update(chunk);
            rawBytes += chunk.length;
            if (rawBytes > o.desc.size) { cb(new InvalidParameter(`layer ${o.desc.digest} is larger than its manifest says (${o.desc.size} bytes)`)); return; }
            let pending = 2;
            const done = (): void => { if (--pending === 0) cb(); };
            if (raw.write(chunk)) done(); else raw.once('drain', done);
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
          layer = await this.ingestLayer(toExtract, tmp, true, false);
          onPlainBytes?.(layer.bytes);
        } catch (e) {
          extractErr = e;
          extractFailed = true;
          toExtract.emit('drain');
        }
        await fed;
        if (srcErr) throw srcErr;
        await new Promise<void>((res, rej) => raw.end((err?: Error | null) => (err ? rej(err) : res())));
        failpoint('image-blob-written');
        const digest = `sha256:${rawHash.digest('hex')}`;
        if (digest !== o.desc.digest || rawBytes !== o.desc.size) {
          throw new InvalidParameter(`filesystem layer verification failed for digest ${o.desc.digest}: got ${digest} (${rawBytes} of ${o.desc.size} bytes)`);
        }
        if (!layer) throw extractErr;
        if (layer.diffId !== o.diffId) {
          throw new InvalidParameter(`layer ${o.desc.digest} has diff ID ${layer.diffId}, the image config expects ${o.diffId}`);
        }
        await this.commitBlob(rawPath, digest, rawBytes, undo);
        await this.recordBlob(o.diffId, { digest, mediaType: o.desc.mediaType, size: rawBytes, repos: [o.repo] }, layer.bytes);
        await this.commitLayer(layer, o.parentChain, undo);
      });
      return 'pulled';
    });
  }

  /** Remembers a compressed form of a layer (pulled, or made for a push) and where it was seen. */
  async recordBlob(diffId: string, blob: BlobRef, tarSize?: number): Promise<void> {
    const rec = this.diffs.get(diffId) ?? { tarSize: tarSize ?? (await this.plainSize(diffId)), blobs: [] };
    const known = rec.blobs.find((b) => b.digest === blob.digest);
    if (known) {
      for (const r of blob.repos) if (!known.repos.includes(r)) known.repos.push(r);
    } else if (blob.digest !== diffId) {
      rec.blobs.push({ ...blob, repos: [...blob.repos] });
    }
    this.diffs.set(diffId, rec);
    await atomicWriteJson(this.p('distribution', `${hexOf(diffId)}.json`), rec, 0o600, this.io);
  }

  private async plainSize(diffId: string): Promise<number> {
    return (await stat(this.p('content/sha256', hexOf(diffId)))).size;
  }

  /** The compressed blobs known for a layer, each with the file that holds it. */
  compressedBlobs(diffId: string): (BlobRef & { path: string })[] {
    return (this.diffs.get(diffId)?.blobs ?? []).map((b) => ({ ...b, path: this.p('content/sha256', hexOf(b.digest)) }));
  }

  /** A layer as an uncompressed tar: the blob kept for it, or its compressed form decompressed. */
  async layerTar(diffId: string): Promise<{ size: number; open: () => Promise<Readable> }> {
    const plain = this.p('content/sha256', hexOf(diffId));
    if (await exists(plain)) return { size: (await stat(plain)).size, open: async () => createReadStream(plain, { highWaterMark: 1024 * 1024 }) };
    const rec = this.diffs.get(diffId);
    const blob = rec?.blobs[0];
    if (!rec || !blob) throw new NotFound(`layer ${diffId} has no blob on disk`);
    const path = this.p('content/sha256', hexOf(blob.digest));
    return { size: rec.tarSize, open: () => decompress(createReadStream(path, { highWaterMark: 1024 * 1024 })) };
  }

  /** A file in tmp/ for work that ends in adoptBlob() (or is removed). */
  async tempFile(prefix: string): Promise<string> {
    return join(await mkdtemp(join(this.p('tmp'), `${prefix}-`)), 'blob');
  }

  /** Moves a verified blob file into the content store under its digest. */
  async adoptBlob(path: string, digest: string): Promise<void> {
    const dest = this.p('content/sha256', hexOf(digest));
    if (await exists(dest)) await rm(path, { force: true });
    else {
      await this.io.fsyncFile(path);
      await this.io.rename(path, dest);
      await this.io.fsyncDir(this.p('content/sha256'));
    }
    await rm(join(path, '..'), { recursive: true, force: true });
  }

  /** The config blob of an image, byte-exact (its digest is the image ID). */
  configBytes(id: string): Promise<Buffer> {
    return readFile(this.p('content/sha256', hexOf(id)));
  }

  /** The image manifest an image was pulled with, if it was (a push can send it unchanged). */
  async pulledManifest(id: string): Promise<Buffer | undefined> {
    const d = this.images.get(id)?.manifest;
    return d ? readFile(this.p('content/sha256', hexOf(d))).catch(() => undefined) : undefined;
  }

  /**
   * Registers a pulled image: its config (verified by the caller against the manifest), the
   * manifest bytes under their digest, the repo digest `name@digest`, and the tag if any.
   */
  async commitPulledImage(configBytes: Buffer, manifest: { bytes: Buffer; digest: string; image?: { bytes: Buffer; digest: string } }, repoDigest: Reference, tag?: Reference): Promise<ImageRecord> {
    const id = await this.withTmp(async (_tmp, undo) => {
      for (const m of [manifest, manifest.image]) if (m) await this.commitSmallBlob(m.bytes, m.digest, undo);
      const cfg = JSON.parse(configBytes.toString('utf8')) as ImageConfigFile;
      if (chainIds(cfg.rootfs?.diff_ids ?? []).some((c) => !this.layers.has(c))) throw new NotFound('a layer of the image is missing');
      return this.commitImage(configBytes, undo);
    });
    this.images.get(id)!.manifest = (manifest.image ?? manifest).digest;
    await this.addRepoDigest(id, `${normalizedName(repoDigest)}@${manifest.digest}`);
    if (tag) await this.tag(id, tag);
    return this.record(id);
  }

  /** Records `name@digest` (normalized) for an image: a name keeps only its newest digest. */
  async addRepoDigest(id: string, key: string): Promise<void> {
    const img = this.images.get(id);
    if (!img) throw noSuchImage(id);
    const name = key.slice(0, key.indexOf('@'));
    for (const other of this.images.values()) {
      if (other !== img && other.repoDigests?.includes(key)) other.repoDigests = other.repoDigests.filter((d) => d !== key);
    }
    img.repoDigests = [...(img.repoDigests ?? []).filter((d) => !d.startsWith(`${name}@`)), key];
    await this.saveDbEntry(id);
  }

  private async saveDbEntry(id: string): Promise<void> {
    const img = this.images.get(id)!;
    const entry: ImageDbEntry = { lastTagTime: img.lastTagTime, parent: img.parent, repoDigests: img.repoDigests, manifest: img.manifest };
    await atomicWriteJson(this.p('imagedb', `${hexOf(id)}.json`), entry, 0o600, this.io);
  }

  // ---- tags ----------------------------------------------------------------------------------

  private saveTags(): Promise<void> {
    return this.serialWrite(this.p('repositories.json'), () => ({ tags: Object.fromEntries(this.tags) }));
  }

  async tag(imageId: string, ref: Reference): Promise<void> {
    if (ref.digest) throw new InvalidParameter('refusing to create a tag with a digest reference');
    this.tags.set(tagKey(ref), imageId);
    const img = this.images.get(imageId)!;
    img.lastTagTime = new Date().toISOString();
    await this.saveTags();
    failpoint('image-tag-written');
    await this.saveDbEntry(imageId);
  }

  // ---- delete --------------------------------------------------------------------------------

  /** `docker rmi` with moby's rules (daemon/images/image_delete.go). */
  async remove(ref: string, o: { force: boolean; noPrune?: boolean; usage: (id: string) => ImageUsage; onFreed?: (bytes: number) => void }): Promise<DeleteRecord[]> {
    return this.storeLock.run('layers', () => this.removeLocked(ref, o));
  }

  private async removeLocked(ref: string, o: { force: boolean; noPrune?: boolean; usage: (id: string) => ImageUsage; onFreed?: (bytes: number) => void }): Promise<DeleteRecord[]> {
    const id = this.lookup(ref);
    if (!id) throw noSuchImage(missingName(ref));
    const records: DeleteRecord[] = [];
    const refs = (): string[] => [...this.tags].filter(([, v]) => v === id).map(([k]) => k);
    const usage = o.usage(id);
    const byId = id.slice(7).startsWith(ref.replace(/^sha256:/, '')) && /^(sha256:)?[0-9a-f]+$/.test(ref);
    let removedRef = false;
    const parsedRef = byId ? undefined : parseReference(ref);
    if (parsedRef?.digest) {
      // `docker rmi name@sha256:…` drops that repo digest; the image goes when nothing names it.
      const img = this.images.get(id)!;
      const key = `${normalizedName(parsedRef)}@${parsedRef.digest}`;
      if (refs().length === 0 && (img.repoDigests ?? []).length <= 1 && usage.all.length && !o.force) {
        throw new Conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(usage.all[0]!)} is using its referenced image ${shortId(id)}`);
      }
      img.repoDigests = (img.repoDigests ?? []).filter((d) => d !== key);
      await this.saveDbEntry(id);
      records.push({ Untagged: familiarDigestRef(key) });
      if (refs().length > 0 || img.repoDigests.length > 0) return records;
      removedRef = true;
    } else if (!byId) {
      const key = tagKey(parsedRef!);
      if (refs().length === 1 && usage.all.length && !o.force) {
        throw new Conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(usage.all[0]!)} is using its referenced image ${shortId(id)}`);
      }
      this.tags.delete(key);
      await this.saveTags();
      records.push({ Untagged: familiarFromKey(key) });
      if (refs().length > 0) return records;
      removedRef = true;
    } else if (refs().length > 1 && !o.force) {
      throw new Conflict(`conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`);
    }
    if (usage.running.length) {
      if (removedRef) return records;
      throw new Conflict(`conflict: unable to delete ${shortId(id)} (cannot be forced) - image is being used by running container ${shortId(usage.running[0]!)}`);
    }
    if (usage.all.length) {
      if (removedRef) return records;
      if (!o.force) throw new Conflict(`conflict: unable to delete ${shortId(id)} (must be forced) - image is being used by stopped container ${shortId(usage.all[0]!)}`);
      // Forced with stopped users: untag, but keep the image and its layers for the containers.
      for (const k of refs()) { this.tags.delete(k); records.push({ Untagged: familiarFromKey(k) }); }
      await this.saveTags();
      return records;
    }
    const child = this.children(id)[0];
    if (child) {
      if (removedRef) return records;
      throw new Conflict(`conflict: unable to delete ${shortId(id)} (cannot be forced) - image has dependent child images`);
    }
    for (const k of refs()) { this.tags.delete(k); records.push({ Untagged: familiarFromKey(k) }); }
    await this.saveTags();
    const parent = this.images.get(id)!.parent;
    await this.purge(id, records, o.onFreed);
    // Untagged parents nothing else needs go too (a build's intermediate images), unless noprune.
    let p = o.noPrune ? undefined : parent;
    while (p && this.images.has(p)) {
      const pi = this.images.get(p)!;
      const named = [...this.tags.values()].includes(p) || (pi.repoDigests?.length ?? 0) > 0;
      if (named || this.children(p).length || o.usage(p).all.length) break;
      const next = pi.parent;
      await this.purge(p, records, o.onFreed);
      p = next;
    }
    return records;
  }

  /** Deletes an image record and the layers no other image uses. */
  private async purge(id: string, records: DeleteRecord[], onFreed?: (bytes: number) => void): Promise<void> {
    const img = this.images.get(id)!;
    for (const d of img.repoDigests ?? []) records.push({ Untagged: familiarDigestRef(d) });
    this.images.delete(id);
    await rm(this.p('imagedb', `${hexOf(id)}.json`), { force: true });
    // The entry's removal reaches the disk before its config goes: never an entry without its config.
    await this.io.fsyncDir(this.p('imagedb'));
    await rm(this.p('content/sha256', hexOf(id)), { force: true });
    for (const d of [...(img.repoDigests ?? []).map((r) => r.slice(r.indexOf('@') + 1)), ...(img.manifest ? [img.manifest] : [])]) {
      if (![...this.images.values()].some((o) => o.manifest === d || o.repoDigests?.some((r) => r.endsWith(`@${d}`)))) await rm(this.p('content/sha256', hexOf(d)), { force: true });
    }
    records.push({ Deleted: id });
    // Layers go when no remaining image uses them.
    const used = new Set([...this.images.values()].flatMap((i) => chainIds(i.config.rootfs?.diff_ids ?? [])));
    const usedDiffs = new Set([...this.images.values()].flatMap((i) => i.config.rootfs?.diff_ids ?? []));
    for (const c of chainIds(img.config.rootfs?.diff_ids ?? []).reverse()) {
      if (used.has(c)) continue;
      const meta = this.layers.get(c);
      this.layers.delete(c);
      await rm(this.p('layers', hexOf(c)), { recursive: true, force: true });
      if (meta && !usedDiffs.has(meta.diffId)) await this.removeDiffBlobs(meta.diffId);
      records.push({ Deleted: c });
      onFreed?.(meta?.size ?? 0);
    }
  }

  private async removeDiffBlobs(diffId: string): Promise<void> {
    await rm(this.p('content/sha256', hexOf(diffId)), { force: true });
    for (const b of this.diffs.get(diffId)?.blobs ?? []) await rm(this.p('content/sha256', hexOf(b.digest)), { force: true });
    this.diffs.delete(diffId);
    await rm(this.p('distribution', `${hexOf(diffId)}.json`), { force: true });
  }

  // ---- save / load ---------------------------------------------------------------------------

  /** `docker save`: docker-archive (manifest.json, repositories) plus the OCI layout (index.json). */
  save(refs: string[]): Readable {
    const chosen = new Map<string, Set<string>>();
    for (const r of refs) {
      const id = this.lookup(r);
      if (!id) {
        // dockerd's tarexport: a missing tag is "reference does not exist", a missing name "No such image: <name>"
        let tagged = false;
        try { const p = parseReference(r); tagged = !!(p.tag || p.digest); } catch { /* as given */ }
        throw tagged ? new NotFound('reference does not exist') : noSuchImage(r);
      }
      const tags = chosen.get(id) ?? new Set<string>();
      chosen.set(id, tags);
      if (/^(sha256:)?[0-9a-f]+$/.test(r) && id.slice(7).startsWith(r.replace(/^sha256:/, ''))) continue;
      const parsed = parseReference(r);
      if (parsed.tag) tags.add(tagKey(parsed));
      else for (const [k, v] of this.tags) if (v === id && k.startsWith(`${normalizedName(parsed)}:`)) tags.add(k);
    }
    const pack = tar.pack();
    const out = new PassThrough();
    const add = (name: string, body: Buffer | string): Promise<void> => new Promise((res, rej) => {
      pack.entry({ name, mtime: new Date(0), mode: 0o644 }, body, (e) => (e ? rej(e) : res()));
    });
    const addStream = (name: string, size: number, body: Readable): Promise<void> => new Promise<void>((res, rej) => {
      const e = pack.entry({ name, size, mtime: new Date(0), mode: 0o644 }, (err) => (err ? rej(err) : res()));
      pipeline(body, e).catch(rej);
    });
    const addFile = async (name: string, path: string): Promise<void> => addStream(name, (await stat(path)).size, createReadStream(path));
    const work = async (): Promise<void> => {
      const manifest: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
      const repositories: Record<string, Record<string, string>> = {};
      const index: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[] = [];
      const written = new Set<string>();
      await new Promise<void>((res, rej) => pack.entry({ name: 'blobs/sha256/', type: 'directory', mtime: new Date(0), mode: 0o755 }, (e) => (e ? rej(e) : res())));
      for (const [id, tagSet] of chosen) {
        const img = this.images.get(id)!;
        const cfgPath = this.p('content/sha256', hexOf(id));
        if (!written.has(id)) { await addFile(`blobs/sha256/${hexOf(id)}`, cfgPath); written.add(id); }
        const layers: string[] = [];
        const ociLayers: { mediaType: string; digest: string; size: number }[] = [];
        for (const d of img.config.rootfs?.diff_ids ?? []) {
          const src = await this.layerTar(d);
          if (!written.has(d)) { await addStream(`blobs/sha256/${hexOf(d)}`, src.size, await src.open()); written.add(d); }
          layers.push(`blobs/sha256/${hexOf(d)}`);
          ociLayers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: d, size: src.size });
        }
        const tagsList = [...tagSet].map(familiarFromKey);
        manifest.push({ Config: `blobs/sha256/${hexOf(id)}`, RepoTags: tagsList.length ? tagsList : null, Layers: layers });
        for (const t of tagsList) {
          const i = t.lastIndexOf(':');
          (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = hexOf(id);
        }
        const ociManifest = Buffer.from(JSON.stringify({
          schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: (await stat(cfgPath)).size },
          layers: ociLayers,
        }));
        const mdigest = `sha256:${createHash('sha256').update(ociManifest).digest('hex')}`;
        if (!written.has(mdigest)) { await add(`blobs/sha256/${hexOf(mdigest)}`, ociManifest); written.add(mdigest); }
        const names = [...tagSet];
        if (names.length === 0) index.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: mdigest, size: ociManifest.length });
        for (const k of names) {
          index.push({
            mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: mdigest, size: ociManifest.length,
            annotations: { 'io.containerd.image.name': k, 'org.opencontainers.image.ref.name': k.slice(k.lastIndexOf(':') + 1) },
          });
        }
      }
      await add('index.json', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: index }));
      await add('manifest.json', JSON.stringify(manifest));
      await add('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      if (Object.keys(repositories).length) await add('repositories', JSON.stringify(repositories));
      pack.finalize();
    };
    work().catch((e: Error) => pack.destroy(e));
    pipeline(pack as unknown as Readable, out).catch((e: Error) => out.destroy(e));
    return out;
  }

  /**
   * `docker load`: the archive is unpacked into tmp/ (paths confined), then every layer is
   * verified against the config's diff_ids before anything becomes visible.
   */
  async load(body: Readable): Promise<{ loaded: string[] }> {
    return this.withTmp(async (tmp, undo) => {
      const files = join(tmp, 'archive');
      await mkdir(files);
      await unpackArchive(await decompress(body), files);
      let manifest: { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
      if (await exists(join(files, 'manifest.json'))) {
        try {
          manifest = JSON.parse(await readFile(join(files, 'manifest.json'), 'utf8'));
          if (!Array.isArray(manifest)) throw new Error('not a list');
        } catch (err) {
          throw new InvalidParameter(`invalid archive: no valid manifest.json (${(err as Error).message})`);
        }
      } else if (await exists(join(files, 'index.json'))) {
        manifest = await readOciLayout(files);
      } else {
        throw new InvalidParameter('invalid archive: neither manifest.json (docker-archive) nor index.json (OCI layout) found');
      }
      const loaded: string[] = [];
      const tagsToSet: [Reference, string][] = [];
      for (const m of manifest) {
        const cfgBytes = await readFile(join(files, cleanEntryName(m.Config))).catch(() => {
          throw new InvalidParameter(`invalid archive: missing config ${m.Config}`);
        });
        let config: ImageConfigFile;
        try { config = JSON.parse(cfgBytes.toString('utf8')) as ImageConfigFile; } catch { throw new InvalidParameter(`invalid archive: image config ${m.Config} is not JSON`); }
        if (!config || typeof config !== 'object') throw new InvalidParameter(`invalid archive: image config ${m.Config} is not an object`);
        const diffIds = Array.isArray(config.rootfs?.diff_ids) ? config.rootfs.diff_ids : [];
        if (!Array.isArray(m.Layers)) throw new InvalidParameter('invalid archive: manifest entry without Layers');
        if (diffIds.length !== m.Layers.length) throw new InvalidParameter('invalid archive: layer count does not match the image config');
        let parent: string | undefined;
        for (let i = 0; i < m.Layers.length; i++) {
          const want = diffIds[i]!;
          const chain = chainIds(diffIds.slice(0, i + 1)).pop()!;
          if (this.layers.has(chain)) { parent = chain; continue; }
          const ltmp = await mkdtemp(join(tmp, 'l-'));
          const layer = await this.ingestLayer(createReadStream(join(files, cleanEntryName(m.Layers[i]!))), ltmp).catch((e: Error) => {
            throw e instanceof InvalidParameter ? e : new InvalidParameter(`invalid archive: layer ${m.Layers[i]}: ${e.message}`);
          });
          if (layer.diffId !== want) {
            throw new InvalidParameter(`invalid archive: layer ${m.Layers[i]} has diff ID ${layer.diffId}, the image config expects ${want}`);
          }
          parent = await this.commitLayer(layer, parent, undo);
        }
        const id = await this.commitImage(cfgBytes, undo);
        const tags = m.RepoTags ?? [];
        for (const t of tags) tagsToSet.push([parseReference(t), id]);
        if (tags.length) loaded.push(...tags.map((t) => `Loaded image: ${t}`));
        else loaded.push(`Loaded image ID: ${id}`);
      }
      for (const [ref, id] of tagsToSet) await this.tag(id, ref);
      return { loaded };
    });
  }

  /**
   * `docker history`, newest first (moby image_history.go): one row per history entry, the
   * layer's size for entries that made one; the top row carries the image's ID and tags, the
   * next rows those of its parent chain while it is local, the rest `<missing>`.
   */
  history(ref: string): HistoryRow[] {
    const r = this.resolve(ref);
    const chains = chainIds(r.config.rootfs?.diff_ids ?? []);
    let layer = 0;
    const rows: HistoryRow[] = (r.config.history ?? []).map((h) => ({
      id: '<missing>', created: h.created ?? '', createdBy: h.created_by ?? '', comment: h.comment ?? '', tags: null,
      size: h.empty_layer ? 0 : (this.layers.get(chains[layer++] ?? '')?.size ?? 0),
    })).reverse();
    let cur: ImageRecord | undefined = r;
    for (const row of rows) {
      if (!cur) break;
      row.id = cur.id;
      row.tags = cur.repoTags;
      cur = cur.parent ? this.record(cur.parent) : undefined;
    }
    return rows;
  }
}

export interface HistoryRow { id: string; created: string; createdBy: string; comment: string; tags: string[] | null; size: number }

/** Unpacks regular files and directories of an archive into dir, with confined paths. */
async function unpackArchive(input: Readable, dir: string): Promise<void> {
  const extract = tar.extract();
  let feedErr: Error | undefined;
  const feed = pipeline(input, extract).catch((e: Error) => { feedErr = e; extract.destroy(e); });
  let n = 0;
  const links: [string, string][] = [];
  try {
    for await (const entry of extract) {
      const name = cleanEntryName(entry.header.name);
      const target = join(dir, name);
      if (entry.header.type === 'directory') {
        await mkdir(target, { recursive: true });
        entry.resume();
      } else if (entry.header.type === 'file' && name !== '') {
        await mkdir(join(target, '..'), { recursive: true });
        // A blob named by its digest must have that digest, or the archive is refused.
        const want = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name)?.[1];
        const hash = createHash('sha256');
        await pipeline(entry, new Transform({ transform(c: Buffer, _e, cb) { if (want) hash.update(c); cb(null, c); } }), createWriteStream(target, { mode: 0o600 }));
        if (want && hash.digest('hex') !== want) throw new InvalidParameter(`invalid archive: ${name} does not match its digest`);
        n++;
      } else if (entry.header.type === 'symlink') {
        // Older `docker save` output links repeated layers to their first copy.
        links.push([name, cleanEntryName(posix.join(posix.dirname(name), entry.header.linkname ?? ''))]);
        entry.resume();
      } else {
        entry.resume();
      }
    }
    await feed;
    if (feedErr) throw feedErr;
    for (const [name, target] of links) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await copyFile(join(dir, target), join(dir, name)).catch(() => {});
    }
  } catch (err) {
    await feed;
    throw err instanceof InvalidParameter ? err : new InvalidParameter(`invalid tar archive: ${(err as Error).message}`);
  }
  if (n === 0) throw new InvalidParameter('invalid archive: no files');
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

function goArch(): string {
  return process.arch === 'x64' ? 'amd64' : process.arch;
}

/** `docker.io/library/busybox@sha256:…` → `busybox@sha256:…` */
function familiarDigestRef(key: string): string {
  try { return familiarString(parseReference(key)); } catch { return key; }
}

/**
 * How moby names an image it cannot find: a reference as its familiar string with the default
 * tag (`nosuch` → `nosuch:latest`), an ID or anything else as given.
 */
function missingName(ref: string): string {
  if (/^(sha256:)?[0-9a-f]{64}$/.test(ref)) return ref;
  try { return familiarString(parseReference(ref)); } catch { return ref; }
}
