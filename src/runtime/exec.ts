// Exec sessions: a process run in a running container, two ways.
//
// Without a TTY (`docker exec CTR cmd`, `-i`, `-d`, health checks), berthd runs `runc exec`
// itself, not detached, with its stdio on pipes berthd reads. runc gives the process pipes of its
// own and copies between them and its stdio, so the process sees pipes, as under conmon or
// containerd; runc waits for the process and exits with its status (128+N for signal N), after
// the copies have drained. No conmon, no attach socket, no exit file: the exit is the child's
// exit event, not a file watched. The process is started once runc has written its --pid-file
// (seen through inotify on the session's directory); a runc that exits without one never started
// it, and its stderr, which then holds only runc's complaint, is the error. Until the start is
// known nothing is read from stderr, so the process's own stderr is never taken for runc's.
// If berthd goes away, the session is lost with it, as dockerd loses an exec's stream when it
// restarts; the process runs on until it ends.
//
// With a TTY, conmon runs it (`conmon --exec`), because conmon owns the console socket, resizes
// through its ctl FIFO, and the attach socket speaks for the terminal.
//
// Each session has a directory in the container's bundle, exec-<id12>/ (process.json, pidfile;
// for conmon also its ctl, log and attach link), removed when the session ends. Everything
// under exec-root is on tmpfs and transient: no fsync.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Process } from '../types/oci-runtime.ts';
import { launchExec, runtimeError, type ConmonCommon } from './conmon.ts';
import { connectAttach, type AttachStream } from './attach.ts';

export interface ExecSession {
  pid: number;
  stream?: AttachStream;
  exited: Promise<number>;
}

export interface ExecOptions { tty: boolean; attachStdin: boolean; attach: boolean }

const START_TIMEOUT_MS = 60_000;
/** How long the attach stream may still drain after the process has exited (conmon's files). */
const DRAIN_MS = 1000;
/** runc's complaint is a line or two; keep no more than this of a stderr that was not runc's. */
const MAX_ERROR_BYTES = 16 * 1024;

export async function writeProcessSpec(dir: string, proc: Process): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const spec = join(dir, 'process.json');
  await writeFile(spec, JSON.stringify(proc));
  return spec;
}

/**
 * `runc exec` of a process without a TTY, stdio on pipes (see the header). Resolves once the
 * process runs, with its pid; rejects with runc's complaint (runtimeError) when it could not start.
 */
export async function runcExec(o: { runtimePath: string; runcRoot: string; globalArgs?: string[]; id: string; dir: string; proc: Process; opts: ExecOptions }): Promise<ExecSession> {
  const spec = await writeProcessSpec(o.dir, o.proc);
  const pidFile = join(o.dir, 'pidfile');
  const attach = o.opts.attach;
  const stdin = attach && o.opts.attachStdin;
  // Started before runc, so that the pid file's rename cannot be missed.
  const events = new EventEmitter();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(o.dir, (_ev, name) => { if (name === 'pidfile') events.emit('pidfile'); });
  } catch (err) {
    await rm(o.dir, { recursive: true, force: true });
    throw err;
  }
  watcher.on('error', () => events.emit('pidfile'));
  // detached: its own session, so a signal to berthd's process group does not reach the exec.
  const child = spawn(o.runtimePath, [...(o.globalArgs ?? []), '--root', o.runcRoot, '--log', join(o.dir, 'runc.log'), '--log-format', 'json', 'exec', '--process', spec, '--pid-file', pidFile, o.id], {
    detached: true, stdio: [stdin ? 'pipe' : 'ignore', attach ? 'pipe' : 'ignore', 'pipe'],
  });
  child.unref();
  const out = new PipeReader(child.stdout);
  const err = new PipeReader(child.stderr);
  const exit = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    child.once('error', () => resolve(-1));
  });
  const cleanup = (): void => {
    watcher?.close();
    setTimeout(() => { void rm(o.dir, { recursive: true, force: true }); }, attach ? DRAIN_MS : 0).unref();
  };

  const readPid = (): Promise<number> => readFile(pidFile, 'utf8').then((t) => Number(t.trim()) || 0, () => 0);
  const started = await new Promise<{ pid: number } | { failed: number }>((resolve) => {
    let done = false;
    const finish = (r: { pid: number } | { failed: number }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ failed: -2 });
    }, START_TIMEOUT_MS);
    events.on('pidfile', () => { void readPid().then((pid) => { if (pid) finish({ pid }); }); });
    void exit.then(async (code) => {
      const pid = await readPid();
      finish(pid ? { pid } : { failed: code });
    });
  });
  watcher.close();
  if ('failed' in started) {
    const text = started.failed === -2 ? `runc exec did not start the process within ${START_TIMEOUT_MS} ms` : await err.text(MAX_ERROR_BYTES);
    out.discard();
    child.stdin?.destroy();
    cleanup();
    throw runtimeError('exec', text || `runc exec exited with status ${started.failed}`);
  }
  const exited = exit.then((code) => (code < 0 ? 255 : code)).finally(cleanup);
  if (!attach) {
    // Nobody reads a detached exec's stderr: drain it, so that runc's copy never blocks.
    err.discard();
    return { pid: started.pid, exited };
  }
  return { pid: started.pid, stream: new PipeStream(child.stdin, out, err), exited };
}

/** 128 + the signal's number, as a shell reports a process killed by it (runc itself killed). */
function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal ? (osConstants.signals as Record<string, number>)[signal] : undefined) ?? 127;
}

/**
 * One of a `runc exec` child's output pipes, read from the spawn on: Node resumes (and so
 * discards) a child's pipe that nobody listens to once the child exits, and a short exec exits
 * before the API has joined the client to it. Bytes wait here until a sink takes them.
 */
