// What a berth command is: its names (short form and management forms), usage, flags and the
// function that runs it with the parsed flags and a context holding the output streams and the
// daemon client. Commands return an exit status or throw; main.ts maps errors to statuses.
import type { Writable, Readable } from 'node:stream';
import { ApiError, type EngineClient } from '../client/engine-client.ts';
import type { FlagSpec, Opts } from './flags.ts';

export interface Ctx {
  /** the client, connected on first use (the version is negotiated on the first request) */
  client(): EngineClient;
  out: Writable;
  err: Writable;
  stdin: Readable;
  /** how the command was invoked, for messages: `berth container ls` */
  invokedAs: string;
  /** the `--config` directory (docker's: `$DOCKER_CONFIG`, else ~/.docker) */
  configDir: string;
}

export interface CommandSpec {
  /**
   * Every name the command answers to, as word paths; the first is listed in help. Docker's
   * `ps` is `[['container', 'ls'], ['container', 'list'], ['container', 'ps'], ['ps']]`.
   */
  paths: string[][];
  /** after the command name: `[OPTIONS] CONTAINER [CONTAINER...]` */
  usage: string;
  description: string;
  flags: FlagSpec[];
  /** argument count checks, with docker's messages */
  args?: { min?: number; max?: number };
  /** false for commands whose first argument ends the flags (run, exec, create) */
  interspersed?: boolean;
  run(ctx: Ctx, args: string[], opts: Opts): Promise<number | void>;
}

/** The management groups, in `berth --help` order. */
export const GROUPS: Record<string, string> = {
  builder: 'Manage builds',
  container: 'Manage containers',
  registry: 'Run an OCI Distribution registry (berth\'s own)',
  image: 'Manage images',
  network: 'Manage networks',
  system: 'Manage Berth',
  volume: 'Manage volumes',
};

/** An error printed as it is (no "Error response from daemon:" prefix) with an exit status. */
export class CliError extends Error {
  readonly status: number;
  constructor(message: string, status = 1) {
    super(message);
    this.status = status;
  }
}

/**
 * Runs `fn` for each name and collects failures as docker does for rm/stop/kill/...: every name is
 * tried, each success prints the name, failures are printed together and the status is 1.
 */
export async function forEach(ctx: Ctx, names: string[], fn: (name: string) => Promise<string | void>): Promise<number> {
  const errors: string[] = [];
  for (const n of names) {
    try {
      const shown = await fn(n);
      ctx.out.write(`${shown ?? n}\n`);
    } catch (err) {
      errors.push(describeError(err));
    }
  }
  if (errors.length) {
    ctx.err.write(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** How the Docker CLI shows an error: daemon errors get their prefix, others are shown as they are. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `Error response from daemon: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
