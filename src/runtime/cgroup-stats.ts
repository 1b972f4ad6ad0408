// One sample of a container's cgroup counters, from cgroup v1 (one hierarchy per controller, as
// on this machine) or v2 (one unified tree), plus the host's CPU time and the network counters of
// the container's namespace (read through its init process).
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export interface CgroupSample {
  read: Date;
  cpuTotalNs: number;
  cpuUserNs: number;
  cpuSystemNs: number;
  perCpuNs: number[];
  systemCpuNs: number;
  onlineCpus: number;
  throttling: { periods: number; throttledPeriods: number; throttledTimeNs: number };
  memoryUsage: number;
  memoryMaxUsage: number;
  memoryLimit: number;
  /** memory.stat's counters under the names dockerd 20.10 reports (a fixed set per cgroup version). */
  memoryStats: Record<string, number>;
  pids: number;
  pidsLimit: number;
  /** v2 (one tree) or v1: dockerd shapes blkio_stats differently for each. */
  cgroupV2: boolean;
  /** Bytes and operations per device and op; v2 has bytes only (`read`/`write`). */
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
  networks: Record<string, { rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number; tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number }>;
}

export interface BlkioEntry { major: number; minor: number; op: string; value: number }

/**
 * The memory.stat counters dockerd 20.10 reports: not the file's lines but the fields of
 * containerd's cgroups metrics (daemon/stats_unix.go statsV1/statsV2), every one present (0 when
 * the kernel lacks it) and none besides (v1's shmem, swap, workingset_* are not among them).
 */
const MEMORY_STAT_V1 = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit', 'hierarchical_memsw_limit',
];
const MEMORY_STAT_V1_ALL = [...MEMORY_STAT_V1, ...MEMORY_STAT_V1.slice(0, 15).map((k) => `total_${k}`)];
const MEMORY_STAT_V2 = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan',
  'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

function pick(all: Record<string, number>, keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, all[k] ?? 0]));
}

/** A v1 blkio file (`8:0 Read 4096` lines, a `Total n` line skipped), the op kept as the kernel spells it, as containerd does. */
function blkioV1(t: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (t ?? '').split('\n')) {
    const [dev, op, value] = line.split(/\s+/);
    const [major, minor] = (dev ?? '').split(':').map(Number);
    if (!op || value === undefined || major === undefined || minor === undefined || Number.isNaN(major)) continue;
    out.push({ major, minor, op, value: Number(value) });
  }
  return out;
}

const ROOT = '/sys/fs/cgroup';
const USER_HZ = 100;

async function text(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then((s) => s.trim(), () => undefined);
}

async function num(path: string): Promise<number> {
  const t = await text(path);
  if (t === undefined || t === 'max') return 0;
  const n = Number(t.split(/\s+/)[0]);
  return Number.isFinite(n) ? n : 0;
}

function keyed(t: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (t ?? '').split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

let v2: boolean | undefined;
async function isV2(): Promise<boolean> {
  v2 ??= (await text(`${ROOT}/cgroup.controllers`)) !== undefined;
  return v2;
}

/** The host's CPU time in ns (all CPUs, all states), as Docker computes system_cpu_usage. */
async function systemCpuNs(): Promise<number> {
  const line = (await text('/proc/stat'))?.split('\n').find((l) => l.startsWith('cpu ')) ?? '';
  const jiffies = line.split(/\s+/).slice(1, 8).reduce((n, x) => n + Number(x), 0);
  return jiffies * (1e9 / USER_HZ);
}

async function networks(pid: number): Promise<CgroupSample['networks']> {
  const out: CgroupSample['networks'] = {};
  if (!pid) return out;
  for (const line of ((await text(`/proc/${pid}/net/dev`)) ?? '').split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!name || rest === undefined || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    out[name.trim()] = { rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!, tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]! };
  }
  return out;
}

