// The verbs on existing containers, with Compose's ordering: stop, kill and rm go in reverse
// dependency order (a service before what it depends on), restart and unpause in dependency
// order; down stops and removes every container of the project (one-offs and orphans too when
// asked), then its networks, then with -v its volumes, then with --rmi its images.
import type { Project } from '../model/types.ts';
import { ComposeError } from '../model/types.ts';
import type { ComposeContext, DownOptions } from './api.ts';
import { type Summary, listProject, nameOf, removeContainer, serviceOf, step, stopAndRemove, stopContainer, notFound } from './containers.ts';
import { imageName } from './convert.ts';
import { visitInOrder, withDependents } from './graph.ts';
import { removeNetworks, removeVolumes } from './resources.ts';

const enc = encodeURIComponent;

function selected(project: Project, services: string[]): string[] {
  for (const n of services) if (!project.services[n] && !project.disabledServices[n]) throw new ComposeError(`no such service: ${n}`);
  return services.length ? services.filter((n) => project.services[n]).sort() : Object.keys(project.services).sort();
}

async function byService(ctx: ComposeContext, project: Project, services: string[], all = true): Promise<Map<string, Summary[]>> {
  const m = new Map<string, Summary[]>();
  for (const c of await listProject(ctx.client, project.name, { all, services })) m.set(serviceOf(c), [...(m.get(serviceOf(c)) ?? []), c]);
  return m;
}

/** Runs fn on each service's containers in (reverse) dependency order. */
async function each(ctx: ComposeContext, project: Project, services: string[], reverse: boolean, fn: (c: Summary) => Promise<void>, filter: (c: Summary) => boolean = () => true): Promise<void> {
  const names = selected(project, services);
  const cs = await byService(ctx, project, names);
  await visitInOrder(project, names, async (n) => { await Promise.all((cs.get(n) ?? []).filter(filter).map(fn)); }, reverse);
}

const isRunning = (c: Summary): boolean => c.State === 'running' || c.State === 'restarting' || c.State === 'paused';

export function stop(ctx: ComposeContext, project: Project, services: string[], timeout?: number): Promise<void> {
  return each(ctx, project, services, true, (c) => stopContainer(ctx, c, timeout), isRunning);
}

export function kill(ctx: ComposeContext, project: Project, services: string[], signal?: string, removeOrphans?: boolean): Promise<void> {
  const k = (c: Summary): Promise<void> => step(ctx, nameOf(c), 'Killing', 'Killed', () => ctx.client.request('POST', `/containers/${enc(c.Id!)}/kill${signal ? `?signal=${enc(signal)}` : ''}`));
  return (async () => {
    await each(ctx, project, services, true, k, (c) => c.State === 'running' || c.State === 'restarting');
    if (!removeOrphans) return;
    const orphans = (await listProject(ctx.client, project.name)).filter((c) => !project.services[serviceOf(c)] && !project.disabledServices[serviceOf(c)] && c.State === 'running');
    await Promise.all(orphans.map(k));
  })();
}

/** `rm`: stopped containers (all of them with stop, after stopping them); "No stopped containers" when there are none, as Compose says. */
export async function remove(ctx: ComposeContext, project: Project, services: string[], opts: { stop?: boolean; volumes?: boolean; force?: boolean }): Promise<void> {
  const names = selected(project, services);
  if (opts.stop) await stop(ctx, project, services);
  const cs = [...(await byService(ctx, project, names)).values()].flat().filter((c) => !isRunning(c));
  if (!cs.length) { ctx.progress.line?.('No stopped containers'); return; }
  const doomed = new Set(cs.map((c) => c.Id));
  await each(ctx, project, services, true, (c) => removeContainer(ctx, c, { volumes: opts.volumes, force: opts.force }), (c) => doomed.has(c.Id));
}

export function pause(ctx: ComposeContext, project: Project, services: string[]): Promise<void> {
  return each(ctx, project, services, false, (c) => step(ctx, nameOf(c), 'Pausing', 'Paused', () => ctx.client.request('POST', `/containers/${enc(c.Id!)}/pause`)), (c) => c.State === 'running');
}

export function unpause(ctx: ComposeContext, project: Project, services: string[]): Promise<void> {
  return each(ctx, project, services, false, (c) => step(ctx, nameOf(c), 'Unpausing', 'Unpaused', () => ctx.client.request('POST', `/containers/${enc(c.Id!)}/unpause`)), (c) => c.State === 'paused');
}

