// `docker pull`: manifest (a manifest list or OCI index resolved to this host's platform),
// config, then the layers, three at a time, each streamed through digest verification,
// decompression and extraction at once. A layer becomes part of the store only once verified,
// so a broken pull leaves nothing half-stored and the next one starts from the verified layers.
import { Unavailable, InvalidParameter, NotFound, BerthError, Unauthorized, Forbidden } from '../errors.ts';
import type { Logger } from '../util/log.ts';
import { forEachBounded } from '../util/bounded.ts';
import { shortId } from '../util/ids.ts';
import { hostPlatform } from '../util/platform.ts';
import type { AuthConfig } from '../types/auth-config.ts';
import type { ImageConfigFile } from '../types/oci-image.ts';
import { isIndexMediaType, MediaType, type Descriptor, type ImageIndex, type ImageManifest, type Platform } from '../types/oci-distribution.ts';
import type { ImageStore, ImageRecord } from '../image/store.ts';
import { chainIds } from '../image/layers.ts';
import { familiarName, familiarString, type Reference } from '../image/reference.ts';
import { RegistryClient } from './client.ts';
import { pullEndpoints, type RegistrySettings } from './endpoints.ts';
import { layerStatus, meter, type Progress } from './progress.ts';
import type { Readable } from 'node:stream';

export interface PullOptions {
  ref: Reference;
  /** `os/arch[/variant]`; default this host's. */
  platform?: string;
  auth?: AuthConfig;
  settings: RegistrySettings;
  store: ImageStore;
  progress: Progress;
  log: Logger;
}

const LAYER_CONCURRENCY = 3;

export function parsePlatform(s: string | undefined): Platform {
  if (!s) return hostPlatform();
  const [os, architecture, variant] = s.toLowerCase().split('/');
  if (!os || !architecture) throw new InvalidParameter(`invalid platform ${s}: expected os/arch[/variant]`);
  return { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture, ...(variant ? { variant } : {}) };
}

function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

