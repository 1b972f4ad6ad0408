// Resource limits of HostConfig (what `docker run -m/--cpus/--pids-limit/…` and `docker update`
// send) validated as dockerd validates them; container/oci-spec.ts maps them to the OCI spec.
import { cpus } from 'node:os';
import { InvalidParameter } from '../../errors.ts';
import type { ResourceFields } from './record.ts';

export type { ResourceFields };

const MIN_MEMORY = 6 * 1024 * 1024;

/**
 * Refuses what dockerd refuses (daemon/daemon_unix.go verifyPlatformContainerResources). The
 * JSON types were checked before, by the one request decoder (api/decode/containers.ts), with
 * Go's unmarshal texts: a string CpuShares never gets here.
 */
export function validateResources(r: ResourceFields): void {
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