/** restart: the services (and, unless noDeps, those depending on them with `restart: true`), in dependency order. */
export async function restart(ctx: ComposeContext, project: Project, services: string[], timeout?: number, noDeps?: boolean): Promise<void> {
  let names = selected(project, services);
  if (services.length && !noDeps) {
    const dependents = withDependents(project, names).filter((n) => Object.entries(project.services[n]!.depends_on ?? {}).some(([d, cfg]) => cfg.restart && names.includes(d)));
    names = [...new Set([...names, ...dependents])].sort();
  }
  const cs = await byService(ctx, project, names);
  await visitInOrder(project, names, async (n) => {
    await Promise.all((cs.get(n) ?? []).map((c) => step(ctx, nameOf(c), 'Restarting', 'Restarted',
      () => ctx.client.request('POST', `/containers/${enc(c.Id!)}/restart${timeout === undefined ? '' : `?t=${timeout}`}`))));
  });
}

export async function down(ctx: ComposeContext, project: Project, opts: DownOptions): Promise<void> {
  const only = opts.services?.length ? new Set(opts.services) : undefined;
  const all = (await listProject(ctx.client, project.name, { all: true, oneoff: 'include' })).filter((c) => !only || only.has(serviceOf(c)));
  const known = (c: Summary): boolean => !!project.services[serviceOf(c)] || !!project.disabledServices[serviceOf(c)];
  // Without a compose file (down -p x) the project has no services: everything of it goes.
  const noModel = !Object.keys(project.services).length;
  const orphans = noModel ? [] : all.filter((c) => !known(c));
  const mine = noModel ? all : all.filter(known);
  const names = [...new Set(mine.map(serviceOf))].filter((n) => project.services[n]).sort();
  const byName = new Map<string, Summary[]>();
  for (const c of mine) byName.set(serviceOf(c), [...(byName.get(serviceOf(c)) ?? []), c]);
  const rm = (c: Summary): Promise<void> => stopAndRemove(ctx, c, { timeout: opts.timeout, volumes: opts.volumes });
  // An anonymous volume taken over by a recreated container is mounted by name there, so the
  // engine's rm -v no longer counts it as the container's own: down -v removes these itself.
  const anonymous = opts.volumes ? [...new Set(all.flatMap((c) => (c.Mounts ?? []).filter((m) => m.Type === 'volume' && /^[0-9a-f]{64}$/.test(m.Name ?? '')).map((m) => m.Name!)))] : [];
  await visitInOrder(project, names, async (n) => { await Promise.all((byName.get(n) ?? []).map(rm)); }, true);
  // containers of services not in the model (disabled by profiles, or no model at all)
  await Promise.all(mine.filter((c) => !names.includes(serviceOf(c))).map(rm));
  if (orphans.length) {
    if (opts.removeOrphans) await Promise.all(orphans.map(rm));
    else ctx.warn(`Found orphan containers ([${orphans.map(nameOf).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  await Promise.all(anonymous.map((v) => ctx.client.request('DELETE', `/volumes/${enc(v)}`).catch((err: { status?: number }) => {
    // gone with its container already, or still used by a container outside the project
    if (err.status !== 404 && err.status !== 409) throw err;
  })));
  if (only) return;
  const left = await listProject(ctx.client, project.name, { all: true, oneoff: 'include' });
  if (!left.length) await removeNetworks(ctx, project);
  if (opts.volumes) await removeVolumes(ctx, project);
  if (opts.rmi) await removeImages(ctx, project, opts.rmi);
}

/** --rmi local: the images Compose named itself (services that build without an `image:`); all: every service's image. */
async function removeImages(ctx: ComposeContext, project: Project, rmi: 'local' | 'all'): Promise<void> {
  const images = new Set<string>();
  for (const s of Object.values(project.services)) {
    if (rmi === 'all' || (s.build && !s.image)) images.add(imageName(project, s));
  }
  for (const image of [...images].sort()) {
    const ev = { kind: 'Image', name: image };
    ctx.progress.event({ ...ev, status: 'Removing', done: false });
    try {
      await ctx.client.imageDelete(image);
      ctx.progress.event({ ...ev, status: 'Removed', done: true });
    } catch (err) {
      if (notFound(err)) { ctx.progress.event({ ...ev, status: 'Removed', done: true }); continue; }
      ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
      ctx.warn(`failed to remove image ${image}: ${(err as Error).message}`);
    }
  }
}
