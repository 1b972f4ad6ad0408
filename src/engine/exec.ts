// Exec sessions: `docker exec` creates one (201 {Id}), starts it attached or detached (the
// runtime runs `runc exec`, or `conmon --exec` for a TTY: runtime/exec.ts), and reads its
// ExitCode from inspect after the stream ends.
import { Conflict, noSuchExec } from '../errors.ts';
import { newId } from '../util/ids.ts';
import type { ExecSession, AttachStream } from '../runtime/runtime.ts';
import type { RuntimePort } from './host.ts';
import { buildExecProcess } from '../runtime/spec.ts';
import type { ContainerService, Container } from './containers.ts';
import { InvalidParameter } from '../errors.ts';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ExecRecord {
  id: string;
  container: Container;
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  tty: boolean;
  privileged: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  detachKeys: string;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  session?: ExecSession;
}

/**
 * An exec's configuration, decoded by the API (api/decode/exec.ts) and given by the health
 * checker: ExecConfig's fields the engine reads, `null` for an absent one as Go's zero value.
 */
export interface ExecCreateInput {
  Cmd?: string[] | null;
  Env?: string[] | null;
  User?: string | null;
  WorkingDir?: string | null;
  Tty?: boolean | null;
  Privileged?: boolean | null;
  AttachStdin?: boolean | null;
  AttachStdout?: boolean | null;
  AttachStderr?: boolean | null;
  DetachKeys?: string | null;
}

/** What an exec takes from the container's OCI spec (runtime/spec.ts buildExecProcess). */
type BaseSpec = Parameters<typeof buildExecProcess>[0]['baseSpec'];

export class ExecService {
  private readonly byId = new Map<string, ExecRecord>();
  /**
   * The container's config.json as its current run was started with it (keyed by ID, checked
   * against StartedAt): read once per run, not per exec, which health probes make many of.
   */
  private readonly baseSpecs = new Map<string, { startedAt: string; spec: BaseSpec }>();
  private readonly containers: ContainerService;
  private readonly runtime: RuntimePort;

  constructor(containers: ContainerService, runtime: RuntimePort) {
    this.containers = containers;
    this.runtime = runtime;
    containers.onRemoved = (c) => {
      // Ended execs are no longer in c.execIds (see `died`) but are still inspectable until now.
      for (const [id, r] of this.byId) if (r.container === c) this.byId.delete(id);
      this.baseSpecs.delete(c.rec.Id);
    };
  }

  async create(ref: string, input: ExecCreateInput): Promise<{ Id: string }> {
    const c = this.containers.get(ref);
    if (!input.Cmd || input.Cmd.length === 0) throw new InvalidParameter('No exec command specified');
    this.checkRunning(c, ref);
    const id = newId();
    const rec: ExecRecord = {
      id, container: c, cmd: input.Cmd, env: input.Env ?? [], user: input.User || c.rec.Config.User,
      workingDir: input.WorkingDir || c.rec.Config.WorkingDir || '/', tty: input.Tty ?? false,
      privileged: input.Privileged ?? false, attachStdin: input.AttachStdin ?? false,
      attachStdout: input.AttachStdout ?? false, attachStderr: input.AttachStderr ?? false,
      detachKeys: input.DetachKeys ?? '', running: false, started: false, exitCode: null, pid: 0,
    };
    this.byId.set(id, rec);
    c.execIds.add(id);
    this.containers.emit(c, `exec_create: ${rec.cmd.join(' ')}`, { execID: id });
    return { Id: id };
  }

  /** Drops a finished exec (health probes run many; nobody inspects them afterwards). */
  forget(id: string): void {
    const r = this.byId.get(id);
    if (!r) return;
    this.byId.delete(id);
    r.container.execIds.delete(id);
  }

  get(id: string): ExecRecord {
    const r = this.byId.get(id);
    if (!r) throw noSuchExec(id);
    return r;
  }

