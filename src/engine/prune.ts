// `docker container prune`, `docker image prune`, `docker network prune` and `docker system df`: what can go, and what
// the disk holds. Layers shared by several images (or used by containers) are counted once
// and never removed while something uses them.
import type { ContainerService, Container } from './containers.ts';
import type { ImageService, ImageRecord } from './images.ts';
import type { DeleteRecord } from '../image/store.ts';
import { containerSizes } from './container/io.ts';
import { validateFilters, invalidFilter } from './filter-args.ts';
import { labelsMatch, pruneUntil, networkPruneFilter, type Filters } from './filters.ts';
import type { NetworkRecord, NetworkService } from './networks.ts';

const checkFilters = validateFilters;

export async function pruneContainers(svc: ContainerService, images: ImageService, f: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
  checkFilters(f, ['until', 'label', 'label!']);
  const before = pruneUntil(f);
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const c of svc.all()) {
    const r = c.rec;
    if (r.State.Running || r.State.Paused || r.State.Restarting || c.removing || r.State.Status === 'removing') continue;
    if (before !== undefined && Date.parse(r.Created) >= before) continue;
    if (!labelsMatch(f, r.Config.Labels ?? {})) continue;
    const { SizeRw } = await containerSizes(svc, c, 0);
    try {
      await svc.remove(r.Id, {});
    } catch {
      continue; // started or removed meanwhile: not ours to prune
    }
    deleted.push(r.Id);
    reclaimed += SizeRw;
  }
  return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}

export async function pruneImages(images: ImageService, f: Filters): Promise<{ ImagesDeleted: DeleteRecord[] | null; SpaceReclaimed: number }> {
  checkFilters(f, ['dangling', 'until', 'label', 'label!']);
  const d = f.get('dangling') ?? [];
  // moby's image prune: false/0 turns it off, true/1 keeps it on, anything else is refused
  if (d.length && !d.some((v) => ['true', 'false', '1', '0'].includes(v))) throw invalidFilter('dangling', `[${d.join(' ')}]`);
  const danglingOnly = !(d.includes('false') || d.includes('0'));
  const before = pruneUntil(f);
  const store = images.store;
  const records: DeleteRecord[] = [];
  let reclaimed = 0;
  // Children first, so that a chain of commits goes in one prune.
  const candidates = store.list().sort((a, b) => Date.parse(b.config.created ?? '') - Date.parse(a.config.created ?? ''));
  for (const img of candidates) {
    if (danglingOnly && img.repoTags.length) continue;
    if (store.children(img.id).length) continue;
    if (before !== undefined && Date.parse(img.config.created ?? '') >= before) continue;
    if (!labelsMatch(f, img.config.config?.Labels ?? {})) continue;
    if (images.usage(img.id).all.length) continue;
    try {
      records.push(...await store.remove(img.id, { force: true, usage: images.usage, onFreed: (n) => { reclaimed += n; } }));
    } catch {
      continue; // in use or gone meanwhile
    }
  }
  return { ImagesDeleted: records.length ? records : null, SpaceReclaimed: reclaimed };
}

/**
 * `docker network prune`: networks no container is configured for (running or not: prune
 * leaves those), among those the filters keep; the network service removes them.
 */
export async function pruneNetworks(svc: ContainerService, nets: NetworkService, f: Filters): Promise<{ NetworksDeleted: string[] | null }> {
  const keep = networkPruneFilter(f);
  const configured = (n: NetworkRecord): boolean => svc.all().some((c) => !!c.rec.NetworkSettings?.Networks[n.Name]);
  const deleted = await nets.prune(configured, keep);
  return { NetworksDeleted: deleted.length ? deleted : null };
}

export interface DiskUsage {
  layersSize: number;
  images: { image: ImageRecord; containers: number; sharedSize: number }[];
  containers: { container: Container; sizeRw: number; sizeRootFs: number }[];
}

/** `GET /system/df`: shared size = bytes of an image's layers that other images also use. */
export async function diskUsage(svc: ContainerService, images: ImageService): Promise<DiskUsage> {
  const store = images.store;
  const list = store.list();
  const users = new Map<string, number>();
  const layersOf = new Map(list.map((i) => [i.id, store.imageLayers(i.id)]));
  for (const ls of layersOf.values()) for (const l of ls) users.set(l.chainId, (users.get(l.chainId) ?? 0) + 1);
  const imgs = list.map((image) => ({
    image,
    containers: images.usage(image.id).all.length,
    sharedSize: layersOf.get(image.id)!.filter((l) => users.get(l.chainId)! > 1).reduce((n, l) => n + l.size, 0),
  }));
  const containers = await Promise.all(svc.all().map(async (c) => {
    const size = (() => { try { return store.resolve(c.rec.Image).size; } catch { return 0; } })();
    const s = await containerSizes(svc, c, size);
    return { container: c, sizeRw: s.SizeRw, sizeRootFs: s.SizeRootFs };
  }));
  return { layersSize: store.layersSize(), images: imgs, containers };
}
