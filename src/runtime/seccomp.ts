// The default seccomp filter: every syscall allowed except those Docker's default profile keeps
// from containers that lack the capability they belong to (kernel modules, clock, mounts and
// namespaces, keyrings, reboot, kexec, bpf, …), which fail with EPERM; clone with namespace flags
// too, and clone3 with ENOSYS so that libc falls back to the filterable clone. Written as a
// deny-list keyed by capability so `--cap-add` lifts exactly the matching part, as in Docker.
import type { Seccomp, SeccompRule } from '../types/oci-runtime.ts';

const EPERM = 1;
const ENOSYS = 38;

/** Syscalls denied unless the container has the capability (none = always denied). */
const DENIED: [cap: string | null, names: string[]][] = [
  [null, ['add_key', 'keyctl', 'request_key', 'kexec_file_load', 'kexec_load', 'nfsservctl', 'get_kernel_syms',
    'query_module', 'uselib', 'userfaultfd', 'vm86', 'vm86old', 'create_module', 'ustat', 'sysfs', '_sysctl']],
  ['CAP_SYS_ADMIN', ['mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'swapon', 'swapoff', 'quotactl', 'quotactl_fd',
    'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr', 'name_to_handle_at', 'bpf',
    'fanotify_init', 'lookup_dcookie', 'perf_event_open']],
  ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
  ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
  ['CAP_SYS_TIME', ['settimeofday', 'stime', 'clock_settime', 'clock_settime64', 'adjtimex', 'clock_adjtime', 'clock_adjtime64']],
  ['CAP_SYS_BOOT', ['reboot']],
  ['CAP_SYS_PACCT', ['acct']],
  ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
  ['CAP_SYS_NICE', ['get_mempolicy', 'mbind', 'set_mempolicy', 'move_pages']],
  ['CAP_SYSLOG', ['syslog']],
];

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET, one rule per bit. */
const CLONE_NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

const ARCHES: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  arm64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
};

export function defaultSeccomp(caps: string[]): Seccomp {
  const have = new Set(caps);
  const names = DENIED.filter(([cap]) => cap === null || !have.has(cap)).flatMap(([, n]) => n);
  const syscalls: SeccompRule[] = [{ names: [...new Set(names)].sort(), action: 'SCMP_ACT_ERRNO', errnoRet: EPERM }];
  if (!have.has('CAP_SYS_ADMIN')) {
    for (const bit of CLONE_NS_FLAGS) {
      syscalls.push({ names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, args: [{ index: 0, value: bit, valueTwo: bit, op: 'SCMP_CMP_MASKED_EQ' }] });
    }
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHES[process.arch] ?? [], syscalls };
}

/**
 * A profile given with `--security-opt seccomp=<file>` (the CLI sends its contents): Docker's
 * profile format, whose core (defaultAction, syscalls with names/action/args/errnoRet,
 * architectures) is the OCI one.
 */
export function customSeccomp(json: string): Seccomp {
  let p: { defaultAction?: string; architectures?: string[]; archMap?: { architecture: string; subArchitectures?: string[] }[]; syscalls?: (SeccompRule & { name?: string })[] };
  try {
    p = JSON.parse(json) as typeof p;
  } catch (err) {
    throw new Error(`Decoding seccomp profile failed: ${(err as Error).message}`);
  }
  if (!p.defaultAction) throw new Error('Decoding seccomp profile failed: defaultAction is required');
  const archs = p.architectures ?? (p.archMap ?? []).flatMap((a) => [a.architecture, ...(a.subArchitectures ?? [])]);
  return {
    defaultAction: p.defaultAction,
    architectures: archs,
    syscalls: (p.syscalls ?? []).map((s) => ({
      names: s.names ?? (s.name ? [s.name] : []), action: s.action,
      ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}), ...(s.args?.length ? { args: s.args } : {}),
    })),
  };
}
