// A container's metadata as persisted in `<data-root>/containers/<id>/config.v2.json`.
// Field names are Docker's inspect names, so inspect is a projection, not a translation.
export type ContainerStateName = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerStateRecord {
  Status: ContainerStateName;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

import type { HostConfig, Resources, ThrottleDevice } from '../../types/engine-api.ts';
import type { ContainerNet } from '../networks.ts';
import type { MountPoint } from '../volumes.ts';

export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerStateRecord;
  /** Image ID (`sha256:…`); `Config.Image` keeps the reference as the user gave it. */
  Image: string;
  Name: string;
  RestartCount: number;
  /** Stopped or killed by hand: restart policies (but `always` at boot) leave it alone. */
  HasBeenManuallyStopped?: boolean;
  LogPath: string;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  Config: ContainerConfig;
  HostConfig: Record<string, unknown> & HostConfigView;
  /** Endpoints, sandbox and published ports (absent in records of berthd before networking). */
  NetworkSettings?: ContainerNet;
  /** Volumes, binds and tmpfs mounts, decided at create. */
  Mounts?: MountPoint[];
  /**
   * Berth's own: HostConfig.MaskedPaths/ReadonlyPaths are the lists the start applies ([] = none,
   * `--security-opt systempaths=unconfined`). Absent in older records, whose [] meant the defaults.
   */
  SystemPathsRecorded?: true;
}

/** The Config fields the engine itself reads; the rest are kept as given. */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  [k: string]: unknown;
}

/** A field Go's lenient decoder lets through as `null` (the zero value) where the spec says none. */
type OrNull<T> = { [K in keyof T]: T[K] | null };

/**
 * The HostConfig fields the engine reads, as create records them (container/create-config.ts):
 * the generated HostConfig's, made required where create always sets them. The restart policy's
 * name and the port bindings' fields are plain strings here: they are recorded as given and
 * checked by restart-policy.ts and port-spec.ts, not narrowed by the type.
 */
export type HostConfigView = Required<Pick<HostConfig, 'NetworkMode' | 'AutoRemove' | 'Privileged' | 'ReadonlyRootfs' | 'CapAdd'
  | 'CapDrop' | 'ShmSize' | 'OomScoreAdj' | 'PidMode' | 'IpcMode' | 'UTSMode' | 'ExtraHosts'
  /** null when the client sent none (older records hold []). */
  | 'Dns' | 'DnsSearch' | 'DnsOptions'>>
  & Pick<HostConfig, 'Sysctls' | 'PublishAllPorts'>
  & {
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  };

/**
 * HostConfig's resource limits (validated in resources.ts, mapped in container/oci-spec.ts): the
 * generated Resources' fields Berth applies, each possibly null as a decoded body has it. A
 * device throttle's and a ulimit's fields are all there: the decoder refuses a list with one
 * missing (api/decode/containers.ts resourceTypeError), as Go's types would.
 */
export type ResourceFields = OrNull<Pick<Resources, 'Memory' | 'MemorySwap' | 'MemoryReservation' | 'MemorySwappiness'
  | 'OomKillDisable' | 'NanoCpus' | 'CpuShares' | 'CpuPeriod' | 'CpuQuota' | 'CpusetCpus' | 'CpusetMems' | 'PidsLimit'
  | 'BlkioWeight'>>
  & { [K in 'BlkioDeviceReadBps' | 'BlkioDeviceWriteBps' | 'BlkioDeviceReadIOps' | 'BlkioDeviceWriteIOps']?: Required<ThrottleDevice>[] | null }
  & { Ulimits?: Required<NonNullable<Resources['Ulimits']>[number]>[] | null };
