// `docker rmi`: moby's rules for what a removal may do (daemon/images/image_delete.go), over the
// image metadata, and then the purge of what nothing uses any more — the image's imagedb entry
// (durably gone first), its config, the manifests only it named, and the layers and blobs no
// remaining image uses. The image store runs this under its layer lock, so a layer commit never
// reuses a layer a removal is deleting.
import { Conflict, noSuchImage } from '../errors.ts';
import { shortId } from '../util/ids.ts';
import type { BlobRecords } from './blob-records.ts';
import type { ContentStore } from './content.ts';
import { familiarDigestRef, missingName, type ImageMetadata } from './images.ts';
import { chainIds, type LayerStore } from './layers.ts';
import { familiarFromKey, normalizedName, parseReference, tagKey } from './reference.ts';

export interface ImageUsage { all: string[]; running: string[] }

export type DeleteRecord = { Untagged: string } | { Deleted: string };

export interface RemoveOptions { force: boolean; noPrune?: boolean; usage: (id: string) => ImageUsage; onFreed?: (bytes: number) => void }

/** The stores a removal changes. */
export interface Stores { images: ImageMetadata; layers: LayerStore; blobs: BlobRecords; content: ContentStore }

export async function removeImage(s: Stores, ref: string, o: RemoveOptions): Promise<DeleteRecord[]> {
  const { images } = s;
  const id = images.lookup(ref);
  if (!id) throw noSuchImage(missingName(ref));
  const records: DeleteRecord[] = [];
  const refs = (): string[] => images.tagKeysOf(id);
  const usage = o.usage(id);
  const byId = id.slice(7).startsWith(ref.replace(/^sha256:/, '')) && /^(sha256:)?[0-9a-f]+$/.test(ref);
  let removedRef = false;
  const parsedRef = byId ? undefined : parseReference(ref);
  if (parsedRef?.digest) {
    // `docker rmi name@sha256:…` drops that repo digest; the image goes when nothing names it.
    const img = images.get(id)!;
    const key = `${normalizedName(parsedRef)}@${parsedRef.digest}`;
    if (refs().length === 0 && (img.repoDigests ?? []).length <= 1 && usage.all.length && !o.force) {
      throw new Conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(usage.all[0]!)} is using its referenced image ${shortId(id)}`);
    }
    img.repoDigests = (img.repoDigests ?? []).filter((d) => d !== key);
    await images.saveEntry(id);
    records.push({ Untagged: familiarDigestRef(key) });
    if (refs().length > 0 || img.repoDigests.length > 0) return records;
    removedRef = true;
  } else if (!byId) {
    const key = tagKey(parsedRef!);
    if (refs().length === 1 && usage.all.length && !o.force) {
      throw new Conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(usage.all[0]!)} is using its referenced image ${shortId(id)}`);
    }
    images.untag([key]);
    await images.saveTags();
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
    for (const k of refs()) { images.untag([k]); records.push({ Untagged: familiarFromKey(k) }); }
    await images.saveTags();
    return records;
  }
  const child = images.children(id)[0];
  if (child) {
    if (removedRef) return records;
    throw new Conflict(`conflict: unable to delete ${shortId(id)} (cannot be forced) - image has dependent child images`);
  }
  for (const k of refs()) { images.untag([k]); records.push({ Untagged: familiarFromKey(k) }); }
  await images.saveTags();
  const parent = images.get(id)!.parent;
  await purge(s, id, records, o.onFreed);
  // Untagged parents nothing else needs go too (a build's intermediate images), unless noprune.
  let p = o.noPrune ? undefined : parent;
  while (p && images.has(p)) {
    const pi = images.get(p)!;
    const named = images.isTagged(p) || (pi.repoDigests?.length ?? 0) > 0;
    if (named || images.children(p).length || o.usage(p).all.length) break;
    const next = pi.parent;
    await purge(s, p, records, o.onFreed);
    p = next;
  }
  return records;
}

/** Deletes an image record and the layers no other image uses. */
async function purge(s: Stores, id: string, records: DeleteRecord[], onFreed?: (bytes: number) => void): Promise<void> {
  const { images, layers, blobs, content } = s;
  const img = images.get(id)!;
  for (const d of img.repoDigests ?? []) records.push({ Untagged: familiarDigestRef(d) });
  // The entry's removal reaches the disk before its config goes: never an entry without its config.
  await images.delete(id);
  await content.remove(id);
  for (const d of [...(img.repoDigests ?? []).map((r) => r.slice(r.indexOf('@') + 1)), ...(img.manifest ? [img.manifest] : [])]) {
    if (!images.entries().some((o) => o.manifest === d || o.repoDigests?.some((r) => r.endsWith(`@${d}`)))) await content.remove(d);
  }
  records.push({ Deleted: id });
  // Layers go when no remaining image uses them.
  const used = images.usedChains();
  const usedDiffs = new Set(images.entries().flatMap((i) => i.config.rootfs?.diff_ids ?? []));
  for (const c of chainIds(img.config.rootfs?.diff_ids ?? []).reverse()) {
    if (used.has(c)) continue;
    const meta = await layers.remove(c);
    if (meta && !usedDiffs.has(meta.diffId)) await blobs.remove(meta.diffId);
    records.push({ Deleted: c });
    onFreed?.(meta?.size ?? 0);
  }
}
