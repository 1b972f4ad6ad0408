// The container state machine's names and the transitions that set them (moby container/state.go).
import type { ContainerStateRecord, ContainerStateName } from './container-record.ts';
import { zeroTime, nowRfc3339 } from './status.ts';

export type { ContainerStateName };

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
