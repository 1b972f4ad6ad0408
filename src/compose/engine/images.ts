// Images of the project: a classic build through POST /build (the context tarred by the client,
// as `berth build` does), pulls through POST /images/create and pushes through
// /images/{name}/push, each reported as Compose does (` ✔ Service web  Built`,
// ` ✔ Image redis Pulled`), and up's choice of what to build or pull before creating containers.
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { checkOk, jsonLines, query } from '../../client/engine-client.ts';
import { packContext, type ExtraFile } from '../../client/build-context.ts';
import { ComposeError, type Project, type Service } from '../model/types.ts';
import type { ComposeContext } from './api.ts';
import { imageName } from './convert.ts';
import { notFound } from './containers.ts';
import { COMPOSE_VERSION, PROJECT, SERVICE, VERSION } from './labels.ts';

interface JsonMessage { stream?: string; status?: string; progress?: string; id?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } }

/** `repo:tag` / `repo@digest` / `repo` → the fromImage and tag of POST /images/create. */
export function splitReference(ref: string): { repo: string; tag?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

export async function imageId(ctx: ComposeContext, name: string): Promise<string | undefined> {
  try {
    return (await ctx.client.imageInspect(name)).Id;
  } catch (err) {
    if (notFound(err)) return undefined;
    throw err;
  }
}

/** Reads a JSON progress stream to its end; an error message in it becomes the thrown error. */
async function drain(res: AsyncIterable<unknown>, each?: (m: JsonMessage) => void): Promise<JsonMessage[]> {
  const aux: JsonMessage[] = [];
  for await (const m of jsonLines<JsonMessage>(res)) {
    if (m.error || m.errorDetail?.message) throw new ComposeError(m.errorDetail?.message ?? m.error!);
    if (m.aux) aux.push(m);
    each?.(m);
  }
  return aux;
}

export async function buildService(ctx: ComposeContext, project: Project, s: Service, o: { noCache?: boolean; pull?: boolean; args?: Record<string, string>; quiet?: boolean } = {}): Promise<string> {
  const b = s.build!;
  const name = imageName(project, s);
  const ev = { kind: 'Service', name: s.name };
  if (/^[a-z]+:\/\//.test(b.context) || b.context.startsWith('git@')) throw new ComposeError(`services.${s.name}.build: a remote context (${b.context}) is not supported`);
  for (const [field, v] of [['ssh', b.ssh], ['secrets', b.secrets], ['cache_to', b.cache_to], ['additional_contexts', b.additional_contexts]] as const) {
    if (v && (Array.isArray(v) ? v.length : Object.keys(v).length)) ctx.warn(`services.${s.name}.build.${field} needs BuildKit, which the classic builder lacks: ignored`);
  }
  if ((b.platforms?.length ?? 0) > 1) ctx.warn(`services.${s.name}.build.platforms: the classic builder builds one platform: ${b.platforms![0]} only`);
  ctx.progress.event({ ...ev, status: 'Building', done: false });
  const extra: ExtraFile[] = [];
  let dockerfile = b.dockerfile ?? 'Dockerfile';
  if (b.dockerfile_inline !== undefined) {
    dockerfile = '.berth-compose.Dockerfile';
    extra.push({ name: dockerfile, data: Buffer.from(b.dockerfile_inline) });
  } else {
    const abs = isAbsolute(dockerfile) ? dockerfile : resolve(b.context, dockerfile);
    const rel = relative(b.context, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      // a Dockerfile outside the context goes in under a name of its own, as the Docker CLI sends it
      dockerfile = '.berth-compose.Dockerfile';
      extra.push({ name: dockerfile, data: await readFile(abs) });
    } else {
      dockerfile = rel;
    }
  }
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) {
    const value = v ?? project.environment[k];
    if (value !== undefined) args[k] = value;
  }
  Object.assign(args, o.args ?? {});
  const labels = { ...(b.labels ?? {}), [PROJECT]: project.name, [SERVICE]: s.name, [VERSION]: COMPOSE_VERSION };
  const q = query({
    t: [name, ...(b.tags ?? [])], dockerfile, target: b.target, nocache: o.noCache || b.no_cache, pull: o.pull || b.pull,
    networkmode: b.network, shmsize: b.shm_size, q: o.quiet,
    extrahosts: Object.entries(b.extra_hosts ?? {}).flatMap(([h, ips]) => ips.map((ip) => `${h}:${ip}`)),
    buildargs: Object.keys(args).length ? JSON.stringify(args) : undefined,
    labels: JSON.stringify(labels),
    cachefrom: b.cache_from?.length ? JSON.stringify(b.cache_from) : undefined,
    ulimits: b.ulimits ? JSON.stringify(Object.entries(b.ulimits).map(([Name, u]) => ({ Name, Soft: u.single ?? u.soft, Hard: u.single ?? u.hard }))) : undefined,
    platform: b.platforms?.[0] ?? s.platform,
    rm: '1',
  });
  try {
    const res = await ctx.client.raw('POST', `/build${q}`, packContext(b.context, dockerfile, extra), { 'Content-Type': 'application/x-tar' });
    await checkOk(res);
    let partial = '';
    const aux = await drain(res, (m) => {
      if (m.stream === undefined || o.quiet) return;
      const lines = (partial + m.stream).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) ctx.progress.line?.(l);
    });
    if (partial && !o.quiet) ctx.progress.line?.(partial);
    ctx.progress.event({ ...ev, status: 'Built', done: true });
    return aux.at(-1)?.aux?.ID ?? (await imageId(ctx, name)) ?? '';
  } catch (err) {
    ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
    throw new ComposeError(`failed to build service "${s.name}": ${(err as Error).message}`);
  }
}

