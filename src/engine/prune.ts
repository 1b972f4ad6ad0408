// `docker container prune`, `docker image prune` and `docker system df`: what can go, and what
// the disk holds. Layers shared by several images (or used by containers) are counted once
// and never removed while something uses them.
import { InvalidParameter } from '../errors.ts';
import type { ContainerService, Container } from './containers.ts';
import type { ImageService, ImageRecord } from './images.ts';
import type { DeleteRecord } from '../image/store.ts';
import { containerSizes } from './container-io.ts';
import { matchLabel, validateFilters, invalidFilter } from './filter-args.ts';

export type Filters = Map<string, string[]>;

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A filter time as Docker takes it: RFC 3339 (or a date), Unix seconds, or a Go duration ago. */
export function parseFilterTime(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(v) ? v.match(/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)/g) : null;
  if (dur) return now - dur.reduce((n, part) => n + parseFloat(part) * GO_UNITS[part.replace(/^[\d.]+/, '')]!, 0);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameter(`failed to parse value as time or duration: ${JSON.stringify(v)}`); // moby's timetypes.GetTimestamp
  return t;
}

const checkFilters = validateFilters;

/** label / label! filters against a set of labels. */
function labelsMatch(f: Filters, labels: Record<string, string>): boolean {
  if (!(f.get('label') ?? []).every((l) => matchLabel(labels, l))) return false;
  return (f.get('label!') ?? []).every((l) => !matchLabel(labels, l));
}

function until(f: Filters): number | undefined {
  const u = f.get('until');
  if (!u?.length) return undefined;
  if (u.length > 1) throw new InvalidParameter('more than one until filter specified');
  return parseFilterTime(u[0]!);
}

export async function pruneContainers(svc: ContainerService, images: ImageService, f: Filters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
  checkFilters(f, ['until', 'label', 'label!']);
  const before = until(f);
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
  const before = until(f);
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
