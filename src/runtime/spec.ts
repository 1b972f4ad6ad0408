// Docker's container configuration → an OCI runtime spec for runc, with Docker's defaults
// (moby oci/defaults.go, daemon/oci_linux.go): namespaces, mounts, masked paths, capabilities.
// Pure apart from reading the rootfs's passwd/group and the host's capability bounding set.
import { readFileSync } from 'node:fs';
import type { Spec, Process, Mount, Namespace, LinuxResources } from '../types/oci-runtime.ts';
import { InvalidParameter } from '../errors.ts';
import { resolveUser, resolveGroups } from '../util/user.ts';
import { hostDevice, hostDevices } from './devices.ts';
import { containerSeccomp } from './seccomp.ts';
import { containerAppArmor } from './apparmor.ts';

export interface SpecInput {
  id: string;
  rootfs: string;
  readonlyRootfs?: boolean;
  args: string[];
  env: string[];
  /**
   * The env is already the daemon's whole list (moby CreateDaemonEnvironment: PATH, HOSTNAME and
   * TERM in it unless Config.Env unset them): only HOME is added, as runc adds it.
   */
  envComplete?: boolean;
  cwd: string;
  user: string;
  tty: boolean;
  openStdin: boolean;
  hostname: string;
  domainname?: string;
  networkMode: 'none' | 'host' | 'private';
  /** Join this network namespace (a named netns, or another container's) instead of a new one. */
  netnsPath?: string;
  pidMode?: 'host' | '';
  /** Join this PID namespace (`--pid container:X`: /proc/<pid>/ns/pid of X) instead of a new one. */
  pidPath?: string;
  ipcMode?: 'host' | '';
  /** Join this IPC namespace (`--ipc container:X`) instead of a new one. */
  ipcPath?: string;
  /**
   * /dev/shm: absent = a tmpfs of the container's own (shmSize); null = none (`--ipc none`);
   * a path = bind that (`--ipc host`: the host's; `--ipc container:X`: X's).
   */
  shm?: string | null;
  /** Run this init binary (tini) as PID 1, bound read-only at `initTarget`, in front of `args`. */
  init?: { source: string; target: string };
  utsMode?: 'host' | '';
  etcFiles: { hostname?: string; hosts?: string; resolvConf?: string };
  extraMounts?: { source: string; destination: string; type: string; options: string[] }[];
  /** `shared`/`rslave` when a bind asks for that propagation (moby WithMounts), else runc's default. */
  rootfsPropagation?: string;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** linux.maskedPaths / readonlyPaths: the container's recorded lists; absent = the defaults (none when privileged). */
  maskedPaths?: string[];
  readonlyPaths?: string[];
  shmSize?: number;
  labels?: Record<string, string>;
  /** Absent: no cgroup (rootless without delegated cgroups; runc's rootless manager then makes none). */
  cgroupsPath?: string;
  oomScoreAdj?: number;
  sysctls?: Record<string, string>;
  /** Limits (memory, cpu, pids, blockIO); devices are the spec's own. */
  resources?: Omit<LinuxResources, 'devices'>;
  rlimits?: { type: string; soft: number; hard: number }[];
  /** `unconfined`, a profile's JSON (`--security-opt seccomp=…`), or the default filter when absent. */
  seccomp?: string;
  /** The image's architecture (GOARCH spelling): the default seccomp filter lists only what it needs. */
  imageArch?: string;
  /** `--security-opt apparmor=<profile>`; applied only where the host has AppArmor (runtime/apparmor.ts). */
  apparmor?: string;
  noNewPrivileges?: boolean;
  /** `--device host[:container[:perms]]`. */
  devices?: { pathOnHost: string; pathInContainer: string; permissions: string }[];
  /** `--group-add`. */
  groupAdd?: string[];
  /** userns-remap: a user namespace mapping container ids 0..size to these host ids. */
  idMap?: { uid: number; gid: number; size: number };
}

export const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const defaultCaps = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Capability numbers (linux/capability.h) → names, for the host bounding set. */
const capNames = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
].map((n) => `CAP_${n}`);

export const maskedPaths = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

let hostBounding: Set<string> | undefined;

/**
 * The capabilities this host lets a process hold. Asking runc for more fails the start
 * ("unable to apply caps"): this VM's root lacks CAP_SYS_RESOURCE, for one.
 */
