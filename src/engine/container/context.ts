// What the container modules share: the record store, the per-container lock, the host seam
// (engine/host.ts: every runtime call and mount goes through `runtime` and `mounts`), the
// services a container uses, and the daemon-wide settings. ContainerService builds one and
// hands it to the modules of its concerns (start, exit, create, network glue), so each of them
// can run on a fake host in unit tests as the service does.
import type { RootlessMode } from '../../sys/rootless.ts';
import type { KeyedMutex } from '../../util/keyed-mutex.ts';
import type { Logger } from '../../util/log.ts';
import type { LogRotator } from '../../runtime/log-rotation.ts';
import type { MountPort, RuntimePort } from '../host.ts';
import type { ImageService } from '../images.ts';
import type { NetworkService } from '../networks.ts';
import type { VolumeService } from '../volumes.ts';
import type { ContainerStore, Container } from './store.ts';
import type { LinkIndex } from './legacy-links.ts';

/** userns-remap: container root is this host uid/gid (size ids mapped). */
export interface IdMap { uid: number; gid: number; size: number }

/** daemon.json `init` / `init-path` and `default-ipc-mode` (namespace-modes.ts). */
export interface NamespaceDefaults { init: boolean; initPath: string; defaultIpcMode: string }

export interface ContainerContext {
  readonly store: ContainerStore;
  /** Legacy links (`--link` on the default bridge): their names resolve like container names. */
  readonly links: LinkIndex;
  /** One lock per container ID: every change of a container's state holds it. */
  readonly lock: KeyedMutex;
  readonly runtime: RuntimePort;
  readonly mounts: MountPort;
  readonly images: ImageService;
  readonly networks: NetworkService;
  readonly volumes: VolumeService;
  readonly log: Logger;
  readonly logRotator: LogRotator;
  readonly idMap: IdMap | undefined;
  /** cgroup parent of every container of this daemon. */
  readonly cgroupParent: string;
  /** Rootless mode: without cgroups, limits, pause and top are refused or done another way. */
  readonly rootless?: RootlessMode;
  readonly nsDefaults: NamespaceDefaults;
  /** A container event with Docker's attributes (ContainerService.emit). */
  emit(c: Container, action: string, extra?: Record<string, string>): void;
}
