// The one Docker → OCI mapping of a container (moby daemon/oci_linux.go): its record (Config,
// HostConfig, the paths create wrote) and what the start sequence prepared (rootfs, network
// namespace, joined namespaces, /dev/shm, volumes, init) become runtime/spec.ts's SpecInput;
// HostConfig's limits become linux.resources and process.rlimits (runc applies them through
// cgroups v1 or v2), its --security-opt the seccomp, AppArmor and no-new-privileges settings.
// runtime/spec.ts then adds the OCI defaults every container gets (mounts, devices, caps).
// `docker update` maps its new limits here too (ociResources).
import { statSync } from 'node:fs';
import { InvalidParameter } from '../../errors.ts';
import type { LinuxResources } from '../../types/oci-runtime.ts';
import { parseProfile } from '../../runtime/seccomp.ts';
import type { SpecInput } from '../../runtime/spec.ts';
import type { ContainerRecord, ResourceFields } from './record.ts';
import { systemPaths } from './host-config.ts';
import type { JoinedNamespaces } from './namespace-modes.ts';
import { daemonEnvironment } from './process-env.ts';
import type { IdMap } from './context.ts';

/** What the start sequence prepared on the host before the spec is built. */
export interface Prepared {
  rootfs: string;
  /** The parent's link variables (moby setupLinkedContainers). */
  linkEnv: string[];
  netnsPath: string | undefined;
  joined: JoinedNamespaces;
  /** A /dev/shm of its own that others may share (`--ipc shareable`), bound from the container's dir. */
  ownShm: string | undefined;
  init: { source: string; target: string } | undefined;
  volumeMounts: { mounts: NonNullable<SpecInput['extraMounts']>; rootfsPropagation?: string };
  /** The image's architecture (its seccomp filter's); undefined when the image is gone. */
  imageArch: string | undefined;
  cgroupsPath?: string;
  idMap: IdMap | undefined;
}

/** The container's OCI spec input: Docker's settings as runtime/spec.ts takes them. */
export function containerSpecInput(rec: ContainerRecord, p: Prepared): SpecInput {
  const cfg = rec.Config;
  const hc = rec.HostConfig;
  return {
    id: rec.Id,
    rootfs: p.rootfs,
    readonlyRootfs: hc.ReadonlyRootfs,
    args: [rec.Path, ...rec.Args],
    env: daemonEnvironment({ hostname: cfg.Hostname, tty: cfg.Tty, linkEnv: p.linkEnv, env: cfg.Env }), envComplete: true,
    cwd: cfg.WorkingDir || '/',
    user: cfg.User,
    tty: cfg.Tty,
    openStdin: cfg.OpenStdin,
    hostname: cfg.Hostname,
    domainname: cfg.Domainname,
    networkMode: hc.NetworkMode === 'host' ? 'host' : 'private',
    netnsPath: p.netnsPath,
    pidMode: hc.PidMode === 'host' ? 'host' : '',
    ipcMode: hc.IpcMode === 'host' ? 'host' : '',
    ...p.joined,
    ...(p.ownShm ? { shm: p.ownShm } : {}),
    init: p.init,
    utsMode: hc.UTSMode === 'host' ? 'host' : '',
    etcFiles: { hostname: rec.HostnamePath, hosts: rec.HostsPath, resolvConf: rec.ResolvConfPath },
    capAdd: hc.CapAdd ?? undefined,
    capDrop: hc.CapDrop ?? undefined,
    privileged: hc.Privileged,
    ...systemPaths(hc, rec.SystemPathsRecorded === true),
    shmSize: hc.ShmSize || undefined,
    labels: cfg.Labels,
    cgroupsPath: p.cgroupsPath,
    oomScoreAdj: hc.OomScoreAdj || undefined,
    sysctls: hc.Sysctls ?? undefined,
    extraMounts: p.volumeMounts.mounts,
    rootfsPropagation: p.volumeMounts.rootfsPropagation,
    resources: ociResources(hc as ResourceFields, blockDevice),
    rlimits: ociRlimits(hc as ResourceFields),
    ...securityOptions((hc as { SecurityOpt?: string[] | null }).SecurityOpt),
    imageArch: p.imageArch,
    devices: ((hc.Devices ?? []) as { PathOnHost?: string; PathInContainer?: string; CgroupPermissions?: string }[]).map((d) => ({
      pathOnHost: d.PathOnHost ?? '', pathInContainer: d.PathInContainer || d.PathOnHost || '', permissions: d.CgroupPermissions || 'rwm',
    })),
    groupAdd: (hc.GroupAdd as string[] | null | undefined) ?? undefined,
    idMap: p.idMap,
  };
}

const CFS_PERIOD = 100_000;

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

/** major:minor of a block device node on the host (blkio throttles name devices by path). */
export function blockDevice(path: string): { major: number; minor: number } | undefined {
  try {
    const st = statSync(path);
    if (!st.isBlockDevice()) return undefined;
    return { major: Math.floor(st.rdev / 256) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
  } catch {
    return undefined;
  }
}
