// POST /build (the classic builder's API, what `DOCKER_BUILDKIT=0 docker build` sends) and
// POST /build/prune. The context arrives as the request body; the response is the JSON stream
// the CLI prints, with a failed RUN's exit code in errorDetail.code (the CLI exits with it).
import type { Readable } from 'node:stream';
import type { Router } from '../router.ts';
import { boolParam, intParam, lazyJsonStream, sendJson } from '../respond.ts';
import { InvalidParameter } from '../../errors.ts';
import type { AuthConfig } from '../../types/auth-config.ts';
import { BuildStepError, type BuildService, type BuildRequest } from '../../engine/build.ts';

function jsonParam<T>(q: URLSearchParams, name: string, dflt: T): T {
  const v = q.get(name);
  if (!v) return dflt;
  try { return JSON.parse(v) as T; } catch { throw new InvalidParameter(`invalid ${name}: not JSON`); }
}

function registryConfig(header: string | string[] | undefined): Record<string, AuthConfig> {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return {};
  try {
    const m = JSON.parse(Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    return m && typeof m === 'object' && !Array.isArray(m) ? m as Record<string, AuthConfig> : {};
  } catch { return {}; }
}

export function registerBuildRoutes(router: Router, builds: BuildService): void {
  router.add('POST', '/build', async (ctx) => {
    const q = ctx.query;
    const resources: Record<string, unknown> = {};
    for (const [param, field] of [['memory', 'Memory'], ['memswap', 'MemorySwap'], ['cpushares', 'CpuShares'], ['cpuperiod', 'CpuPeriod'], ['cpuquota', 'CpuQuota'], ['shmsize', 'ShmSize']] as const) {
      const n = intParam(q, param);
      if (n) resources[field] = n;
    }
    for (const [param, field] of [['cpusetcpus', 'CpusetCpus'], ['cpusetmems', 'CpusetMems']] as const) {
      const v = q.get(param);
      if (v) resources[field] = v;
    }
    const ulimits = jsonParam<unknown[] | null>(q, 'ulimits', null);
    if (ulimits?.length) resources.Ulimits = ulimits;
    // moby reads r.Form["extrahosts"]: one parameter per host (docker-py and the CLI send a list)
    const extra = q.getAll('extrahosts').flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
    const req: BuildRequest = {
      dockerfile: q.get('dockerfile') ?? 'Dockerfile',
      tags: q.getAll('t').filter(Boolean),
      buildArgs: jsonParam<Record<string, string | null>>(q, 'buildargs', {}),
      target: q.get('target') || undefined,
      labels: jsonParam<Record<string, string>>(q, 'labels', {}),
      noCache: boolParam(q, 'nocache'),
      cacheFrom: jsonParam<string[] | null>(q, 'cachefrom', null) ?? undefined,
      pull: boolParam(q, 'pull'),
      rm: boolParam(q, 'rm', true),
      forceRm: boolParam(q, 'forcerm'),
      quiet: boolParam(q, 'q'),
      networkMode: q.get('networkmode') || 'default',
      platform: q.get('platform') || undefined,
      extraHosts: extra,
      resources,
      auth: registryConfig(ctx.req.headers['x-registry-config']),
    };
    const stream = lazyJsonStream(ctx.res);
    try {
      const id = await builds.build(ctx.req as Readable, req, {
        stream: (text) => { if (!req.quiet) stream.write({ stream: text }); },
        aux: (value) => stream.write({ aux: value }),
      });
      if (req.quiet) stream.write({ stream: `${id}\n` });
    } catch (err) {
      // A failed step is reported in the stream with its exit code, as dockerd does.
      if (err instanceof BuildStepError) {
        stream.write({ errorDetail: { code: err.code, message: err.message }, error: err.message });
        stream.end();
        return;
      }
      if (!stream.fail(err)) throw err;
      return;
    }
    stream.end();
  });

  router.add('POST', '/build/prune', async (ctx) => {
    sendJson(ctx.res, 200, await builds.prune());
  });
}
