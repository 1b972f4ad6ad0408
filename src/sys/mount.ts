// Mounting through the host's mount(8): Node has no mount syscall.
import { run } from './exec.ts';
import { readFile } from 'node:fs/promises';

export interface OverlayMount {
  /** Read-only layer directories, topmost first (overlay's lowerdir order). */
  lowerdirs: string[];
  upperdir: string;
  workdir: string;
}

/**
 * How union mounts are made: the kernel's overlayfs, or fuse-overlayfs (Debian's), a FUSE
 * filesystem with the same directory layout and whiteouts. A rootless berthd needs the latter
 * where the kernel cannot mount overlayfs inside a user namespace (before 5.11). Chosen once by
 * the engine at start-up (setOverlayDriver), before any mount, for every mount of the daemon.
 */
export type OverlayDriver = 'overlay' | 'fuse-overlayfs';
let driver: OverlayDriver = 'overlay';

export function setOverlayDriver(d: OverlayDriver): void {
  driver = d;
}

export function overlayDriver(): OverlayDriver {
  return driver;
}

async function mountUnion(target: string, opts: string): Promise<void> {
  if (driver === 'fuse-overlayfs') await run('fuse-overlayfs', ['-o', opts, target]);
  else await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, target]);
}

export async function mountOverlay(target: string, m: OverlayMount): Promise<void> {
  await mountUnion(target, `lowerdir=${m.lowerdirs.join(':')},upperdir=${m.upperdir},workdir=${m.workdir}`);
}

/** A read-only view of layers (overlay without an upper dir needs two lowerdirs at least). */
export async function mountOverlayReadOnly(target: string, lowerdirs: string[], emptyDirs: [string, string]): Promise<void> {
  const lower = lowerdirs.length >= 2 ? lowerdirs : [...lowerdirs, ...emptyDirs].slice(0, 2);
  await mountUnion(target, `ro,lowerdir=${lower.join(':')}`);
}

/** Unmounts target; a path that is not mounted is not an error. */
export async function unmount(target: string, lazy = false): Promise<void> {
  if (!(await isMounted(target))) return;
  await run('umount', lazy ? ['-l', target] : [target]);
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  const esc = target.replace(/ /g, '\\040');
  return mounts.split('\n').some((l) => l.split(' ')[1] === esc);
}

/** A tmpfs at target (a shareable container's /dev/shm, kept on the host as dockerd does). */
export async function mountTmpfs(target: string, source: string, options: string[]): Promise<void> {
  await run('mount', ['-t', 'tmpfs', '-o', options.join(','), source, target]);
}
