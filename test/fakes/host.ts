// A fake of the engine's host seam (src/engine/host.ts) for unit tests: no root, no runc, no
// mounts. It keeps what runc, conmon and the mount table would know, so a test can look at the
// "host" after a verb: which containers runc still has (and in which state), whose conmon still
// runs, which exit files wait to be read, which paths are mounted.
//
// What it models (runc 1.1 with conmon, as runtime/runtime.ts drives them):
// - create: the init process waits (status `created`, a pid, conmon alive); an id runc still
//   knows, even stopped, is refused ("container with id exists"), so a missing delete shows.
// - start: created → running. kill: refused for a container that is gone or stopped (with the
//   errors runtime/runc.ts turns them into); SIGKILL, and SIGTERM/SIGINT unless ignored, end the
//   process: conmon writes the exit file (128 + signal) and the onExit callbacks hear it on a
//   later turn of the event loop, as the exit-file watcher would. A frozen process dies only when
//   thawed (the cgroup v1 freezer).
// - delete is `runc delete --force`: a live process is killed (its conmon reports it), the state
//   and the exit file go; an unknown id is no error.
// - mounts: a set of targets; mounting over a mounted target is refused (the engine always asks
//   isMounted first, a stacked overlay would be a leak), unmounting what is not mounted is fine.
//
// Failure injection: `failOn(op, …)` fails the nth next call of one operation, `failCall(n)` the
// call that will be number n in `calls` (1-based), `holdOn`/`holdCall` park a call forever: the
// caller never hears back, which is what a berthd killed in the middle of that step looks like
// from the host's side. `crash()` then forgets the dead daemon's exit callbacks; the host state
// (runc, conmon, mounts, exit files) stays for the next daemon to reconcile with.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Conflict, NotFound } from '../../src/errors.ts';
import type { Host, MountPort, RuntimePort } from '../../src/engine/host.ts';
import type { OverlayMount } from '../../src/sys/mount.ts';
import type { AttachStream, ExitInfo, RuntimeStatus, ExecSession } from '../../src/runtime/runtime.ts';
import type { Spec } from '../../src/types/oci-runtime.ts';

export interface HostCall {
  /** `runtime.<method>` or `mounts.<method>`. */
  op: string;
  /** The container ID, or the mount target. */
  target: string;
  args: unknown[];
  /** Set when the fake was told to fail this call. */
  failed?: boolean;
  /** Set when the fake was told to park this call (it never returns). */
  held?: boolean;
}

export interface FakeContainer {
  status: RuntimeStatus;
  pid: number;
  conmon: boolean;
  spec: Spec;
  /** An exit waiting for the thaw (the process was killed while frozen). */
  exitOnThaw?: number;
}

/** A pid no process can have (above Linux's PID_MAX_LIMIT), so /proc never answers for it. */
const FIRST_PID = 4_200_000;

type Failure = { op?: string; callNo?: number; countdown: number; error?: Error; hold?: boolean };

export class FakeHost implements Host {
  readonly calls: HostCall[] = [];
  /** runc's containers by id (absent after delete). */
  readonly containers = new Map<string, FakeContainer>();
  /** conmon's exit files by id (runtime.readExit reads them, runtime.delete removes them). */
  readonly exitFiles = new Map<string, ExitInfo>();
  readonly mounted = new Set<string>();
  /** Signals the containers' processes catch and survive (SIGKILL never). */
  readonly ignoredSignals = new Set<number>();
  /** Attach streams handed out, by container id. */
  readonly attached = new Map<string, FakeAttach[]>();
  readonly runtime: RuntimePort;
  readonly mounts: MountPort;
  private exitCbs: Array<(id: string, info: ExitInfo) => void> = [];
  private failures: Failure[] = [];
  private nextPid = FIRST_PID;
  /** Pids given to the next creates instead of fresh ones (a test that needs a real /proc entry). */
  readonly pidsToGive: number[] = [];

  readonly execRoot: string;

  constructor(execRoot: string) {
    this.execRoot = execRoot;
    this.runtime = this.makeRuntime();
    this.mounts = this.makeMounts();
  }

  // ---- what the test controls -----------------------------------------------------------------

  /** The nth next call of `op` (`runtime.start`, `mounts.mountOverlay`, …) throws `error`. */
  failOn(op: string, o: { nth?: number; error?: Error } = {}): void {
    this.failures.push({ op, countdown: o.nth ?? 1, error: o.error });
  }

  /** The call that will be number n in `calls` (1-based) throws. */
  failCall(n: number, error?: Error): void {
    this.failures.push({ callNo: n, countdown: 1, error });
  }