export async function pullImage(ctx: ComposeContext, image: string, o: { quiet?: boolean; eventName?: string } = {}): Promise<void> {
  const { repo, tag } = splitReference(image);
  const ev = { kind: 'Image', name: o.eventName ?? image };
  if (!o.quiet) ctx.progress.event({ ...ev, status: 'Pulling', done: false });
  const auth = await ctx.registryAuth?.(image);
  try {
    const res = await ctx.client.raw('POST', `/images/create${query({ fromImage: repo, tag })}`, undefined, auth ? { 'X-Registry-Auth': auth } : {});
    await checkOk(res);
    await drain(res, (m) => {
      if (!o.quiet && m.status && m.progress) ctx.progress.event({ ...ev, status: 'Pulling', done: false, text: `${m.id ?? ''} ${m.status} ${m.progress}`.trim() });
    });
  } catch (err) {
    if (!o.quiet) ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
    throw new ComposeError((err as Error).message);
  }
  if (!o.quiet) ctx.progress.event({ ...ev, status: 'Pulled', done: true });
}

export async function pushImage(ctx: ComposeContext, image: string, o: { quiet?: boolean } = {}): Promise<void> {
  const { repo, tag } = splitReference(image);
  const ev = { kind: 'Image', name: image };
  if (!o.quiet) ctx.progress.event({ ...ev, status: 'Pushing', done: false });
  const auth = (await ctx.registryAuth?.(image)) ?? Buffer.from('{}').toString('base64');
  try {
    const res = await ctx.client.raw('POST', `/images/${repo}/push${query({ tag })}`, undefined, { 'X-Registry-Auth': auth });
    await checkOk(res);
    await drain(res);
  } catch (err) {
    if (!o.quiet) ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
    throw new ComposeError((err as Error).message);
  }
  if (!o.quiet) ctx.progress.event({ ...ev, status: 'Pushed', done: true });
}

/**
 * Before create: build what must be built, pull what is missing (or what pull_policy / --pull
 * says to pull), and return each service's image ID for the com.docker.compose.image label.
 */
export async function ensureImages(ctx: ComposeContext, project: Project, services: string[], build: 'always' | 'never' | 'missing' = 'missing', pull?: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const pulls: Promise<void>[] = [];
  const pulled = new Map<string, Promise<void>>();
  for (const name of services) {
    const s = project.services[name]!;
    const image = imageName(project, s);
    const policy = pull ?? s.pull_policy ?? 'missing';
    if (s.build) {
      if (build !== 'never' && (build === 'always' || policy === 'build' || !(await imageId(ctx, image)))) {
        if (policy === 'always' && s.image) await pullImage(ctx, image).catch(() => undefined);
        ids.set(name, await buildService(ctx, project, s));
        continue;
      }
    }
    const want = policy === 'always' ? true : policy === 'never' || policy === 'build' ? false : !(await imageId(ctx, image));
    if (want && !s.build) {
      let p = pulled.get(image);
      if (!p) { p = pullImage(ctx, image, { eventName: name }); pulled.set(image, p); }
      pulls.push(p);
    }
  }
  await Promise.all(pulls);
  for (const name of services) {
    if (ids.has(name)) continue;
    const image = imageName(project, project.services[name]!);
    const id = await imageId(ctx, image);
    if (!id) throw new ComposeError(`No such image: ${image}`);
    ids.set(name, id);
  }
  return ids;
}
