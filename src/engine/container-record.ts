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

import type { ContainerNet } from './networks.ts';
import type { MountPoint } from './volumes.ts';

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

export interface HostConfigView {
  NetworkMode: string;
  AutoRemove: boolean;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  ShmSize: number;
  Sysctls?: Record<string, string> | null;
  OomScoreAdj: number;
  PidMode: string;
  IpcMode: string;
  UTSMode: string;
  ExtraHosts: string[] | null;
  /** null when the client sent none (older records hold []). */
  Dns: string[] | null;
  DnsSearch: string[] | null;
  DnsOptions: string[] | null;
  PortBindings?: Record<string, { HostIp: string; HostPort: string }[] | null> | null;
  PublishAllPorts?: boolean;
}

/** HostConfig's resource limits (validated in resources.ts, mapped in container/oci-spec.ts). */
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
