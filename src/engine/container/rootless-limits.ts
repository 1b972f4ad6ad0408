// Rootless without delegated cgroups (cgroup v1 hosts, like this project's CI machine): runc can
// make no cgroup, so a limit would fail deep inside runc at start ("container could not join or
// create cgroup"), after the container was made. Berth refuses it at create and update instead,
// with a 400 that names the flags and says why. (dockerd rootless ignores such limits with a
// warning; a container silently running without the memory limit it asked for is worse.)
import { InvalidParameter } from '../../errors.ts';
import type { RootlessMode } from '../../sys/rootless.ts';
import type { ResourceFields } from './record.ts';

/** The HostConfig limits that need a cgroup, with the docker run flag each comes from. */
const LIMITS: Array<[keyof ResourceFields, string]> = [
  ['Memory', '--memory'], ['MemorySwap', '--memory-swap'], ['MemoryReservation', '--memory-reservation'],
  ['MemorySwappiness', '--memory-swappiness'], ['OomKillDisable', '--oom-kill-disable'], ['NanoCpus', '--cpus'],
  ['CpuShares', '--cpu-shares'], ['CpuPeriod', '--cpu-period'], ['CpuQuota', '--cpu-quota'], ['CpusetCpus', '--cpuset-cpus'],
  ['CpusetMems', '--cpuset-mems'], ['PidsLimit', '--pids-limit'], ['BlkioWeight', '--blkio-weight'],
  ['BlkioDeviceReadBps', '--device-read-bps'], ['BlkioDeviceWriteBps', '--device-write-bps'],
  ['BlkioDeviceReadIOps', '--device-read-iops'], ['BlkioDeviceWriteIOps', '--device-write-iops'],
];

/**
 * Whether a field asks for a limit: 0, a negative number ("unset" or "unlimited"), false and empty
 * lists do not; except swappiness, where -1 is unset and 0 is a setting (the CLI sends -1).
 */
function asked(k: keyof ResourceFields, v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (typeof v === 'number') return k === 'MemorySwappiness' ? v >= 0 : v > 0;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** Throws a 400 naming each limit asked for when the rootless daemon has no cgroups to apply it. */
export function refuseLimitsWithoutCgroups(mode: RootlessMode | undefined, fields: ResourceFields): void {
  if (!mode || mode.cgroups) return;
  const flags = LIMITS.filter(([k]) => asked(k, fields[k])).map(([, flag]) => flag);
  if (flags.length) throw new InvalidParameter(`rootless berthd cannot apply ${flags.join(', ')}: ${mode.cgroupsWhy}`);
}

/** The refusal of what needs the cgroup freezer (pause, unpause) when there is none. */
export function refuseWithoutFreezer(mode: RootlessMode | undefined, what: string): void {
  if (!mode || mode.cgroups) return;
  throw new InvalidParameter(`rootless berthd cannot ${what} (that needs the cgroup freezer): ${mode.cgroupsWhy}`);
}
