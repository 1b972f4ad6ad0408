// A container's seccomp filter, chosen and built the way dockerd does it (moby daemon/seccomp_linux.go,
// profiles/seccomp/seccomp_linux.go):
//
//   seccomp=unconfined            → no filter
//   --privileged, no profile      → no filter
//   (nothing) or seccomp=builtin  → Docker's default profile (seccomp-default.ts), an allow-list
//   seccomp=<profile JSON>        → that profile (the CLI sends the file's contents), also when privileged
//
// A profile is in moby's format: the OCI LinuxSeccomp fields (defaultAction, defaultErrnoRet,
// architectures, flags, listenerPath, syscalls with names/action/errnoRet/args) plus `archMap`
// (architectures per native arch), a rule's old single `name`, and `includes`/`excludes` filters
// on the container's capabilities, the host's architecture and kernel version. Expanding it
// yields the OCI filter runc installs: the rules whose filters match, the native architecture's
// entry of archMap. Capabilities are the container's set after --cap-add/--cap-drop (Berth's
// bounding, effective and permitted sets are one list; moby reads the bounding set).
//
// The default profile denies everything it does not name with EPERM; runc makes every syscall
// numbered above the newest one the filter names fail with ENOSYS instead, so a kernel's new
// syscalls are refused in a way libc falls back from. Start latency: expanding the default profile
// walks ~450 names, so the result is cached per capability set and architecture, and frozen
// (callers share it).
//
// Architectures (where Berth differs from dockerd on purpose): moby's default profile lists the
// native architecture and all its sub-architectures (x86_64, x86, x32 on an amd64 host), so that
// a 32-bit binary in any container makes its syscalls through the 32-bit ABI under the same rules.
// runc (libseccomp) compiles the filter at every start, once per listed architecture: a `runc run`
// of busybox took 21 ms of CPU unfiltered, 33 ms with the three, 24 ms with x86_64 alone (perf
// task-clock, medians of 60 interleaved runs on a 2-CPU VM). Berth's default filter lists only what the
// container's image is built for (defaultArchitectures): the native architecture, plus the
// sub-architecture the image names (a linux/386 image on amd64 gets x86 too, linux/arm on arm64
// gets arm). A syscall through an architecture the filter does not list meets libseccomp's
// bad-architecture action, which runc 1.1 leaves at its default, SCMP_ACT_KILL (the thread, and
// with it a single-threaded process, dies of SIGSYS): refused, never allowed, so the filter stays
// an allow-list. So a 32-bit binary (or `int 0x80`) inside an amd64 image is killed where Docker
// runs it. A profile of one's own (seccomp=<file>) keeps every architecture it names.
import os from 'node:os';
import { InvalidParameter } from '../errors.ts';
import { goArch } from '../util/platform.ts';
import type { Seccomp, SeccompRule } from '../types/oci-runtime.ts';
import { DEFAULT_PROFILE } from './seccomp-default.ts';
import type { Profile } from './seccomp-profile.ts';

export type { Profile, ProfileRule, ProfileFilter } from './seccomp-profile.ts';

/** What a profile's filters are evaluated against, besides the container's capabilities. */
export interface SeccompHost {
  /** libseccomp's name of the native architecture (moby's goToNative): amd64, arm64, x86, … */
  arch: string;
  /** Kernel version as [kernel, major]; "6.18.44-fc" → [6, 18]. */
  kernel: [number, number];
}

/** GOARCH → libseccomp's native name (moby's goToNative), where the two differ. */
const GO_TO_NATIVE: Record<string, string> = { '386': 'x86', mipsle: 'mipsel', mips64le: 'mipsel64' };
const NATIVE_TO_SECCOMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86', amd64: 'SCMP_ARCH_X86_64', arm: 'SCMP_ARCH_ARM', arm64: 'SCMP_ARCH_AARCH64',
  ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', s390x: 'SCMP_ARCH_S390X', mipsel: 'SCMP_ARCH_MIPSEL',
};

/**
 * An image's architecture (the config's `architecture`, GOARCH spelling) as a libseccomp
 * architecture; moby's archMap names are the keys' counterparts.
 */
const IMAGE_TO_SECCOMP: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64', '386': 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', arm: 'SCMP_ARCH_ARM',
  ppc64le: 'SCMP_ARCH_PPC64LE', s390x: 'SCMP_ARCH_S390X', s390: 'SCMP_ARCH_S390', riscv64: 'SCMP_ARCH_RISCV64',
  mips64le: 'SCMP_ARCH_MIPSEL64', mipsle: 'SCMP_ARCH_MIPSEL', mips64: 'SCMP_ARCH_MIPS64', mips: 'SCMP_ARCH_MIPS',
};

