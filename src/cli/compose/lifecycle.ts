// The commands that change a project's containers: up, down, create, start, stop, restart, kill,
// rm, pause, unpause, build, pull, push. Each parses its flags into the engine's options (with
// Compose v2's checks and wording for flags that exclude each other) and calls the compose engine
// (compose/engine/api.ts); what the engine does is shown by the progress renderer.
//
// Attached `up` is the one with a life of its own: create, attach the log printer, wait on every
// attached container, start; then it ends when the attached containers have all exited, or on
// --abort-on-container-exit when the first does (the others are stopped), or on Ctrl-C: the first
// stops the project gracefully, a second kills it.
import { CliError } from '../command.ts';
import type { Opts, FlagSpec } from '../flags.ts';
import type { ComposeContext, ComposeEngine, CreateOptions, ProjectContainer } from '../../compose/engine/api.ts';
import type { Project } from '../../compose/model/types.ts';
import type { ComposeCommandSpec, ComposeCtx } from './command.ts';
import { registryAuthHeader } from '../auth.ts';
import { composeEngine } from '../../compose/engine/service.ts';
import { attachProject } from './log-printer.ts';
import { checkWatchable, startWatch } from './watch.ts';

/** The compose engine (async so that commands and tests may swap it in one place). */
export async function engine(): Promise<ComposeEngine> {
  return composeEngine;
}

/** What the engine's verbs get: the client, the progress renderer, warnings. */
export function engineContext(ctx: ComposeCtx, signal?: AbortSignal): ComposeContext {
  return {
    client: ctx.client(), progress: ctx.progress(), warn: (t) => ctx.warn(t), signal,
    registryAuth: async (image) => registryAuthHeader(ctx, image),
    envFiles: ctx.globals.load.envFiles,
  };
}

/**
 * The project, or for commands that work from the project name alone (down, stop, rm… with -p
 * and no file, as Compose allows) an empty project of that name: the engine then finds the
 * containers, networks and volumes by their labels.
 */
export async function projectOrEmpty(ctx: ComposeCtx): Promise<Project> {
  try {
    return await ctx.project();
  } catch (e) {
    const g = ctx.globals.load;
    if (!g.projectName || g.files.length > 0) throw e;
    return {
      name: await ctx.projectName(), workingDir: g.cwd, configFiles: [], services: {}, disabledServices: {},
      networks: {}, volumes: {}, secrets: {}, configs: {}, extensions: {}, environment: {}, profiles: [],
    };
  }
}

/** Service names given on the command line must exist (Compose: `no such service: x`). */
export function checkServices(project: Project, services: string[]): void {
  for (const s of services) if (!(s in project.services)) throw new CliError(`no such service: ${s}`);
}

const timeoutFlag: FlagSpec = { name: 'timeout', short: 't', type: 'int', desc: 'Specify a shutdown timeout in seconds' };
const timeoutOf = (o: Opts): number | undefined => (o.changed('timeout') ? o.int('timeout') : undefined);

