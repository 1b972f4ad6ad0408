// `compose watch` (and `up --watch`) after the services are up: the watch session's lifecycle.
//
//   start:  the rules of the selected services (and what they depend on) are checked and compiled
//           (rules.ts); sync rules with initial_sync copy their whole path once; the host paths
//           are followed (notify.ts); "Watch enabled".
//   events: every changed path goes to the debouncer (500 ms of quiet makes a batch); batches are
//           handled one at a time, in order (a batch arriving meanwhile waits), each as Compose's
//           handleWatchBatch: rebuild (build, prune, recreate, start), then syncs, then restarts,
//           then sync+exec hooks. A failed batch is a warning; watching goes on.
//   stop:   the watchers close, a pending batch is dropped, the batch being handled finishes.
//           The containers keep running, as with Compose.
//
// The engine verbs come in as a parameter (the compose engine in production), so that this module
// needs from src/compose/engine only its types.
import type { Writable } from 'node:stream';
import type { ComposeContext, ComposeEngine } from '../engine/api.ts';
import { ComposeError, type Project } from '../model/types.ts';
import { Debouncer, QUIET_PERIOD_MS, type Timers, realTimers } from './debounce.ts';
import { followPaths, type Notifier } from './notify.ts';
import { compileWatch, isSyncAction, matchRule, planBatch, type CompiledRule } from './rules.ts';
import { syncService } from './tar-sync.ts';
import { execAndWait, serviceContainers } from './containers.ts';

export type WatchEngine = Pick<ComposeEngine, 'build' | 'create' | 'start' | 'restart'>;

export interface WatchOptions {
  /** the services named on the command line; empty: all */
  services: string[];
  /** --prune (Compose's default true): remove the project's dangling images after a rebuild */
  prune: boolean;
  /** --quiet: no build output */
  quiet: boolean;
  /** a line of Compose's watch logger ("Watch enabled", "Syncing service ...") */
  log(line: string): void;
  /** a warning (Compose's logrus WARN lines: a failed batch, a rule skipped) */
  warn(line: string): void;
  /** where sync+exec commands write */
  out: Writable;
  err: Writable;
  /** tests: the quiet period and the timers */
  quietMs?: number;
  timers?: Timers;
}

export interface WatchSession {
  /** ends watching; resolves once the batch being handled (if any) is done */
  stop(): Promise<void>;
  /** settles when watching ends by itself: rejects when a watcher fails */
  readonly done: Promise<void>;
}

/** Go's %q of a []string: `["web" "api"]`, as Compose's messages print service lists. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** The selected services and what they depend on (compose-go's WithSelectedServices default). */
export function selectWithDependencies(project: Project, names: readonly string[]): string[] {
  if (names.length === 0) return Object.keys(project.services);
  const out: string[] = [];
  const visit = (n: string): void => {
    if (out.includes(n)) return;
    const s = project.services[n];
    if (!s) throw new ComposeError(`no such service: ${n}`);
    out.push(n);
    for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
      if (project.services[dep]) visit(dep);
      else if (d.required) throw new ComposeError(`no such service: ${dep}`);
    }
  };
  names.forEach(visit);
  return out;
}

/** Starts watching. Errors in the rules (or a path that does not exist) reject before anything is followed. */
export async function startWatching(ctx: ComposeContext, engine: WatchEngine, project: Project, opts: WatchOptions): Promise<WatchSession> {
  const selected = selectWithDependencies(project, opts.services);
  const compiled = await compileWatch(project, selected);
  for (const w of compiled.warnings) opts.warn(w);

  // initial_sync: the rule's whole path once, before changes are followed
  for (const r of compiled.rules) {
    if (!r.rule.initial_sync || !isSyncAction(r.action) || !r.rule.target) continue;
    await syncService(ctx.client, project.name, r.service, [{ hostPath: r.rule.path, containerPath: r.rule.target }], (p) => matchRule(r, p) === null);
  }

  let stopped = false;
  let queue: Promise<void> = Promise.resolve();
  let fail!: (err: Error) => void;
  const done = new Promise<void>((_resolve, reject) => {
    fail = reject;
  });
  done.catch(() => {}); // observed by the caller when it wants; an unobserved rejection must not end the process

  const debouncer = new Debouncer((batch) => {
    queue = queue.then(() => (stopped ? undefined : handleBatch(ctx, engine, project, compiled.rules, batch, opts)))
      .catch((err: unknown) => opts.warn(`Error handling changed files: ${(err as Error).message}`));
  }, opts.quietMs ?? QUIET_PERIOD_MS, opts.timers ?? realTimers);

  let notifier: Notifier | undefined;
  notifier = await followPaths(compiled.paths, (p) => {
    if (!stopped) debouncer.add(p);
  }, (err) => {
    if (stopped) return;
    opts.warn(`Watch disabled with errors: ${err.message}`);
    stopped = true;
    debouncer.cancel();
    notifier?.close();
    fail(err);
  });
  opts.log('Watch enabled');

  return {
    done,
    async stop(): Promise<void> {
      stopped = true;
      debouncer.cancel();
      notifier?.close();
      await queue;
    },
  };
}

