// Resource limits of HostConfig (what `docker run -m/--cpus/--pids-limit/…` and `docker update`
// send) validated as dockerd validates them and mapped to the OCI spec's linux.resources and
// process.rlimits; runc applies them through cgroups v1 or v2, whichever the host has.
import { cpus } from 'node:os';
import { InvalidParameter } from '../errors.ts';
import type { LinuxResources } from '../types/oci-runtime.ts';
import { parseProfile } from '../runtime/seccomp.ts';

export interface ResourceFields {
  Memory?: number | null;
  MemorySwap?: number | null;
  MemoryReservation?: number | null;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  NanoCpus?: number | null;
  CpuShares?: number | null;
  CpuPeriod?: number | null;
  CpuQuota?: number | null;
  CpusetCpus?: string | null;
  CpusetMems?: string | null;
  PidsLimit?: number | null;
  BlkioWeight?: number | null;
  BlkioDeviceReadBps?: { Path: string; Rate: number }[] | null;
  BlkioDeviceWriteBps?: { Path: string; Rate: number }[] | null;
  BlkioDeviceReadIOps?: { Path: string; Rate: number }[] | null;
  BlkioDeviceWriteIOps?: { Path: string; Rate: number }[] | null;
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
}

const MIN_MEMORY = 6 * 1024 * 1024;
const CFS_PERIOD = 100_000;

/** Refuses what dockerd refuses (daemon/daemon_unix.go verifyPlatformContainerResources). */
const INT_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'PidsLimit', 'BlkioWeight', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'KernelMemory', 'ShmSize'] as const;
const STRING_FIELDS = ['CpusetCpus', 'CpusetMems'] as const;
const DEVICE_RATE_FIELDS = ['BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'] as const;

