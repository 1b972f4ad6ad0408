// Image metadata: what the store knows of each image beyond its config blob, and the tags.
//   <data-root>/image/imagedb/<hex>.json   one per image: when it was last tagged, the image it was
//                                          committed from, its repo digests, the manifest it was
//                                          pulled with
//   <data-root>/image/repositories.json    tags: `docker.io/library/busybox:latest` → image ID
// An image's ID is its config's digest; the config lives in the content store. Order on disk
// (util/durable.ts): the config durable first, only then the imagedb entry, only then a tag
// naming it. At start-up an entry that does not hold together (unreadable, a config missing or
// not matching its digest, a layer missing) goes to quarantine with its config; a tag naming an
// image that is not there is dropped and reported.
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter, noSuchImage } from '../errors.ts';
import { atomicWriteJson, serialJsonWriter } from '../util/atomic-write.ts';
import type { DurableIo } from '../util/durable.ts';
import { failpoint } from '../util/failpoint.ts';
import type { Quarantine } from '../util/quarantine.ts';
import type { ImageConfigFile } from '../types/oci-image.ts';
import type { ContentStore } from './content.ts';
import { hexOf } from '../util/ids.ts';
import { chainIds, type LayerStore } from './layers.ts';
import { parseReference, tagKey, familiarFromKey, familiarString, normalizedName, type Reference } from './reference.ts';

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

export interface HistoryRow { id: string; created: string; createdBy: string; comment: string; tags: string[] | null; size: number }

/** imagedb/<hex>.json: what the config blob does not say. */
interface ImageDbEntry { lastTagTime?: string; parent?: string; repoDigests?: string[]; manifest?: string }

/** An image in memory: its parsed config and its imagedb entry. */
export interface ImageEntry extends ImageDbEntry { config: ImageConfigFile }

/** An image start-up moved to quarantine, with the layers it used (when its config was readable). */
export interface QuarantinedImage { id: string; chains: string[]; configKnown: boolean }

export class ImageMetadata {
  /** `<data-root>/image` */
  private readonly root: string;
  private readonly content: ContentStore;
  private readonly layers: LayerStore;
  private readonly io: DurableIo;
  /** repositories.json is rewritten by concurrent tag/untag calls: one write at a time, newest state */
  private readonly serialWrite: ReturnType<typeof serialJsonWriter>;
  private images = new Map<string, ImageEntry>();
  private tags = new Map<string, string>();

  constructor(root: string, content: ContentStore, layers: LayerStore, io: DurableIo) {
    this.root = root;
    this.content = content;
    this.layers = layers;
    this.io = io;
    this.serialWrite = serialJsonWriter(io);
  }

  private p(...parts: string[]): string { return join(this.root, ...parts); }

