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
 * How union mounts are made: the kernel's overlayfs; the same inside a user namespace
 * (`userxattr`: the kernel keeps its opaque and redirect marks in `user.overlay.*` xattrs, as only
 * real root may write `trusted.*`; without it, removing a lower directory fails with EIO); or
 * fuse-overlayfs (Debian's), a FUSE filesystem with the same layout and whiteouts, for rootless
 * berthd on kernels before 5.11. Chosen once by the engine at start-up (setOverlayDriver), before
 * any mount, for every mount of the daemon, and with it the xattrs layers are written and read with.
 */
export type OverlayDriver = 'overlay' | 'overlay-userxattr' | 'fuse-overlayfs';
let driver: OverlayDriver = 'overlay';

/** The xattr an opaque directory carries in an extracted layer, for the driver in use. */
export function opaqueXattr(): string {
  return driver === 'overlay' ? 'trusted.overlay.opaque' : 'user.overlay.opaque';
}

/**
 * Prefixes of the union filesystem's own xattrs (opaque, redirect, origin, metacopy,
 * fuse-overlayfs' ownership overrides): never image content, so never packed into a layer nor
 * taken from one (a layer could otherwise redirect or hide directories of the ones below it).
 */
export const UNION_XATTR_PREFIXES = ['trusted.overlay.', 'user.overlay.', 'user.fuseoverlayfs.', 'security.fuseoverlayfs.'] as const;

export function isUnionXattr(name: string): boolean {
  return UNION_XATTR_PREFIXES.some((p) => name.startsWith(p));
}

export function setOverlayDriver(d: OverlayDriver): void {
  driver = d;
}

export function overlayDriver(): OverlayDriver {
  return driver;
}

async function mountUnion(target: string, opts: string): Promise<void> {
  if (driver === 'fuse-overlayfs') await run('fuse-overlayfs', ['-o', opts, target]);
  else await run('mount', ['-t', 'overlay', 'overlay', '-o', driver === 'overlay-userxattr' ? `${opts},userxattr` : opts, target]);
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
