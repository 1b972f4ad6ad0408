// The compose engine: the ComposeEngine of api.ts, each verb from the module that owns it
// (convergence and start for up, lifecycle for the verbs on existing containers, images for
// build/pull/push, oneoff for run). Nothing here keeps state between calls: every verb finds the
// project's objects again by their com.docker.compose.* labels, as Compose does.
import type { EngineClient } from '../../client/engine-client.ts';
import { ComposeError, type Project } from '../model/types.ts';
import type { ComposeContext, ComposeEngine } from './api.ts';
import { listProject, toProjectContainer } from './containers.ts';
import { createProject, onceWarn } from './convergence.ts';
import { imageName } from './convert.ts';
import { withDependencies } from './graph.ts';
import { buildService, pullImage, pushImage } from './images.ts';
import { down, kill, pause, remove, restart, stop, unpause } from './lifecycle.ts';
import { createOneOff } from './oneoff.ts';
import { startProject } from './start.ts';

function pick(project: Project, services: string[]): string[] {
  for (const n of services) if (!project.services[n]) throw new ComposeError(`no such service: ${n}`);
  return services.length ? [...services].sort() : Object.keys(project.services).sort();
}

/** Runs fn per service; with ignoreFailures a failure is a warning, else the first one is thrown after all ended. */
async function perService(ctx: ComposeContext, names: string[], ignore: boolean | undefined, fn: (n: string) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(names.map(fn));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return;
  if (!ignore) throw failed.reason;
  for (const r of results) if (r.status === 'rejected') ctx.warn((r.reason as Error).message);
}

export const composeEngine: ComposeEngine = {
  async create(ctx, project, opts) {
    await createProject(ctx, project, opts);
  },
  start: (ctx, project, opts) => startProject(ctx, project, opts),
  stop: (ctx, project, services, timeout) => stop(ctx, project, services, timeout),
  restart: (ctx, project, services, timeout, noDeps) => restart(ctx, project, services, timeout, noDeps),
  kill: (ctx, project, services, signal, removeOrphans) => kill(ctx, project, services, signal, removeOrphans),
  remove: (ctx, project, services, opts) => remove(ctx, project, services, opts),
  pause: (ctx, project, services) => pause(ctx, project, services),
  unpause: (ctx, project, services) => unpause(ctx, project, services),
  down: (ctx, project, opts) => down(ctx, project, opts),

  async containers(client: EngineClient, projectName, opts) {
    return (await listProject(client, projectName, opts)).map(toProjectContainer);
  },

  async build(ctxIn, project, services, opts) {
    const ctx = onceWarn(ctxIn);
    const names = pick(project, services).filter((n) => project.services[n]!.build);
    // one at a time: the classic builder's output lines would interleave
    for (const n of names) await buildService(ctx, project, project.services[n]!, opts);
  },

  async pull(ctx, project, services, opts) {
    const names = (opts.includeDeps ? withDependencies(project, services) : pick(project, services));
    const wanted = names.filter((n) => {
      const s = project.services[n]!;
      // a service that builds and names no image has nothing to pull; pull_policy build/never skip
      if (s.build && !s.image) return false;
      return s.pull_policy !== 'build' && s.pull_policy !== 'never';
    });
    const images = new Map<string, string>();
    for (const n of wanted) images.set(imageName(project, project.services[n]!), n);
    await perService(ctx, [...images.keys()], opts.ignoreFailures, async (image) => {
      const s = project.services[images.get(image)!]!;
      try {
        await pullImage(ctx, image, { quiet: opts.quiet, eventName: s.name });
      } catch (err) {
        // an image the service can build is not an error to miss
        if (s.build) { ctx.warn(`${s.name}: ${(err as Error).message}: it will be built`); return; }
        throw err;
      }
    });
  },

  async push(ctx, project, services, opts) {
    const names = pick(project, services).filter((n) => project.services[n]!.build && project.services[n]!.image);
    const images = [...new Set(names.flatMap((n) => [imageName(project, project.services[n]!), ...(project.services[n]!.build!.tags ?? [])]))];
    await perService(ctx, images, opts.ignoreFailures, (image) => pushImage(ctx, image, { quiet: opts.quiet }));
  },

  createOneOff: (ctx, project, service, opts) => createOneOff(ctx, project, service, opts),
};
