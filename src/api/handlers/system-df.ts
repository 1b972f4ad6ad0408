// GET /system/df (`docker system df [-v]`): layers, images with shared and unique sizes,
// containers with their writable layer, volumes with their size and users; no build cache yet.
import type { Router } from '../router.ts';
import { sendJson } from '../respond.ts';
import { InvalidParameter } from '../../errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { diskUsage } from '../../engine/prune.ts';
import { summaryView } from '../../engine/container-views.ts';
import { imageSummary } from './images.ts';
import { volumeView } from './volumes.ts';
import { versionLess } from '../version.ts';
import { summaryFor } from '../versioned-views.ts';

const kinds = ['container', 'image', 'volume', 'build-cache'];

export function registerDiskRoutes(router: Router, engine: Engine): void {
  router.add('GET', '/system/df', async (ctx) => {
    // `type` came with API 1.42 (moby 23); dockerd 20.10 ignores it
    const want = versionLess(ctx.apiVersion, '1.42') ? [] : ctx.query.getAll('type');
    for (const t of want) if (!kinds.includes(t)) throw new InvalidParameter(`unknown object type: ${t}`);
    const has = (t: string): boolean => want.length === 0 || want.includes(t);
    const du = await diskUsage(engine.containers, engine.images);
    sendJson(ctx.res, 200, {
      LayersSize: du.layersSize,
      Images: has('image') ? du.images.map((i) => ({
        ...imageSummary(i.image, ctx.apiVersion), Containers: i.containers, SharedSize: i.sharedSize,
      })) : null,
      // newest first, as `docker ps -a` lists them
      Containers: has('container') ? [...du.containers].sort((a, b) => (a.container.rec.Created < b.container.rec.Created ? 1 : -1)).map((c) => summaryFor({
        ...summaryView(c.container, engine.images), SizeRw: c.sizeRw, SizeRootFs: c.sizeRootFs,
      }, ctx.apiVersion)) : null,
      Volumes: has('volume') ? await Promise.all(engine.volumes.store.list().map(async (v) => volumeView(v, { Size: await engine.volumes.store.size(v.Name), RefCount: engine.volumes.inUse(v.Name).length }))) : null,
      // dockerd 20.10 (API < 1.42) still sent the deprecated BuilderSize, and no cache as null
      BuildCache: has('build-cache') && !versionLess(ctx.apiVersion, '1.42') ? [] : null,
      ...(versionLess(ctx.apiVersion, '1.42') ? { BuilderSize: 0 } : {}),
    });
  });
}