/** `--scale web=3` (repeatable) → {web: 3}, with Compose's message for a bad one. */
export function parseScale(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new CliError(`invalid --scale value "${v}": expected SERVICE=NUM`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

const createFlags: FlagSpec[] = [
  { name: 'build', type: 'bool', desc: 'Build images before starting containers' },
  { name: 'force-recreate', type: 'bool', desc: 'Recreate containers even if their configuration and image haven\'t changed' },
  { name: 'no-build', type: 'bool', desc: 'Don\'t build an image, even if it\'s policy' },
  { name: 'no-recreate', type: 'bool', desc: 'If containers already exist, don\'t recreate them. Incompatible with --force-recreate.' },
  { name: 'pull', type: 'string', desc: 'Pull image before running ("always"|"missing"|"never"|"build")', default: 'policy' },
  { name: 'quiet-pull', type: 'bool', desc: 'Pull without printing progress information' },
  { name: 'remove-orphans', type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
  { name: 'scale', type: 'list', value: 'scale', desc: 'Scale SERVICE to NUM instances. Overrides the scale setting in the Compose file if present.' },
  { name: 'yes', short: 'y', type: 'bool', desc: 'Assume "yes" as answer to all prompts and run non-interactively' },
];

/** create's and up's shared options, checked as Compose checks them. */
export function createOptions(o: Opts, services: string[]): CreateOptions {
  if (o.bool('build') && o.bool('no-build')) throw new CliError('--build and --no-build are incompatible');
  if (o.bool('force-recreate') && o.bool('no-recreate')) throw new CliError('--force-recreate and --no-recreate are incompatible');
  const pull = o.str('pull');
  if (pull && !['policy', 'always', 'missing', 'never', 'build'].includes(pull)) throw new CliError(`invalid --pull option "${pull}"`);
  const recreate = o.bool('force-recreate') ? 'force' : o.bool('no-recreate') ? 'never' : 'diverged';
  const opts: CreateOptions = {
    services,
    recreate,
    recreateDependencies: o.bool('always-recreate-deps') ? 'force' : recreate === 'never' ? 'never' : 'diverged',
    noDeps: o.bool('no-deps'),
    removeOrphans: o.bool('remove-orphans'),
    scale: parseScale(o.list('scale')),
    timeout: timeoutOf(o),
  };
  if (o.bool('build')) opts.build = 'always';
  else if (o.bool('no-build')) opts.build = 'never';
  if (pull && pull !== 'policy') opts.pull = pull as CreateOptions['pull'];
  return opts;
}

interface UpFlags { abort: boolean; exitCodeFrom?: string; timeout?: number; watch: boolean }

const up: ComposeCommandSpec = {
  names: ['up'],
  usage: '[OPTIONS] [SERVICE...]',
  description: 'Create and start containers',
  flags: [
    { name: 'abort-on-container-exit', type: 'bool', desc: 'Stops all containers if any container was stopped. Incompatible with -d' },
    { name: 'always-recreate-deps', type: 'bool', desc: 'Recreate dependent containers. Incompatible with --no-recreate.' },
    { name: 'attach', type: 'list', value: 'stringArray', desc: 'Restrict attaching to the specified services. Incompatible with --attach-dependencies.' },
    { name: 'attach-dependencies', type: 'bool', desc: 'Automatically attach to log output of dependent services' },
    ...createFlags,
    { name: 'detach', short: 'd', type: 'bool', desc: 'Detached mode: Run containers in the background' },
    { name: 'exit-code-from', type: 'string', desc: 'Return the exit code of the selected service container. Implies --abort-on-container-exit' },
    { name: 'menu', type: 'bool', desc: 'Enable interactive shortcuts when running attached. Incompatible with --detach.' },
    { name: 'no-attach', type: 'list', value: 'stringArray', desc: 'Do not attach (stream logs) to the specified services' },
    { name: 'no-color', type: 'bool', desc: 'Produce monochrome output' },
    { name: 'no-deps', type: 'bool', desc: 'Don\'t start linked services' },
    { name: 'no-log-prefix', type: 'bool', desc: 'Don\'t print prefix in logs' },
    { name: 'no-start', type: 'bool', desc: 'Don\'t start the services after creating them' },
    { name: 'renew-anon-volumes', short: 'V', type: 'bool', desc: 'Recreate anonymous volumes instead of retrieving data from the previous containers' },
    { ...timeoutFlag, desc: 'Use this timeout in seconds for container shutdown when attached or when containers are already running' },
    { name: 'timestamps', type: 'bool', desc: 'Show timestamps' },
    { name: 'wait', type: 'bool', desc: 'Wait for services to be running|healthy. Implies detached mode.' },
    { name: 'wait-timeout', type: 'int', desc: 'Maximum duration in seconds to wait for the project to be running|healthy' },
    { name: 'watch', short: 'w', type: 'bool', desc: 'Watch source code and rebuild/refresh containers when files are updated.' },
  ],
  async run(ctx, services, o) {
    let detach = o.bool('detach');
    const exitCodeFrom = o.str('exit-code-from') || undefined;
    const abort = o.bool('abort-on-container-exit') || !!exitCodeFrom;
    if (o.bool('wait')) {
      if (o.bool('attach-dependencies') || abort || o.list('attach').length) throw new CliError('--wait cannot be combined with --abort-on-container-exit, --attach or --attach-dependencies');
      detach = true;
    }
    if (detach && (o.bool('attach-dependencies') || abort || o.list('attach').length || o.bool('watch'))) {
      throw new CliError('--detach cannot be combined with --abort-on-container-exit, --attach, --attach-dependencies or --watch');
    }
    if (o.bool('no-start') && (detach || abort || o.bool('wait'))) throw new CliError('--no-start and --detach/--wait/--abort-on-container-exit are incompatible');
    const project = await ctx.project();
    checkServices(project, services);
    if (exitCodeFrom && !(exitCodeFrom in project.services)) throw new CliError(`no such service: ${exitCodeFrom}`);
    if (o.bool('renew-anon-volumes')) ctx.warn('--renew-anon-volumes is not supported by berth compose: anonymous volumes are kept');
    // as Compose: a project with nothing to watch is refused before anything is created
    if (o.bool('watch')) checkWatchable(project);
    const copts = createOptions(o, services);
    const eng = await engine();
    const ectx = engineContext(ctx);
    await eng.create(ectx, project, copts);
    if (o.bool('no-start')) return 0;
    if (detach) {
      await eng.start(ectx, project, { services, noDeps: o.bool('no-deps'), wait: o.bool('wait'), waitTimeoutSeconds: o.int('wait-timeout') });
      return 0;
    }
    return attachedUp(ctx, eng, project, services, o, { abort, exitCodeFrom, timeout: timeoutOf(o), watch: o.bool('watch') });
  },
};

/** Which services attached `up` shows: --attach, else the named ones (and their deps with --attach-dependencies), else all; less --no-attach and `attach: false`. */
export function attachedServices(project: Project, services: string[], attach: string[], noAttach: string[], withDeps: boolean): string[] {
  let names = attach.length ? attach : services.length ? [...services] : Object.keys(project.services);
  if (!attach.length && services.length && withDeps) {
    const seen = new Set<string>();
    const visit = (s: string): void => {
      if (seen.has(s)) return;
      seen.add(s);
      for (const d of Object.keys(project.services[s]?.depends_on ?? {})) visit(d);
    };
    services.forEach(visit);
    names = [...seen];
  }
  return names.filter((s) => !noAttach.includes(s) && (attach.includes(s) || project.services[s]?.attach !== false));
}

async function attachedUp(ctx: ComposeCtx, eng: ComposeEngine, project: Project, services: string[], o: Opts, f: UpFlags): Promise<number> {
  const client = ctx.client();
  const attach = attachedServices(project, services, o.list('attach'), o.list('no-attach'), o.bool('attach-dependencies'));
  const started = services.length ? services : Object.keys(project.services);
  // The log printer follows the attached containers (and ones started later) until aborted.
  const logs = new AbortController();
  const printing = attachProject(ctx, project, {
    services: attach, follow: true, attach: true, timestamps: o.bool('timestamps'),
    noColor: o.bool('no-color'), noPrefix: o.bool('no-log-prefix'), signal: logs.signal,
  }).catch((e: unknown) => ctx.warn(`logs: ${e instanceof Error ? e.message : String(e)}`));

  // Wait on each attached container before starting, so that a fast exit is not missed.
  const containers: ProjectContainer[] = await eng.containers(client, project.name, { all: true, services: attach, oneoff: 'exclude' });
  let firstExit: { service: string; code: number } | undefined;
  let resolveEnd!: (why: 'exited' | 'abort' | 'signal') => void;
  const ended = new Promise<'exited' | 'abort' | 'signal'>((r) => (resolveEnd = r));
  const codes = new Map<string, number>();
  let left = containers.length;
  for (const c of containers) {
    client.containerWait(c.id, { condition: c.state === 'running' ? 'not-running' : 'next-exit' }).then((r) => {
      codes.set(c.service, r.StatusCode);
      firstExit ??= { service: c.service, code: r.StatusCode };
      if (f.abort) resolveEnd('abort');
      if (--left === 0) resolveEnd('exited');
    }, () => { if (--left === 0) resolveEnd('exited'); });
  }

  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1) {
      ctx.err.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      resolveEnd('signal');
    } else {
      void eng.kill(engineContext(ctx), project, started).finally(() => process.exit(130));
    }
  };
  process.on('SIGINT', onSigint);
  let watching: { stop(): Promise<void> } | undefined;
  try {
    await eng.start(engineContext(ctx), project, { services, noDeps: o.bool('no-deps') });
    // The live view ends before the logs take the terminal (Compose does the same); a later
    // event (Ctrl-C's stops) draws a new one below them.
    (ctx.progress() as { close?(): void }).close?.();
    if (f.watch) watching = await startWatch(ctx, project, { services, log: (line) => ctx.out.write(` ⦿ ${line}\n`) });
    if (containers.length === 0 && !watching) return 0;
    const why = await ended;
    await watching?.stop();
    if (why === 'abort') ctx.err.write('Aborting on container exit...\n');
    if (why !== 'exited') await eng.stop(engineContext(ctx), project, started, f.timeout);
    if (why === 'signal') return 130;
    if (f.exitCodeFrom) return codes.get(f.exitCodeFrom) ?? 0;
    if (why === 'abort') return firstExit?.code ?? 0;
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    // close() lets the printer write the exit lines of containers still stopping (bounded),
    // then ends it; the abort is for a printer that failed before it was streaming.
    const attached = await printing;
    if (attached) await attached.close();
    logs.abort();
  }
}

/** A command that hands its services and one options object to one engine verb. */
function verb(spec: Omit<ComposeCommandSpec, 'run'>, call: (eng: ComposeEngine, ctx: ComposeCtx, ectx: ComposeContext, project: Project, services: string[], o: Opts) => Promise<void>, byName = true): ComposeCommandSpec {
  return {
    ...spec,
    async run(ctx, services, o) {
      const project = byName ? await projectOrEmpty(ctx) : await ctx.project();
      if (Object.keys(project.services).length) checkServices(project, services);
      const eng = await engine();
      await call(eng, ctx, engineContext(ctx), project, services, o);
      return 0;
    },
  };
}

const down = verb({
  names: ['down'],
  usage: '[OPTIONS] [SERVICES]',
  description: 'Stop and remove containers, networks',
  flags: [
    { name: 'remove-orphans', type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
    { name: 'rmi', type: 'string', desc: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
    { ...timeoutFlag },
    { name: 'volumes', short: 'v', type: 'bool', desc: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
  ],
}, async (eng, _ctx, ectx, project, services, o) => {
  const rmi = o.str('rmi');
  if (rmi !== undefined && rmi !== 'local' && rmi !== 'all') throw new CliError(`invalid value for --rmi: ${rmi}`);
  await eng.down(ectx, project, { removeOrphans: o.bool('remove-orphans'), volumes: o.bool('volumes'), rmi: rmi as 'local' | 'all' | undefined, timeout: timeoutOf(o), services });
});

const create: ComposeCommandSpec = {
  names: ['create'],
  usage: '[OPTIONS] [SERVICE...]',
  description: 'Creates containers for a service',
  flags: createFlags,
  async run(ctx, services, o) {
    const project = await ctx.project();
    checkServices(project, services);
    await (await engine()).create(engineContext(ctx), project, createOptions(o, services));
  },
};

const start = verb({
  names: ['start'], usage: '[SERVICE...]', description: 'Start services',
  flags: [
    { name: 'wait', type: 'bool', desc: 'Wait for services to be running|healthy. Implies detached mode.' },
    { name: 'wait-timeout', type: 'int', desc: 'Maximum duration in seconds to wait for the project to be running|healthy' },
  ],
}, (eng, _c, ectx, p, s, o) => eng.start(ectx, p, { services: s, wait: o.bool('wait'), waitTimeoutSeconds: o.int('wait-timeout') }), false);

const stop = verb({ names: ['stop'], usage: '[OPTIONS] [SERVICE...]', description: 'Stop services', flags: [timeoutFlag] },
  (eng, _c, ectx, p, s, o) => eng.stop(ectx, p, s, timeoutOf(o)));

const restart = verb({
  names: ['restart'], usage: '[OPTIONS] [SERVICE...]', description: 'Restart service containers',
  flags: [{ name: 'no-deps', type: 'bool', desc: 'Don\'t restart dependent services' }, timeoutFlag],
}, (eng, _c, ectx, p, s, o) => eng.restart(ectx, p, s, timeoutOf(o), o.bool('no-deps')));

const kill = verb({
  names: ['kill'], usage: '[OPTIONS] [SERVICE...]', description: 'Force stop service containers',
  flags: [
    { name: 'remove-orphans', type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
    { name: 'signal', short: 's', type: 'string', desc: 'SIGNAL to send to the container', default: 'SIGKILL' },
  ],
}, (eng, _c, ectx, p, s, o) => eng.kill(ectx, p, s, o.str('signal'), o.bool('remove-orphans')));

const pause = verb({ names: ['pause'], usage: '[SERVICE...]', description: 'Pause services', flags: [] }, (eng, _c, ectx, p, s) => eng.pause(ectx, p, s));
const unpause = verb({ names: ['unpause'], usage: '[SERVICE...]', description: 'Unpause services', flags: [] }, (eng, _c, ectx, p, s) => eng.unpause(ectx, p, s));

/** Reads one answer line from stdin; EOF is no answer. */
function readAnswer(ctx: ComposeCtx): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (): void => {
      ctx.stdin.off('data', onData);
      ctx.stdin.off('end', done);
      ctx.stdin.pause();
      resolve(buf.split('\n')[0]!.trim());
    };
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (buf.includes('\n')) done();
    };
    ctx.stdin.on('data', onData);
    ctx.stdin.on('end', done);
  });
}

const rm: ComposeCommandSpec = {
  names: ['rm'],
  usage: '[OPTIONS] [SERVICE...]',
  description: 'Removes stopped service containers\n\nBy default, anonymous volumes attached to containers will not be removed. You\ncan override this with -v. To list all volumes, use "docker volume ls".\n\nAny data which is not in a volume will be lost.',
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Don\'t ask to confirm removal' },
    { name: 'stop', short: 's', type: 'bool', desc: 'Stop the containers, if required, before removing' },
    { name: 'volumes', short: 'v', type: 'bool', desc: 'Remove any anonymous volumes attached to containers' },
  ],
  async run(ctx, services, o) {
    const project = await projectOrEmpty(ctx);
    if (Object.keys(project.services).length) checkServices(project, services);
    const eng = await engine();
    const all = await eng.containers(ctx.client(), project.name, { all: true, services, oneoff: 'exclude' });
    const removable = o.bool('stop') ? all : all.filter((c) => c.state !== 'running' && c.state !== 'restarting' && c.state !== 'paused');
    if (removable.length === 0) {
      ctx.err.write('No stopped containers\n');
      return 0;
    }
    if (!o.bool('force')) {
      ctx.out.write(`Going to remove ${removable.map((c) => c.name).join(', ')}\n? Are you sure? (y/N) `);
      const answer = await readAnswer(ctx);
      if (!/^y(es)?$/i.test(answer)) {
        ctx.out.write('\n');
        return 0;
      }
    }
    await eng.remove(engineContext(ctx), project, services, { stop: o.bool('stop'), volumes: o.bool('volumes'), force: true });
  },
};