  /** moby's getActiveContainer: 'not running' names the ID, 'paused' the reference as given. */
  private checkRunning(c: Container, ref = c.rec.Id): void {
    if (!c.rec.State.Running) throw new Conflict(`Container ${c.rec.Id} is not running`);
    if (c.rec.State.Paused) throw new Conflict(`Container ${ref} is paused, unpause the container before exec`);
  }

  /** Checks that the session can start: a failure here is an HTTP error, not a stream message. */
  prepareStart(id: string): ExecRecord {
    const rec = this.get(id);
    if (rec.started) throw new Conflict(`Error: Exec command ${id} has already run`);
    this.checkRunning(rec.container);
    return rec;
  }

  /** Starts the process; with attach the caller gets its stream. Exit is recorded on the record. */
  async start(id: string, opts: { detach: boolean; tty?: boolean }): Promise<{ rec: ExecRecord; stream?: AttachStream }> {
    const rec = this.prepareStart(id);
    rec.started = true;
    if (opts.tty !== undefined && opts.tty !== null) rec.tty = rec.tty || opts.tty;
    const c = rec.container;
    let session: ExecSession;
    try {
      const rootfs = join(c.dir, 'merged');
      const baseSpec = await this.baseSpec(c);
      const proc = await buildExecProcess({
        args: rec.cmd, env: this.containers.execEnv(c, rec.tty, rec.env), envComplete: true, cwd: rec.workingDir, user: rec.user, tty: rec.tty,
        rootfs, baseSpec, privileged: rec.privileged,
      });
      session = await this.runtime.exec(c.rec.Id, id, proc, { tty: rec.tty, attachStdin: rec.attachStdin, attach: !opts.detach });
    } catch (err) {
      // dockerd 20.10 gives every exec that could not start (a missing command, a directory, an
      // unknown user, a missing working dir) exit code 126; only a container's own start tells
      // 127 from 126.
      rec.exitCode = 126;
      c.execIds.delete(id);
      throw err;
    }
    rec.session = session;
    rec.running = true;
    rec.pid = session.pid;
    this.containers.emit(c, `exec_start: ${rec.cmd.join(' ')}`, { execID: id });
    const died = (code: number): void => {
      rec.exitCode = code;
      rec.running = false;
      // moby's monitor drops an ended exec from the container's list (inspect's ExecIDs) but keeps
      // it in the daemon's store, so GET /exec/{id}/json still answers with its ExitCode.
      c.execIds.delete(id);
      this.containers.emit(c, 'exec_die', { execID: id, exitCode: String(code) });
    };
    session.exited.then(died, () => died(126));
    return { rec, stream: session.stream };
  }

  private async baseSpec(c: Container): Promise<BaseSpec> {
    const startedAt = c.rec.State.StartedAt;
    const hit = this.baseSpecs.get(c.rec.Id);
    if (hit && hit.startedAt === startedAt) return hit.spec;
    const spec = JSON.parse(await readFile(join(this.runtime.bundleDir(c.rec.Id), 'config.json'), 'utf8')) as BaseSpec;
    this.baseSpecs.set(c.rec.Id, { startedAt, spec });
    return spec;
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const rec = this.get(id);
    if (!rec.running) throw new Conflict(`Exec ${id} is not running`);
    await this.runtime.execResize(id, h, w);
  }

  inspect(id: string): Record<string, unknown> {
    const r = this.get(id);
    return {
      ID: r.id, Running: r.running, ExitCode: r.exitCode, ProcessConfig: {
        // moby's backend.ExecProcessConfig: `user,omitempty` (an exec without a user has no key)
        tty: r.tty, entrypoint: r.cmd[0], arguments: r.cmd.slice(1), privileged: r.privileged, ...(r.user ? { user: r.user } : {}),
      },
      OpenStdin: r.attachStdin, OpenStderr: r.attachStderr, OpenStdout: r.attachStdout, CanRemove: false,
      ContainerID: r.container.rec.Id, DetachKeys: r.detachKeys, Pid: r.pid,
    };
  }
}
