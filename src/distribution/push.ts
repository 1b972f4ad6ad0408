// `docker push`: each layer goes up in the cheapest way that gives the registry its blob —
// already there (HEAD), mounted from another repository of the same registry, sent from the
// compressed blob kept since a pull or an earlier push, or compressed now (gzip, streamed while
// it uploads, and kept so the next push sends the very same bytes). Then the config, then the
// manifest: the one the image was pulled with when every blob of it is at hand (so the digest
// is the same everywhere), else a Docker schema2 manifest made here.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zc } from 'node:zlib';
import { NotFound, Unauthorized, Forbidden } from '../errors.ts';
import type { Logger } from '../util/log.ts';
import { forEachBounded } from '../util/bounded.ts';
import { shortId } from '../util/ids.ts';
import type { AuthConfig } from '../types/auth-config.ts';
import { MediaType, type Descriptor, type ImageManifest } from '../types/oci-distribution.ts';
import type { ImageStore, ImageRecord, BlobRef } from '../image/store.ts';
import { familiarName, normalizedName, parseReference, type Reference } from '../image/reference.ts';
import { RegistryClient } from './client.ts';
import { pushEndpoint, type RegistrySettings } from './endpoints.ts';
import { layerStatus, meter, type Progress } from './progress.ts';

export interface PushOptions {
  /** The repository; with a tag, that tag only, else every tag of it. */
  ref: Reference;
  auth?: AuthConfig;
  settings: RegistrySettings;
  store: ImageStore;
  progress: Progress;
  log: Logger;
}

const UPLOAD_CONCURRENCY = 5;

export async function push(o: PushOptions): Promise<void> {
  const { ref, store, progress } = o;
  const name = normalizedName(ref);
  const tags = ref.tag ? [ref.tag] : store.list().flatMap((r) => r.repoTags).map((t) => parseReference(t))
    .filter((r) => normalizedName(r) === name).map((r) => r.tag ?? 'latest').sort();
  if (!tags.length) throw new NotFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  const images = tags.map((tag) => {
    try { return { tag, image: store.resolve(`${name}:${tag}`) }; } catch { throw new NotFound(`An image does not exist locally with the tag: ${familiarName(ref)}`); }
  });
  const ep = pushEndpoint(ref.domain, o.settings);
  const client = new RegistryClient(ep.host, ref.path, { insecure: ep.insecure, certsDir: o.settings.certsDir, auth: o.auth });
  progress({ status: `The push refers to repository [${familiarName(ref)}]` });
  try {
    for (const { tag, image } of images) await pushImage(client, image, tag, o);
  } catch (err) {
    // Not a 401: the Docker CLI would answer that with a login prompt (see pull.ts).
    if (err instanceof Unauthorized) throw new Forbidden(err.message);
    throw err;
  }
}

interface LayerPlan { diffId: string; want?: Descriptor }

async function pushImage(client: RegistryClient, image: ImageRecord, tag: string, o: PushOptions): Promise<void> {
  const { store, progress } = o;
  const diffIds = image.config.rootfs?.diff_ids ?? [];
  const here = `${client.host}/${client.repo}`;
  // The manifest it was pulled with, when its config is this image's: its blobs are the plan.
  let pulled: { bytes: Buffer; manifest: ImageManifest } | undefined;
  const bytes = await store.pulledManifest(image.id);
  if (bytes) {
    const m = JSON.parse(bytes.toString('utf8')) as ImageManifest;
    const usable = m.config?.digest === image.id && m.layers?.length === diffIds.length
      && m.layers.every((l, i) => l.digest === diffIds[i] || store.compressedBlobs(diffIds[i]!).some((b) => b.digest === l.digest));
    if (usable) pulled = { bytes, manifest: m };
  }
  const plan: LayerPlan[] = diffIds.map((d, i) => ({ diffId: d, want: pulled?.manifest.layers[i] }));
  const sent: Descriptor[] = new Array(plan.length);
  // Layers shared inside one image go up once.
  const firstOf = new Map<string, number>();
  plan.forEach((p, i) => { if (!firstOf.has(p.diffId)) firstOf.set(p.diffId, i); });
  const unique = [...firstOf.values()];
  for (const i of unique) progress(layerStatus(shortId(plan[i]!.diffId), 'Preparing'));
  await forEachBounded(unique, UPLOAD_CONCURRENCY, async (i) => {
    sent[i] = await pushLayer(client, plan[i]!, here, o);
  }, (i) => progress(layerStatus(shortId(plan[i]!.diffId), 'Waiting')));
  plan.forEach((p, i) => { sent[i] ??= sent[firstOf.get(p.diffId)!]!; });

  const config = await store.configBytes(image.id);
  if (!(await client.blobExists(image.id, `repository:${client.repo}:pull,push`))) {
    await client.upload(config, image.id);
  }
  let manifest: Buffer;
  let mediaType: string;
  if (pulled) {
    manifest = pulled.bytes;
    mediaType = pulled.manifest.mediaType ?? MediaType.ociManifest;
  } else {
    const oci = sent.some((d) => d.mediaType.startsWith('application/vnd.oci.') && d.mediaType !== MediaType.ociLayerGzip);
    mediaType = oci ? MediaType.ociManifest : MediaType.dockerManifest;
    const m: ImageManifest = {
      schemaVersion: 2, mediaType,
      config: { mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, size: config.length, digest: image.id },
      layers: sent.map((d) => ({ mediaType: oci ? d.mediaType : MediaType.dockerLayerGzip, size: d.size, digest: d.digest })),
    };
    manifest = Buffer.from(JSON.stringify(m, null, 3));
  }
  const digest = await client.putManifest(tag, manifest, mediaType);
  await store.addRepoDigest(image.id, `${normalizedName(o.ref)}@${digest}`);
  progress({ status: `${tag}: digest: ${digest} size: ${manifest.length}` });
  progress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.length } });
}