const build = verb({
  names: ['build'], usage: '[OPTIONS] [SERVICE...]', description: 'Build or rebuild services',
  flags: [
    { name: 'build-arg', type: 'list', value: 'stringArray', desc: 'Set build-time variables for services' },
    { name: 'no-cache', type: 'bool', desc: 'Do not use cache when building the image' },
    { name: 'pull', type: 'bool', desc: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Don\'t print anything to STDOUT' },
  ],
}, (eng, _c, ectx, p, s, o) => {
  const args: Record<string, string> = {};
  for (const a of o.list('build-arg')) {
    const eq = a.indexOf('=');
    // `--build-arg KEY` takes KEY from the environment, as Compose does; unset ones are left out.
    if (eq >= 0) args[a.slice(0, eq)] = a.slice(eq + 1);
    else if (process.env[a] !== undefined) args[a] = process.env[a]!;
  }
  return eng.build(ectx, p, s, { noCache: o.bool('no-cache'), pull: o.bool('pull'), args, quiet: o.bool('quiet') });
}, false);

const pull = verb({
  names: ['pull'], usage: '[OPTIONS] [SERVICE...]', description: 'Pull service images',
  flags: [
    { name: 'ignore-buildable', type: 'bool', desc: 'Ignore images that can be built' },
    { name: 'ignore-pull-failures', type: 'bool', desc: 'Pull what it can and ignores images with pull failures' },
    { name: 'include-deps', type: 'bool', desc: 'Also pull services declared as dependencies' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Pull without printing progress information' },
  ],
}, (eng, _c, ectx, p, s, o) => eng.pull(ectx, p, s, { ignoreFailures: o.bool('ignore-pull-failures'), quiet: o.bool('quiet'), includeDeps: o.bool('include-deps') }), false);

const push = verb({
  names: ['push'], usage: '[OPTIONS] [SERVICE...]', description: 'Push service images',
  flags: [
    { name: 'ignore-push-failures', type: 'bool', desc: 'Push what it can and ignores images with push failures' },
    { name: 'include-deps', type: 'bool', desc: 'Also push images of services declared as dependencies' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Push without printing progress information' },
  ],
}, (eng, _c, ectx, p, s, o) => eng.push(ectx, p, s, { ignoreFailures: o.bool('ignore-push-failures'), quiet: o.bool('quiet') }), false);

export const lifecycleCommands: ComposeCommandSpec[] = [up, down, create, start, stop, restart, kill, rm, pause, unpause, build, pull, push];
