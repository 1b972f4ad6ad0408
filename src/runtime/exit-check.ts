// Whether an exit report can be believed. conmon writes a container's exit file only after it has
// reaped the container's init process, so when a report arrives that process is gone. A report
// for a container whose init still runs belongs to something else — a previous run of the same
// container seen late, a stray or forged file in the exit directory — and acting on it would
// record an exit that did not happen and then (runtime delete) kill the process that runs.
import { readFile } from 'node:fs/promises';
import type { RuntimeStatus } from './runtime.ts';

/**
 * True when the init process `pid` of the container still runs. The usual answer costs one failed
 * read of /proc/<pid>/stat and no spawn; only when that PID exists (still running, or already
 * reused by another process) is the runtime asked, which knows the process by its start time too.
 */
export async function initStillRuns(pid: number, runtimeState: () => Promise<{ status: RuntimeStatus; pid: number } | undefined>): Promise<boolean> {
  if (!pid || pid < 0) return false;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return false;
  // Field 3, after the command name in parentheses: Z (zombie) or X (dead) have exited.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  const st = await runtimeState().catch(() => undefined);
  return st !== undefined && st.status !== 'stopped' && st.pid === pid;
}
