// `run`: one container of a service outside its replicas (com.docker.compose.oneoff=True, named
// `<project>-<service>-run-<12 hex>`), from the service's model with the command line's
// overrides applied. Its dependencies are created and started first (unless --no-deps), as
// Compose's run does; the CLI starts and attaches the one-off itself.
import { resolve } from 'node:path';
import { ComposeError, type PortConfig, type Project, type Service, type ServiceVolume } from '../model/types.ts';
import type { ComposeContext, RunOverrides } from './api.ts';
import { type Summary, listProject, nameOf, serviceOf } from './containers.ts';
import { createContainer, createProject, oneOffName, onceWarn } from './convergence.ts';
import { dependenciesOf, withDependencies } from './graph.ts';
import { ensureImages, buildService } from './images.ts';
import { SLUG } from './labels.ts';
import { ensureNetworks, ensureVolumes, usedNetworks, usedVolumes } from './resources.ts';
import { startProject } from './start.ts';

/** `[ip:][host:]container[/proto]`, as `run -p` takes it. */
export function parsePublish(spec: string): PortConfig {
  const [addr, protocol = 'tcp'] = spec.split('/');
  const m = /^(?:(\[[^\]]+\]|[^:]*):)?(?:([^:]*):)?(\d+)$/.exec(addr!);
  if (!m) throw new ComposeError(`invalid port specification: "${spec}"`);
  // with two parts the first is the host port, with three the first is the IP
  const [ip, host] = m[2] === undefined ? [undefined, m[1]] : [m[1], m[2]];
  return { mode: 'ingress', target: Number(m[3]), protocol, ...(host ? { published: host } : {}), ...(ip ? { host_ip: ip.replace(/^\[|\]$/g, '') } : {}) };
}

/** `src:dst[:ro]` or `dst`, as `run -v` takes it: a path source is a bind, a name a volume. */
export function parseVolume(project: Project, spec: string): ServiceVolume {
  const parts = spec.split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0]! };
  const [src, target, mode = ''] = parts as [string, string, string?];
  const ro = mode.split(',').includes('ro');
  if (/^[./~]/.test(src)) {
    const abs = src.startsWith('~') ? `${process.env.HOME ?? ''}${src.slice(1)}` : resolve(project.workingDir, src);
    return { type: 'bind', source: abs, target, ...(ro ? { read_only: true } : {}), bind: { create_host_path: true } };
  }
  return { type: 'volume', source: src, target, ...(ro ? { read_only: true } : {}) };
}

const kv = (list: string[]): Record<string, string | null> => Object.fromEntries(list.map((e) => {
  const i = e.indexOf('=');
  return i < 0 ? [e, null] : [e.slice(0, i), e.slice(i + 1)];
}));

/** The service as the one-off runs it: the overrides of the command line on top. */
export function oneOffService(project: Project, base: Service, o: RunOverrides): Service {
  const s: Service = structuredClone(base);
  if (o.command?.length) s.command = o.command;
  if (o.entrypoint) s.entrypoint = o.entrypoint;
  if (o.env?.length) s.environment = { ...(s.environment ?? {}), ...kv(o.env) };
  if (o.labels?.length) s.labels = { ...(s.labels ?? {}), ...(kv(o.labels) as Record<string, string>) };
  if (o.user) s.user = o.user;
  if (o.workdir) s.working_dir = o.workdir;
  if (!o.servicePorts) delete s.ports;
  if (o.publish?.length) s.ports = [...(s.ports ?? []), ...o.publish.map(parsePublish)];
  if (o.volumes?.length) s.volumes = [...(s.volumes ?? []), ...o.volumes.map((v) => parseVolume(project, v))];
  s.tty = o.tty;
  s.stdin_open = o.interactive;
  // a one-off is not restarted by the engine, whatever the service says (Compose drops the policy)
  delete s.restart;
  if (s.deploy?.restart_policy) delete s.deploy.restart_policy;
  delete s.container_name;
  return s;
}

export async function createOneOff(ctxIn: ComposeContext, project: Project, service: string, o: RunOverrides): Promise<string> {
  const ctx = onceWarn(ctxIn);
  const base = project.services[service];
  if (!base) throw new ComposeError(`no such service: ${service}`);
  const deps = withDependencies(project, [service]).filter((n) => n !== service);
  if (!o.noDeps && deps.length) {
    await createProject(ctx, project, { services: deps, recreate: 'diverged' });
    await startProject(ctx, project, { services: deps, noDeps: true });
  }
  await ensureNetworks(ctx, project, usedNetworks(project, [service]));
  await ensureVolumes(ctx, project, usedVolumes(project, [service]));
  const s = oneOffService(project, base, o);
  if (o.build && s.build) await buildService(ctx, project, s);
  const imageId = (await ensureImages(ctx, project, [service], o.build ? 'never' : 'missing')).get(service);
  const current = await listProject(ctx.client, project.name, { all: true });
  const peers: Record<string, { id: string; name: string }[]> = {};
  for (const d of dependenciesOf(project, s)) peers[d] = current.filter((c: Summary) => serviceOf(c) === d).map((c) => ({ id: c.Id!, name: nameOf(c) }));
  const { name, slug } = oneOffName(project, s);
  const made = await createContainer(ctx, project, s, {
    name: o.name ?? name, number: 0, oneoff: true, imageId, aliases: false, extraLabels: { [SLUG]: slug },
    patch: (body) => {
      if (o.interactive) { body.AttachStdin = true; body.StdinOnce = true; }
      if (o.rm) body.HostConfig = { ...(body.HostConfig ?? {}), AutoRemove: true };
    },
  }, peers);
  return made.Id!;
}
