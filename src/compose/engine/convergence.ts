// up's first half, as Compose v2's convergence: the project's containers are found by label and
// brought to what the model asks for, service by service in dependency order (independent
// services at once). Per service:
//   - the expected replicas: --scale > deploy.replicas > scale > 1;
//   - scaling down removes the obsolete containers first, then the highest numbers;
//   - a container whose config hash (or image) differs is recreated (always with --force-recreate,
//     never with --no-recreate): the new one is created as `<old id12>_<name>` so both exist at
//     once, then the old one is stopped and removed and the new one renamed; anonymous volumes go
//     from the old to the new container, so their data survives, as in Compose;
//   - missing replicas are created with the lowest free numbers (`<project>-<service>-<n>`).
// Containers are only created here; start.ts starts them.
import { randomBytes } from 'node:crypto';
import type * as Api from '../../types/engine-api.ts';
import { ComposeError, type Project, type Service } from '../model/types.ts';
import type { ComposeContext, CreateOptions } from './api.ts';
import { type Summary, listProject, nameOf, numberOf, serviceOf, stopAndRemove } from './containers.ts';
import { toCreateBody, type InjectedFile, type PeerContainer } from './convert.ts';
import { checkCycles, dependenciesOf, visitInOrder, withDependencies } from './graph.ts';
import { serviceHash } from './hash.ts';
import { ensureImages } from './images.ts';
import { CONFIG_HASH, IMAGE, REPLACE } from './labels.ts';
import { ensureNetworks, ensureVolumes, usedNetworks, usedVolumes } from './resources.ts';
import { injectFiles } from './inject.ts';

const enc = encodeURIComponent;

export const containerName = (project: Project, s: Service, n: number): string => s.container_name ?? `${project.name}-${s.name}-${n}`;

export function expectedReplicas(s: Service, scale?: Record<string, number>): number {
  return scale?.[s.name] ?? s.deploy?.replicas ?? s.scale ?? 1;
}

export function mustRecreate(c: Summary, hash: string, imageId: string | undefined, policy: 'diverged' | 'force' | 'never'): boolean {
  if (policy === 'never') return false;
  if (policy === 'force') return true;
  const l = c.Labels ?? {};
  return l[CONFIG_HASH] !== hash || (!!imageId && !!l[IMAGE] && l[IMAGE] !== imageId);
}

/** The lowest numbers not taken, `count` of them. */
export function freeNumbers(taken: number[], count: number): number[] {
  const used = new Set(taken);
  const out: number[] = [];
  for (let n = 1; out.length < count; n++) if (!used.has(n)) out.push(n);
  return out;
}

/** Which containers go when scaling down: obsolete ones first, then the highest numbers (Compose's order). */
export function scaleDownOrder(cs: Summary[], obsolete: (c: Summary) => boolean): Summary[] {
  return [...cs].sort((a, b) => (Number(obsolete(b)) - Number(obsolete(a))) || (numberOf(b) - numberOf(a)));
}

/** Warnings once per text: a service with three replicas is converted three times. */
export function onceWarn(ctx: ComposeContext): ComposeContext {
  const seen = new Set<string>();
  return { ...ctx, warn: (t) => { if (!seen.has(t)) { seen.add(t); ctx.warn(t); } } };
}

export async function multiEndpoint(ctx: ComposeContext): Promise<boolean> {
  const [a, b] = (await ctx.client.apiVersion()).split('.').map(Number);
  return a! > 1 || b! >= 44;
}

export interface CreateSpec {
  name: string;
  number: number;
  oneoff: boolean;
  imageId?: string;
  /** the container this one replaces: its anonymous volumes are taken over */
  replaces?: Summary;
  /** up -V: the replaced container's anonymous volumes are not taken over */
  renewAnonVolumes?: boolean;
  extraLabels?: Record<string, string>;
  aliases?: boolean;
  /** final changes to the body (one-off overrides) */
  patch?: (body: Api.ContainerCreateBody) => void;
}