async function pushLayer(client: RegistryClient, p: LayerPlan, here: string, o: PushOptions): Promise<Descriptor> {
  const { store, progress } = o;
  const id = shortId(p.diffId);
  const scope = `repository:${client.repo}:pull,push`;
  let blobs = store.compressedBlobs(p.diffId);
  if (p.want) blobs = blobs.filter((b) => b.digest === p.want!.digest);
  const desc = (b: BlobRef): Descriptor => ({ mediaType: b.mediaType, size: b.size, digest: b.digest });
  const remember = (b: BlobRef): Promise<void> => store.recordBlob(p.diffId, { ...b, repos: [here] });

  // The registry may have it already, or another repository of it may lend it.
  for (const b of blobs) {
    if (b.repos.includes(here) && await client.blobExists(b.digest, scope)) {
      progress(layerStatus(id, 'Layer already exists'));
      return desc(b);
    }
  }
  for (const b of blobs) {
    for (const r of b.repos) {
      if (!r.startsWith(`${client.host}/`) || r === here) continue;
      const from = r.slice(client.host.length + 1);
      if (await client.mount(b.digest, from)) {
        await remember(b);
        progress(layerStatus(id, `Mounted from ${from}`));
        return desc(b);
      }
    }
  }
  for (const b of blobs) {
    if (await client.blobExists(b.digest, scope)) {
      await remember(b);
      progress(layerStatus(id, 'Layer already exists'));
      return desc(b);
    }
  }
  // Send a compressed blob we hold as it is.
  const b = blobs[0];
  if (b) {
    const tick = meter(progress, id, 'Pushing', b.size);
    await client.upload(counted(createReadStream(b.path, { highWaterMark: 1024 * 1024 }), tick), b.digest);
    await remember(b);
    progress(layerStatus(id, 'Pushed'));
    return desc(b);
  }
  if (p.want && p.want.digest === p.diffId) {
    // An uncompressed layer of a pulled manifest: its blob is the plain tar.
    if (!(await client.blobExists(p.diffId, scope))) {
      const tar = await store.layerTar(p.diffId);
      const tick = meter(progress, id, 'Pushing', tar.size);
      await client.upload(counted(await tar.open(), tick), p.diffId);
      progress(layerStatus(id, 'Pushed'));
    } else {
      progress(layerStatus(id, 'Layer already exists'));
    }
    return p.want;
  }
  return compressAndPush(client, p, here, o);
}

/** gzip (fast level) while uploading; the compressed bytes are also kept for the next push. */
async function compressAndPush(client: RegistryClient, p: LayerPlan, here: string, o: PushOptions): Promise<Descriptor> {
  const { store, progress } = o;
  const id = shortId(p.diffId);
  const tar = await store.layerTar(p.diffId);
  const tick = meter(progress, id, 'Pushing', tar.size);
  const keep = await store.tempFile('push');
  const file = createWriteStream(keep, { mode: 0o600, highWaterMark: 4 * 1024 * 1024 });
  const hash = createHash('sha256');
  let size = 0;
  const tee = new Transform({
    highWaterMark: 4 * 1024 * 1024,
    transform(c: Buffer, _e, cb) {
      hash.update(c);
      size += c.length;
      if (file.write(c)) cb(null, c); else file.once('drain', () => cb(null, c));
    },
  });
  const gzip = createGzip({ level: zc.Z_BEST_SPEED, chunkSize: 256 * 1024 });
  const feeding = pipeline(counted(await tar.open(), tick), gzip, tee).catch((e: Error) => { tee.destroy(e); throw e; });
  let digest = '';
  try {
    await Promise.all([
      client.upload(tee, () => { digest = `sha256:${hash.digest('hex')}`; return digest; }),
      feeding,
    ]);
    await new Promise<void>((res, rej) => file.end((err?: Error | null) => (err ? rej(err) : res())));
  } catch (err) {
    file.destroy();
    await rm(keep, { force: true });
    throw err;
  }
  await store.adoptBlob(keep, digest);
  const blob: BlobRef = { digest, mediaType: MediaType.dockerLayerGzip, size, repos: [here] };
  await store.recordBlob(p.diffId, blob);
  progress(layerStatus(id, 'Pushed'));
  return { mediaType: blob.mediaType, size, digest };
}

function counted(s: Readable, tick: (n: number) => void): Readable {
  let n = 0;
  const t = new Transform({ highWaterMark: 1024 * 1024, transform(c: Buffer, _e, cb) { n += c.length; tick(n); cb(null, c); } });
  s.on('error', (e) => t.destroy(e));
  return s.pipe(t);
}