class PipeReader {
  private chunks: Buffer[] = [];
  private sink?: (b: Buffer) => void;
  private ended = false;
  private readonly endWaiters: Array<() => void> = [];

  constructor(r: Readable | null) {
    if (!r) { this.ended = true; return; }
    r.on('data', (b: Buffer) => { if (this.sink) this.sink(b); else this.chunks.push(b); });
    const end = (): void => {
      if (this.ended) return;
      this.ended = true;
      for (const w of this.endWaiters.splice(0)) w();
    };
    r.on('end', end);
    r.on('close', end);
    r.on('error', end);
  }

  /** Sends what came so far and all that follows to `sink`; `onEnd` once the pipe has ended. */
  pipeTo(sink: (b: Buffer) => void, onEnd: () => void): void {
    for (const b of this.chunks.splice(0)) sink(b);
    this.sink = sink;
    this.onEnd(onEnd);
  }

  onEnd(cb: () => void): void {
    if (this.ended) cb(); else this.endWaiters.push(cb);
  }

  /** All of it as text once the pipe has ended (runc's complaint), at most `max` bytes. */
  text(max: number): Promise<string> {
    return new Promise((resolve) => this.onEnd(() => resolve(Buffer.concat(this.chunks).subarray(0, max).toString())));
  }

  /** Nobody will read it: drop what came and what comes, so that the writer never blocks. */
  discard(): void {
    this.chunks = [];
    this.sink = () => {};
  }
}

/**
 * The attach stream of a `runc exec` child: its stdout and stderr as streams 1 and 2, its stdin.
 * Output is handed on from the first 'data' listener (the API's), on the next tick; it ends when
 * both pipes have ended.
 */
class PipeStream extends EventEmitter implements AttachStream {
  private readonly stdin: Writable | null;
  private readonly out: PipeReader;
  private readonly err: PipeReader;
  private flowing = false;
  private closed = false;

  constructor(stdin: Writable | null, out: PipeReader, err: PipeReader) {
    super();
    this.stdin = stdin;
    this.out = out;
    this.err = err;
    // A client that stops writing must not take down berthd with EPIPE once the process is gone.
    stdin?.on('error', () => {});
  }

  override on(event: string | symbol, cb: (...args: any[]) => void): this {
    super.on(event, cb);
    if (event === 'data' && !this.flowing) {
      this.flowing = true;
      process.nextTick(() => {
        let open = 2;
        const ended = (): void => { if (--open === 0) this.emit('end'); };
        this.out.pipeTo((b) => { if (!this.closed) this.emit('data', 1, b); }, ended);
        this.err.pipeTo((b) => { if (!this.closed) this.emit('data', 2, b); }, ended);
      });
    }
    return this;
  }

  write(data: Buffer): void {
    if (!this.stdin || this.closed || this.stdin.writableEnded) return;
    this.stdin.write(data);
  }

  closeStdin(): void {
    if (this.stdin && !this.stdin.writableEnded) this.stdin.end();
  }

  /**
   * The client went away: the process runs on, as under dockerd; its output is read and
   * dropped (the readers go on), so that it never blocks on a full pipe. Its stdin is closed.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeStdin();
    this.out.discard();
    this.err.discard();
  }
}

/** How a runtime's conmon exec is configured: ConmonCommon from the Runtime, per session. */
export type ConmonExecBase = (dir: string, cuuid: string, o: { logPath: string; tty: boolean; stdin: boolean }) => ConmonCommon;

/**
 * `conmon --exec` for a process with a TTY (see the header): resolves once the process runs. The
 * attach socket is connected before `runc exec` may go on, so no output is lost.
 */
export async function conmonExec(o: { base: ConmonExecBase; socketDir: string; dir: string; execId: string; proc: Process; opts: ExecOptions }): Promise<ExecSession> {
  const spec = await writeProcessSpec(o.dir, o.proc);
  const cuuid = `x${o.execId.slice(0, 15)}`;
  const launched = launchExec({
    ...o.base(o.dir, cuuid, { logPath: join(o.dir, 'exec.log'), tty: o.opts.tty, stdin: o.opts.attach && o.opts.attachStdin }),
    processSpec: spec,
    attach: o.opts.attach,
  });
  const cleanup = (): Promise<void> => rm(o.dir, { recursive: true, force: true });
  const closeSync = (): void => { (launched.child.stdio[3] as { destroy?: () => void }).destroy?.(); };
  try {
    // conmon's main process reads the start pipe once before it forks (cgroup setup in podman).
    launched.startPipe?.write('0');
    let stream: AttachStream | undefined;
    if (o.opts.attach) {
      const ready = await launched.attachPipe!.next(START_TIMEOUT_MS);
      if (ready.data < 0) throw runtimeError('exec', ready.message ?? 'attach failed');
      stream = await connectAttach(join(o.socketDir, cuuid, 'attach'));
      // Now that nothing can be lost, let `runc exec` run.
      launched.startPipe!.write('1');
    }
    const first = await launched.sync.next(START_TIMEOUT_MS);
    if (first.data < 0) {
      stream?.close();
      throw runtimeError('exec', first.message ?? launched.stderr());
    }
    const exited = launched.sync.next(0).then((m) => m.data, () => 126).finally(() => {
      closeSync();
      // Let the attach stream finish draining before its files go.
      setTimeout(() => { void cleanup(); }, DRAIN_MS).unref();
    });
    return { pid: first.data, stream, exited };
  } catch (err) {
    closeSync();
    await cleanup();
    throw err;
  }
}