/** Creates one container of a service (networks connected, secrets/configs copied in); returns it as the list shows it. */
export async function createContainer(ctx: ComposeContext, project: Project, s: Service, spec: CreateSpec, peers: Record<string, PeerContainer[]>): Promise<Summary> {
  const hash = serviceHash(s);
  const conv = toCreateBody(project, s, {
    name: spec.name, number: spec.number, oneoff: spec.oneoff, hash, imageId: spec.imageId, aliases: spec.aliases,
    multiEndpoint: await multiEndpoint(ctx), peers, warn: ctx.warn, envFiles: ctx.envFiles,
  });
  const body = conv.body;
  Object.assign(body.Labels!, spec.extraLabels ?? {});
  if (spec.replaces) {
    body.Labels![REPLACE] = spec.replaces.Id!;
    if (!spec.renewAnonVolumes) await inheritVolumes(ctx, spec.replaces, body);
  }
  spec.patch?.(body);
  const created = await ctx.client.containerCreate(body, { name: spec.name, ...(s.platform ? { platform: s.platform } : {}) });
  for (const w of created.Warnings ?? []) ctx.warn(w);
  for (const c of conv.connect) {
    await ctx.client.request('POST', `/networks/${enc(c.network)}/connect`, { Container: created.Id, EndpointConfig: c.endpoint });
  }
  if (conv.files.length) await injectFiles(ctx, created.Id, conv.files as InjectedFile[]);
  return { Id: created.Id, Names: [`/${spec.name}`], Labels: body.Labels ?? {}, State: 'created', Status: 'Created', Image: body.Image };
}

/**
 * The anonymous volumes of the replaced container (a service's `- /data` or an image's VOLUME)
 * mounted again at the same places, as Compose keeps them across a recreate.
 */
async function inheritVolumes(ctx: ComposeContext, old: Summary, body: Api.ContainerCreateBody): Promise<void> {
  const info = await ctx.client.containerInspect(old.Id!);
  const host = (body.HostConfig ??= {});
  const bound = new Set((host.Binds ?? []).map((b) => b.split(':')[1]));
  const mounts = (host.Mounts ??= []);
  for (const m of info.Mounts ?? []) {
    if (m.Type !== 'volume' || !m.Name || !/^[0-9a-f]{64}$/.test(m.Name) || !m.Destination || bound.has(m.Destination)) continue;
    const mine = mounts.find((x) => x.Target === m.Destination);
    if (mine) { if (mine.Type === 'volume' && !mine.Source) mine.Source = m.Name; continue; }
    mounts.push({ Type: 'volume', Source: m.Name, Target: m.Destination });
  }
  if (!mounts.length) delete host.Mounts;
}

/** The containers of the services `s` refers to, for network_mode/volumes_from/links. */
function peersOf(project: Project, s: Service, current: Map<string, Summary[]>): Record<string, PeerContainer[]> {
  const out: Record<string, PeerContainer[]> = {};
  for (const d of dependenciesOf(project, s)) out[d] = (current.get(d) ?? []).map((c) => ({ id: c.Id!, name: nameOf(c) }));
  return out;
}

export async function createProject(ctxIn: ComposeContext, project: Project, opts: CreateOptions): Promise<Map<string, Summary[]>> {
  const ctx = onceWarn(ctxIn);
  checkCycles(project);
  for (const n of opts.services) if (!project.services[n]) throw new ComposeError(`no such service: ${n}`);
  const targets = opts.services.length && opts.noDeps ? [...opts.services].sort() : withDependencies(project, opts.services);
  const named = new Set(opts.services.length ? opts.services : targets);
  const images = await ensureImages(ctx, project, targets, opts.build, opts.pull);
  await ensureNetworks(ctx, project, usedNetworks(project, targets));
  await ensureVolumes(ctx, project, usedVolumes(project, targets));

  const existing = await listProject(ctx.client, project.name, { all: true });
  const current = new Map<string, Summary[]>();
  for (const c of existing) current.set(serviceOf(c), [...(current.get(serviceOf(c)) ?? []), c]);
  await handleOrphans(ctx, project, existing, !!opts.removeOrphans, opts.timeout);

  await visitInOrder(project, targets, async (name) => {
    const s = project.services[name]!;
    const policy = named.has(name) ? opts.recreate : (opts.recreateDependencies ?? 'diverged');
    current.set(name, await convergeService(ctx, project, s, current.get(name) ?? [], {
      policy, replicas: expectedReplicas(s, opts.scale), imageId: images.get(name), timeout: opts.timeout, peers: peersOf(project, s, current), renewAnonVolumes: opts.renewAnonVolumes,
    }));
  });
  return current;
}