/** JSON types first (Go's decoder would refuse a wrong one): a string CpuShares must not reach runc. */
function checkTypes(r: Record<string, unknown>): void {
  const bad = (f: string, want: string, v: unknown): InvalidParameter =>
    new InvalidParameter(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field HostConfig.${f} of type ${want}`);
  for (const f of INT_FIELDS) {
    const v = r[f];
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isSafeInteger(v))) throw bad(f, 'int64', v);
  }
  for (const f of STRING_FIELDS) {
    const v = r[f];
    if (v !== undefined && v !== null && typeof v !== 'string') throw bad(f, 'string', v);
  }
  if (r.OomKillDisable !== undefined && r.OomKillDisable !== null && typeof r.OomKillDisable !== 'boolean') throw bad('OomKillDisable', 'bool', r.OomKillDisable);
  for (const f of DEVICE_RATE_FIELDS) {
    const v = r[f];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.some((d) => !d || typeof d !== 'object' || typeof (d as { Path?: unknown }).Path !== 'string' || !Number.isSafeInteger((d as { Rate?: unknown }).Rate))) throw bad(f, '[]*blkiodev.ThrottleDevice', v);
  }
  const u = r.Ulimits;
  if (u !== undefined && u !== null && (!Array.isArray(u) || u.some((x) => !x || typeof x !== 'object' || typeof (x as { Name?: unknown }).Name !== 'string' || !Number.isSafeInteger((x as { Soft?: unknown }).Soft) || !Number.isSafeInteger((x as { Hard?: unknown }).Hard)))) {
    throw bad('Ulimits', '[]*units.Ulimit', u);
  }
}

export function validateResources(r: ResourceFields): void {
  checkTypes(r as Record<string, unknown>);
  const mem = r.Memory ?? 0;
  // moby checks `Memory != 0`: a negative limit is refused with the same text
  if (mem !== 0 && mem < MIN_MEMORY) throw new InvalidParameter('Minimum memory limit allowed is 6MB');
  const swap = r.MemorySwap ?? 0;
  if (swap > 0 && mem === 0) throw new InvalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap > 0 && swap < mem) throw new InvalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  const res = r.MemoryReservation ?? 0;
  if (res > 0 && res < MIN_MEMORY) throw new InvalidParameter('Minimum memory reservation allowed is 6MB');
  if (mem > 0 && res > 0 && mem < res) throw new InvalidParameter('Minimum memory limit can not be less than memory reservation limit, see usage');
  const sw = r.MemorySwappiness;
  if (sw !== null && sw !== undefined && sw !== -1 && (sw < 0 || sw > 100)) throw new InvalidParameter(`Invalid value: ${sw}, valid memory swappiness range is 0-100`);
  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) throw new InvalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) throw new InvalidParameter('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const n = cpus().length;
  if (nano < 0 || nano > n * 1e9) throw new InvalidParameter(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  if (nano > 0 && nano < 1e7) throw new InvalidParameter(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw new InvalidParameter('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  const quota = r.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) throw new InvalidParameter('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  const w = r.BlkioWeight ?? 0;
  if (w !== 0 && (w < 10 || w > 1000)) throw new InvalidParameter('Range of blkio weight is from 10 to 1000');
  for (const c of [r.CpusetCpus, r.CpusetMems]) {
    if (c && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(c)) throw new InvalidParameter(`Invalid value ${c} for cpuset cpus/mems`);
  }
  for (const u of r.Ulimits ?? []) {
    if (!ULIMITS.has(u.Name)) throw new InvalidParameter(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard) throw new InvalidParameter(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
}

const ULIMITS = new Set(['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** major:minor of a device node path (for blkio throttles), or undefined. */
export type DeviceNumbers = (path: string) => { major: number; minor: number } | undefined;

/** linux.resources (without devices) for the given limits. */
export function ociResources(r: ResourceFields, dev: DeviceNumbers): LinuxResources {
  const out: LinuxResources = {};
  const mem: NonNullable<LinuxResources['memory']> = {};
  if (r.Memory) mem.limit = r.Memory;
  if (r.MemorySwap) mem.swap = r.MemorySwap; // -1 = unlimited, as in the OCI spec
  else if (r.Memory) mem.swap = r.Memory * 2; // Docker: swap defaults to the same amount again
  if (r.MemoryReservation) mem.reservation = r.MemoryReservation;
  if (r.OomKillDisable) mem.disableOOMKiller = true;
  if (r.MemorySwappiness !== null && r.MemorySwappiness !== undefined && r.MemorySwappiness >= 0) mem.swappiness = r.MemorySwappiness;
  if (Object.keys(mem).length) out.memory = mem;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.CpuShares) cpu.shares = r.CpuShares;
  if (r.NanoCpus) { cpu.period = CFS_PERIOD; cpu.quota = Math.round(r.NanoCpus * CFS_PERIOD / 1e9); }
  if (r.CpuPeriod) cpu.period = r.CpuPeriod;
  if (r.CpuQuota) cpu.quota = r.CpuQuota;
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.PidsLimit && r.PidsLimit > 0) out.pids = { limit: r.PidsLimit };
  const throttle = (list: { Path: string; Rate: number }[] | null | undefined): { major: number; minor: number; rate: number }[] | undefined => {
    if (!list?.length) return undefined;
    return list.map((d) => {
      const n = dev(d.Path);
      if (!n) throw new InvalidParameter(`invalid device path ${d.Path}: not a block device`);
      return { ...n, rate: d.Rate };
    });
  };
  const blk: NonNullable<LinuxResources['blockIO']> = {};
  if (r.BlkioWeight) blk.weight = r.BlkioWeight;
  const rb = throttle(r.BlkioDeviceReadBps); if (rb) blk.throttleReadBpsDevice = rb;
  const wb = throttle(r.BlkioDeviceWriteBps); if (wb) blk.throttleWriteBpsDevice = wb;
  const ri = throttle(r.BlkioDeviceReadIOps); if (ri) blk.throttleReadIOPSDevice = ri;
  const wi = throttle(r.BlkioDeviceWriteIOps); if (wi) blk.throttleWriteIOPSDevice = wi;
  if (Object.keys(blk).length) out.blockIO = blk;
  return out;
}

/**
 * `--security-opt` as moby's parseSecurityOpt reads it: `key=value` (or the deprecated `key:value`),
 * plus the bare `no-new-privileges` and `disable`. seccomp is `unconfined`, `builtin` or a profile's
 * JSON (decoded here, so a bad one fails the create); apparmor names a profile, applied only where the
 * host has AppArmor (runtime/apparmor.ts); label options are accepted and unused (no SELinux).
 */
export function securityOptions(opts: string[] | null | undefined): { seccomp?: string; apparmor?: string; noNewPrivileges: boolean } {
  const out: { seccomp?: string; apparmor?: string; noNewPrivileges: boolean } = { noNewPrivileges: false };
  for (const o of opts ?? []) {
    if (o === 'no-new-privileges') { out.noNewPrivileges = true; continue; }
    if (o === 'disable') continue;
    const i = o.includes('=') ? o.indexOf('=') : o.indexOf(':');
    if (i < 0) throw new InvalidParameter(`invalid --security-opt 1: "${o}"`);
    const key = o.slice(0, i);
    const value = o.slice(i + 1);
    if (key === 'seccomp') {
      if (value && value !== 'unconfined' && value !== 'builtin') parseProfile(value);
      out.seccomp = value || undefined;
    } else if (key === 'apparmor') {
      out.apparmor = value || undefined;
    } else if (key === 'no-new-privileges') {
      // Go's strconv.ParseBool.
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) out.noNewPrivileges = true;
      else if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) out.noNewPrivileges = false;
      else throw new InvalidParameter(`invalid --security-opt 2: "${o}"`);
    } else if (key !== 'label') {
      throw new InvalidParameter(`invalid --security-opt 2: "${o}"`);
    }
  }
  return out;
}

/** process.rlimits for `--ulimit name=soft:hard`. */
export function ociRlimits(r: ResourceFields): { type: string; soft: number; hard: number }[] | undefined {
  if (!r.Ulimits?.length) return undefined;
  return r.Ulimits.map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard }));
}
