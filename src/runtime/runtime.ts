// The runtime path of DESIGN.md: berthd writes the OCI bundle, conmon runs `runc create` and
// stays as the container's parent (stdio, tty, log file, exit code), berthd runs `runc start`.
// Exits come back as files conmon writes into one directory, watched here; the files persist,
// so exits that happen while berthd is down are found at the next start.
//
// Layout under <exec-root>: runtime/<id>/ (bundle: config.json, pidfile, conmon.pid, ctl,
// attach socket, exec sessions), runtime/exits/<id>, runtime/s/ (short attach-socket links),
// runc/ (runc --root).
import { mkdir, writeFile, readFile, rm, stat, open, readdir } from 'node:fs/promises';
import { constants, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { Conflict, System } from '../errors.ts';
import type { Logger } from '../util/log.ts';
import type { Spec, Process } from '../types/oci-runtime.ts';
import { Runc } from './runc.ts';
import { pidnsProcesses, stopNamespace, continueProcesses } from './pidns-procs.ts';
import { runcRootlessArgs, type RootlessMode } from '../sys/rootless.ts';
import { resolveBinary } from '../sys/exec.ts';
import { launchContainer, parseExitFile, runtimeError, type ConmonCommon } from './conmon.ts';
import { runcExec, conmonExec, type ExecSession, type ExecOptions } from './exec.ts';
import { connectAttach, type AttachStream } from './attach.ts';

export type { AttachStream };

export interface RuntimeOptions {
  runtimePath: string;
  conmonPath?: string;
  execRoot: string;
  log: Logger;
  /** Rootless mode (sys/rootless.ts): runc's rootless flags, and no `kill --all` without cgroups. */
  rootless?: RootlessMode;
}

export type RuntimeStatus = 'created' | 'running' | 'paused' | 'stopped';
export interface ExitInfo { exitCode: number; oomKilled: boolean; finishedAt: Date }

export type { ExecSession };

const CREATE_TIMEOUT_MS = 60_000;

export class Runtime {
  private readonly runc: Runc;
  private readonly conmonPath: string;
  private readonly runtimePath: string;
  private readonly root: string;
  private readonly exitDir: string;
  private readonly sockDir: string;
  private readonly runcRoot: string;
  private readonly log: Logger;
  private readonly globalArgs: string[];
  /** Containers have cgroups (not so rootless on cgroup v1): `runc ps` and the freezer work. */
  private readonly cgroups: boolean;
  /** Pids a signal freeze stopped, per container, to continue at the thaw. */
  private readonly signalFrozen = new Map<string, number[]>();
  private exitCbs: Array<(id: string, info: ExitInfo) => void> = [];
  private watcher?: FSWatcher;
  private readonly execDirs = new Map<string, string>();
  /** Init pids of containers created and not yet started (start watches that its init lives). */
  private readonly initPids = new Map<string, number>();

  constructor(o: RuntimeOptions) {
    this.runtimePath = resolveBinary(o.runtimePath);
    this.conmonPath = resolveBinary(o.conmonPath ?? 'conmon');
    this.root = join(o.execRoot, 'runtime');
    this.exitDir = join(this.root, 'exits');
    this.sockDir = join(this.root, 's');
    this.runcRoot = join(o.execRoot, 'runc');
    this.globalArgs = runcRootlessArgs(o.rootless);
    this.cgroups = !o.rootless || o.rootless.cgroups;
    this.runc = new Runc(this.runtimePath, this.runcRoot, { globalArgs: this.globalArgs, killAll: !o.rootless || o.rootless.cgroups });
    this.log = o.log;
  }

  bundleDir(id: string): string {
    return join(this.root, id);
  }

  async init(): Promise<void> {
    await Promise.all([this.exitDir, this.sockDir, this.runcRoot].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
    this.watcher = watch(this.exitDir, (_event, name) => {
      if (name && !name.startsWith('.')) void this.reportExit(String(name));
    });
    this.watcher.unref();
    for (const name of await readdir(this.exitDir)) {
      if (!name.startsWith('.')) await this.reportExit(name);
    }
  }

  async close(): Promise<void> {
    this.watcher?.close();
  }

  onExit(cb: (id: string, info: ExitInfo) => void): void {
    this.exitCbs.push(cb);
  }

  private async reportExit(id: string): Promise<void> {
    const info = await this.readExit(id);
    if (!info) return;
    for (const cb of this.exitCbs) cb(id, info);
  }

  async readExit(id: string): Promise<ExitInfo | undefined> {
    const p = join(this.exitDir, id);
    try {
      const [text, st] = await Promise.all([readFile(p, 'utf8'), stat(p)]);
      const code = parseExitFile(text);
      if (code === undefined) return undefined;
      const oom = await stat(join(this.bundleDir(id), 'oom')).then(() => true, () => false);
      return { exitCode: code, oomKilled: oom, finishedAt: st.mtime };
    } catch {
      return undefined;
    }
  }

  private common(id: string, bundle: string, cuuid: string, o: { logPath: string; tty: boolean; stdin: boolean; leaveStdinOpen?: boolean }, exitDir: string): ConmonCommon {
    return {
      conmonPath: this.conmonPath, runtimePath: this.runtimePath, runcRoot: this.runcRoot, runtimeGlobalArgs: this.globalArgs, cid: id, cuuid, bundle,
      pidFile: join(bundle, 'pidfile'), exitDir, logPath: o.logPath, socketDir: this.sockDir, tty: o.tty,
      stdin: o.stdin, leaveStdinOpen: o.leaveStdinOpen,
    };
  }

  /** Writes the bundle and has conmon run `runc create`; resolves once the init process waits. */
  async create(id: string, spec: Spec, opts: { logPath: string; tty: boolean; openStdin: boolean; stdinOnce: boolean }): Promise<{ pid: number; conmonPid: number }> {
    const bundle = this.bundleDir(id);
    await rm(join(this.exitDir, id), { force: true });
    await mkdir(bundle, { recursive: true, mode: 0o700 });
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    // StdinOnce closes stdin when the attached client leaves, but not with a TTY (moby's attach:
    // `CloseStdin && !TTY`): `run -it` then ctrl-p ctrl-q must leave the shell attachable.
    const launched = launchContainer(this.common(id, bundle, id.slice(0, 16), {
      logPath: opts.logPath, tty: opts.tty, stdin: opts.openStdin, leaveStdinOpen: !opts.stdinOnce || opts.tty,
    }, this.exitDir));
    try {
      const msg = await launched.sync.next(CREATE_TIMEOUT_MS).catch((e: Error) => {
        throw new System(`conmon failed for container ${id}: ${launched.stderr().trim() || e.message}`);
      });
      if (msg.data < 0) throw runtimeError('create', msg.message ?? launched.stderr() ?? 'unknown error');
      (launched.child.stdio[3] as { destroy?: () => void }).destroy?.();
      const conmonPid = Number((await readFile(join(bundle, 'conmon.pid'), 'utf8').catch(() => '0')).trim());
      this.initPids.set(id, msg.data);
      return { pid: msg.data, conmonPid };
    } catch (err) {
      (launched.child.stdio[3] as { destroy?: () => void }).destroy?.();
      await this.runc.delete(id).catch(() => {});
      await rm(bundle, { recursive: true, force: true });
      await rm(join(this.exitDir, id), { force: true });
      throw err;
    }
  }

  /**
   * Lets the created container's process run. What `runc start` does for a created container
   * (libcontainer's exec(): take the init's byte from `exec.fifo`, then remove the fifo, which
   * is what makes runc say `running`), done here without spawning runc. Anything unexpected
   * (no fifo: not created, already started) is left to `runc start`, which says why.
   */
  async start(id: string): Promise<void> {
    const pid = this.initPids.get(id);
    this.initPids.delete(id);
    if (await startThroughFifo(join(this.runcRoot, id, 'exec.fifo'), pid)) return;
    await this.runc.start(id);
  }

  async kill(id: string, signal: number | string, all = false): Promise<void> {
    await this.runc.kill(id, typeof signal === 'number' ? signal : Number(signal), all);
  }

  async pause(id: string): Promise<void> { await this.runc.pause(id); }

  /**
   * Holds every process of a running container still while berthd works on its files
   * (copy-freeze.ts): the cgroup freezer (runc pause), or, without cgroups, SIGSTOP to each
   * process of its pid namespace (runtime/pidns-procs.ts).
   */
  async freeze(id: string): Promise<void> {
    if (this.cgroups) return this.runc.pause(id);
    const st = await this.runc.state(id);
    if (!st || st.status !== 'running') throw new Conflict(`Container ${id} is not running`);
    this.signalFrozen.set(id, await stopNamespace(st.pid));
  }

  async thaw(id: string): Promise<void> {
    if (this.cgroups) return this.runc.resume(id);
    continueProcesses(this.signalFrozen.get(id) ?? []);
    this.signalFrozen.delete(id);
  }
  async update(id: string, resources: object): Promise<void> { await this.runc.update(id, resources); }
  async resume(id: string): Promise<void> { await this.runc.resume(id); }

  /** Forgets the container: runc state, bundle, exit file. Idempotent. */
  async delete(id: string): Promise<void> {
    this.initPids.delete(id);
    await this.runc.delete(id);
    await rm(this.bundleDir(id), { recursive: true, force: true });
    await rm(join(this.exitDir, id), { force: true });
  }

  async state(id: string): Promise<{ status: RuntimeStatus; pid: number } | undefined> {
    return this.runc.state(id);
  }

  async conmonAlive(id: string): Promise<boolean> {
    const pid = Number((await readFile(join(this.bundleDir(id), 'conmon.pid'), 'utf8').catch(() => '')).trim());
    if (!pid) return false;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmd.includes('conmon') && cmd.includes(id);
  }

  /** Kills a container's conmon if it still runs (its `runc create` child dies with it: PDEATHSIG). */
  async killConmon(id: string): Promise<void> {
    if (!(await this.conmonAlive(id))) return;
    const pid = Number((await readFile(join(this.bundleDir(id), 'conmon.pid'), 'utf8')).trim());
    try { process.kill(pid, 'SIGKILL'); } catch { return; }
    for (let i = 0; i < 40 && (await this.conmonAlive(id)); i++) await new Promise((r) => setTimeout(r, 25));
  }

  async pids(id: string): Promise<number[]> {
    if (this.cgroups) return this.runc.ps(id);
    const st = await this.runc.state(id);
    return st && st.pid > 0 && st.status !== 'stopped' ? pidnsProcesses(st.pid) : [];
  }

  async attach(id: string, _opts: { stdin: boolean }): Promise<AttachStream> {
    return connectAttach(join(this.sockDir, id.slice(0, 16), 'attach'));
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    await writeCtl(join(this.bundleDir(id), 'ctl'), height, width);
  }

  /**
   * Runs a process in the running container (runtime/exec.ts): `runc exec` on pipes without a
   * TTY, `conmon --exec` with one. Resolves once the process runs.
   */
  async exec(id: string, execId: string, proc: Process, opts: ExecOptions): Promise<ExecSession> {
    // The engine has checked that the container runs; a `runc state` here would cost a spawn per exec.
    const dir = join(this.bundleDir(id), `exec-${execId.slice(0, 12)}`);
    if (!opts.tty) return runcExec({ runtimePath: this.runtimePath, runcRoot: this.runcRoot, globalArgs: this.globalArgs, id, dir, proc, opts });
    const session = await conmonExec({
      base: (d, cuuid, o) => this.common(id, d, cuuid, o, d), socketDir: this.sockDir, dir, execId, proc, opts,
    });
    // Only a TTY resizes, through conmon's ctl FIFO in the session's directory.
    this.execDirs.set(execId, dir);
    void session.exited.finally(() => this.execDirs.delete(execId));
    return session;
  }

  async execResize(execId: string, height: number, width: number): Promise<void> {
    const dir = this.execDirs.get(execId);
    if (!dir) return;
    await writeCtl(join(dir, 'ctl'), height, width);
  }
}

const FIFO_START_TIMEOUT_MS = 30_000;

/**
 * runc 1.1's start of a created container, from libcontainer (container_linux.go exec(),
 * handleFifoResult, readFromExecFifo): the init process waits in an open for writing of
 * `<runc root>/<id>/exec.fifo`; the reader takes its byte, which lets it exec the process, and
 * removes the fifo. Opened non-blocking (an init that died never to open its end must not hang a
 * thread of the pool): no writer yet reads as end-of-file, a writer without its byte yet as
 * EAGAIN; both are read again, as long as the init lives. False when there is no fifo.
 */
export async function startThroughFifo(fifo: string, initPid: number | undefined, timeoutMs = FIFO_START_TIMEOUT_MS): Promise<boolean> {
  let fh;
  try {
    fh = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const buf = Buffer.alloc(8);
    const read = (): Promise<number> => fh!.read(buf, 0, buf.length, null).then((r) => r.bytesRead, (err: NodeJS.ErrnoException) => {
      if (err.code === 'EAGAIN') return 0;
      throw err;
    });
    const deadline = Date.now() + timeoutMs;
    for (let tries = 0; ; tries++) {
      if (await read() > 0) break;
      // Our open lets the init write and exec at once: a short process may have written, run
      // and ended since that read. Its byte is still in the fifo (we hold it open): look again.
      if (initPid && !processLives(initPid)) {
        if (await read() > 0) break;
        throw new System('container process is already dead');
      }
      if (Date.now() > deadline) throw new System(`container init did not open its exec fifo within ${timeoutMs} ms`);
      await new Promise((r) => (tries < 20 ? setImmediate(r) : setTimeout(r, 1)));
    }
  } finally {
    await fh.close();
  }
  await rm(fifo, { force: true });
  return true;
}

function processLives(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** conmon's ctl FIFO: "1 <height> <width>\n" resizes the tty. Non-blocking: no reader → error, not a hang. */
async function writeCtl(path: string, height: number, width: number): Promise<void> {
  let fh;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new Conflict(`cannot resize: ${String((err as Error).message)}`);
  }
  try {
    await fh.write(`1 ${height} ${width}\n`);
  } finally {
    await fh.close();
  }
}
