// HTTP handlers for /volumes/*: create, list, inspect, remove, prune.
import type { Router } from '../router.ts';
import { sendJson, sendEmpty, readGoJson, boolParam } from '../respond.ts';
import { volumeCreateBody } from '../../types/go-wire-types.ts';
import { object, optString, optStringMap } from '../check.ts';
import { parseFilters, rejectUnknownFilters } from '../filters.ts';
import { InvalidParameter } from '../../errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { VolumeRecord } from '../../engine/volumes.ts';
import { matchLabel, match, exactMatch, matchKVList, invalidFilter } from '../../engine/filter-args.ts';
import { versionLess } from '../version.ts';

/** A volume as the API shows it (Berth's own fields left out). */
export function volumeView(v: VolumeRecord, usage?: { Size: number; RefCount: number }): Record<string, unknown> {
  const { Anonymous: _a, ...wire } = v;
  // moby keeps no map for a volume without labels or options: they are null on the wire
  const empty = (m: Record<string, string>): Record<string, string> | null => (Object.keys(m).length ? m : null);
  return { ...wire, Labels: empty(v.Labels), Options: empty(v.Options), ...(usage ? { UsageData: usage } : {}) };
}

export function registerVolumeRoutes(router: Router, engine: Engine): void {
  const vols = engine.volumes;

  router.add('POST', '/volumes/create', async (ctx) => {
    const raw = object(await readGoJson(ctx.req, volumeCreateBody, 'got-eof') ?? {}, 'volume config');
    optString(raw, 'Name');
    optString(raw, 'Driver');
    optStringMap(raw, 'DriverOpts');
    optStringMap(raw, 'Labels');
    const body = raw as { Name?: string; Driver?: string; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null };
    // A volume made without a name is anonymous (moby 23's AnonymousLabel): a prune at API 1.42+
    // takes it without all=true. dockerd 20.10 adds no label for it, so none is shown.
    const v = await vols.store.create({ Name: body.Name, Driver: body.Driver, DriverOpts: body.DriverOpts, Labels: body.Labels, anonymous: !body.Name });
    sendJson(ctx.res, 201, volumeView(v));
  });

  router.add('GET', '/volumes', (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    rejectUnknownFilters(f, ['dangling', 'name', 'label', 'driver']);
    let list = vols.store.list();
    // moby's volume/service filtersToBy: name a regular expression, driver exact, labels, dangling
    const d = f.get('dangling');
    if (d?.length) {
      let dangling: boolean;
      if (d.includes('true') || d.includes('1')) dangling = true;
      else if (d.includes('false') || d.includes('0')) dangling = false;
      else throw invalidFilter('dangling', `[${d.join(' ')}]`);
      list = list.filter((v) => (vols.inUse(v.Name).length === 0) === dangling);
    }
    list = list.filter((v) => match(f, 'name', v.Name) && exactMatch(f, 'driver', v.Driver) && matchKVList(f, 'label', v.Labels));
    sendJson(ctx.res, 200, { Volumes: list.map((v) => volumeView(v)), Warnings: null });
  });

  router.add('GET', '/volumes/{name}', (ctx) => {
    sendJson(ctx.res, 200, volumeView(vols.store.get(ctx.params.name!)));
  });

  router.add('DELETE', '/volumes/{name}', async (ctx) => {
    await vols.remove(ctx.params.name!, boolParam(ctx.query, 'force'));
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/volumes/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    rejectUnknownFilters(f, ['label', 'label!', 'all']);
    // Docker 23+ (API 1.42): only anonymous volumes, unless all=true; before, every unused one.
    const all = versionLess(ctx.apiVersion, '1.42') || ['true', '1'].includes(f.get('all')?.[0] ?? '');
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of vols.store.list()) {
      if (vols.inUse(v.Name).length || (!all && !v.Anonymous)) continue;
      if (!(f.get('label') ?? []).every((l) => matchLabel(v.Labels, l)) || (f.get('label!') ?? []).some((l) => matchLabel(v.Labels, l))) continue;
      const size = await vols.store.size(v.Name);
      try { await vols.remove(v.Name, false); } catch { continue; }
      deleted.push(v.Name);
      reclaimed += Math.max(0, size);
    }
    sendJson(ctx.res, 200, { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });
}