  /** The nth next call of `op` never returns (the daemon dies in it). */
  holdOn(op: string, nth = 1): void {
    this.failures.push({ op, countdown: nth, hold: true });
  }

  /** The call that will be number n in `calls` never returns. */
  holdCall(n: number): void {
    this.failures.push({ callNo: n, countdown: 1, hold: true });
  }

  /** The daemon is gone: its callbacks with it. Runc, conmon, mounts and exit files stay. */
  crash(): void {
    this.exitCbs = [];
    this.failures = [];
  }

  /**
   * The container's process ends with `code`: conmon writes the exit file and reports it, unless
   * `report` is false (berthd is down, or conmon died with it and `conmon` is false too).
   */
  exit(id: string, code: number, o: { oomKilled?: boolean; report?: boolean; conmonWrites?: boolean; finishedAt?: Date } = {}): void {
    const c = this.containers.get(id);
    if (!c || c.status === 'stopped') throw new Error(`fake host: ${id} has no live process to end`);
    const writes = o.conmonWrites ?? c.conmon;
    c.status = 'stopped';
    c.conmon = false;
    c.exitOnThaw = undefined;
    if (!writes) return;
    const info: ExitInfo = { exitCode: code, oomKilled: o.oomKilled ?? false, finishedAt: o.finishedAt ?? new Date() };
    this.exitFiles.set(id, info);
    if (o.report === false) return;
    for (const cb of this.exitCbs) cb(id, info);
  }

  /** conmon dies (killed with berthd's cgroup, say) and its container's process with it: no exit file. */
  killConmonOf(id: string): void {
    const c = this.containers.get(id);
    if (!c) return;
    c.conmon = false;
    c.status = 'stopped';
  }

  /** Calls of one operation (or all), optionally for one target. */
  callsOf(op?: string, target?: string): HostCall[] {
    return this.calls.filter((c) => (!op || c.op === op) && (!target || c.target === target));
  }

  /** What is left on the "host" for a container: its runc state, exit file and the mounts under its dir. */
  leftovers(id: string, dir?: string): { runc?: RuntimeStatus; conmon: boolean; exitFile: boolean; mounts: string[] } {
    const c = this.containers.get(id);
    return {
      runc: c?.status, conmon: c?.conmon ?? false, exitFile: this.exitFiles.has(id),
      mounts: dir ? [...this.mounted].filter((m) => m.startsWith(`${dir}/`)).sort() : [],
    };
  }

  // ---- the seam -------------------------------------------------------------------------------

  /** Records the call, then fails or parks it when told to. */
  private async enter(op: string, target: string, args: unknown[]): Promise<void> {
    const call: HostCall = { op, target, args };
    this.calls.push(call);
    const n = this.calls.length;
    for (const f of this.failures) {
      if (f.callNo !== undefined ? f.callNo !== n : f.op !== op) continue;
      if (--f.countdown > 0) continue;
      this.failures.splice(this.failures.indexOf(f), 1);
      if (f.hold) {
        call.held = true;
        await new Promise<never>(() => {});
      }
      call.failed = true;
      throw f.error ?? new Error(`fake host: ${op} failed`);
    }
  }

  private live(id: string, op: string): FakeContainer {
    const c = this.containers.get(id);
    // runtime/runc.ts's classes for runc's "does not exist" and "not running".
    if (!c) throw new NotFound(`container ${id} does not exist`);
    if (c.status === 'stopped' && op !== 'delete') throw new Conflict(`Container ${id} is not running`);
    return c;
  }

  private scheduleExit(id: string, code: number): void {
    // conmon reaps, writes the file, the watcher reads it: never in the same turn as the kill.
    setImmediate(() => {
      const c = this.containers.get(id);
      if (c && c.status !== 'stopped') this.exit(id, code);
    });
  }