export function hostCapabilities(): Set<string> {
  if (hostBounding) return hostBounding;
  const status = readFileSync('/proc/self/status', 'utf8');
  const hex = /^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? 'ffffffffff';
  const mask = BigInt(`0x${hex}`);
  hostBounding = new Set(capNames.filter((_, i) => (mask >> BigInt(i)) & 1n));
  return hostBounding;
}

function normalizeCap(c: string): string {
  const up = c.toUpperCase();
  return up === 'ALL' ? 'ALL' : up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** Docker's cap-add/cap-drop rules (moby oci/caps TweakCapabilities), bounded by the host. */
export function capabilities(add: string[] = [], drop: string[] = [], privileged = false): string[] {
  const host = hostCapabilities();
  const adds = add.map(normalizeCap);
  const drops = drop.map(normalizeCap);
  for (const c of [...adds, ...drops]) {
    if (c !== 'ALL' && !capNames.includes(c)) throw new InvalidParameter(`unknown capability: "${c}"`);
  }
  let caps: string[];
  if (privileged || adds.includes('ALL')) caps = [...capNames];
  else if (drops.includes('ALL')) caps = adds;
  else caps = [...defaultCaps.filter((c) => !drops.includes(c)), ...adds.filter((c) => !defaultCaps.includes(c))];
  if (!privileged && adds.includes('ALL')) caps = caps.filter((c) => !drops.includes(c));
  return [...new Set(caps)].filter((c) => host.has(c));
}

function envWithDefaults(env: string[], o: { hostname: string; tty: boolean; home: string; complete?: boolean }): string[] {
  const has = (k: string): boolean => env.some((e) => e.split('=')[0] === k);
  const out = [...env];
  if (o.complete) {
    if (!has('HOME')) out.push(`HOME=${o.home}`);
    return out;
  }
  if (!has('PATH')) out.unshift(`PATH=${defaultPath}`);
  if (!has('HOSTNAME')) out.push(`HOSTNAME=${o.hostname}`);
  if (o.tty && !has('TERM')) out.push('TERM=xterm');
  if (!has('HOME')) out.push(`HOME=${o.home}`);
  return out;
}

export async function buildSpec(input: SpecInput): Promise<Spec> {
  const user = await resolveUser(input.rootfs, input.user);
  user.additionalGids = [...new Set([...user.additionalGids, ...(await resolveGroups(input.rootfs, input.groupAdd ?? []))])];
  const caps = capabilities(input.capAdd, input.capDrop, input.privileged);
  const process: Process = {
    terminal: input.tty,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.length ? user.additionalGids : undefined },
    args: input.args,
    env: envWithDefaults(input.env, { hostname: input.hostname, tty: input.tty, home: user.home, complete: input.envComplete }),
    cwd: input.cwd || '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: false,
    oomScoreAdj: input.oomScoreAdj,
    rlimits: input.rlimits,
  };
  if (input.noNewPrivileges) process.noNewPrivileges = true;
  const apparmorProfile = containerAppArmor(input.apparmor, input.privileged ?? false);
  if (apparmorProfile) process.apparmorProfile = apparmorProfile;
  // --privileged gets every host device; --device the ones named.
  const devices = input.privileged ? hostDevices() : (input.devices ?? []).map((d) => {
    const dev = hostDevice(d.pathOnHost, d.pathInContainer);
    if (!dev) throw new InvalidParameter(`error gathering device information while adding custom device "${d.pathOnHost}": not a device node`);
    return { dev, access: d.permissions || 'rwm' };
  });
  const seccomp = containerSeccomp(input.seccomp, caps, input.privileged ?? false, input.imageArch);
  const namespaces: Namespace[] = [{ type: 'mount' }];
  if (input.pidMode !== 'host') namespaces.push(input.pidPath ? { type: 'pid', path: input.pidPath } : { type: 'pid' });
  if (input.ipcMode !== 'host') namespaces.push(input.ipcPath ? { type: 'ipc', path: input.ipcPath } : { type: 'ipc' });
  if (input.utsMode !== 'host') namespaces.push({ type: 'uts' });
  if (input.idMap) namespaces.push({ type: 'user' });
  if (input.networkMode !== 'host') namespaces.push(input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' });
  const priv = input.privileged ?? false;
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    // In a user namespace, sysfs can only be mounted for a network namespace it owns; the
    // container joins one made beforehand (or the host's), so /sys is bound instead, as moby does.
    input.idMap && (input.netnsPath || input.networkMode === 'host')
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', priv ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', priv ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  // moby oci_linux.go: no /dev/shm with --ipc none, another's (bound) when shared, else its own.
  if (typeof input.shm === 'string') mounts.push({ destination: '/dev/shm', type: 'bind', source: input.shm, options: ['rbind', 'rprivate'] });
  else if (input.shm !== null) mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${input.shmSize ?? 64 * 1024 * 1024}`] });
  const etc: [string, string | undefined][] = [
    ['/etc/resolv.conf', input.etcFiles.resolvConf], ['/etc/hostname', input.etcFiles.hostname], ['/etc/hosts', input.etcFiles.hosts],
  ];
  for (const [dest, src] of etc) {
    if (src) mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate'] });
  }
  for (const m of input.extraMounts ?? []) mounts.push({ destination: m.destination, type: m.type, source: m.source, options: m.options });
  if (input.init) {
    // moby: `<init> -- <command>`, the binary bound read-only over whatever the image has there.
    process.args = [input.init.target, '--', ...process.args];
    mounts.push({ destination: input.init.target, type: 'bind', source: input.init.source, options: ['bind', 'ro'] });
  }
  return {
    ociVersion: '1.0.2-dev',
    process,
    root: { path: input.rootfs, readonly: input.readonlyRootfs ?? false },
    hostname: input.utsMode === 'host' ? undefined : input.hostname,
    domainname: input.utsMode === 'host' || !input.domainname ? undefined : input.domainname,
    mounts,
    annotations: input.labels && Object.keys(input.labels).length ? { ...input.labels } : undefined,
    linux: {
      namespaces,
      ...(input.idMap ? {
        uidMappings: [{ containerID: 0, hostID: input.idMap.uid, size: input.idMap.size }],
        gidMappings: [{ containerID: 0, hostID: input.idMap.gid, size: input.idMap.size }],
      } : {}),
      cgroupsPath: input.cgroupsPath,
      ...(input.rootfsPropagation ? { rootfsPropagation: input.rootfsPropagation } : {}),
      resources: {
        ...(input.resources ?? {}),
        devices: priv ? [{ allow: true, access: 'rwm' }] : [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: null, minor: null, access: 'm' },
          { allow: true, type: 'b', major: null, minor: null, access: 'm' },
          ...devices.map((d) => ('dev' in d ? { allow: true, type: d.dev.type as 'c' | 'b', major: d.dev.major, minor: d.dev.minor, access: d.access } : undefined)).filter((x) => x !== undefined),
        ],
      },
      sysctl: input.sysctls && Object.keys(input.sysctls).length ? input.sysctls : undefined,
      seccomp,
      devices: devices.length ? devices.map((d) => ('dev' in d ? d.dev : d)) : undefined,
      maskedPaths: priv ? undefined : input.maskedPaths ?? maskedPaths,
      readonlyPaths: priv ? undefined : input.readonlyPaths ?? readonlyPaths,
    },
  };
}

/** The process of an exec session: the container's spec with the exec's argv, env, user, cwd. */
export async function buildExecProcess(input: {
  args: string[]; env: string[]; envComplete?: boolean; cwd: string; user: string; tty: boolean; rootfs: string; baseSpec: Spec; privileged?: boolean;
}): Promise<Process> {
  const user = await resolveUser(input.rootfs, input.user);
  const base = input.baseSpec.process;
  const privCaps = capabilities([], [], true);
  const hostname = input.baseSpec.hostname ?? '';
  return {
    terminal: input.tty,
    user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids.length ? user.additionalGids : undefined },
    args: input.args,
    env: envWithDefaults(input.env, { hostname, tty: input.tty, home: user.home, complete: input.envComplete }),
    cwd: input.cwd || '/',
    capabilities: input.privileged ? { bounding: privCaps, effective: privCaps, permitted: privCaps } : base.capabilities,
    noNewPrivileges: base.noNewPrivileges,
    oomScoreAdj: base.oomScoreAdj,
  };
}
