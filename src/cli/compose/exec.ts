// `compose exec SERVICE COMMAND`: berth's exec in the service's first running container (or
// --index N), with a TTY unless -T or stdout is not a terminal, stdin attached (Compose's hidden
// --interactive defaults to true); the status is the command's.
import type { Opts } from '../flags.ts';
import { runCommands } from '../commands/run.ts';
import { isTerminal } from '../io/tty.ts';
import type { ComposeCommandSpec, ComposeCtx } from './command.ts';
import { pickContainer } from './s-containers.ts';
import { findCommand, runBerthCommand } from './s-delegate.ts';

/** `-e KEY` without a value takes it from the project's environment (Compose resolves it so), else leaves it out. */
export async function resolveEnv(ctx: ComposeCtx, list: string[]): Promise<string[]> {
  let env: Record<string, string | undefined> = process.env;
  if (list.some((e) => !e.includes('='))) {
    env = await ctx.project().then((p) => ({ ...process.env, ...p.environment }), () => process.env);
  }
  return list.flatMap((e) => (e.includes('=') ? [e] : env[e] === undefined ? [] : [`${e}=${env[e]}`]));
}

async function runExec(ctx: ComposeCtx, args: string[], o: Opts): Promise<number> {
  const [service, ...command] = args as [string, ...string[]];
  const project = await ctx.projectName();
  const index = o.int('index') ?? 0;
  const target = await pickContainer(ctx.client(), project, service, { index, oneoff: 'include' });
  const tty = !(o.changed('no-tty') ? o.bool('no-tty') : !isTerminal(ctx.out));
  const detach = o.bool('detach');
  const argv: string[] = [];
  if (detach) argv.push('-d');
  else if (o.bool('interactive')) argv.push('-i');
  if (tty) argv.push('-t');
  if (o.bool('privileged')) argv.push('--privileged');
  if (o.str('user')) argv.push('-u', o.str('user')!);
  if (o.str('workdir')) argv.push('-w', o.str('workdir')!);
  for (const e of await resolveEnv(ctx, o.list('env'))) argv.push('-e', e);
  argv.push(target.Id, ...command);
  return runBerthCommand(ctx, findCommand(runCommands, 'exec'), argv);
}

export const execCommand: ComposeCommandSpec = {
  names: ['exec'],
  usage: '[OPTIONS] SERVICE COMMAND [ARGS...]',
  description: 'Execute a command in a running container',
  args: { min: 2 },
  interspersed: false,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', desc: 'Detached mode: Run command in the background' },
    { name: 'env', short: 'e', type: 'list', value: 'stringArray', desc: 'Set environment variables' },
    { name: 'index', type: 'int', default: 0, desc: 'Index of the container if service has multiple replicas' },
    { name: 'interactive', short: 'i', type: 'bool', default: true, hidden: true, desc: 'Keep STDIN open even if not attached' },
    { name: 'no-tty', short: 'T', type: 'bool', desc: "Disable pseudo-TTY allocation. By default 'docker compose exec' allocates a TTY." },
    { name: 'no-TTY', type: 'bool', hidden: true, aliasOf: 'no-tty', desc: '' },
    { name: 'privileged', type: 'bool', desc: 'Give extended privileges to the process' },
    { name: 'tty', short: 't', type: 'bool', default: true, hidden: true, desc: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', desc: 'Run the command as this user' },
    { name: 'workdir', short: 'w', type: 'string', desc: 'Path to workdir directory for this command' },
  ],
  run: runExec,
};
