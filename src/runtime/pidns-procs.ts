// A container's processes found through its pid namespace, for a rootless berthd without cgroups
// (cgroup v1 hosts): `runc ps` lists a container's cgroup, and such a container has none. Every
// process whose /proc/PID/ns/pid is the container init's namespace belongs to it, and so does
// every descendant of one (a pid namespace nested inside, made with CAP_SYS_ADMIN, is the
// container's too, as its cgroup would hold it).
//
// The same list stands in for the cgroup freezer while berthd copies files in and out of a running
// container (engine/container/copy-freeze.ts, the CVE-2018-15664 defence): each process gets
// SIGSTOP, and the processes are scanned again until none is left running. A stopped process
// cannot rename or replace anything. The stop is judged by every thread (a process whose main
// thread has exited shows as a zombie while its other threads run), and it ends only after two
// scans in a row find every thread stopped with the same context-switch counts: a process that was
// continued in between (a container can send SIGCONT to its own processes, then stop itself) has
// run, and its counts show it. Unlike the freezer the stop is visible (a parent waiting with
// WUNTRACED sees it), so it is used only where there is no freezer; processes stopped before are
// left stopped at the thaw.
import { readdir, readFile, readlink } from 'node:fs/promises';

/** Pids of every process of the container whose init is `initPid`: its pid namespace and their descendants, init first. */
export async function pidnsProcesses(initPid: number): Promise<number[]> {
  const ns = await readlink(`/proc/${initPid}/ns/pid`);
  const members = new Set<number>([initPid]);
  const children = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === initPid) continue;
    if ((await readlink(`/proc/${name}/ns/pid`).catch(() => '')) === ns) members.add(pid);
    const ppid = ppidOf(await readFile(`/proc/${name}/stat`, 'utf8').catch(() => ''));
    if (ppid > 0) (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(pid);
  }
  const out = [...members];
  for (let i = 0; i < out.length; i++) {
    for (const c of children.get(out[i]!) ?? []) {
      if (!members.has(c)) { members.add(c); out.push(c); }
    }
  }
  return out;
}

/** Fields of /proc/PID/stat after the command's closing parenthesis (the name may hold spaces or ')'): [0] is the state. */
function statFields(stat: string): string[] {
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : [];
}

function ppidOf(stat: string): number {
  return Number(statFields(stat)[1] ?? 0);
}

/** Each thread of a process: its state letter and how often it has been switched out. */
async function threadsOf(pid: number): Promise<Array<{ state: string; switches: string }>> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  return Promise.all(tids.map(async (tid) => {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => ''),
      readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => ''),
    ]);
    const sw = /voluntary_ctxt_switches:\s*(\d+)[\s\S]*nonvoluntary_ctxt_switches:\s*(\d+)/.exec(status);
    return { state: statFields(stat)[0] ?? '', switches: sw ? `${sw[1]}/${sw[2]}` : '' };
  }));
}

const GONE = new Set(['', 'Z', 'X', 'x']);
const STOPPED = new Set(['T', 't']);
const ROUNDS = 100;

/**
 * Stops every process of the container with SIGSTOP; resolves with the pids this call stopped
 * (to continue at the thaw) once two scans in a row find every thread stopped and none has run
 * in between. Throws (having continued what it stopped) when that does not happen in ROUNDS scans.
 */
export async function stopNamespace(initPid: number): Promise<number[]> {
  const stopped = new Set<number>();
  /** Processes already stopped when first seen: the user's, left stopped. */
  const stoppedBefore = new Set<number>();
  const seen = new Set<number>();
  let previous = '';
  for (let round = 0; round < ROUNDS; round++) {
    let running = false;
    const snapshot: string[] = [];
    for (const pid of await pidnsProcesses(initPid).catch(() => [] as number[])) {
      const threads = (await threadsOf(pid)).filter((t) => !GONE.has(t.state));
      if (!threads.length) continue;
      const allStopped = threads.every((t) => STOPPED.has(t.state));
      if (!seen.has(pid)) {
        seen.add(pid);
        if (allStopped) stoppedBefore.add(pid);
      }
      snapshot.push(`${pid}:${threads.map((t) => `${t.state}${t.switches}`).join(',')}`);
      if (allStopped) continue;
      running = true;
      // To the thread group: every thread stops, also when the main thread is gone.
      try { process.kill(pid, 'SIGSTOP'); } catch { continue; }
      if (!stoppedBefore.has(pid)) stopped.add(pid);
    }
    const now = snapshot.join(' ');
    if (!running && now === previous) return [...stopped];
    previous = running ? '' : now;
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