  private makeRuntime(): RuntimePort {
    const h = this;
    return {
      async init() { await h.enter('runtime.init', '', []); },
      async close() { await h.enter('runtime.close', '', []); },
      onExit(cb) { h.exitCbs.push(cb); },
      async readExit(id) {
        await h.enter('runtime.readExit', id, []);
        return h.exitFiles.get(id);
      },
      bundleDir(id) { return join(h.execRoot, 'runtime', id); },
      async create(id, spec, opts) {
        await h.enter('runtime.create', id, [opts]);
        if (h.containers.has(id)) throw new Error(`runc create failed: container with id exists: ${id}`);
        h.exitFiles.delete(id);
        const pid = h.pidsToGive.shift() ?? h.nextPid++;
        h.containers.set(id, { status: 'created', pid, conmon: true, spec });
        return { pid, conmonPid: pid - 1 };
      },
      async start(id) {
        await h.enter('runtime.start', id, []);
        const c = h.live(id, 'start');
        if (c.status !== 'created') throw new Error(`runc start failed: cannot start a container in the ${c.status} state`);
        c.status = 'running';
      },
      async kill(id, signal, all) {
        await h.enter('runtime.kill', id, [signal, all]);
        const c = h.live(id, 'kill');
        const sig = Number(signal);
        if (sig !== 9 && !(sig === 15 || sig === 2) ) return;
        if (sig !== 9 && h.ignoredSignals.has(sig)) return;
        if (c.status === 'paused') { c.exitOnThaw = 128 + sig; return; }
        h.scheduleExit(id, 128 + sig);
      },
      async pause(id) {
        await h.enter('runtime.pause', id, []);
        const c = h.live(id, 'pause');
        if (c.status !== 'running') throw new Error(`runc pause failed: container not running`);
        c.status = 'paused';
      },
      async resume(id) {
        await h.enter('runtime.resume', id, []);
        const c = h.live(id, 'resume');
        if (c.status !== 'paused') throw new Error(`runc resume failed: container not paused`);
        c.status = 'running';
        if (c.exitOnThaw !== undefined) h.scheduleExit(id, c.exitOnThaw);
      },
      // A copy's freeze is the freezer, as on a rootful host.
      async freeze(id) { await this.pause(id); },
      async thaw(id) { await this.resume(id); },
      async update(id, resources) {
        await h.enter('runtime.update', id, [resources]);
        h.live(id, 'update');
      },
      async delete(id) {
        await h.enter('runtime.delete', id, []);
        const c = h.containers.get(id);
        // --force: a live process is killed first; its conmon still reports the exit.
        if (c && c.status !== 'stopped' && c.status !== 'created') h.exit(id, 137);
        h.containers.delete(id);
        h.exitFiles.delete(id);
      },
      async state(id) {
        await h.enter('runtime.state', id, []);
        const c = h.containers.get(id);
        return c ? { status: c.status, pid: c.status === 'stopped' ? 0 : c.pid } : undefined;
      },
      async conmonAlive(id) {
        await h.enter('runtime.conmonAlive', id, []);
        return h.containers.get(id)?.conmon ?? false;
      },
      async killConmon(id) {
        await h.enter('runtime.killConmon', id, []);
        // runc init dies with its conmon (PDEATHSIG): runc then says stopped.
        h.killConmonOf(id);
      },
      async pids(id) {
        await h.enter('runtime.pids', id, []);
        const c = h.live(id, 'ps');
        return [c.pid];
      },
      async attach(id, opts) {
        await h.enter('runtime.attach', id, [opts]);
        const a = new FakeAttach();
        h.attached.set(id, [...(h.attached.get(id) ?? []), a]);
        return a;
      },
      async resize(id, height, width) { await h.enter('runtime.resize', id, [height, width]); },
      async exec(id, execId, proc, opts): Promise<ExecSession> {
        await h.enter('runtime.exec', id, [execId, proc, opts]);
        h.live(id, 'exec');
        return { pid: h.nextPid++, exited: Promise.resolve(0) };
      },
      async execResize(execId, height, width) { await h.enter('runtime.execResize', execId, [height, width]); },
    };
  }

  private makeMounts(): MountPort {
    const h = this;
    return {
      async mountOverlay(target: string, m: OverlayMount) {
        await h.enter('mounts.mountOverlay', target, [m]);
        if (h.mounted.has(target)) throw new Error(`fake host: ${target} is mounted already (a stacked mount)`);
        h.mounted.add(target);
      },
      async unmount(target: string) {
        await h.enter('mounts.unmount', target, []);
        h.mounted.delete(target);
      },
      async isMounted(target: string) {
        await h.enter('mounts.isMounted', target, []);
        return h.mounted.has(target);
      },
      async mountTmpfs(target: string, source: string, options: string[]) {
        await h.enter('mounts.mountTmpfs', target, [source, options]);
        if (h.mounted.has(target)) throw new Error(`fake host: ${target} is mounted already (a stacked mount)`);
        h.mounted.add(target);
      },
    };
  }
}

/** An attach stream that carries nothing until the test writes to it. */
export class FakeAttach extends EventEmitter implements AttachStream {
  closed = false;
  readonly stdin: Buffer[] = [];
  write(data: Buffer): void { this.stdin.push(data); }
  closeStdin(): void {}
  close(): void { this.closed = true; this.emit('end'); }
}
