// A `berth compose` subcommand. `berth compose` is one berth command (family `compose`) whose
// first arguments are Compose's global flags (-f, -p, --profile, --env-file, --project-directory,
// --ansi, --progress, --parallel, --dry-run…); compose/cli/main.ts parses those, then dispatches
// to the subcommand by its first word and parses the subcommand's own flags with util/pflag.ts.
// The project is loaded only by commands that need it (ls and version do not; ps, logs, down work
// from -p alone when no file is found, as Compose does).
import type { Ctx } from '../command.ts';
import type { FlagSpec, Opts } from '../flags.ts';
import type { LoadOptions, Project } from '../../compose/model/types.ts';
import type { ProgressSink } from '../../compose/engine/api.ts';

export interface ComposeGlobals {
  /** what loading needs: files, project name, directory, env files, profiles, env, cwd */
  load: LoadOptions;
  /** --ansi never|always|auto, resolved against the terminal */
  color: boolean;
  /** --progress auto|tty|plain|quiet|json, resolved */
  progress: 'tty' | 'plain' | 'quiet' | 'json';
  dryRun: boolean;
}

export interface ComposeCtx extends Ctx {
  globals: ComposeGlobals;
  /** the project from the files (loaded once, on first call); a load error is printed as Compose prints it */
  project(): Promise<Project>;
  /** the project name without requiring a file: -p, COMPOSE_PROJECT_NAME, else the loaded project's */
  projectName(): Promise<string>;
  /** the progress renderer for this invocation (tty: in place; plain: one line per event) */
  progress(): ProgressSink;
  warn(text: string): void;
}

export interface ComposeCommandSpec {
  /** `up`; aliases after it (`rm` has none; `ps` none; `ls` none) */
  names: string[];
  /** after `compose <name>`: `[OPTIONS] [SERVICE...]` */
  usage: string;
  description: string;
  flags: FlagSpec[];
  args?: { min?: number; max?: number };
  /** false for commands whose first positional ends the flags (exec, run) */
  interspersed?: boolean;
  run(ctx: ComposeCtx, args: string[], opts: Opts): Promise<number | void>;
}
