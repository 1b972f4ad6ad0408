// HTTP handlers for /containers/*: decode the request, call the engine, encode the reply.
import type { Router, HttpContext, HijackContext } from '../router.ts';
import { sendJson, sendEmpty, readGoJson, boolParam, intParam } from '../respond.ts';
import { containerConfigWrapper } from '../../types/go-wire-types.ts';
import { InvalidParameter } from '../../errors.ts';
import type { Engine } from '../../engine/engine.ts';
import { containerLogs, containerTop, containerChanges, containerSizes } from '../../engine/container/io.ts';
import { containerExport, containerArchive, containerStatPath, containerExtract, type PathStat } from '../../engine/container/archive.ts';
import { commitContainer } from '../../engine/container/commit.ts';
import { containerStats } from '../../engine/container/stats.ts';
import { pruneContainers } from '../../engine/prune.ts';
import type { ContainerConfigFields } from '../../types/oci-image.ts';
import type { Readable } from 'node:stream';
import { parseFilters } from '../filters.ts';
import { frame, encodeLines, EncodeBuffers } from '../stdcopy.ts';
import { containerLogBatches } from '../../engine/container/logs.ts';
import { writeUpgradeResponse, writeHijackError } from '../hijack.ts';
import { versionGte, versionLess } from '../version.ts';
import { inspectView, summaryView, summaryFor, inspectFor } from '../views/containers.ts';
import { pipeAttach } from './attach-pipe.ts';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../util/escape-keys.ts';
import { pipeline } from 'node:stream/promises';

