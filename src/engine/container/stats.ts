// `docker stats`: samples of a container's cgroup counters in Docker's JSON shape (the shape the
// CLI computes CPU %, memory, net and block I/O from), one per second when streaming.
import { Conflict } from '../../errors.ts';
import { sampleCgroup, type CgroupSample } from '../../runtime/cgroup-stats.ts';
import { sampleProcesses } from '../../runtime/pidns-procs.ts';
import type { ContainerService, Container } from '../containers.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

function cpuStats(s: CgroupSample | undefined): Record<string, unknown> {
  if (!s) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  return {
    cpu_usage: { total_usage: s.cpuTotalNs, ...(s.perCpuNs.length ? { percpu_usage: s.perCpuNs } : {}), usage_in_kernelmode: s.cpuSystemNs, usage_in_usermode: s.cpuUserNs },
    system_cpu_usage: s.systemCpuNs,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: s.throttling.periods, throttled_periods: s.throttling.throttledPeriods, throttled_time: s.throttling.throttledTimeNs },
  };
}

/**
 * dockerd 20.10's blkio_stats: on cgroup v1 every list is made (`[]` when empty) from containerd's
 * metrics; on v2 only io_service_bytes_recursive is known, null when no device has counters.
 */
function blkioStats(s: CgroupSample): Record<string, unknown> {
  const v1 = !s.cgroupV2;
  const none = v1 ? [] : null;
  return {
    io_service_bytes_recursive: s.blkio.serviceBytes.length || v1 ? s.blkio.serviceBytes : null,
    io_serviced_recursive: v1 ? s.blkio.serviced : null,
    io_queue_recursive: none, io_service_time_recursive: none, io_wait_time_recursive: none,
    io_merged_recursive: none, io_time_recursive: none, sectors_recursive: none,
  };
}

/** One stats document: `cur` with `pre` as the previous sample (none for the first). */
export function statsView(c: Container, cur: CgroupSample, pre: CgroupSample | undefined): Record<string, unknown> {
  return {
    read: cur.read.toISOString(),
    preread: pre ? pre.read.toISOString() : ZERO_TIME,
    pids_stats: { current: cur.pids, ...(cur.pidsLimit ? { limit: cur.pidsLimit } : {}) },
    blkio_stats: blkioStats(cur),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(cur),
    precpu_stats: cpuStats(pre),
    memory_stats: { usage: cur.memoryUsage, ...(cur.memoryMaxUsage ? { max_usage: cur.memoryMaxUsage } : {}), stats: cur.memoryStats, limit: cur.memoryLimit },
    name: c.rec.Name,
    id: c.rec.Id,
    networks: cur.networks,
  };
}

/**
 * Stats of a container: `stream` yields one document per second until `signal` aborts or the
 * container stops; otherwise one document (with a previous sample a second earlier, unless
 * `oneShot`). A stopped container gives zeroed documents, as Docker's do.
 */
export async function* containerStats(svc: ContainerService, ref: string, o: { stream: boolean; oneShot: boolean; signal: AbortSignal }): AsyncGenerator<Record<string, unknown>> {
  const c = svc.get(ref);
  if (c.rec.State.Status === 'removing') throw new Conflict(`container ${c.rec.Id} is being removed`);
  const sample = async (): Promise<CgroupSample | undefined> => {
    if (!c.rec.State.Running) return undefined;
    const s = await sampleCgroup(svc.cgroupPathOf(c), c.rec.State.Pid).catch(() => undefined);
    // Rootless without cgroups: the network counters come from the container's interfaces as
    // always; CPU, memory and pids from its processes in /proc (runtime/pidns-procs.ts).
    if (s && !svc.hasCgroups) {
      const p = await sampleProcesses(c.rec.State.Pid);
      Object.assign(s, { pids: p.pids, cpuUserNs: p.cpuUserNs, cpuSystemNs: p.cpuSystemNs, cpuTotalNs: p.cpuUserNs + p.cpuSystemNs, memoryUsage: p.rssBytes });
    }
    return s;
  };
  const wait = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    o.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
  const empty = (): Record<string, unknown> => ({
    read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {},
    cpu_stats: cpuStats(undefined), precpu_stats: cpuStats(undefined), memory_stats: {}, name: c.rec.Name, id: c.rec.Id,
  });
  let pre: CgroupSample | undefined;
  if (!o.stream && !o.oneShot) {
    pre = await sample();
    await wait(1000);
  }
  for (;;) {
    const cur = await sample();
    yield cur ? statsView(c, cur, pre) : empty();
    if (!o.stream || o.signal.aborted || !cur) return;
    pre = cur;
    await wait(1000);
    if (o.signal.aborted) return;
  }
}