function pickPlatform(index: ImageIndex, want: Platform): Descriptor {
  const candidates = index.manifests.filter((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture);
  const exact = want.variant ? candidates.find((m) => m.platform?.variant === want.variant) : undefined;
  const hit = exact ?? (want.variant === 'v8' ? candidates.find((m) => !m.platform?.variant) : undefined) ?? (want.variant ? undefined : candidates[0]) ?? candidates[0];
  if (!hit) throw new NotFound(`no matching manifest for ${platformString(want)} in the manifest list entries`);
  return hit;
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try { return JSON.parse(bytes.toString('utf8')) as T; } catch { throw new InvalidParameter(`${what} is not valid JSON`); }
}

function checkManifest(m: ImageManifest, display: string): void {
  const okDesc = (d: Descriptor | undefined): boolean => !!d && typeof d.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(d.digest) && Number.isSafeInteger(d.size) && d.size >= 0;
  if (m.schemaVersion !== 2 || !okDesc(m.config) || !Array.isArray(m.layers) || !m.layers.every(okDesc)) {
    throw new InvalidParameter(`manifest for ${display} is invalid or uses an unsupported digest algorithm`);
  }
}

export async function pull(o: PullOptions): Promise<ImageRecord> {
  const endpoints = pullEndpoints(o.ref.domain, o.settings);
  let lastErr: unknown;
  for (const ep of endpoints) {
    const client = new RegistryClient(ep.host, o.ref.path, { insecure: ep.insecure, certsDir: o.settings.certsDir, auth: ep.mirror ? undefined : o.auth });
    try {
      return await pullFrom(client, o);
    } catch (e) {
      // A 401 would make the Docker CLI prompt for a login (and hang without a terminal);
      // dockerd words it as moby's "pull access denied", and so does Berth, as a 403.
      const err = e instanceof Unauthorized
        ? new Forbidden(`pull access denied for ${familiarName(o.ref)}, repository does not exist or may require 'docker login': ${e.message}`)
        : e;
      lastErr = err;
      if (!ep.mirror) throw err;
      o.log.info({ mirror: ep.host, err: String(err) }, 'mirror failed, trying the next endpoint');
    }
  }
  throw lastErr instanceof Error ? lastErr : new Unavailable('no registry endpoint');
}

async function pullFrom(client: RegistryClient, o: PullOptions): Promise<ImageRecord> {
  const { ref, store, progress } = o;
  const display = familiarString(ref);
  const wanted = ref.digest ?? ref.tag ?? 'latest';
  const top = await client.manifest(wanted, display);
  let m = top;
  if (top.mediaType === 'application/vnd.docker.distribution.manifest.v1+prettyjws' || top.mediaType === 'application/vnd.docker.distribution.manifest.v1+json') {
    throw new InvalidParameter(`${display} uses a Docker image manifest v2 schema 1, which is no longer supported; push it again with a current client`);
  }
  if (isIndexMediaType(top.mediaType)) {
    const index = parseJson<ImageIndex>(top.bytes, `manifest list for ${display}`);
    if (!Array.isArray(index.manifests)) throw new InvalidParameter(`manifest list for ${display} has no manifests`);
    const child = pickPlatform(index, parsePlatform(o.platform));
    m = await client.manifest(child.digest, display);
    if (isIndexMediaType(m.mediaType)) throw new InvalidParameter(`manifest list for ${display} nests another list`);
  }
  const manifest = parseJson<ImageManifest>(m.bytes, `manifest for ${display}`);
  checkManifest(manifest, display);
  progress({ status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag ?? 'latest' });

  const configBytes = await client.blobBytes(manifest.config.digest);
  const config = parseJson<ImageConfigFile>(configBytes, `image config ${manifest.config.digest}`);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new InvalidParameter(`image config ${shortId(manifest.config.digest)} lists ${diffIds.length} layers, the manifest ${manifest.layers.length}`);
  }
  if (o.platform) {
    const want = parsePlatform(o.platform);
    if (config.os !== want.os || config.architecture !== want.architecture) {
      throw new NotFound(`image with reference ${display} was found but does not match the specified platform: wanted ${platformString(want)}, actual: ${config.os}/${config.architecture}`);
    }
  }
  const chains = chainIds(diffIds);
  const todo: number[] = [];
  manifest.layers.forEach((l, i) => {
    if (l.urls?.length || l.mediaType === MediaType.dockerLayerForeign) throw new InvalidParameter(`layer ${l.digest} is a foreign layer, which Berth does not fetch`);
    if (store.hasLayer(chains[i]!)) progress(layerStatus(shortId(l.digest), 'Already exists'));
    else { todo.push(i); progress(layerStatus(shortId(l.digest), 'Pulling fs layer')); }
  });
  const repo = `${client.host}/${ref.path}`;
  await forEachBounded(todo, LAYER_CONCURRENCY, async (i) => {
    const desc = manifest.layers[i]!;
    const id = shortId(desc.digest);
    const downloading = meter(progress, id, 'Downloading', desc.size);
    const body = (): Promise<Readable> => client.blobStream(desc.digest, downloading);
    let plain = 0;
    const outcome = await store.pullLayer(body, { desc, diffId: diffIds[i]!, parentChain: chains[i - 1], repo }, (n) => { plain = n; })
      .catch((err: unknown) => {
        throw err instanceof BerthError ? err : new Unavailable(`failed to pull layer ${desc.digest}: ${(err as Error).message}`);
      });
    if (outcome === 'exists') { progress(layerStatus(id, 'Already exists')); return; }
    progress(layerStatus(id, 'Verifying Checksum'));
    progress(layerStatus(id, 'Download complete'));
    meter(progress, id, 'Extracting', plain)(plain);
    progress(layerStatus(id, 'Pull complete'));
  }, (i) => progress(layerStatus(shortId(manifest.layers[i]!.digest), 'Waiting')));

  const before = ref.digest ? undefined : store.tagged(ref);
  const knownBefore = store.hasImage(manifest.config.digest);
  const image = await store.commitPulledImage(configBytes, { bytes: top.bytes, digest: top.digest, image: m === top ? undefined : { bytes: m.bytes, digest: m.digest } }, ref, ref.digest ? undefined : ref);
  progress({ status: `Digest: ${top.digest}` });
  const upToDate = ref.digest ? knownBefore : before === image.id;
  progress({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${display}` });
  return image;
}

/** `GET /distribution/{name}/json`: the manifest's descriptor and the platforms it offers. */
export async function inspectRemote(o: { ref: Reference; auth?: AuthConfig; settings: RegistrySettings }): Promise<{ Descriptor: Descriptor; Platforms: Platform[] }> {
  const ep = pullEndpoints(o.ref.domain, o.settings).at(-1)!;
  const client = new RegistryClient(ep.host, o.ref.path, { insecure: ep.insecure, certsDir: o.settings.certsDir, auth: o.auth });
  const display = familiarString(o.ref);
  try {
    const m = await client.manifest(o.ref.digest ?? o.ref.tag ?? 'latest', display);
    const Descriptor: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
    if (isIndexMediaType(m.mediaType)) {
      const index = parseJson<ImageIndex>(m.bytes, `manifest list for ${display}`);
      return { Descriptor, Platforms: (index.manifests ?? []).flatMap((c) => (c.platform ? [c.platform] : [])) };
    }
    const manifest = parseJson<ImageManifest>(m.bytes, `manifest for ${display}`);
    checkManifest(manifest, display);
    const cfg = parseJson<ImageConfigFile>(await client.blobBytes(manifest.config.digest), 'image config');
    return { Descriptor, Platforms: [{ architecture: cfg.architecture, os: cfg.os, ...(typeof cfg.variant === 'string' ? { variant: cfg.variant } : {}) }] };
  } catch (e) {
    if (e instanceof Unauthorized) throw new Forbidden(`access denied for ${familiarName(o.ref)}: ${e.message}`);
    throw e;
  }
}
