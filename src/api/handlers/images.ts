// HTTP handlers for /images/*. Import and load finish before the response starts, so a bad
// archive is a real 4xx (nothing was stored), not an error line inside a 200.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Router } from '../router.ts';
import { sendJson, boolParam, lazyJsonStream, readJson } from '../respond.ts';
import { registryAuth } from '../registry-auth.ts';
import { parseFilters } from '../filters.ts';
import { versionLess } from '../version.ts';
import { InvalidParameter } from '../../errors.ts';
import type { AuthConfig } from '../../types/auth-config.ts';
import type { ImageService } from '../../engine/images.ts';
import { pruneImages } from '../../engine/prune.ts';
import { imageSummary, imageInspect, historyView } from '../views/images.ts';

export function registerImageRoutes(router: Router, images: ImageService): void {
  router.add('POST', '/images/create', async (ctx) => {
    const q = ctx.query;
    const fromSrc = q.get('fromSrc');
    const fromImage = q.get('fromImage');
    if (fromSrc !== null) {
      const r = await images.importRootfs(ctx.req as Readable, {
        fromSrc, repo: q.get('repo') ?? undefined, tag: q.get('tag') ?? undefined,
        changes: q.getAll('changes'), message: q.get('message') ?? undefined,
      });
      ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      ctx.res.end(JSON.stringify({ status: r.id }) + '\r\n');
      return;
    }
    if (fromImage) {
      const stream = lazyJsonStream(ctx.res);
      try {
        await images.pull(fromImage, q.get('tag') || undefined, { platform: q.get('platform') || undefined, auth: registryAuth(ctx.req), progress: stream.write });
      } catch (err) {
        if (!stream.fail(err)) throw err;
        return;
      }
      stream.end();
      return;
    }
    throw new InvalidParameter('either fromSrc or fromImage must be given');
  });

  router.add('GET', '/images/json', (ctx) => {
    const filters = parseFilters(ctx.query.get('filters'));
    // the `filter` parameter (a reference) was dropped with API 1.41; older clients still send it
    const legacy = ctx.query.get('filter');
    if (legacy && versionLess(ctx.apiVersion, '1.41')) filters.set('reference', [...new Set([...(filters.get('reference') ?? []), legacy])]);
    const list = images.list({ all: boolParam(ctx.query, 'all'), filters });
    sendJson(ctx.res, 200, list.map((r) => imageSummary(r, ctx.apiVersion)));
  });

  router.add('POST', '/images/prune', async (ctx) => {
    sendJson(ctx.res, 200, await pruneImages(images, parseFilters(ctx.query.get('filters'))));
  });

  router.add('GET', '/images/get', async (ctx) => {
    const names = ctx.query.getAll('names');
    if (!names.length) throw new InvalidParameter('no images given');
    const tar = images.save(names);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(tar, ctx.res);
  });

  router.add('POST', '/images/load', async (ctx) => {
    let loaded: string[];
    try {
      loaded = await images.load(ctx.req as Readable);
    } catch (err) {
      // dockerd commits 200 and its JSON stream before it reads the archive: a bad archive is an
      // errorDetail line (docker-py raises ImageLoadError from it), not an HTTP error
      const message = err instanceof Error ? err.message : String(err);
      ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      ctx.res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
      return;
    }
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const l of loaded) ctx.res.write(JSON.stringify({ stream: `${l}\n` }) + '\r\n');
    ctx.res.end();
  });

  router.add('GET', '/images/{name:.*}/json', (ctx) => {
    const r = images.resolve(ctx.params.name!);
    sendJson(ctx.res, 200, imageInspect(r, images.layerDirs(r.id), ctx.apiVersion));
  });

  router.add('GET', '/images/{name:.*}/history', (ctx) => {
    sendJson(ctx.res, 200, images.history(ctx.params.name!).map(historyView));
  });

  router.add('POST', '/images/{name:.*}/tag', async (ctx) => {
    await images.tag(ctx.params.name!, ctx.query.get('repo') ?? '', ctx.query.get('tag') ?? undefined);
    ctx.res.writeHead(201);
    ctx.res.end();
  });

  router.add('GET', '/images/{name:.*}/get', async (ctx) => {
    const tar = images.save([ctx.params.name!]);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(tar, ctx.res);
  });

  router.add('POST', '/images/{name:.*}/push', async (ctx) => {
    // dockerd reads the auth from the body when the header is absent (old clients).
    let auth = registryAuth(ctx.req);
    if (!ctx.req.headers['x-registry-auth']) auth = (await readJson(ctx.req).catch(() => ({}))) as AuthConfig;
    const stream = lazyJsonStream(ctx.res);
    try {
      await images.push(ctx.params.name!, ctx.query.get('tag') || undefined, { auth, progress: stream.write });
    } catch (err) {
      if (!stream.fail(err)) throw err;
      return;
    }
    stream.end();
  });

  router.add('GET', '/distribution/{name:.*}/json', async (ctx) => {
    sendJson(ctx.res, 200, await images.inspectRemote(ctx.params.name!, registryAuth(ctx.req)));
  });

  router.add('POST', '/auth', async (ctx) => {
    const body = await readJson(ctx.req);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameter('auth config must be a JSON object');
    await images.login(body as AuthConfig);
    sendJson(ctx.res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  router.add('DELETE', '/images/{name:.*}', async (ctx) => {
    sendJson(ctx.res, 200, await images.remove(ctx.params.name!, boolParam(ctx.query, 'force'), boolParam(ctx.query, 'noprune')));
  });
}
