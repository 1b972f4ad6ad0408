// GET /system/df (`docker system df [-v]`): the engine's disk usage, projected in views/system-df.ts.
import type { Router } from '../router.ts';
import { sendJson } from '../respond.ts';
import { InvalidParameter } from '../../errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { diskUsage } from '../../engine/prune.ts';
import { versionLess } from '../version.ts';
import { diskUsageView, type DfKind } from '../views/system-df.ts';

const kinds = ['container', 'image', 'volume', 'build-cache'];

export function registerDiskRoutes(router: Router, engine: Engine): void {
  router.add('GET', '/system/df', async (ctx) => {
    // `type` came with API 1.42 (moby 23); dockerd 20.10 ignores it
    const want = versionLess(ctx.apiVersion, '1.42') ? [] : ctx.query.getAll('type');
    for (const t of want) if (!kinds.includes(t)) throw new InvalidParameter(`unknown object type: ${t}`);
    const has = (t: DfKind): boolean => want.length === 0 || want.includes(t);
    const du = await diskUsage(engine.containers, engine.images);
    const volumes = has('volume') ? await engine.volumes.usage() : undefined;
    sendJson(ctx.res, 200, diskUsageView(du, volumes, engine.images, has, ctx.apiVersion));
  });
}
