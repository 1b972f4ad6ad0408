// `compose watch [--no-up] [--prune] [--quiet] [SERVICE...]`, and startWatch for `up --watch`.
// Flags in, a watch session out (compose/watch/watcher.ts does the work). Without --no-up the
// services are brought up first as Compose does (create with recreate=diverged, dependencies
// never recreated, then start), services that build and have develop rules building their
// image (pull_policy build). Ctrl-C (or SIGTERM) ends watching; the containers keep running; the
// status is 130, as Compose's for a cancelled command.
import { CliError } from '../command.ts';
import type { Opts } from '../flags.ts';
import type { ComposeCommandSpec, ComposeCtx } from './command.ts';
import type { ComposeContext, ComposeEngine } from '../../compose/engine/api.ts';
import type { Project } from '../../compose/model/types.ts';
import { compileWatch } from '../../compose/watch/rules.ts';
import { selectWithDependencies, startWatching, type WatchEngine } from '../../compose/watch/watcher.ts';
import { composeEngine } from '../../compose/engine/service.ts';

export interface StartWatchOptions {
  services: string[];
  /** default true, as Compose's --prune */
  prune?: boolean;
  quiet?: boolean;
  /**
   * Where the watch logger's lines go. `compose watch` prints them plain on stdout; `up --watch`
   * passes its log printer's (which prefixes them with ` ⦿ `, as Compose's attached view does).
   */
  log?: (line: string) => void;
}

async function engine(): Promise<ComposeEngine> {
  return composeEngine;
}

/** The engine's verbs, each loaded on first call: watching with --no-up and sync rules alone needs none of them. */
const lazyEngine: WatchEngine = {
  build: async (...a) => (await engine()).build(...a),
  create: async (...a) => (await engine()).create(...a),
  start: async (...a) => (await engine()).start(...a),
  restart: async (...a) => (await engine()).restart(...a),
};

function engineContext(ctx: ComposeCtx): ComposeContext {
  return { client: ctx.client(), progress: ctx.progress(), warn: (t) => ctx.warn(t) };
}

/**
 * Starts watching the project's services (already up). Used by `compose watch` and by
 * `up --watch` once its services are started; `stop()` ends it (the containers stay).
 */
export async function startWatch(ctx: ComposeCtx, project: Project, opts: StartWatchOptions): Promise<{ stop(): Promise<void>; done: Promise<void> }> {
  return startWatching(engineContext(ctx), lazyEngine, project, {
    services: opts.services,
    prune: opts.prune ?? true,
    quiet: opts.quiet ?? false,
    log: opts.log ?? ((line) => ctx.out.write(`${line}\n`)),
    warn: (line) => ctx.warn(line),
    out: ctx.out,
    err: ctx.err,
  });
}

/**
 * `up --watch`'s check before anything is created (Compose's NewWatcher): some service of the
 * project has develop.watch rules, else Compose's error for up.
 */
export function checkWatchable(project: Project): void {
  if (!Object.values(project.services).some((s) => s.develop?.watch?.length)) {
    throw new CliError('none of the selected services is configured for watch, see https://docs.docker.com/compose/how-tos/file-watch/');
  }
}

/** The project with pull_policy build on the services that build and are watched (Compose's up before watch). */
export function withWatchedBuilds(project: Project): Project {
  const services = Object.fromEntries(Object.entries(project.services).map(([n, s]) => [n, s.build && s.develop ? { ...s, pull_policy: 'build' } : s]));
  return { ...project, services };
}

/** Resolves on SIGINT or SIGTERM (and stops listening for them). */
function interrupted(): { promise: Promise<void>; dispose(): void } {
  let onSignal!: () => void;
  const promise = new Promise<void>((resolve) => {
    onSignal = resolve;
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { promise, dispose: () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); } };
}

async function runWatch(ctx: ComposeCtx, args: string[], o: Opts): Promise<number> {
  const project = await ctx.project();
  // every rule checked (and `none of the selected services is configured for watch`) before up
  await compileWatch(project, selectWithDependencies(project, args));
  const signal = interrupted();
  try {
    if (!o.bool('no-up')) {
      const eng = await engine();
      const ectx = engineContext(ctx);
      const p = withWatchedBuilds(project);
      await eng.create(ectx, p, { services: args, recreate: 'diverged', recreateDependencies: 'never' });
      await eng.start(ectx, p, { services: args });
    }
    const session = await startWatch(ctx, project, { services: args, prune: o.bool('prune'), quiet: o.bool('quiet') });
    try {
      await Promise.race([signal.promise, session.done]);
    } finally {
      await session.stop();
    }
    return 130;
  } finally {
    signal.dispose();
  }
}

export const watchCommand: ComposeCommandSpec = {
  names: ['watch'],
  usage: '[OPTIONS] [SERVICE...]',
  description: 'Watch build context for service and rebuild/refresh containers when files are updated',
  flags: [
    { name: 'no-up', type: 'bool', desc: 'Do not build & start services before watching' },
    { name: 'prune', type: 'bool', default: true, desc: 'Prune dangling images on rebuild' },
    { name: 'quiet', type: 'bool', desc: 'hide build output' },
  ],
  run: runWatch,
};