function parseKernel(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** This host, read once at start-up. */
export const hostSeccomp: SeccompHost = { arch: GO_TO_NATIVE[goArch()] ?? goArch(), kernel: parseKernel(os.release()) };

function kernelAtLeast(host: SeccompHost, min: string): boolean {
  const m = /^(\d+)\.(\d+)$/.exec(min);
  if (!m) throw new InvalidParameter(`invalid kernel version: "${min}", expected "<kernel>.<major>"`);
  const [k, j] = [Number(m[1]), Number(m[2])];
  return host.kernel[0] > k || (host.kernel[0] === k && host.kernel[1] >= j);
}

/**
 * Expands a profile for one container (moby's setupSeccomp): undefined when the profile is
 * empty (no defaultAction and no rules: "seccomp disabled" in moby's words).
 */
export function expandProfile(p: Profile, caps: readonly string[], host: SeccompHost = hostSeccomp): Seccomp | undefined {
  if (!p.defaultAction && !p.syscalls?.length) return undefined;
  if (p.architectures?.length && p.archMap?.length) {
    throw new InvalidParameter("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const have = new Set(caps);
  let architectures = p.architectures ?? [];
  const native = NATIVE_TO_SECCOMP[host.arch];
  const entry = native ? p.archMap?.find((a) => a.architecture === native) : undefined;
  if (entry) architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  const syscalls: SeccompRule[] = [];
  for (const r of p.syscalls ?? []) {
    if (r.name && r.names?.length) {
      throw new InvalidParameter("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    }
    const ex = r.excludes;
    if (ex) {
      if (ex.arches?.includes(host.arch)) continue;
      if (ex.caps?.some((c) => have.has(c))) continue;
      if (ex.minKernel && kernelAtLeast(host, ex.minKernel)) continue;
    }
    const inc = r.includes;
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(host.arch)) continue;
      if (inc.caps?.length && !inc.caps.every((c) => have.has(c))) continue;
      if (inc.minKernel && !kernelAtLeast(host, inc.minKernel)) continue;
    }
    const rule: SeccompRule = { names: r.name ? [r.name] : [...(r.names ?? [])], action: r.action };
    if (r.errnoRet !== undefined) rule.errnoRet = r.errnoRet;
    if (r.args?.length) rule.args = r.args.map((a) => ({ ...a }));
    syscalls.push(rule);
  }
  const out: Seccomp = { defaultAction: p.defaultAction, architectures, syscalls };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  if (p.flags?.length) out.flags = [...p.flags];
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * The architectures the default filter lists for a container whose image is built for
 * `imageArch` (see the header): the host's native architecture, which runc needs listed to add
 * its ENOSYS stub and libseccomp adds anyway, and the image's when it is one of the native
 * architecture's sub-architectures in the profile's archMap. A foreign image (arm64 on an amd64
 * host) runs through a binfmt emulator, which makes the native architecture's syscalls; an image
 * that names no architecture is taken as native. A host the archMap does not know gets no list,
 * as in moby (libseccomp's native architecture only).
 */
export function defaultArchitectures(p: Profile, imageArch: string | undefined, host: SeccompHost = hostSeccomp): string[] {
  const native = NATIVE_TO_SECCOMP[host.arch];
  const entry = native ? p.archMap?.find((a) => a.architecture === native) : undefined;
  if (!entry) return [...(p.architectures ?? [])];
  const image = imageArch ? IMAGE_TO_SECCOMP[imageArch] : undefined;
  return image && image !== entry.architecture && entry.subArchitectures?.includes(image) ? [entry.architecture, image] : [entry.architecture];
}

/**
 * Names of the default profile that the x86_64 syscall table does not have (the 32-bit ABIs'
 * *32, *64 and *_time64 variants, socketcall and ipc, other architectures' own calls), checked
 * against Linux 6.19's arch/x86/entry/syscalls/syscall_64.tbl; none can be added there later, as
 * new syscalls get one name on every architecture. A filter that lists x86_64 alone leaves them
 * out: runc would look each up (libseccomp knows them as pseudo-syscalls and drops their rules),
 * so they only lengthened config.json (~1 KB) and runc's work at every start.
 */
const X86_64_LACKS: ReadonlySet<string> = new Set([
  '_llseek', '_newselect', 'arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'chown32', 'clock_adjtime64',
  'clock_getres_time64', 'clock_gettime64', 'clock_nanosleep_time64', 'clock_settime64', 'fadvise64_64', 'fchown32', 'fcntl64',
  'fstat64', 'fstatat64', 'fstatfs64', 'ftruncate64', 'futex_time64', 'getegid32', 'geteuid32', 'getgid32', 'getgroups32',
  'getresgid32', 'getresuid32', 'getuid32', 'io_pgetevents_time64', 'ipc', 'lchown32', 'lstat64', 'mmap2', 'mq_timedreceive_time64',
  'mq_timedsend_time64', 'ppoll_time64', 'pselect6_time64', 'recv', 'recvmmsg_time64', 'riscv_flush_icache', 'rt_sigtimedwait_time64',
  's390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr', 'sched_rr_get_interval_time64', 'semtimedop_time64', 'send',
  'sendfile64', 'set_tls', 'setfsgid32', 'setfsuid32', 'setgid32', 'setgroups32', 'setregid32', 'setresgid32', 'setresuid32',
  'setreuid32', 'setuid32', 'sigprocmask', 'sigreturn', 'socketcall', 'stat64', 'statfs64', 'stime', 'swapcontext',
  'sync_file_range2', 'timer_gettime64', 'timer_settime64', 'timerfd_gettime64', 'timerfd_settime64', 'truncate64', 'ugetrlimit',
  'umount', 'utimensat_time64', 'waitpid',
]);

/** The rules without the names none of the listed architectures has (x86_64 alone, for now); empty rules go. */
function withoutAbsentNames(rules: readonly SeccompRule[], architectures: readonly string[]): SeccompRule[] {
  if (architectures.length !== 1 || architectures[0] !== 'SCMP_ARCH_X86_64') return [...rules];
  const out: SeccompRule[] = [];
  for (const r of rules) {
    const names = r.names.filter((n) => !X86_64_LACKS.has(n));
    if (names.length) out.push({ ...r, names });
  }
  return out;
}

// Containers mostly share a handful of capability sets (the default, +SYS_ADMIN, …) and one or
// two architectures: one entry each.
const defaultCache = new Map<string, Seccomp>();
const DEFAULT_CACHE_MAX = 64;

/**
 * Docker's default filter for a container with these capabilities whose image is built for
 * `imageArch` (GOARCH spelling; undefined: native); cached and frozen.
 */
export function defaultSeccomp(caps: readonly string[], imageArch?: string): Seccomp {
  const architectures = defaultArchitectures(DEFAULT_PROFILE, imageArch);
  const key = `${architectures.join(',')}/${[...caps].sort().join(',')}`;
  let s = defaultCache.get(key);
  if (!s) {
    const full = expandProfile(DEFAULT_PROFILE, caps)!;
    s = deepFreeze({ ...full, architectures, syscalls: withoutAbsentNames(full.syscalls ?? [], architectures) });
    if (defaultCache.size >= DEFAULT_CACHE_MAX) defaultCache.delete(defaultCache.keys().next().value!);
    defaultCache.set(key, s);
  }
  return s;
}

/**
 * Decodes a profile sent with `--security-opt seccomp=…` (at create, so a bad one is a 400 before
 * anything exists, and again at start). Go-lenient like moby's json.Unmarshal into its Seccomp
 * type: unknown fields are ignored, a wrong type is an error.
 */
export function parseProfile(json: string): Profile {
  let p: unknown;
  try {
    p = JSON.parse(json);
  } catch (err) {
    throw new InvalidParameter(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  const fail = (what: string): never => { throw new InvalidParameter(`Decoding seccomp profile failed: ${what}`); };
  if (!p || typeof p !== 'object' || Array.isArray(p)) fail('the profile is not a JSON object');
  const o = p as Record<string, unknown>;
  if (typeof o.defaultAction !== 'string' || !o.defaultAction) fail('defaultAction is required');
  const strings = (v: unknown, field: string): void => {
    if (v != null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) fail(`${field} must be a list of strings`);
  };
  strings(o.architectures, 'architectures');
  strings(o.flags, 'flags');
  if (o.defaultErrnoRet != null && typeof o.defaultErrnoRet !== 'number') fail('defaultErrnoRet must be a number');
  if (o.archMap != null && !Array.isArray(o.archMap)) fail('archMap must be a list');
  if (o.syscalls != null) {
    if (!Array.isArray(o.syscalls)) fail('syscalls must be a list');
    for (const r of o.syscalls as unknown[]) {
      if (!r || typeof r !== 'object') fail('a syscalls entry is not an object');
      const rule = r as Record<string, unknown>;
      if (typeof rule.action !== 'string') fail('a syscalls entry has no action');
      strings(rule.names, 'names');
      if (rule.args != null && !Array.isArray(rule.args)) fail('args must be a list');
      for (const f of [rule.includes, rule.excludes]) {
        if (f == null) continue;
        if (typeof f !== 'object') fail('includes and excludes must be objects');
        const filter = f as Record<string, unknown>;
        strings(filter.caps, 'caps');
        strings(filter.arches, 'arches');
        if (filter.minKernel != null && (typeof filter.minKernel !== 'string' || (filter.minKernel !== '' && !/^\d+\.\d+$/.test(filter.minKernel)))) {
          fail(`invalid kernel version: ${JSON.stringify(filter.minKernel)}, expected "<kernel>.<major>"`);
        }
      }
    }
  }
  return o as unknown as Profile;
}

/**
 * The filter a container runs under (see the table at the top). `profile` is the value of
 * `--security-opt seccomp=`: unconfined, builtin, a profile's JSON, or undefined for the default.
 * `imageArch`: the architecture the container's image is built for, which narrows the default
 * filter's architectures (defaultArchitectures); a profile of one's own keeps its own.
 */
export function containerSeccomp(profile: string | undefined, caps: readonly string[], privileged: boolean, imageArch?: string): Seccomp | undefined {
  if (profile === 'unconfined') return undefined;
  if (profile && profile !== 'builtin') return expandProfile(parseProfile(profile), caps);
  if (privileged && !profile) return undefined;
  return defaultSeccomp(caps, imageArch);
}
