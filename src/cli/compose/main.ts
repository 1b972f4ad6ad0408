// `berth compose [OPTIONS] COMMAND [ARGS...]` (and `docker compose …` through the plugin): parses
// Compose's root flags (globals.ts), finds the subcommand by its first word, parses its flags with
// util/pflag.ts, builds the ComposeCtx and runs it. Errors end here as one line on stderr with
// Compose's exit statuses: 1 for a failed command or a load error, 125 for a usage error.
//
// `berth compose` reaches here from berth's command table (commands/compose.ts), whose parser has
// already read the root flags; the Docker CLI plugin (plugin.ts) passes the raw arguments.
import { ApiError } from '../../client/engine-client.ts';
import { CliError, describeError, type Ctx } from '../command.ts';
import { FlagError, flagUsages, parseFlags, type ParseResult } from '../flags.ts';
import type { Project } from '../../compose/model/types.ts';
import type { ComposeCommandSpec, ComposeCtx, ComposeGlobals } from './command.ts';
import { COMPOSE_FLAGS, composeGlobals, type Terminal } from './globals.ts';
import { makeProgress, type Progress } from './progress.ts';
import { lifecycleCommands } from './lifecycle.ts';
import { metaCommands, versionCommand } from './meta.ts';
import { pluginCommands } from './plugin.ts';
import { streamCommands } from './streams.ts';
import { watchCommand } from './watch.ts';
import { loadProject } from '../../compose/model/load-project.ts';
import { invalidProjectName, normalizeProjectName } from '../../compose/model/load/project-name.ts';

/** Commands that only read: the ones --dry-run may run (Berth has no dry-run client). */
const READ_ONLY = new Set(['config', 'version', 'ls', 'ps', 'images', 'top', 'port', 'logs', 'events', 'wait']);

export const composeCommandList: ComposeCommandSpec[] = [...lifecycleCommands, ...metaCommands, ...streamCommands, watchCommand, ...pluginCommands];

const short = (d: string): string => d.split('\n')[0]!;

