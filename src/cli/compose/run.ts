// `compose run SERVICE [COMMAND...]`: a one-off container of the service (the engine's
// createOneOff ensures networks and volumes, starts dependencies unless --no-deps, and creates
// `<project>-<service>-run-<hex>`), then berth's `start -a` on it: attached, with a TTY and stdin
// by default when on a terminal, signals forwarded; the status is the container's. -d starts it
// and prints its ID; --rm removes it once it exited.
import type { Opts } from '../flags.ts';
import { ApiError } from '../../client/engine-client.ts';
import { CliError } from '../command.ts';
import { runCommands } from '../commands/run.ts';
import { isTerminal } from '../io/tty.ts';
import type { RunOverrides } from '../../compose/engine/api.ts';
import { splitShellWords } from '../../compose/model/shellwords.ts';
import type { ComposeCommandSpec, ComposeCtx } from './command.ts';
import { composeEngine } from '../../compose/engine/service.ts';
import { engineContext } from './lifecycle.ts';
import { resolveEnv } from './exec.ts';
import { checkServices } from './s-containers.ts';
import { findCommand, runBerthCommand } from './s-delegate.ts';

/** Compose's TTY rule for run: --tty/--no-tty as given, else a TTY only when stdin is a terminal. */
export function runTty(o: { tty?: boolean; noTty?: boolean; interactiveChanged: boolean }, stdinTerminal: boolean, stdoutTerminal: boolean): boolean {
  if (o.tty !== undefined) {
    if (o.noTty !== undefined) throw new CliError("--tty and --no-tty can't be used together");
    return o.tty;
  }
  if (o.noTty !== undefined) return !o.noTty;
  if (!o.interactiveChanged && !stdinTerminal) return false;
  return stdoutTerminal;
}

async function runRun(ctx: ComposeCtx, args: string[], o: Opts): Promise<number> {
  const [service, ...command] = args as [string, ...string[]];
  if (o.list('publish').length && o.bool('service-ports')) throw new CliError('--service-ports and --publish are incompatible');
  let entrypoint: string[] | undefined;
  if (o.changed('entrypoint')) entrypoint = splitShellWords(o.str('entrypoint') ?? '');
  const tty = runTty({
    tty: o.changed('tty') ? o.bool('tty') : undefined,
    noTty: o.changed('no-tty') ? o.bool('no-tty') : undefined,
    interactiveChanged: o.changed('interactive'),
  }, isTerminal(ctx.stdin), isTerminal(ctx.out));
  const detach = o.bool('detach');
  const interactive = o.bool('interactive');

  const project = await ctx.project();
  checkServices(Object.keys(project.services), [service]);
  const overrides: RunOverrides = {
    command: command.length ? command : undefined,
    entrypoint,
    env: await resolveEnv(ctx, o.list('env')),
    labels: o.list('label'),
    name: o.str('name') || undefined,
    user: o.str('user') || undefined,
    workdir: o.str('workdir') || undefined,
    servicePorts: o.bool('service-ports'),
    publish: o.list('publish'),
    volumes: o.list('volume'),
    noDeps: o.bool('no-deps'),
    tty,
    interactive: !detach && interactive,
    rm: o.bool('rm'),
    build: o.bool('build'),
  };
  const client = ctx.client();
  const id = await composeEngine.createOneOff(engineContext(ctx), project, service, overrides);
  const start = findCommand(runCommands, 'start');
  if (detach) return runBerthCommand(ctx, start, [id]);
  let status: number;
  try {
    status = await runBerthCommand(ctx, start, ['-a', ...(overrides.interactive ? ['-i'] : []), id]);
  } finally {
    // --rm: the engine may have set AutoRemove; if the container is still there, remove it now
    if (overrides.rm) {
      await client.request('DELETE', `/containers/${encodeURIComponent(id)}?force=1&v=1`).catch((e: unknown) => {
        if (!(e instanceof ApiError && e.status === 404)) ctx.warn(`failed to remove container ${id}: ${(e as Error).message}`);
      });
    }
  }
  return status;
}

export const runCommand: ComposeCommandSpec = {
  names: ['run'],
  usage: '[OPTIONS] SERVICE [COMMAND] [ARGS...]',
  description: 'Run a one-off command on a service',
  args: { min: 1 },
  interspersed: false,
  flags: [
    { name: 'build', type: 'bool', desc: 'Build image before starting container' },
    { name: 'detach', short: 'd', type: 'bool', desc: 'Run container in background and print container ID' },
    { name: 'entrypoint', type: 'string', desc: 'Override the entrypoint of the image' },
    { name: 'env', short: 'e', type: 'list', value: 'stringArray', desc: 'Set environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', default: true, desc: 'Keep STDIN open even if not attached' },
    { name: 'label', short: 'l', type: 'list', value: 'stringArray', desc: 'Add or override a label' },
    { name: 'name', type: 'string', desc: 'Assign a name to the container' },
    { name: 'no-TTY', type: 'bool', hidden: true, aliasOf: 'no-tty', desc: '' },
    { name: 'no-deps', type: 'bool', desc: "Don't start linked services" },
    { name: 'no-tty', short: 'T', type: 'bool', desc: 'Disable pseudo-TTY allocation (default: auto-detected)' },
    { name: 'publish', short: 'p', type: 'list', value: 'stringArray', desc: "Publish a container's port(s) to the host" },
    { name: 'pull', type: 'string', default: 'policy', desc: 'Pull image before running ("always"|"missing"|"never")' },
    { name: 'rm', type: 'bool', desc: 'Automatically remove the container when it exits' },
    { name: 'service-ports', short: 'P', type: 'bool', desc: "Run command with all service's ports enabled and mapped to the host" },
    { name: 'tty', short: 't', type: 'bool', default: true, hidden: true, desc: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', desc: 'Run as specified username or uid' },
    { name: 'volume', short: 'v', type: 'list', value: 'stringArray', desc: 'Bind mount a volume' },
    { name: 'workdir', short: 'w', type: 'string', desc: 'Working directory inside the container' },
  ],
  run: runRun,
};
