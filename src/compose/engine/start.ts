// up's second half and `start`: containers started service by service in dependency order, each
// service only once the dependencies it names are in the state its depends_on condition asks for,
// as Compose's waitDependencies checks them (woken by the daemon's events; Compose polls every 500 ms):
//   service_started                 started before us (the order alone does it)
//   service_healthy                 healthy; unhealthy or exited fails "dependency failed to start: …"
//   service_completed_successfully  exited 0; another code fails `service "x" didn't complete successfully: exit n`
// A dependency with required: false that fails is skipped with a note instead. --wait then waits,
// bounded, until every started service is running (healthy if it has a healthcheck) or exited 0.
import type * as Api from '../../types/engine-api.ts';
import { jsonLines } from '../../client/engine-client.ts';
import { ComposeError, type Project, type Service } from '../model/types.ts';
import type { ComposeContext, StartOptions } from './api.ts';
import { type Summary, listProject, nameOf, serviceOf, startContainer } from './containers.ts';
import { visitInOrder, withDependencies } from './graph.ts';

const POLL_MS = 250;
/** with the event stream: only a safety net */
const SLOW_POLL_MS = 2000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(new ComposeError('canceled')); return; }
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(new ComposeError('canceled')); }, { once: true });
  });
}

/** Go's Duration.String for whole seconds ("30s", "1m30s"), for Compose's timeout message. */
export function goSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}h` : ''}${m}m${s % 60}s`;
}

type Verdict = { done: true } | { done: false } | { error: string };