/** The `Commands:` rows of the root help: every listed subcommand with its one-line description. */
export function commandRows(commands: ComposeCommandSpec[] = composeCommandList): string {
  const rows = commands.filter((c) => !c.description.startsWith('(hidden)')).map((c): [string, string] => [c.names[0]!, short(c.description)])
    .sort(([a], [b]) => a.localeCompare(b));
  const w = Math.max(11, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(w)} ${b}`).join('\n');
}

export function rootHelp(prog: string, commands: ComposeCommandSpec[]): string {
  return [
    `Usage:  ${prog} compose [OPTIONS] COMMAND`,
    'Define and run multi-container applications with Docker',
    `Options:\n${flagUsages(COMPOSE_FLAGS)}`,
    `Commands:\n${commandRows(commands)}`,
    `Run '${prog} compose COMMAND --help' for more information on a command.\n`,
  ].join('\n\n');
}

export function commandHelp(invokedAs: string, c: ComposeCommandSpec): string {
  const parts = [`Usage:  ${invokedAs} ${c.usage}`.trimEnd(), c.description];
  if (c.names.length > 1) parts.push(`Aliases:\n  ${c.names.map((n) => invokedAs.replace(/ \S+$/, ` ${n}`)).join(', ')}`);
  const flags = flagUsages(c.flags);
  if (flags) parts.push(`Options:\n${flags}`);
  return `${parts.join('\n\n')}\n`;
}

function argCountError(c: ComposeCommandSpec, n: number): string | undefined {
  const { min, max } = c.args ?? {};
  if (min !== undefined && n < min) return `"${c.names[0]}" requires at least ${min} argument${min === 1 ? '' : 's'}`;
  if (max === 0 && n > 0) return `"${c.names[0]}" accepts no arguments`;
  if (max !== undefined && n > max) return `"${c.names[0]}" requires at most ${max} argument${max === 1 ? '' : 's'}`;
  return undefined;
}

export interface ComposeRunOptions {
  /** `berth`, or `docker` when run as the Docker CLI plugin */
  prog: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  term?: Terminal;
  /** stderr's width for the live view */
  columns?: number;
}

/** Runs `compose ARGV` on a berth Ctx (the client already chosen by the global -H/--context). */
export async function composeMain(base: Ctx, argv: string[], o: ComposeRunOptions, preparsed?: ParseResult): Promise<number> {
  const env = o.env ?? process.env;
  const term = o.term ?? { stdoutTTY: !!process.stdout.isTTY, stderrTTY: !!process.stderr.isTTY };
  let progress: Progress | undefined;
  try {
    let root = preparsed;
    try {
      root ??= parseFlags(argv, COMPOSE_FLAGS, false);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      base.err.write(`${e.message}\n`);
      return 125;
    }
    const commands = composeCommandList;
    const words = root.args;
    if (root.opts.bool('version')) words.splice(0, words.length, 'version');
    if (root.help || words.length === 0 || (words[0] === 'help' && words.length === 1)) {
      base.out.write(rootHelp(o.prog, commands));
      return 0;
    }
    if (words[0] === 'help') words.shift();
    const name = words[0]!;
    const spec = commands.find((c) => c.names.includes(name));
    if (!spec) {
      base.err.write(`unknown ${o.prog} command: "compose ${name}"\n`);
      return 1;
    }
    const invokedAs = `${o.prog} compose ${name}`;
    let parsed;
    try {
      parsed = parseFlags(words.slice(1), spec.flags, spec.interspersed ?? true);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      base.err.write(`${e.message}\n`);
      return 125;
    }
    if (parsed.help) {
      base.out.write(commandHelp(invokedAs, spec));
      return 0;
    }
    const countError = argCountError(spec, parsed.args.length);
    if (countError) {
      base.err.write(`${countError}\n`);
      return 1;
    }
    let globals: ComposeGlobals;
    try {
      globals = composeGlobals(root.opts, env, o.cwd ?? process.cwd(), term);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      base.err.write(`${e.message}\n`);
      return 1;
    }
    if (globals.dryRun && !READ_ONLY.has(spec.names[0]!)) throw new CliError(`--dry-run is not supported by berth compose for "${spec.names[0]}"`);
    const warn = (text: string): void => void base.err.write(`WARN[0000] ${text}\n`);
    let loaded: Promise<Project> | undefined;
    const ctx: ComposeCtx = {
      client: () => base.client(),
      get out() { return base.out; },
      get err() { return base.err; },
      get stdin() { return base.stdin; },
      invokedAs,
      configDir: base.configDir,
      globals,
      project: () => (loaded ??= loadProjectFor(globals, namedServices(spec, parsed.args), warn)),
      projectName: async () => globals.load.projectName ? checkedName(globals.load.projectName) : (await ctx.project()).name,
      progress: () => (progress ??= makeProgress(globals.progress, { write: (s) => base.err.write(s), columns: o.columns ?? process.stderr.columns }, { dryRun: globals.dryRun })),
      warn,
    };
    return (await spec.run(ctx, parsed.args, parsed.opts)) ?? 0;
  } catch (e) {
    progress?.close();
    progress = undefined;
    base.err.write(`${e instanceof ApiError ? describeError(e) : e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof CliError ? e.status : 1;
  } finally {
    progress?.close();
  }
}

/**
 * The services a command names on its command line: Compose enables them even when their profile
 * is not active. `[SERVICE...]` commands name all their arguments, `SERVICE …` ones the first.
 */
function namedServices(spec: ComposeCommandSpec, args: string[]): string[] {
  if (/\[SERVICE(S|\.\.\.)?\]/.test(spec.usage)) return args;
  if (/^(\[OPTIONS\] )?SERVICE\b/.test(spec.usage)) return args.slice(0, 1);
  return [];
}

/** -p (or COMPOSE_PROJECT_NAME) used without a file must be valid as it is, as the loader requires. */
export function checkedName(name: string): string {
  if (normalizeProjectName(name) !== name) throw new CliError(invalidProjectName(name).message);
  return name;
}

async function loadProjectFor(globals: ComposeGlobals, named: string[], warn: (t: string) => void): Promise<Project> {
  try {
    const { project, warnings } = await loadProject(globals.load, { services: named });
    for (const w of warnings) warn(w);
    return project;
  } catch (e) {
    // A load error is the user's file, not Berth: its message alone, no stack.
    if (e instanceof CliError) throw e;
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

export { versionCommand };
