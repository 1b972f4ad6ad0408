// Runs berth against a TestDaemon, and the "same command through the Docker CLI and berth, same
// result" check the CLI integration tests make. Each test file keeps its own comparison rules
// (what it normalises, which side runs first, what `same` hands back) as options.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCmd, repo, DOCKER, type Result, type TestDaemon } from './daemon.ts';

export const BERTH = join(repo, 'bin/berth');

/** Docker's messages as berth prints them. */
export const asBerth = (s: string): string => s.replaceAll('docker', 'berth').replaceAll('Docker', 'Berth');

/** One run of a CLI. */
export interface CliRun {
  input?: string | Buffer;
  /** Added to the defaults' environment. */
  env?: NodeJS.ProcessEnv;
  /** The working directory (the process's own when not given). */
  cwd?: string;
  timeoutMs?: number;
  /** berth's -H; null: no -H (the environment's DOCKER_HOST decides). */
  host?: string | null;
}

export interface CliDefaults<X extends object> {
  /** The berth executable (default bin/berth). */
  bin?: string;
  /** berth's environment (default this process's). */
  env?: NodeJS.ProcessEnv;
  /** berth's -H (default the daemon's socket); null: none. */
  host?: string | null;
  /** For both CLIs (default 30 s). */
  timeoutMs?: number;
  /** One side's result as compared; `fromDocker` says which CLI printed it. Default: docker's stderr read with asBerth, the rest as is. */
  normalise?: (r: Result, fromDocker: boolean, o: CliRun & X) => Result;
  /** What `same` returns, from berth's result (default: as is). */
  returns?: (got: Result) => Result;
  /** Run berth before docker (default docker first): for commands whose effects the second run sees. */
  berthFirst?: boolean;
}

const byDefault = (r: Result, fromDocker: boolean): Result =>
  ({ code: r.code, stdout: r.stdout, stderr: fromDocker ? asBerth(r.stderr) : r.stderr });

/** Runs `file args` in `cwd` when one is given (runCmd has no cwd). */
const runIn = (file: string, args: string[], cwd: string | undefined, o: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Result> =>
  cwd === undefined ? runCmd(file, args, o) : runCmd('sh', ['-c', 'cd "$0" && shift && exec "$@"', cwd, 'x', file, ...args], o);

/** berth, docker and `same` for one daemon; X is the extra per-call options a file's normaliser reads. */
export function berthCli<X extends object = object>(d: TestDaemon, defaults: CliDefaults<X> = {}) {
  const timeoutMs = defaults.timeoutMs ?? 30_000;
  const normalise = defaults.normalise ?? byDefault;
  const berth = (args: string[], o: CliRun = {}): Promise<Result> => {
    const host = o.host !== undefined ? o.host : defaults.host !== undefined ? defaults.host : `unix://${d.socket}`;
    const env = o.env ? { ...(defaults.env ?? process.env), ...o.env } : defaults.env;
    return runIn(defaults.bin ?? BERTH, host === null ? args : ['-H', host, ...args], o.cwd, { input: o.input, timeoutMs: o.timeoutMs ?? timeoutMs, env });
  };
  /** The real Docker CLI against the daemon (its environment names the daemon). */
  const docker = (args: string[], o: CliRun = {}): Promise<Result> =>
    runIn(DOCKER, args, o.cwd, { input: o.input, timeoutMs: o.timeoutMs ?? timeoutMs, env: { ...d.env, ...o.env } });
  /** Runs the same arguments with both CLIs, asserts equal status, stdout and stderr once normalised. */
  const same = async (args: string[], o: CliRun & Partial<X> = {}): Promise<Result> => {
    const opts = o as CliRun & X;
    let got: Result, want: Result;
    if (defaults.berthFirst) {
      got = await berth(args, o);
      want = await docker(args, o);
    } else {
      want = await docker(args, o);
      got = await berth(args, o);
    }
    assert.deepEqual(normalise(got, false, opts), normalise(want, true, opts), `berth ${args.join(' ')}`);
    return defaults.returns ? defaults.returns(got) : got;
  };
  return { berth, docker, same };
}
