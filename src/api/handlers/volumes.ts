// HTTP handlers for /volumes/*: create, list, inspect, remove, prune.
import type { Router } from '../router.ts';
import { sendJson, sendEmpty, boolParam } from '../respond.ts';
import { parseFilters } from '../filters.ts';
import type { Engine } from '../../engine/engine.ts';
import { versionLess } from '../version.ts';
import { readVolumeCreate } from '../decode/volumes.ts';
import { volumeView } from '../views/volumes.ts';

export function registerVolumeRoutes(router: Router, engine: Engine): void {
  const vols = engine.volumes;

  router.add('POST', '/volumes/create', async (ctx) => {
    const body = await readVolumeCreate(ctx.req);
    sendJson(ctx.res, 201, volumeView(await vols.create(body)));
  });

  router.add('GET', '/volumes', (ctx) => {
    sendJson(ctx.res, 200, { Volumes: vols.list(parseFilters(ctx.query.get('filters'))).map((v) => volumeView(v)), Warnings: null });
  });

  router.add('GET', '/volumes/{name}', (ctx) => {
    sendJson(ctx.res, 200, volumeView(vols.get(ctx.params.name!)));
  });

  router.add('DELETE', '/volumes/{name}', async (ctx) => {
    await vols.remove(ctx.params.name!, boolParam(ctx.query, 'force'));
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/volumes/prune', async (ctx) => {
    // Docker 23+ (API 1.42): only anonymous volumes, unless all=true; before, every unused one.
    sendJson(ctx.res, 200, await vols.prune(parseFilters(ctx.query.get('filters')), versionLess(ctx.apiVersion, '1.42')));
  });
}
