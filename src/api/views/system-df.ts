// What `docker system df [-v]` shows: layers, images with shared and unique sizes, containers
// with their writable layer, volumes with their size and users; no build cache yet.
import type { DiskUsage } from '../../engine/prune.ts';
import type { ImageService } from '../../engine/images.ts';
import type { VolumeRecord } from '../../engine/volumes.ts';
import { versionLess } from '../version.ts';
import { imageSummary } from './images.ts';
import { summaryView, summaryFor } from './containers.ts';
import { volumeView } from './volumes.ts';

export type DfKind = 'container' | 'image' | 'volume' | 'build-cache';

/** The reply of `GET /system/df`; `has` says which kinds were asked for, `volumes` is undefined where they were not. */
export function diskUsageView(du: DiskUsage, volumes: { volume: VolumeRecord; size: number; refCount: number }[] | undefined, images: ImageService, has: (k: DfKind) => boolean, apiVersion: string): Record<string, unknown> {
  return {
    LayersSize: du.layersSize,
    Images: has('image') ? du.images.map((i) => ({
      ...imageSummary(i.image, apiVersion), Containers: i.containers, SharedSize: i.sharedSize,
    })) : null,
    // newest first, as `docker ps -a` lists them
    Containers: has('container') ? [...du.containers].sort((a, b) => (a.container.rec.Created < b.container.rec.Created ? 1 : -1)).map((c) => summaryFor({
      ...summaryView(c.container, images), SizeRw: c.sizeRw, SizeRootFs: c.sizeRootFs,
    }, apiVersion)) : null,
    Volumes: has('volume') && volumes ? volumes.map((v) => volumeView(v.volume, { Size: v.size, RefCount: v.refCount })) : null,
    // dockerd 20.10 (API < 1.42) still sent the deprecated BuilderSize, and no cache as null
    BuildCache: has('build-cache') && !versionLess(apiVersion, '1.42') ? [] : null,
    ...(versionLess(apiVersion, '1.42') ? { BuilderSize: 0 } : {}),
  };
}
