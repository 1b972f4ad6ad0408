// The engine's seam to the host: every side effect a container's life cycle has on the machine
// (the runtime: conmon + runc; mounts: the overlay rootfs and a shareable /dev/shm) goes through
// this one interface. Production binds it to the real runtime and sys/mount.ts (realHost);
// the engine's unit tests bind it to test/fakes/host.ts, which records the calls, can fail any
// one of them, and needs no root. Network side effects have their own seam, the endpoint
// driver NetworkService takes.
//
// Why here and not in sys/: the interface names runtime types (Runtime, ExitInfo), and sys/ sits
// below runtime/ in the layering; the engine is the one consumer, so it declares what it needs.
import type { Runtime } from '../runtime/runtime.ts';
import { mountOverlay, unmount, isMounted, mountTmpfs, type OverlayMount } from '../sys/mount.ts';

/** What the engine asks of the container runtime (runtime/runtime.ts implements it). */
export type RuntimePort = Pick<Runtime,
  | 'init' | 'close' | 'onExit' | 'readExit' | 'bundleDir'
  | 'create' | 'start' | 'kill' | 'pause' | 'resume' | 'freeze' | 'thaw' | 'update' | 'delete' | 'state'
  | 'conmonAlive' | 'killConmon' | 'pids' | 'attach' | 'resize' | 'exec' | 'execResize'>;

/** Mounts the engine makes for a container. */
export interface MountPort {
  mountOverlay(target: string, m: OverlayMount): Promise<void>;
  /** Unmounts target; a path that is not mounted is not an error. */
  unmount(target: string): Promise<void>;
  isMounted(target: string): Promise<boolean>;
  mountTmpfs(target: string, source: string, options: string[]): Promise<void>;
}

export interface Host {
  runtime: RuntimePort;
  mounts: MountPort;
}

export const realMounts: MountPort = {
  mountOverlay,
  unmount: (target) => unmount(target),
  isMounted,
  mountTmpfs,
};

export function realHost(runtime: Runtime): Host {
  return { runtime, mounts: realMounts };
}
