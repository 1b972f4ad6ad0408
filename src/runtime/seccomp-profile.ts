// The seccomp profile format Docker reads (moby profiles/seccomp/seccomp.go): the OCI LinuxSeccomp
// fields, plus archMap (architectures per native arch), a rule's old single `name`, a comment, and
// includes/excludes filters on the container's capabilities and the host's architecture and kernel.
// runtime/seccomp.ts expands it into the OCI filter; runtime/seccomp-default.ts is Docker's default.
import type { SeccompArg } from '../types/oci-runtime.ts';

/** includes/excludes: every listed condition must hold (caps all present, arch among, kernel at least). */
export interface ProfileFilter { caps?: string[] | null; arches?: string[] | null; minKernel?: string | null }

export interface ProfileRule {
  names?: string[] | null;
  /** Profiles older than Docker 1.12 name one syscall per rule. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: ProfileFilter | null;
  excludes?: ProfileFilter | null;
}

export interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[] | null;
  archMap?: { architecture: string; subArchitectures?: string[] | null }[] | null;
  flags?: string[] | null;
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: ProfileRule[] | null;
}
