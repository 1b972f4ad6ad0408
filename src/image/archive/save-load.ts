// `docker save` and `docker load`: images as one tar archive, in both layouts Docker writes and
// reads — docker-archive (manifest.json, repositories) and the OCI image layout (index.json,
// oci-layout) — with every blob under blobs/sha256/<hex>.
//
// Save streams: each layer's tar is read from the store as it is packed, never held whole.
// Load unpacks into the store's tmp/ (paths confined, every blob named by a digest checked against
// it), then ingests each layer, checks it against the config's diff_ids, and commits it, layer by
// layer; the image and its tags come last. A failure anywhere leaves nothing: the store runs the
// undo stack and removes tmp/. The store is reached through the two interfaces below, so this
// module knows the archive formats and nothing of the store's layout.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { InvalidParameter, NotFound, noSuchImage } from '../../errors.ts';
import type { ImageConfigFile } from '../../types/oci-image.ts';
import { hexOf } from '../../util/ids.ts';
import { chainId } from '../layers.ts';
import type { IngestedLayer } from '../layers.ts';
import { readOciLayout } from '../oci-layout.ts';
import { familiarFromKey, normalizedName, parseReference, tagKey, type Reference } from '../reference.ts';
import { decompress } from './compression.ts';
import { cleanEntryName } from './safe-path.ts';

/** What save reads from the image store. */
export interface SaveSource {
  lookup(ref: string): string | undefined;
  tagKeysOf(id: string): string[];
  config(id: string): ImageConfigFile;
  configPath(id: string): string;
  layerTar(diffId: string): Promise<{ size: number; open: () => Promise<Readable> }>;
}

/** What load asks of the image store, inside one of its tmp dirs with its undo stack. */
export interface LoadTarget {
  hasLayer(chain: string): boolean;
  ingestLayer(body: Readable, tmp: string): Promise<IngestedLayer>;
  commitLayer(l: IngestedLayer, parentChain: string | undefined, undo: (() => Promise<void>)[]): Promise<string>;
  commitImage(configBytes: Buffer, undo: (() => Promise<void>)[]): Promise<string>;
  tag(id: string, ref: Reference): Promise<void>;
}

/** `docker save`: docker-archive (manifest.json, repositories) plus the OCI layout (index.json). */
export function saveArchive(store: SaveSource, refs: string[]): Readable {
  const chosen = new Map<string, Set<string>>();
  for (const r of refs) {
    const id = store.lookup(r);
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
    else for (const k of store.tagKeysOf(id)) if (k.startsWith(`${normalizedName(parsed)}:`)) tags.add(k);
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
      const config = store.config(id);
      const cfgPath = store.configPath(id);
      if (!written.has(id)) { await addFile(`blobs/sha256/${hexOf(id)}`, cfgPath); written.add(id); }
      const layers: string[] = [];
      const ociLayers: { mediaType: string; digest: string; size: number }[] = [];
      for (const d of config.rootfs?.diff_ids ?? []) {
        const src = await store.layerTar(d);
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
 * `docker load`: the archive is unpacked into tmp (paths confined), then every layer is
 * verified against the config's diff_ids before anything becomes visible.
 */
export async function loadArchive(store: LoadTarget, body: Readable, tmp: string, undo: (() => Promise<void>)[]): Promise<{ loaded: string[] }> {
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
      // The chain the config names: where the layer is when an earlier load or pull has it.
      const chain = chainId(parent, want);
      if (store.hasLayer(chain)) { parent = chain; continue; }
      const ltmp = await mkdtemp(join(tmp, 'l-'));
      const layer = await store.ingestLayer(createReadStream(join(files, cleanEntryName(m.Layers[i]!))), ltmp).catch((e: Error) => {
        throw e instanceof InvalidParameter ? e : new InvalidParameter(`invalid archive: layer ${m.Layers[i]}: ${e.message}`);
      });
      if (layer.diffId !== want) {
        throw new InvalidParameter(`invalid archive: layer ${m.Layers[i]} has diff ID ${layer.diffId}, the image config expects ${want}`);
      }
      parent = await store.commitLayer(layer, parent, undo);
    }
    const id = await store.commitImage(cfgBytes, undo);
    const tags = m.RepoTags ?? [];
    for (const t of tags) tagsToSet.push([parseReference(t), id]);
    if (tags.length) loaded.push(...tags.map((t) => `Loaded image: ${t}`));
    else loaded.push(`Loaded image ID: ${id}`);
  }
  for (const [ref, id] of tagsToSet) await store.tag(id, ref);
  return { loaded };
}

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