  /** Reads imagedb/ at start-up (after the layers); returns what it quarantined. */
  async load(q: Quarantine): Promise<QuarantinedImage[]> {
    const quarantined: QuarantinedImage[] = [];
    for (const f of await readdir(this.p('imagedb'))) {
      if (f.startsWith('.') && f.endsWith('.tmp')) { await rm(this.p('imagedb', f), { force: true }); continue; } // an atomic write cut short
      if (!f.endsWith('.json')) continue;
      const hex = f.slice(0, -5);
      const cfgPath = this.content.path(hex);
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
        quarantined.push({ id: `sha256:${hex}`, chains, configKnown: !!config });
        continue;
      }
      this.images.set(`sha256:${hex}`, { config: config!, lastTagTime: meta!.lastTagTime, parent: meta!.parent, repoDigests: meta!.repoDigests, manifest: meta!.manifest });
    }
    return quarantined;
  }

  /** Reads repositories.json at start-up (after imagedb/): tags naming no image are dropped and reported. */
  async loadTags(q: Quarantine, quarantined: QuarantinedImage[]): Promise<void> {
    const reposText = await readFile(this.p('repositories.json'), 'utf8').catch(() => undefined);
    if (reposText === undefined) return;
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
      q.note(`tag ${familiarFromKey(k)}`, `pointed at image ${v}, which is ${quarantined.some((i) => i.id === v) ? 'in quarantine' : 'missing'}`);
      dropped = true;
    }
    // The report keeps what was dropped; the file says what is true now (or the next start reports it again).
    if (dropped) await this.saveTags();
  }

  // ---- lookup --------------------------------------------------------------------------------

  has(id: string): boolean { return this.images.has(id); }
  get(id: string): ImageEntry | undefined { return this.images.get(id); }
  ids(): string[] { return [...this.images.keys()]; }
  entries(): ImageEntry[] { return [...this.images.values()]; }

  /** The chain IDs of every layer some image uses. */
  usedChains(): Set<string> {
    return new Set(this.entries().flatMap((i) => chainIds(i.config.rootfs?.diff_ids ?? [])));
  }

  record(id: string): ImageRecord {
    const img = this.images.get(id)!;
    const repoTags = this.tagKeysOf(id).map((k) => familiarFromKey(k)).sort();
    const size = chainIds(img.config.rootfs?.diff_ids ?? []).reduce((n, c) => n + (this.layers.get(c)?.size ?? 0), 0);
    const parent = img.parent && this.images.has(img.parent) ? img.parent : undefined;
    const repoDigests = (img.repoDigests ?? []).map(familiarDigestRef).sort();
    return { id, config: img.config, repoTags, repoDigests, size, lastTagTime: img.lastTagTime, parent };
  }

  /** Full ID, a tag (`busybox`, `busybox:1`), or a unique ID prefix — moby's lookup order. */
  lookup(ref: string): string | undefined {
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

  /** Images committed from `id` (moby's children: they keep their parent from being deleted). */
  children(id: string): string[] {
    return [...this.images].filter(([, v]) => v.parent === id).map(([k]) => k);
  }

  /**
   * `docker history`, newest first (moby image_history.go): one row per history entry, the
   * layer's size for entries that made one; the top row carries the image's ID and tags, the
   * next rows those of its parent chain while it is local, the rest `<missing>`.
   */
  history(r: ImageRecord): HistoryRow[] {
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

  // ---- commit --------------------------------------------------------------------------------

  /**
   * Stores a config blob and registers the image; returns its ID. The config is durable in the
   * content store before its imagedb entry is written. `tmp` is a fresh path outside the store.
   */
  async create(configBytes: Buffer, tmp: string, undo: (() => Promise<void>)[], parent?: string): Promise<string> {
    const hex = createHash('sha256').update(configBytes).digest('hex');
    const id = `sha256:${hex}`;
    if (this.images.has(id)) return id;
    if (await this.content.put(configBytes, id, tmp)) undo.push(() => this.content.remove(id));
    failpoint('image-config-written');
    const entry: ImageDbEntry = parent ? { parent } : {};
    await atomicWriteJson(this.p('imagedb', `${hex}.json`), entry, 0o600, this.io);
    failpoint('image-imagedb-written');
    this.images.set(id, { config: JSON.parse(configBytes.toString('utf8')) as ImageConfigFile, parent });
    return id;
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
    await this.saveEntry(id);
  }

  /** Rewrites an image's imagedb entry from memory. */
  async saveEntry(id: string): Promise<void> {
    const img = this.images.get(id)!;
    const entry: ImageDbEntry = { lastTagTime: img.lastTagTime, parent: img.parent, repoDigests: img.repoDigests, manifest: img.manifest };
    await atomicWriteJson(this.p('imagedb', `${hexOf(id)}.json`), entry, 0o600, this.io);
  }

  /**
   * Forgets an image and removes its imagedb entry, durably: the removal reaches the disk before
   * the caller deletes the config (never an entry without its config).
   */
  async delete(id: string): Promise<void> {
    this.images.delete(id);
    await rm(this.p('imagedb', `${hexOf(id)}.json`), { force: true });
    await this.io.fsyncDir(this.p('imagedb'));
  }

  // ---- tags ----------------------------------------------------------------------------------

  /** The image a tag points to now, if any. */
  tagged(ref: Reference): string | undefined {
    return this.tags.get(tagKey(ref));
  }

  /** Tag keys (`docker.io/library/busybox:latest`) pointing at an image, in the order they were set. */
  tagKeysOf(id: string): string[] {
    return [...this.tags].filter(([, v]) => v === id).map(([k]) => k);
  }

  isTagged(id: string): boolean {
    return [...this.tags.values()].includes(id);
  }

  async tag(imageId: string, ref: Reference): Promise<void> {
    if (ref.digest) throw new InvalidParameter('refusing to create a tag with a digest reference');
    this.tags.set(tagKey(ref), imageId);
    const img = this.images.get(imageId)!;
    img.lastTagTime = new Date().toISOString();
    await this.saveTags();
    failpoint('image-tag-written');
    await this.saveEntry(imageId);
  }

  /** Drops tags from memory; saveTags() writes the result. */
  untag(keys: string[]): void {
    for (const k of keys) this.tags.delete(k);
  }

  saveTags(): Promise<void> {
    return this.serialWrite(this.p('repositories.json'), () => ({ tags: Object.fromEntries(this.tags) }));
  }
}

/** `docker.io/library/busybox@sha256:…` → `busybox@sha256:…` */
export function familiarDigestRef(key: string): string {
  try { return familiarString(parseReference(key)); } catch { return key; }
}

/**
 * How moby names an image it cannot find: a reference as its familiar string with the default
 * tag (`nosuch` → `nosuch:latest`), an ID or anything else as given.
 */
export function missingName(ref: string): string {
  if (/^(sha256:)?[0-9a-f]{64}$/.test(ref)) return ref;
  try { return familiarString(parseReference(ref)); } catch { return ref; }
}
