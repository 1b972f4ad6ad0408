// The flags `compose` takes before its subcommand (Compose v2's root flags) and the COMPOSE_*
// variables that stand in for them. A flag wins over its variable, as in Compose: -f over
// COMPOSE_FILE, -p over COMPOSE_PROJECT_NAME, --profile over COMPOSE_PROFILES, --env-file over
// COMPOSE_ENV_FILES, --ansi over COMPOSE_ANSI, --progress over COMPOSE_PROGRESS, --parallel over
// COMPOSE_PARALLEL_LIMIT. What a .env file says about these is the loader's business (it reads
// COMPOSE_FILE and COMPOSE_PROJECT_NAME there); this module only reads the process environment.
import { FlagError, type FlagSpec, type Opts } from '../flags.ts';
import type { ComposeGlobals } from './command.ts';

export const COMPOSE_FLAGS: FlagSpec[] = [
  { name: 'all-resources', type: 'bool', desc: 'Include all resources, even those not used by services' },
  { name: 'ansi', type: 'string', desc: 'Control when to print ANSI control characters ("never"|"always"|"auto")', default: 'auto' },
  { name: 'compatibility', type: 'bool', desc: 'Run compose in backward compatibility mode' },
  { name: 'dry-run', type: 'bool', desc: 'Execute command in dry run mode' },
  { name: 'env-file', type: 'list', value: 'stringArray', desc: 'Specify an alternate environment file' },
  { name: 'file', short: 'f', type: 'list', value: 'stringArray', desc: 'Compose configuration files' },
  { name: 'parallel', type: 'int', desc: 'Control max parallelism, -1 for unlimited', default: -1 },
  { name: 'profile', type: 'list', value: 'stringArray', desc: 'Specify a profile to enable' },
  { name: 'progress', type: 'string', desc: 'Set type of progress output (auto, tty, plain, json, quiet)', default: 'auto' },
  { name: 'project-directory', type: 'string', desc: 'Specify an alternate working directory\n(default: the path of the, first specified, Compose file)' },
  { name: 'project-name', short: 'p', type: 'string', desc: 'Project name' },
  { name: 'version', short: 'v', type: 'bool', desc: 'Show the Docker Compose version information', hidden: true },
  // Compose v1's root flags that v2 keeps hidden; accepted so old scripts still parse.
  { name: 'no-ansi', type: 'bool', desc: 'Do not print ANSI control characters', hidden: true },
  { name: 'verbose', type: 'bool', desc: 'Show more output', hidden: true },
];

/** What a terminal check needs; tests pass their own. */
export interface Terminal { stdoutTTY: boolean; stderrTTY: boolean }

const splitList = (v: string | undefined, sep: string): string[] => (v ? v.split(sep).filter((s) => s !== '') : []);

/**
 * The globals of one invocation from the parsed root flags and the environment. Values are checked
 * here, before anything is loaded or sent, with Compose's wording for a bad value.
 */
export function composeGlobals(o: Opts, env: Record<string, string | undefined>, cwd: string, term: Terminal): ComposeGlobals {
  const files = o.changed('file') ? o.list('file') : splitList(env.COMPOSE_FILE, env.COMPOSE_PATH_SEPARATOR || ':');
  const profiles = o.changed('profile') ? o.list('profile') : splitList(env.COMPOSE_PROFILES, ',');
  const envFiles = o.changed('env-file') ? o.list('env-file') : splitList(env.COMPOSE_ENV_FILES, ',');
  const projectName = o.str('project-name') || env.COMPOSE_PROJECT_NAME || undefined;
  const projectDirectory = o.str('project-directory') || undefined;

  let ansi = o.changed('ansi') ? o.str('ansi')! : env.COMPOSE_ANSI || 'auto';
  if (o.bool('no-ansi')) ansi = 'never';
  if (!['never', 'always', 'auto'].includes(ansi)) throw new FlagError(`unsupported --ansi value "${ansi}"`);
  const color = ansi === 'always' || (ansi === 'auto' && term.stdoutTTY && !env.NO_COLOR);

  const wanted = o.changed('progress') ? o.str('progress')! : env.COMPOSE_PROGRESS || 'auto';
  if (!['auto', 'tty', 'plain', 'quiet', 'json'].includes(wanted)) throw new FlagError(`unsupported --progress value "${wanted}"`);
  // Compose draws its live view only on a terminal (progress goes to stderr) and only with ANSI allowed.
  const progress = wanted === 'auto' ? (term.stderrTTY && ansi !== 'never' ? 'tty' : 'plain') : (wanted as ComposeGlobals['progress']);

  return {
    load: { files, projectName, projectDirectory, envFiles, profiles, env, cwd },
    color,
    progress,
    dryRun: o.bool('dry-run'),
  };
}

/** --parallel (or COMPOSE_PARALLEL_LIMIT): the engine's concurrency bound; -1 is unlimited. */
export function parallelLimit(o: Opts, env: Record<string, string | undefined>): number {
  const v = o.changed('parallel') ? o.int('parallel')! : Number(env.COMPOSE_PARALLEL_LIMIT || -1);
  return Number.isFinite(v) && v > 0 ? v : -1;
}
