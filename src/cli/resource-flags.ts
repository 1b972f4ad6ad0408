// The resource flags `docker run`/`create` and `docker update` share: one table of each flag's
// spec, what update's help says differently, its pflag value type and the Resources field it
// sets. docker/cli declares them twice (container/opts.go and container/update.go) with the same
// value types (opts.MemBytes, opts.NanoCPUs, Uint16, …); declaring them twice here had let
// update's parsing drift from run's (ParseInt for --blkio-weight, no `1/2` for --cpus, an empty
// --memory taken as 0), so both commands now parse through this table.
import type { FlagSpec, Opts } from './flags.ts';
import type { Resources } from '../types/engine-api.ts';
import { parseCPUs, parseUint } from './run-options-parse.ts';
import { ramInBytes } from './size-parse.ts';

export interface ResourceFlag {
  /** the flag as `run --help` and `create --help` show it */
  spec: FlagSpec;
  /** what `update --help` shows differently: docker's update.go words a few flags its own way */
  update?: Partial<FlagSpec>;
  /**
   * where the value goes: HostConfig for run/create, the update body for update. KernelMemory
   * left the Engine API spec, but docker's update still sends it.
   */
  field: keyof Resources | 'KernelMemory';
  /** pflag's Set for the flags that are neither plain ints nor plain strings: throws its message */
  parse?: (v: string) => number;
}

const bytes = (v: string): number => ramInBytes(v);

/** In the order of the fields in update's body (what berth has always sent). */
export const RESOURCE_FLAGS: readonly ResourceFlag[] = [
  {
    spec: { name: 'blkio-weight', type: 'string', value: 'uint16', desc: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
    field: 'BlkioWeight',
    // pflag's Uint16: strconv.ParseUint(s, 0, 16)
    parse: (v) => Number(parseUint(v, 16, 'ParseUint', false)),
  },
  { spec: { name: 'cpuset-cpus', type: 'string', desc: 'CPUs in which to allow execution (0-3, 0,1)' }, field: 'CpusetCpus' },
  { spec: { name: 'cpuset-mems', type: 'string', desc: 'MEMs in which to allow execution (0-3, 0,1)' }, field: 'CpusetMems' },
  { spec: { name: 'cpu-shares', short: 'c', type: 'int', desc: 'CPU shares (relative weight)' }, field: 'CpuShares' },
  { spec: { name: 'memory', short: 'm', type: 'string', value: 'bytes', desc: 'Memory limit' }, field: 'Memory', parse: bytes },
  { spec: { name: 'memory-reservation', type: 'string', value: 'bytes', desc: 'Memory soft limit' }, field: 'MemoryReservation', parse: bytes },
  {
    spec: { name: 'memory-swap', type: 'string', value: 'bytes', desc: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
    update: { desc: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
    field: 'MemorySwap',
    // opts.MemSwapBytes: -1 is "unlimited"
    parse: (v) => (v === '-1' ? -1 : ramInBytes(v)),
  },
  {
    spec: { name: 'kernel-memory', type: 'string', value: 'bytes', desc: 'Kernel memory limit' },
    update: { hidden: true, desc: 'Kernel memory limit (deprecated)' },
    field: 'KernelMemory',
    parse: bytes,
  },
  { spec: { name: 'cpu-period', type: 'int', desc: 'Limit CPU CFS (Completely Fair Scheduler) period' }, field: 'CpuPeriod' },
  { spec: { name: 'cpu-quota', type: 'int', desc: 'Limit CPU CFS (Completely Fair Scheduler) quota' }, field: 'CpuQuota' },
  {
    spec: { name: 'cpu-rt-period', type: 'int', desc: 'Limit CPU real-time period in microseconds' },
    update: { desc: 'Limit the CPU real-time period in microseconds' },
    field: 'CpuRealtimePeriod',
  },
  {
    spec: { name: 'cpu-rt-runtime', type: 'int', desc: 'Limit CPU real-time runtime in microseconds' },
    update: { desc: 'Limit the CPU real-time runtime in microseconds' },
    field: 'CpuRealtimeRuntime',
  },
  { spec: { name: 'cpus', type: 'string', value: 'decimal', desc: 'Number of CPUs' }, field: 'NanoCpus', parse: parseCPUs },
  { spec: { name: 'pids-limit', type: 'int', desc: 'Tune container pids limit (set -1 for unlimited)' }, field: 'PidsLimit' },
];

const byName = new Map(RESOURCE_FLAGS.map((f) => [f.spec.name, f]));

/** A resource flag's spec as run and create show it, for their flag list. */
export function runResourceFlag(name: string): FlagSpec {
  const f = byName.get(name);
  if (!f) throw new Error(`no resource flag --${name}`);
  return f.spec;
}

/** The resource flags as update shows them, in help order (pflag sorts by name). */
export const UPDATE_RESOURCE_FLAGS: FlagSpec[] = RESOURCE_FLAGS.map((f) => ({ ...f.spec, ...f.update }))
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** How a bad value is reported: the flag, the value, and why (the parser's message). */
export type ResourceFlagError = (flag: FlagSpec, value: string, why: string) => Error;

/** The flag as pflag names it in errors: `-m, --memory`, `--cpus`. */
export const shownFlag = (spec: FlagSpec): string => (spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`);

/**
 * One flag's value as its field takes it: the parsed value when given, else the zero value (0,
 * or '' for the cpuset strings). A value its parser refuses goes to `fail`.
 */
export function resourceValue(o: Opts, name: string, fail: ResourceFlagError): number | string {
  const f = byName.get(name);
  if (!f) throw new Error(`no resource flag --${name}`);
  const { spec, parse } = f;
  if (spec.type === 'int') return o.int(name) ?? 0;
  if (!parse) return o.str(name) ?? '';
  if (!o.changed(name)) return 0;
  const v = o.str(name)!;
  try {
    return parse(v);
  } catch (e) {
    throw fail(spec, v, (e as Error).message);
  }
}

/** The fields the table fills: Resources, and the KernelMemory docker still sends. */
export type ResourceFields = Resources & { KernelMemory?: number };

/**
 * Every resource field with its flag's value (zero values for flags not given), in table order.
 * The int and bytes flags fill number fields and the cpuset flags string ones (a unit test checks
 * the table against the generated Resources), hence the one cast.
 */
export function resourceValues(o: Opts, fail: ResourceFlagError): ResourceFields {
  const out: Record<string, number | string> = {};
  for (const f of RESOURCE_FLAGS) out[f.field] = resourceValue(o, f.spec.name, fail);
  return out as ResourceFields;
}
