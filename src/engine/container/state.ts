// The container state machine (moby container/state.go): its status names, the transitions
// that set them, and the guards each verb checks before it acts. A guard returns the refusal
// (the error class and Docker's own words, which clients match on) or undefined; `refuse`
// throws it. Verbs ask here instead of reading State themselves, so one place says which
// status allows which verb.
import { Conflict, NotModified, type BerthError } from '../../errors.ts';
import type { ContainerStateRecord, ContainerStateName } from './record.ts';
import { zeroTime, nowRfc3339 } from './status.ts';
import type { Container } from './store.ts';

export type { ContainerStateName };

// ---- transitions ------------------------------------------------------------------------------

export function initialState(): ContainerStateRecord {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: zeroTime, FinishedAt: zeroTime,
  };
}

export function setRunning(s: ContainerStateRecord, pid: number): void {
  Object.assign(s, {
    Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: pid, ExitCode: 0, Error: '', StartedAt: nowRfc3339(),
  });
}

export function setStopped(s: ContainerStateRecord, exitCode: number, oomKilled: boolean, finishedAt?: Date): void {
  Object.assign(s, {
    Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: oomKilled,
    Pid: 0, ExitCode: exitCode, FinishedAt: finishedAt ? finishedAt.toISOString() : nowRfc3339(),
  });
}

/** A start that failed leaves the container created (or exited) with Docker's exit code for the cause. */
export function setStartError(s: ContainerStateRecord, message: string): void {
  let code = 128;
  if (/executable file not found|no such file or directory/i.test(message)) code = 127;
  else if (/permission denied/i.test(message)) code = 126;
  s.Error = message;
  s.ExitCode = code;
  if (s.StartedAt !== zeroTime) s.Status = 'exited';
}

export function setPaused(s: ContainerStateRecord, paused: boolean): void {
  s.Paused = paused;
  s.Status = paused ? 'paused' : 'running';
}

// ---- guards -----------------------------------------------------------------------------------

/** Throws the refusal a guard returned, if any. */
export function refuse(e: BerthError | undefined): void {
  if (e) throw e;
}

/** What pause, resize, top and a pause that lost the race with the exit answer. */
export function notRunning(c: Container): Conflict {
  return new Conflict(`Container ${c.rec.Id} is not running`);
}

/** What unpause answers, also when the process exited before its exit was handled. */
export function notPaused(c: Container): Conflict {
  return new Conflict(`Container ${c.rec.Id} is not paused`);
}

export function canStart(c: Container): BerthError | undefined {
  const st = c.rec.State;
  if (c.removed || st.Status === 'removing') return new Conflict(`container ${c.rec.Id} is marked for removal and cannot be started`);
  if (st.Paused) return new Conflict('cannot start a paused container, try unpause instead');
  if (st.Running) return new NotModified('container already started');
  return undefined;
}

/** A stop of a container that does not run is a 304 (the verb records an exit seen first). */
export function canStop(c: Container): BerthError | undefined {
  return c.rec.State.Running ? undefined : new NotModified('container already stopped');
}

/** `ref` as the client named it: dockerd's kill errors quote it. */
export function canKill(c: Container, ref: string): BerthError | undefined {
  return c.rec.State.Running ? undefined : new Conflict(`Cannot kill container: ${ref}: Container ${c.rec.Id} is not running`);
}

export function canPause(c: Container): BerthError | undefined {
  if (!c.rec.State.Running) return notRunning(c);
  if (c.rec.State.Paused) return new Conflict(`Container ${c.rec.Id} is already paused`);
  return undefined;
}

export function canUnpause(c: Container): BerthError | undefined {
  return c.rec.State.Paused ? undefined : notPaused(c);
}

/** resize and top need a running process. */
export function canReachProcess(c: Container): BerthError | undefined {
  return c.rec.State.Running ? undefined : notRunning(c);
}

export function canAttach(c: Container): BerthError | undefined {
  return c.rec.State.Paused ? new Conflict(`container ${c.rec.Id} is paused, unpause the container before attach`) : undefined;
}

/**
 * `docker rm` without -f refuses a restarting, running or paused container; with -f nothing but
 * a remove already under way stops it. dockerd's words (daemon/delete.go), which scripts match on.
 */
export function canRemove(c: Container, ref: string, force: boolean): BerthError | undefined {
  const id = c.rec.Id;
  if (c.removing) return new Conflict(`removal of container ${ref} is already in progress`);
  if (force) return undefined;
  if (c.restartTimer) return new Conflict(`You cannot remove a restarting container ${id}. Stop the container before attempting removal or force remove`);
  if (c.rec.State.Running) {
    return new Conflict(c.rec.State.Paused
      ? `You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove`
      : `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
  }
  return undefined;
}