/** Where one container stands for a condition. `running` is --wait's: running and healthy if it has a healthcheck, or exited 0. */
export function judge(info: Api.ContainerInspectResponse, condition: 'healthy' | 'completed' | 'running'): Verdict {
  const name = (info.Name ?? '').replace(/^\//, '');
  const st = info.State ?? {};
  const exited = st.Status === 'exited' || st.Status === 'dead';
  if (condition === 'completed') {
    if (!exited) return { done: false };
    return st.ExitCode === 0 ? { done: true } : { error: `exit ${st.ExitCode}` };
  }
  const hasCheck = !!info.Config?.Healthcheck?.Test?.length && info.Config.Healthcheck.Test[0] !== 'NONE';
  if (condition === 'healthy' && !hasCheck) return { error: `container ${name} has no healthcheck configured` };
  if (exited) {
    if (condition === 'running' && st.ExitCode === 0 && !hasCheck) return { done: true };
    return { error: `container ${name} exited (${st.ExitCode})` };
  }
  if (!hasCheck) return st.Status === 'running' ? { done: true } : { done: false };
  const health = st.Health?.Status;
  if (health === 'healthy') return { done: true };
  if (health === 'unhealthy') return { error: `container ${name} is unhealthy` };
  return { done: false };
}

/**
 * Waits until each container meets `condition`. The daemon's events say when to look again
 * (health_status, die, start for these containers): Compose polls every 500 ms, which puts up
 * to that much on every healthy or completed dependency of `up`. A slow poll stays underneath in
 * case the event stream breaks.
 */
async function waitFor(ctx: ComposeContext, cs: Summary[], condition: 'healthy' | 'completed' | 'running', deadline?: number): Promise<{ name: string; error?: string }[]> {
  const left = new Map(cs.map((c) => [c.Id!, nameOf(c)]));
  const out: { name: string; error?: string }[] = [];
  let wake: (() => void) | undefined;
  const dirty = new Set<string>(left.keys());
  const events = await watchEvents(ctx, [...left.keys()], (id) => { dirty.add(id); wake?.(); });
  try {
    while (left.size) {
      for (const id of [...dirty]) {
        dirty.delete(id);
        const name = left.get(id);
        if (name === undefined) continue;
        const v = judge(await ctx.client.containerInspect(id), condition);
        if ('error' in v) { out.push({ name, error: v.error }); left.delete(id); } else if (v.done) { out.push({ name }); left.delete(id); }
      }
      if (!left.size) break;
      if (deadline !== undefined && Date.now() > deadline) throw new TimeoutError();
      const wait = Math.min(events ? SLOW_POLL_MS : POLL_MS, deadline !== undefined ? Math.max(1, deadline - Date.now()) : Infinity);
      if (dirty.size) continue; // an event came while the others were inspected
      await Promise.race([sleep(wait, ctx.signal), new Promise<void>((r) => (wake = r))]);
      wake = undefined;
      if (!dirty.size) for (const id of left.keys()) dirty.add(id);
    }
  } finally {
    events?.close();
  }
  return out;
}

/** The containers' events, each reported by ID; undefined when the daemon gives no event stream (then waitFor polls). */
async function watchEvents(ctx: ComposeContext, ids: string[], on: (id: string) => void): Promise<{ close(): void } | undefined> {
  const filters = JSON.stringify({ type: ['container'], container: ids, event: ['start', 'die', 'health_status', 'destroy'] });
  try {
    const res = await ctx.client.raw('GET', `/events?filters=${encodeURIComponent(filters)}`);
    if ((res.statusCode ?? 500) >= 400) { res.resume(); return undefined; }
    void (async () => {
      try {
        for await (const e of jsonLines<{ id?: string; Actor?: { ID?: string } }>(res)) {
          const id = e.Actor?.ID ?? e.id;
          if (id) on(id);
        }
      } catch { /* closed */ }
    })();
    return { close: () => res.destroy() };
  } catch {
    return undefined;
  }
}

class TimeoutError extends Error {}

/** Blocks until the dependencies of `s` satisfy their conditions (Compose's waitDependencies). */
export async function waitDependencies(ctx: ComposeContext, project: Project, s: Service): Promise<void> {
  await Promise.all(Object.entries(s.depends_on ?? {}).map(async ([dep, cfg]) => {
    if (cfg.condition === 'service_started' || !project.services[dep]) return;
    const cs = await listProject(ctx.client, project.name, { services: [dep] });
    if (!cs.length) return;
    for (const c of cs) ctx.progress.event({ kind: 'Container', name: nameOf(c), status: 'Waiting', done: false });
    const results = await waitFor(ctx, cs, cfg.condition === 'service_healthy' ? 'healthy' : 'completed');
    const failed = results.find((r) => r.error);
    for (const r of results) {
      if (!failed) ctx.progress.event({ kind: 'Container', name: r.name, status: cfg.condition === 'service_healthy' ? 'Healthy' : 'Exited', done: true });
    }
    if (!failed) return;
    const msg = cfg.condition === 'service_healthy' ? `dependency failed to start: ${failed.error}` : `service "${dep}" didn't complete successfully: ${failed.error}`;
    if (cfg.required === false) {
      for (const r of results) ctx.progress.event({ kind: 'Container', name: r.name, status: 'Skipped', done: true, text: `optional dependency "${dep}" failed: ${failed.error}` });
      return;
    }
    for (const r of results) ctx.progress.event({ kind: 'Container', name: r.name, status: 'Error', done: true, error: true, text: r.error ? msg : undefined });
    throw new ComposeError(msg);
  }));
}

export async function startProject(ctx: ComposeContext, project: Project, opts: StartOptions): Promise<void> {
  for (const n of opts.services) if (!project.services[n]) throw new ComposeError(`no such service: ${n}`);
  const names = opts.services.length && opts.noDeps ? [...opts.services].sort() : withDependencies(project, opts.services);
  const all = await listProject(ctx.client, project.name, { all: true, services: names });
  const byService = new Map<string, Summary[]>();
  for (const c of all) byService.set(serviceOf(c), [...(byService.get(serviceOf(c)) ?? []), c]);
  await visitInOrder(project, names, async (name) => {
    const s = project.services[name]!;
    const cs = byService.get(name) ?? [];
    if (!cs.length) {
      if ((s.deploy?.replicas ?? s.scale ?? 1) === 0) return;
      throw new ComposeError(`service "${name}" has no container to start`);
    }
    await waitDependencies(ctx, project, s);
    for (const c of cs) if (c.State === 'running' || c.State === 'paused') ctx.progress.event({ kind: 'Container', name: nameOf(c), status: 'Running', done: true });
    await Promise.all(cs.filter((c) => c.State !== 'running' && c.State !== 'paused').map((c) => startContainer(ctx, c)));
  });
  if (!opts.wait) return;
  const started = [...byService.values()].flat();
  const timeout = opts.waitTimeoutSeconds;
  for (const c of started) ctx.progress.event({ kind: 'Container', name: nameOf(c), status: 'Waiting', done: false });
  try {
    const results = await waitFor(ctx, started, 'running', timeout ? Date.now() + timeout * 1000 : undefined);
    const failed = results.find((r) => r.error);
    for (const r of results) ctx.progress.event({ kind: 'Container', name: r.name, status: r.error ? 'Error' : 'Healthy', done: true, error: !!r.error, text: r.error });
    if (failed) throw new ComposeError(failed.error!);
  } catch (err) {
    if (err instanceof TimeoutError) throw new ComposeError(`application not healthy after ${goSeconds(timeout!)}`);
    throw err;
  }
}
