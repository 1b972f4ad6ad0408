// A container's processes found through its pid namespace, for a rootless berthd without cgroups
// (cgroup v1 hosts): `runc ps` lists a container's cgroup, and such a container has none. Every
// process whose /proc/PID/ns/pid is the container init's namespace belongs to it (a process in a
// namespace nested inside is not listed: the same as what `docker top` shows of its cgroup only
// when it stays in it).
//
// The same list stands in for the cgroup freezer while berthd copies files in and out of a running
// container (engine/container/copy-freeze.ts, the CVE-2018-15664 defence): each process gets
// SIGSTOP, and the namespace is scanned again until no process in it is left running, so one that
// forked meanwhile is stopped too. A stopped process cannot rename or replace anything. Unlike the
// freezer it is visible (a parent waiting with WUNTRACED sees the stop), so it is used only where
// there is no freezer; processes that were stopped already are left stopped at the thaw.
import { readdir, readFile, readlink } from 'node:fs/promises';

/** Pids of every process in the pid namespace of `initPid`, init first. */
export async function pidnsProcesses(initPid: number): Promise<number[]> {
  const ns = await readlink(`/proc/${initPid}/ns/pid`);
  const out: number[] = [initPid];
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === initPid) continue;
    if ((await readlink(`/proc/${name}/ns/pid`).catch(() => '')) === ns) out.push(pid);
  }
  return out;
}

/** A process's state letter from /proc/PID/stat (R, S, D, T, Z…), or '' once it is gone. */
async function stateOf(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name is in parentheses and may hold spaces or ')': the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

const ROUNDS = 50;

/**
 * Stops every process of the namespace with SIGSTOP; resolves with the pids this call stopped
 * (to continue at the thaw). Throws when processes keep appearing for ROUNDS scans.
 */
export async function stopNamespace(initPid: number): Promise<number[]> {
  const stopped = new Set<number>();
  const before = new Map<number, string>();
  for (let round = 0; round < ROUNDS; round++) {
    let running = 0;
    for (const pid of await pidnsProcesses(initPid)) {
      const st = await stateOf(pid);
      if (!before.has(pid)) before.set(pid, st);
      if (st === '' || st === 'Z' || st === 'X' || st === 'T' || st === 't') continue;
      running++;
      try { process.kill(pid, 'SIGSTOP'); } catch { continue; }
      // Stopped by the user before this freeze: left stopped at the thaw.
      if (before.get(pid) !== 'T') stopped.add(pid);
    }
    if (running === 0) return [...stopped];
    // A stop takes effect when the process next returns to user space: let it.
    await new Promise((r) => setTimeout(r, round < 5 ? 1 : 10));
  }
  continueProcesses([...stopped]);
  throw new Error(`processes of the container kept running after ${ROUNDS} rounds of SIGSTOP`);
}

/** Continues what stopNamespace stopped. */
export function continueProcesses(pids: number[]): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
  }
}

/** What /proc tells of a container without a cgroup: its processes' count, CPU times and resident memory. */
export interface ProcessesSample { pids: number; cpuUserNs: number; cpuSystemNs: number; rssBytes: number }

/** The kernel's USER_HZ (clock ticks in /proc/PID/stat): 100 on every Linux architecture Berth runs on. */
const TICK_NS = 1e9 / 100;
const PAGE = 4096;

/**
 * Sums the namespace's processes: utime and stime (fields 14 and 15 of /proc/PID/stat, after the
 * command's parentheses) and resident pages (/proc/PID/statm's second field). A process that exits
 * meanwhile is left out; the sum is what `docker stats` can show rootless on cgroup v1.
 */
export async function sampleProcesses(initPid: number): Promise<ProcessesSample> {
  const out: ProcessesSample = { pids: 0, cpuUserNs: 0, cpuSystemNs: 0, rssBytes: 0 };
  for (const pid of await pidnsProcesses(initPid).catch(() => [] as number[])) {
    const [stat, statm] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''), readFile(`/proc/${pid}/statm`, 'utf8').catch(() => '')]);
    if (!stat) continue;
    // After ") ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.pids++;
    out.cpuUserNs += Number(f[11] ?? 0) * TICK_NS;
    out.cpuSystemNs += Number(f[12] ?? 0) * TICK_NS;
    out.rssBytes += Number(statm.split(' ')[1] ?? 0) * PAGE;
  }
  return out;
}
