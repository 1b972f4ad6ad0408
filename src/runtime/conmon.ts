// The conversation with conmon (2.1): how it is started for a container or an exec session,
// and the JSON messages it sends back on the sync pipe (`{"data": pid}` after `runc create`,
// `{"data": -1, "message": …}` on failure, and for exec a last `{"data": exitCode}`).
// The attach pipe says when an exec's attach socket is ready; the start pipe lets it go on.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { InvalidParameter, System } from '../errors.ts';

export interface ConmonCommon {
  conmonPath: string;
  runtimePath: string;
  runcRoot: string;
  /** runc's global flags (one argv element each), e.g. rootless mode's `--rootless=true`. */
  runtimeGlobalArgs?: string[];
  /** Container ID (runc's name for it). */
  cid: string;
  /** Short unique name for the attach-socket symlink (keeps the socket path under 108 bytes). */
  cuuid: string;
  bundle: string;
  pidFile: string;
  exitDir: string;
  logPath: string;
  socketDir: string;
  tty: boolean;
  stdin: boolean;
  leaveStdinOpen?: boolean;
}

export interface SyncMessage { data: number; message?: string }

/** Splits a pipe's bytes into conmon's newline-terminated JSON messages. */
export class SyncReader {
  private buf = '';
  private queue: SyncMessage[] = [];
  private waiters: Array<{ resolve: (m: SyncMessage) => void; reject: (e: Error) => void }> = [];
  private done = false;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      this.buf += s;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (!line.trim()) continue;
        try { this.push(JSON.parse(line) as SyncMessage); } catch { /* not ours */ }
      }
    });
    const end = (): void => {
      this.done = true;
      for (const w of this.waiters.splice(0)) w.reject(new System('conmon closed its sync pipe without an answer'));
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private push(m: SyncMessage): void {
    const w = this.waiters.shift();
    if (w) w.resolve(m); else this.queue.push(m);
  }

  next(timeoutMs: number): Promise<SyncMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.done) return Promise.reject(new System('conmon closed its sync pipe without an answer'));
    return new Promise((resolve, reject) => {
      const t = timeoutMs > 0 ? setTimeout(() => reject(new System(`conmon did not answer within ${timeoutMs} ms`)), timeoutMs) : undefined;
      t?.unref();
      this.waiters.push({
        resolve: (x) => { if (t) clearTimeout(t); resolve(x); },
        reject: (e) => { if (t) clearTimeout(t); reject(e); },
      });
    });
  }
}

/**
 * The exit file conmon writes into `--exit-dir` (named by the container ID, renamed into place
 * whole): the exit code in decimal, `-1` when conmon could not learn it (Docker shows 255), or
 * 128+N for a process killed by signal N. Anything else — an empty or cut file, which Number()
 * would read as 0 — is no exit code: undefined, never a made-up clean exit.
 */
export function parseExitFile(text: string): number | undefined {
  const t = text.trim();
  if (!/^-?\d{1,10}$/.test(t)) return undefined;
  const code = Number(t);
  return code < 0 ? 255 : code;
}

/**
 * conmon's `--log-size-max` per log path, set by log-rotation.ts before the container starts
 * (the runtime's create options do not carry log settings).
 */
const logSizeMax = new Map<string, number>();

export function setLogSizeMax(logPath: string, bytes: number | undefined): void {
  if (bytes) logSizeMax.set(logPath, bytes); else logSizeMax.delete(logPath);
}

function commonArgs(o: ConmonCommon): string[] {
  // No log path: the `none` driver (conmon then writes no file).
  const logArgs = o.logPath ? ['-l', `k8s-file:${o.logPath}`] : ['-l', 'none'];
  const max = o.logPath ? logSizeMax.get(o.logPath) : undefined;
  if (max) logArgs.push('--log-size-max', String(max));
  const args = [
    '--api-version', '1', '-c', o.cid, '-u', o.cuuid, '-r', o.runtimePath, '-b', o.bundle, '-p', o.pidFile,
    '--exit-dir', o.exitDir, ...logArgs, '--log-level', 'error', '--socket-dir-path', o.socketDir,
    ...(o.runtimeGlobalArgs ?? []).flatMap((a) => ['--runtime-arg', a]),
    '--runtime-arg', `--root=${o.runcRoot}`, '--runtime-arg', '--log-format=json',
    '--runtime-arg', `--log=${o.bundle}/runc.log`,
  ];
  if (o.tty) args.push('-t');
  if (o.stdin) args.push('-i');
  if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');
  return args;
}

export interface Launched {
  child: ChildProcess;
  sync: SyncReader;
  stderr: () => string;
  attachPipe?: SyncReader;
  startPipe?: Writable;
}

function launch(conmonPath: string, args: string[], extraPipes: number, cwd: string): Launched {
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'ignore', 'pipe', 'pipe'];
  for (let i = 0; i < extraPipes; i++) stdio.push('pipe');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' };
  if (extraPipes >= 2) { env._OCI_ATTACHPIPE = '4'; env._OCI_STARTPIPE = '5'; }
  // detached: conmon must outlive berthd (live restore); it double-forks and calls setsid itself.
  // cwd: the bundle, where conmon leaves files of its own (an `oom` marker), never berthd's cwd.
  const child = spawn(conmonPath, args, { detached: true, stdio, env, cwd });
  child.unref();
  const errChunks: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => errChunks.push(b));
  child.on('error', () => { /* reported through the sync pipe closing */ });
  const l: Launched = {
    child,
    sync: new SyncReader(child.stdio[3] as Readable),
    stderr: () => Buffer.concat(errChunks).toString(),
  };
  if (extraPipes >= 2) {
    l.attachPipe = new SyncReader(child.stdio[4] as Readable);
    l.startPipe = (child.stdio as unknown as Writable[])[5];
  }
  return l;
}

export function launchContainer(o: ConmonCommon): Launched {
  return launch(o.conmonPath, [...commonArgs(o), '-0', o.bundle, '-P', `${o.bundle}/conmon.pid`], 0, o.bundle);
}

export function launchExec(o: ConmonCommon & { processSpec: string; attach: boolean }): Launched {
  const args = [...commonArgs(o), '--exec', '--exec-process-spec', o.processSpec];
  if (o.attach) args.push('--exec-attach');
  return launch(o.conmonPath, args, o.attach ? 2 : 0, o.bundle);
}

/**
 * Turns runc's complaint into the error the Docker CLI understands: it maps "executable file
 * not found" to exit 127 and "permission denied" to 126, and moby answers these with a 400.
 */
export function runtimeError(op: 'create' | 'exec', message: string): Error {
  let msg = message.trim();
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(msg);
  if (m) msg = m[1]!.replace(/\\"/g, '"');
  msg = msg.split('\n').filter(Boolean).pop() ?? msg;
  let text = `OCI runtime ${op} failed: ${msg}: unknown`;
  // moby's translateContainerdStartErr: ENOTDIR at start is nearly always a bind of a file onto
  // a directory (or the reverse), and it says so.
  if (op === 'create' && /not a directory/i.test(msg)) {
    text += ': Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type';
  }
  if (/executable file not found|no such file or directory|permission denied|not a directory/i.test(msg)) {
    return new InvalidParameter(text);
  }
  return new System(text);
}