/** `cgroupsPath` as given to runc (e.g. `/berth/<id>`); `pid` the container's init process. */
export async function sampleCgroup(cgroupsPath: string, pid: number): Promise<CgroupSample> {
  const rel = cgroupsPath.replace(/^\/+/, '');
  const base = { read: new Date(), systemCpuNs: await systemCpuNs(), onlineCpus: cpus().length, networks: await networks(pid) };
  if (await isV2()) {
    const dir = `${ROOT}/${rel}`;
    const cpu = keyed(await text(`${dir}/cpu.stat`));
    const mem = keyed(await text(`${dir}/memory.stat`));
    const limit = await num(`${dir}/memory.max`);
    const blkio: BlkioEntry[] = [];
    for (const line of ((await text(`${dir}/io.stat`)) ?? '').split('\n')) {
      const [dev, ...kv] = line.split(/\s+/);
      const [major, minor] = (dev ?? '').split(':').map(Number);
      if (major === undefined || minor === undefined || Number.isNaN(major)) continue;
      const m = Object.fromEntries(kv.map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
      blkio.push({ major, minor, op: 'read', value: m.rbytes ?? 0 }, { major, minor, op: 'write', value: m.wbytes ?? 0 });
    }
    return {
      ...base, cpuTotalNs: (cpu.usage_usec ?? 0) * 1000, cpuUserNs: (cpu.user_usec ?? 0) * 1000, cpuSystemNs: (cpu.system_usec ?? 0) * 1000,
      perCpuNs: [], throttling: { periods: cpu.nr_periods ?? 0, throttledPeriods: cpu.nr_throttled ?? 0, throttledTimeNs: (cpu.throttled_usec ?? 0) * 1000 },
      memoryUsage: await num(`${dir}/memory.current`), memoryMaxUsage: await num(`${dir}/memory.peak`), memoryLimit: limit || hostMemory(), memoryStats: pick(mem, MEMORY_STAT_V2),
      pids: await num(`${dir}/pids.current`), pidsLimit: await num(`${dir}/pids.max`), cgroupV2: true, blkio: { serviceBytes: blkio, serviced: [] },
    };
  }
  const at = (ctrl: string, file: string): string => `${ROOT}/${ctrl}/${rel}/${file}`;
  const acct = keyed(await text(at('cpuacct', 'cpuacct.stat')));
  const cpuStat = keyed(await text(at('cpu', 'cpu.stat')));
  const limit = await num(at('memory', 'memory.limit_in_bytes'));
  return {
    ...base,
    cpuTotalNs: await num(at('cpuacct', 'cpuacct.usage')),
    cpuUserNs: (acct.user ?? 0) * (1e9 / USER_HZ),
    cpuSystemNs: (acct.system ?? 0) * (1e9 / USER_HZ),
    perCpuNs: ((await text(at('cpuacct', 'cpuacct.usage_percpu'))) ?? '').split(/\s+/).filter(Boolean).map(Number),
    throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTimeNs: cpuStat.throttled_time ?? 0 },
    memoryUsage: await num(at('memory', 'memory.usage_in_bytes')),
    memoryMaxUsage: await num(at('memory', 'memory.max_usage_in_bytes')),
    // An unlimited v1 cgroup reports a huge number: Docker shows the host's memory then.
    memoryLimit: limit > 0 && limit < hostMemory() ? limit : hostMemory(),
    memoryStats: pick(keyed(await text(at('memory', 'memory.stat'))), MEMORY_STAT_V1_ALL),
    pids: await num(at('pids', 'pids.current')),
    pidsLimit: await num(at('pids', 'pids.max')),
    cgroupV2: false,
    // No CFQ scheduler on today's kernels: containerd falls back to the throttle files, as here.
    blkio: { serviceBytes: blkioV1(await text(at('blkio', 'blkio.throttle.io_service_bytes'))), serviced: blkioV1(await text(at('blkio', 'blkio.throttle.io_serviced'))) },
  };
}

/** The host's memory: what Docker shows as the limit of a container without one. */
function hostMemory(): number {
  return totalmem();
}
