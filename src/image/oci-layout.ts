// Reading an OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as the list of
// images `docker load` takes: config path, layer paths, tags. Nested indexes are followed;
// for multi-platform indexes the host's platform is chosen.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../errors.ts';
import { cleanEntryName } from './archive/index.ts';
import { parseReference, familiarString } from './reference.ts';
import { goArch } from '../util/platform.ts';

export interface ArchiveImage { Config: string; RepoTags: string[]; Layers: string[] }

interface Descriptor {
  mediaType?: string; digest: string; size?: number;
  annotations?: Record<string, string>; platform?: { architecture?: string; os?: string };
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const hostArch = goArch();

function blobPath(digest: string): string {
  const m = /^(sha256|sha512):([0-9a-f]+)$/.exec(digest ?? '');
  if (!m) throw new InvalidParameter(`invalid archive: bad digest ${JSON.stringify(digest)}`);
  return cleanEntryName(`blobs/${m[1]}/${m[2]}`);
}

async function readJsonBlob<T>(dir: string, rel: string): Promise<T> {
  try {
    return JSON.parse(await readFile(join(dir, rel), 'utf8')) as T;
  } catch (err) {
    throw new InvalidParameter(`invalid archive: cannot read ${rel}: ${(err as Error).message}`);
  }
}

/** The tag an index entry names, when it names one (full reference, not a bare tag). */
function tagOf(d: Descriptor): string | undefined {
  const a = d.annotations ?? {};
  for (const v of [a['io.containerd.image.name'], a['org.opencontainers.image.ref.name']]) {
    if (!v || !/[/:]/.test(v)) continue;
    try { return familiarString(parseReference(v)); } catch { /* not a reference */ }
  }
  return undefined;
}

export async function readOciLayout(dir: string): Promise<ArchiveImage[]> {
  const index = await readJsonBlob<{ manifests?: Descriptor[] }>(dir, 'index.json');
  const out = new Map<string, ArchiveImage>();
  const visit = async (d: Descriptor, tag: string | undefined, depth: number): Promise<void> => {
    if (depth > 4) throw new InvalidParameter('invalid archive: indexes nested too deep');
    const doc = await readJsonBlob<{ mediaType?: string; manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }>(dir, blobPath(d.digest));
    if (INDEX_TYPES.has(doc.mediaType ?? d.mediaType ?? '') || (doc.manifests && !doc.config)) {
      const all = doc.manifests ?? [];
      const pick = all.filter((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === hostArch));
      if (!pick.length) throw new InvalidParameter(`invalid archive: no image for linux/${hostArch} in ${d.digest}`);
      await visit(pick[0]!, tag, depth + 1);
      return;
    }
    if (!doc.config) throw new InvalidParameter(`invalid archive: ${d.digest} is neither a manifest nor an index`);
    const key = doc.config.digest;
    const img = out.get(key) ?? { Config: blobPath(doc.config.digest), RepoTags: [], Layers: (doc.layers ?? []).map((l) => blobPath(l.digest)) };
    if (tag && !img.RepoTags.includes(tag)) img.RepoTags.push(tag);
    out.set(key, img);
  };
  for (const m of index.manifests ?? []) await visit(m, tagOf(m), 0);
  if (!out.size) throw new InvalidParameter('invalid archive: index.json lists no images');
  return [...out.values()];
}
