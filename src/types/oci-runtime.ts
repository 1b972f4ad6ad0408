// OCI runtime-spec (v1.0.2, what runc 1.1 implements) types: only the parts Berth writes.
// Section names follow the spec's config.md and config-linux.md.

/** config.md "Process" */
export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: {
    bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[];
  };
  rlimits?: { type: string; hard: number; soft: number }[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

/** config.md "Mounts" */
export interface Mount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
}

/** config-linux.md "Namespaces" */
export interface Namespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  path?: string;
}

/** config-linux.md "Devices" and "Device allowlist" */
export interface LinuxDevice {
  path: string; type: 'c' | 'b' | 'u' | 'p'; major: number; minor: number; fileMode?: number; uid?: number; gid?: number;
}
export interface DeviceCgroupRule { allow: boolean; type?: 'a' | 'c' | 'b'; major?: number | null; minor?: number | null; access?: string }

/** config-linux.md "Control groups" resources */
export interface LinuxResources {
  devices?: DeviceCgroupRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; disableOOMKiller?: boolean; swappiness?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    throttleReadBpsDevice?: ThrottleDevice[];
    throttleWriteBpsDevice?: ThrottleDevice[];
    throttleReadIOPSDevice?: ThrottleDevice[];
    throttleWriteIOPSDevice?: ThrottleDevice[];
  };
}

export interface ThrottleDevice { major: number; minor: number; rate: number }

export interface SeccompArg { index: number; value: number; valueTwo?: number; op: string }
export interface SeccompRule { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }
export interface Seccomp {
  defaultAction: string; defaultErrnoRet?: number; architectures?: string[]; flags?: string[];
  listenerPath?: string; listenerMetadata?: string; syscalls?: SeccompRule[];
}

export interface IdMapping { containerID: number; hostID: number; size: number }

export interface Linux {
  namespaces: Namespace[];
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  sysctl?: Record<string, string>;
  seccomp?: Seccomp;
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
}

/** config.md top level */
export interface Spec {
  ociVersion: string;
  process: Process;
  root: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts: Mount[];
  annotations?: Record<string, string>;
  linux: Linux;
}