export function registerContainerRoutes(router: Router, engine: Engine): void {
  const svc = engine.containers;

  router.add('POST', '/containers/create', async (ctx) => {
    // The request schemas (zod) load with the first create, not at start-up (memory).
    const { readContainerCreate } = await import('../decode/containers.ts');
    const r = await svc.create(await readContainerCreate(ctx.req, ctx.apiVersion), ctx.query.get('name'));
    sendJson(ctx.res, 201, r);
  });

  const imageSize = (id: string): number => { try { return engine.images.resolve(id).size; } catch { return 0; } };

  router.add('GET', '/containers/json', async (ctx) => {
    const list = svc.list({
      all: boolParam(ctx.query, 'all'),
      limit: intParam(ctx.query, 'limit'),
      filters: parseFilters(ctx.query.get('filters')),
    });
    const withSize = boolParam(ctx.query, 'size');
    sendJson(ctx.res, 200, await Promise.all(list.map(async (c) => summaryFor({
      ...summaryView(c, engine.images),
      // the link names that stand for it too ("/parent/alias"), as dockerd lists them
      Names: svc.allNames(c),
      ...(withSize ? await containerSizes(svc, c, imageSize(c.rec.Image)) : {}),
    }, ctx.apiVersion))));
  });

  router.add('GET', '/containers/{id}/json', async (ctx) => {
    const c = svc.get(ctx.params.id!);
    const view = inspectView(svc, c);
    if (boolParam(ctx.query, 'size')) Object.assign(view, await containerSizes(svc, c, imageSize(c.rec.Image)));
    sendJson(ctx.res, 200, inspectFor(view as Record<string, unknown>, ctx.apiVersion));
  });

  router.add('POST', '/containers/{id}/start', async (ctx) => {
    await svc.start(ctx.params.id!);
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/containers/{id}/stop', async (ctx) => {
    await svc.stop(ctx.params.id!, { timeout: intParam(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/containers/{id}/restart', async (ctx) => {
    await svc.restart(ctx.params.id!, { timeout: intParam(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/containers/{id}/kill', async (ctx) => {
    await svc.kill(ctx.params.id!, ctx.query.get('signal') ?? undefined);
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/containers/{id}/wait', async (ctx) => {
    const exit = svc.wait(ctx.params.id!, ctx.query.get('condition'), versionLess(ctx.apiVersion, '1.42'));
    // Headers go out now: the Docker CLI waits for them before it calls start (WIRE.md 4.3).
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    ctx.res.flushHeaders();
    const code = await exit;
    ctx.res.end(JSON.stringify({ Error: null, StatusCode: code }) + '\n');
  });

  router.add('POST', '/containers/{id}/pause', async (ctx) => {
    await svc.pause(ctx.params.id!);
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/containers/{id}/unpause', async (ctx) => {
    await svc.unpause(ctx.params.id!);
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/containers/{id}/rename', async (ctx) => {
    await svc.rename(ctx.params.id!, ctx.query.get('name') ?? '');
    sendEmpty(ctx.res, 204);
  });

  // {id:.*}: a legacy link's name has a slash (DELETE /containers/parent/alias?link=1)
  router.add('DELETE', '/containers/{id:.*}', async (ctx) => {
    if (boolParam(ctx.query, 'link')) svc.removeLink(ctx.params.id!);
    else await svc.remove(ctx.params.id!, { force: boolParam(ctx.query, 'force'), volumes: boolParam(ctx.query, 'v') });
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/containers/{id}/resize', async (ctx) => {
    const h = intParam(ctx.query, 'h', 0)!;
    const w = intParam(ctx.query, 'w', 0)!;
    await svc.resize(ctx.params.id!, h, w);
    sendEmpty(ctx.res, 200);
  });

  router.add('GET', '/containers/{id}/top', async (ctx) => {
    sendJson(ctx.res, 200, await containerTop(svc, ctx.params.id!, ctx.query.get('ps_args')));
  });

  router.add('GET', '/containers/{id}/changes', async (ctx) => {
    const changes = await containerChanges(svc, ctx.params.id!);
    sendJson(ctx.res, 200, changes.length ? changes : null);
  });

  router.add('GET', '/containers/{id}/export', async (ctx) => {
    const tar = await containerExport(svc, ctx.params.id!);
    ctx.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(tar, ctx.res);
  });

  const statHeader = (st: PathStat): Record<string, string> => ({
    'X-Docker-Container-Path-Stat': Buffer.from(JSON.stringify(st)).toString('base64'),
  });
  const pathParam = (q: URLSearchParams): string => {
    const p = q.get('path');
    if (!p) throw new InvalidParameter('path is required: the path to a file or directory in the container');
    return p;
  };

  router.add('HEAD', '/containers/{id}/archive', async (ctx) => {
    const st = await containerStatPath(svc, ctx.params.id!, pathParam(ctx.query));
    ctx.res.writeHead(200, { ...statHeader(st), 'Content-Length': '0' });
    ctx.res.end();
  });

  router.add('GET', '/containers/{id}/archive', async (ctx) => {
    const { stat, tar } = await containerArchive(svc, ctx.params.id!, pathParam(ctx.query));
    ctx.res.writeHead(200, { ...statHeader(stat), 'Content-Type': 'application/x-tar' });
    await pipeline(tar, ctx.res);
  });

  router.add('PUT', '/containers/{id}/archive', async (ctx) => {
    await containerExtract(svc, ctx.params.id!, pathParam(ctx.query), ctx.req as Readable, {
      noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
      copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
    });
    sendEmpty(ctx.res, 200);
  });

  router.add('GET', '/containers/{id}/stats', async (ctx) => {
    const ac = new AbortController();
    ctx.res.on('close', () => ac.abort());
    const docs = containerStats(svc, ctx.params.id!, {
      stream: boolParam(ctx.query, 'stream', true), oneShot: boolParam(ctx.query, 'one-shot'), signal: ac.signal,
    });
    const first = await docs.next(); // errors (no such container) become a status, not a broken stream
    ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
    if (!first.done) ctx.res.write(JSON.stringify(first.value) + '\n');
    for await (const d of docs) {
      if (ctx.res.destroyed) break;
      ctx.res.write(JSON.stringify(d) + '\n');
    }
    ctx.res.end();
  });

  router.add('POST', '/containers/{id}/update', async (ctx) => {
    const { readContainerUpdate } = await import('../decode/containers.ts');
    const body = await readContainerUpdate(ctx.req);
    sendJson(ctx.res, 200, await svc.update(ctx.params.id!, body));
  });

  router.add('POST', '/containers/prune', async (ctx) => {
    sendJson(ctx.res, 200, await pruneContainers(svc, engine.images, parseFilters(ctx.query.get('filters'))));
  });

  router.add('POST', '/commit', async (ctx) => {
    const q = ctx.query;
    const container = q.get('container');
    if (!container) throw new InvalidParameter('container is required');
    const body = await readGoJson(ctx.req, containerConfigWrapper, 'empty-object');
    const r = await commitContainer(svc, engine.images, container, {
      repo: q.get('repo') || undefined, tag: q.get('tag') || undefined,
      author: q.get('author') || undefined, comment: q.get('comment') || undefined,
      pause: boolParam(q, 'pause', true), changes: q.getAll('changes'),
      config: body && typeof body === 'object' ? body as ContainerConfigFields : undefined,
    });
    sendJson(ctx.res, 201, { Id: r.id });
  });

  router.add('GET', '/containers/{id}/logs', (ctx) => logs(ctx, engine));

  router.addHijack('POST', '/containers/{id}/attach', (ctx) => attach(ctx, engine));
}

async function logs(ctx: HttpContext, engine: Engine): Promise<void> {
  const q = ctx.query;
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw new InvalidParameter('Bad parameters: you must choose at least one stream');
  const tailRaw = q.get('tail');
  let tail: number | undefined;
  if (tailRaw && tailRaw !== 'all') {
    tail = Number(tailRaw);
    if (!Number.isInteger(tail)) throw new InvalidParameter(`invalid value for tail: ${tailRaw}`);
    if (tail < 0) tail = undefined;
  }
  const since = timeParam(q.get('since'), 'since');
  const until = timeParam(q.get('until'), 'until');
  const timestamps = boolParam(q, 'timestamps');
  // moby prefixes each line with the log driver's attributes (labels/env log-opts) and a space;
  // Berth's drivers attach none, so the prefix is the space alone
  const details = boolParam(q, 'details') ? Buffer.from(' ') : undefined;
  const ac = new AbortController();
  ctx.res.on('close', () => ac.abort());
  const { tty, batches } = containerLogBatches(engine.containers, ctx.params.id!, {
    stdout, stderr, follow: boolParam(q, 'follow'), tail, since, until, timestamps,
  }, ac.signal);
  // moby 23+: multiplexed-stream only from API 1.42 (older clients know only raw-stream);
  // dockerd 20.10 sent no Content-Type at all (ALLOWED.json).
  ctx.res.writeHead(200, {
    'Content-Type': !tty && versionGte(ctx.apiVersion, '1.42') ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream',
  });
  ctx.res.flushHeaders();
  // A batch is up to 1 MiB of log read at once, sent as one write of all its frames, encoded
  // into buffers used again once the socket has them. The Docker CLI only concatenates the
  // payloads: it gets lines of one stream together in frames of up to 1 MiB (its stdcopy grows
  // its buffer to the frame and writes each frame with one write(2)); other clients get a frame
  // per line, as from dockerd.
  const coalesce = /^Docker-Client\//.test(ctx.req.headers['user-agent'] ?? '') ? 1 << 20 : 0;
  const pool = new EncodeBuffers();
  for await (const b of batches) {
    if (ac.signal.aborted) break;
    const into = pool.take();
    const out = encodeLines(b, { raw: tty, timestamps, coalesce, details }, into);
    const used = out.buffer === into.buffer;
    if (!used) pool.give(into);
    if (!ctx.res.write(out, used ? () => pool.give(into) : undefined)) await drained(ctx.res, ac.signal);
  }
  ctx.res.end();
}

/** Resolves on 'drain', or when the client has gone (a closed socket never drains). */
function drained(res: HttpContext['res'], signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => { res.off('drain', done); signal.removeEventListener('abort', done); resolve(); };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

function timeParam(v: string | null, name: string): number | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  const n = Number(v);
  if (Number.isNaN(n)) throw new InvalidParameter(`invalid value for ${name}: ${v}`);
  return n;
}

async function attach(ctx: HijackContext, engine: Engine): Promise<void> {
  const q = ctx.query;
  const wantStdin = boolParam(q, 'stdin');
  const stream = boolParam(q, 'stream');
  const logs = boolParam(q, 'logs');
  let a: ReturnType<Engine['containers']['attach']> | undefined;
  let container: ReturnType<Engine['containers']['get']>;
  let detachKeys: Buffer;
  try {
    if (!stream && !logs) throw new InvalidParameter('Bad parameters: you must choose at least one stream');
    container = engine.containers.get(ctx.params.id!);
    const dk = q.get('detachKeys');
    try {
      detachKeys = dk ? parseDetachKeys(dk) : DEFAULT_DETACH_KEYS;
    } catch {
      throw new InvalidParameter(`Invalid detach keys (${dk}) provided`);
    }
    if (stream) a = engine.containers.attach(ctx.params.id!, { stdin: wantStdin });
  } catch (err) {
    writeHijackError(ctx, err);
    return;
  }
  const cfg = container.rec.Config;
  writeUpgradeResponse(ctx, { multiplexed: !cfg.Tty });
  if (logs) {
    // logs=1 (docker-py's attach(logs=True)): what the container wrote so far comes first.
    const want = { stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr') };
    const { entries } = containerLogs(engine.containers, container.rec.Id, { ...want, follow: false }, new AbortController().signal);
    for await (const e of entries) ctx.socket.write(cfg.Tty ? e.data : frame(e.stream === 'stderr' ? 2 : 1, e.data));
  }
  if (!a) {
    ctx.socket.end();
    return;
  }
  pipeAttach(ctx, {
    stream: a.stream,
    cancel: a.cancel,
    tty: cfg.Tty,
    stdin: wantStdin && cfg.OpenStdin,
    closeStdinOnEof: cfg.StdinOnce,
    stdout: boolParam(q, 'stdout'),
    stderr: boolParam(q, 'stderr'),
    detachKeys: cfg.Tty ? detachKeys : undefined,
  });
}