async function handleOrphans(ctx: ComposeContext, project: Project, existing: Summary[], remove: boolean, timeout?: number): Promise<void> {
  const orphans = existing.filter((c) => !project.services[serviceOf(c)] && !project.disabledServices[serviceOf(c)]);
  if (!orphans.length) return;
  if (!remove) {
    ctx.warn(`Found orphan containers ([${orphans.map(nameOf).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
    return;
  }
  await Promise.all(orphans.map((c) => stopAndRemove(ctx, c, { timeout })));
}

interface ConvergeOpts { policy: 'diverged' | 'force' | 'never'; replicas: number; imageId?: string; timeout?: number; peers: Record<string, PeerContainer[]>; renewAnonVolumes?: boolean }

export async function convergeService(ctx: ComposeContext, project: Project, s: Service, containers: Summary[], o: ConvergeOpts): Promise<Summary[]> {
  if (s.container_name && o.replicas > 1) {
    throw new ComposeError(`services.${s.name}: can't set container_name and scale to ${o.replicas} as container name must be unique: invalid compose project`);
  }
  const hash = serviceHash(s);
  const obsolete = (c: Summary): boolean => mustRecreate(c, hash, o.imageId, o.policy);
  let keep = [...containers].sort((a, b) => numberOf(a) - numberOf(b));
  if (keep.length > o.replicas) {
    const order = scaleDownOrder(keep, obsolete);
    const gone = order.slice(0, keep.length - o.replicas);
    await Promise.all(gone.map((c) => stopAndRemove(ctx, c, { timeout: o.timeout })));
    keep = keep.filter((c) => !gone.includes(c));
  }
  const result = await Promise.all(keep.map(async (c) => {
    if (obsolete(c)) return recreate(ctx, project, s, c, o);
    if (c.State === 'running') ctx.progress.event({ kind: 'Container', name: nameOf(c), status: 'Running', done: true });
    else if (!['created', 'restarting', 'exited'].includes(c.State ?? '')) ctx.progress.event({ kind: 'Container', name: nameOf(c), status: 'Created', done: true });
    return c;
  }));
  const numbers = freeNumbers(keep.map(numberOf), o.replicas - keep.length);
  const made = await Promise.all(numbers.map(async (n) => {
    const name = containerName(project, s, n);
    ctx.progress.event({ kind: 'Container', name, status: 'Creating', done: false });
    try {
      const c = await createContainer(ctx, project, s, { name, number: n, oneoff: false, imageId: o.imageId }, o.peers);
      ctx.progress.event({ kind: 'Container', name, status: 'Created', done: true });
      return c;
    } catch (err) {
      ctx.progress.event({ kind: 'Container', name, status: 'Error', done: true, error: true, text: (err as Error).message });
      throw new ComposeError(`Error response from daemon: ${(err as Error).message}`);
    }
  }));
  return [...result, ...made].sort((a, b) => numberOf(a) - numberOf(b));
}

async function recreate(ctx: ComposeContext, project: Project, s: Service, old: Summary, o: ConvergeOpts): Promise<Summary> {
  const oldName = nameOf(old);
  ctx.progress.event({ kind: 'Container', name: oldName, status: 'Recreate', done: false });
  try {
    const n = numberOf(old) || 1;
    const name = containerName(project, s, n);
    const tmp = `${old.Id!.slice(0, 12)}_${name}`;
    const made = await createContainer(ctx, project, s, { name: tmp, number: n, oneoff: false, imageId: o.imageId, replaces: old, renewAnonVolumes: o.renewAnonVolumes }, o.peers);
    if (['running', 'restarting', 'paused'].includes(old.State ?? '')) {
      await ctx.client.request('POST', `/containers/${enc(old.Id!)}/stop${o.timeout === undefined ? '' : `?t=${o.timeout}`}`).catch(ignore304);
    }
    await ctx.client.request('DELETE', `/containers/${enc(old.Id!)}?force=1`);
    await ctx.client.request('POST', `/containers/${enc(made.Id!)}/rename?name=${enc(name)}`);
    ctx.progress.event({ kind: 'Container', name: oldName, status: 'Recreated', done: true });
    return { ...made, Names: [`/${name}`] };
  } catch (err) {
    ctx.progress.event({ kind: 'Container', name: oldName, status: 'Error', done: true, error: true, text: (err as Error).message });
    throw err;
  }
}

const ignore304 = (err: { status?: number }): void => { if (err.status !== 304) throw err; };

/** `<project>-<service>-run-<12 hex>` and the slug it comes from (com.docker.compose.slug). */
export function oneOffName(project: Project, s: Service): { name: string; slug: string } {
  const slug = randomBytes(32).toString('hex');
  return { name: `${project.name}-${s.name}-run-${slug.slice(0, 12)}`, slug };
}