/** One batch, in Compose's order: rebuild, sync, restart, exec. */
async function handleBatch(ctx: ComposeContext, engine: WatchEngine, project: Project, rules: readonly CompiledRule[], batch: readonly string[], opts: WatchOptions): Promise<void> {
  if (batch.length > 1000) opts.log('Large batch of file changes detected. If you just switched branches, this is expected.');
  const plan = planBatch(rules, batch);

  if (plan.rebuild.length) await rebuild(ctx, engine, project, plan.rebuild, opts);

  for (const [service, mappings] of plan.sync) {
    opts.log(`Syncing service ${JSON.stringify(service)} after ${mappings.length} changes were detected`);
    const syncRules = rules.filter((r) => r.service === service && isSyncAction(r.action));
    // inside a changed directory, what no sync rule of the service takes stays behind
    const skip = (p: string): boolean => !syncRules.some((r) => matchRule(r, p) !== null);
    await syncService(ctx.client, project.name, service, mappings, skip);
  }

  if (plan.restart.length) {
    await engine.restart(ctx, project, plan.restart);
    opts.log(`service(s) ${goQuoteList(plan.restart)} restarted`);
  }

  const hooks: Promise<void>[] = [];
  for (const [service, execRules] of plan.exec) {
    const containers = await serviceContainers(ctx.client, project.name, service, false);
    for (const r of execRules) {
      const x = r.rule.exec!;
      const env = Object.entries(x.environment ?? {}).flatMap(([k, v]) => (v === null ? (project.environment[k] !== undefined ? [`${k}=${project.environment[k]}`] : []) : [`${k}=${v}`]));
      for (const c of containers) {
        hooks.push(execAndWait(ctx.client, c.id, {
          cmd: x.command, user: x.user, privileged: x.privileged, workingDir: x.working_dir, env, out: opts.out, err: opts.err,
        }));
      }
    }
  }
  const results = await Promise.allSettled(hooks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** rebuild: the image again, then the service's containers recreated from it and started. */
async function rebuild(ctx: ComposeContext, engine: WatchEngine, project: Project, services: string[], opts: WatchOptions): Promise<void> {
  opts.log(`Rebuilding service(s) ${goQuoteList(services)} after changes were detected...`);
  // build output goes to the watch log, as Compose's plain build progress does
  const buildCtx: ComposeContext = {
    ...ctx,
    progress: { event: (e) => ctx.progress.event(e), line: (text) => { if (!opts.quiet) opts.log(text); } },
  };
  try {
    await engine.build(buildCtx, project, services, { quiet: opts.quiet });
  } catch (err) {
    opts.log(`Build failed. Error: ${(err as Error).message}`);
    throw err;
  }
  if (opts.prune) await pruneDangling(ctx, project.name);
  opts.log(`service(s) ${goQuoteList(services)} successfully built`);
  try {
    await engine.create(ctx, project, { services, recreate: 'force', recreateDependencies: 'never', build: 'never' });
  } catch (err) {
    opts.log(`Failed to recreate services after update. Error: ${(err as Error).message}`);
    throw err;
  }
  try {
    await engine.start(ctx, project, { services });
  } catch (err) {
    // Compose reports it and carries on watching: the next change may fix the application
    opts.log(`Application failed to start after update. Error: ${(err as Error).message}`);
  }
}

/**
 * The project's dangling images after a rebuild (the previous builds): removed, each failure
 * ignored (an image a container still uses stays, and goes after a later rebuild), as Compose does.
 */
async function pruneDangling(ctx: ComposeContext, projectName: string): Promise<void> {
  let images;
  try {
    images = await ctx.client.imageList({ filters: JSON.stringify({ dangling: ['true'], label: [`com.docker.compose.project=${projectName}`] }) });
  } catch {
    return;
  }
  for (const img of images) {
    if (!img.Id) continue;
    try {
      await ctx.client.imageDelete(img.Id);
    } catch {
      // in use by a container not yet recreated: left for the next rebuild
    }
  }
}
