// The only way Berth spawns host tools: a timeout, an AbortSignal, and captured stderr so a
// failure says what the tool said. Errors carry argv, exit code and the last stderr lines.
import { spawn, type SpawnOptions } from 'node:child_process';
import { System } from '../errors.ts';
import { accessSync, constants } from 'node:fs';
import { theSpawner, SpawnFailed } from './spawner.ts';

export interface ExecOptions {
  /** Milliseconds before the child is killed; default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes that are not failures (default: only 0). */
  okCodes?: number[];
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ExecError extends System {
  readonly argv: string[];
  readonly code: number | null;
  readonly stderr: string;
  constructor(argv: string[], code: number | null, stderr: string, cause?: unknown) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    super(`${argv.join(' ')} failed (exit ${code ?? 'signal'})${tail ? `: ${tail}` : ''}`, { cause });
    this.argv = argv;
    this.code = code;
    this.stderr = stderr;
  }
}

export function run(file: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const spawner = theSpawner();
  return spawner ? runVia(spawner, file, args, opts) : runDirect(file, args, opts);
}

/** Through berth-spawner (sys/spawner.ts says why); the same results and errors as runDirect. */
async function runVia(spawner: NonNullable<ReturnType<typeof theSpawner>>, file: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
  const argv = [file, ...args];
  opts.signal?.throwIfAborted();
  let r;
  try {
    r = await spawner.run({ file, args, env: opts.env, cwd: opts.cwd, input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000, signal: opts.signal });
  } catch (e) {
    if (e instanceof SpawnFailed) throw new ExecError(argv, null, `spawn ${file} ${e.errno}`, e);
    // The spawner went away mid-call (it is started again by the next call). Not run again
    // here: the tool may have run (iptables -A twice is not the same as once).
    throw new ExecError(argv, null, (e as Error).message, e);
  }
  if (opts.signal?.aborted) throw new ExecError(argv, null, 'The operation was aborted', opts.signal.reason);
  const stdout = r.stdout.toString();
  const stderr = r.stderr.toString();
  const ok = opts.okCodes ?? [0];
  if (r.code !== null && ok.includes(r.code)) return { code: r.code, stdout, stderr };
  throw new ExecError(argv, r.code, stderr || stdout);
}

function runDirect(file: string, args: string[], opts: ExecOptions): Promise<ExecResult> {
  const argv = [file, ...args];
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      signal: opts.signal,
      timeout: opts.timeoutMs ?? 30_000,
      killSignal: 'SIGKILL',
    };
    const child = spawn(file, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on('error', (e) => reject(new ExecError(argv, null, String(e.message), e)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      const ok = opts.okCodes ?? [0];
      if (code !== null && ok.includes(code)) resolve({ code, stdout, stderr });
      else reject(new ExecError(argv, code, stderr || stdout));
    });
  });
}

/** Resolves a command name on PATH to an absolute path (conmon wants one); paths pass through. */
export function resolveBinary(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = `${dir}/${name}`;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  throw new System(`${name} not found in PATH`);
}
