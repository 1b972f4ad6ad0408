// The container's root filesystem: an overlay of its image's layers (lower), its own changes
// (upper) and overlayfs' work dir, mounted at `merged` while it runs and for work on its files
// while it does not (docker cp, export, commit). Every mount goes through the host seam.
import { join } from 'node:path';
import { noSuchContainer } from '../../errors.ts';
import type { ContainerContext } from './context.ts';
import type { Container } from './store.ts';

export interface ContainerPaths { upper: string; work: string; merged: string; lower: string[] }

export function containerPaths(ctx: ContainerContext, c: Container): ContainerPaths {
  return {
    upper: join(c.dir, 'upper'), work: join(c.dir, 'work'), merged: join(c.dir, 'merged'),
    lower: lowerDirs(ctx, c),
  };
}

function lowerDirs(ctx: ContainerContext, c: Container): string[] {
  let dirs: string[] = [];
  try { dirs = ctx.images.store.layerDirs(c.rec.Image); } catch { /* image gone: empty lower */ }
  return dirs.length ? dirs : [join(c.dir, 'empty')];
}

/** Runs fn with the container's rootfs mounted (mounting it for the call when stopped), under its lock. */
export function withRootfs<T>(ctx: ContainerContext, c: Container, fn: (merged: string, p: ContainerPaths) => Promise<T>): Promise<T> {
  const p = containerPaths(ctx, c);
  return ctx.lock.run(c.rec.Id, async () => {
    // A remove that got the lock first has taken the container away.
    if (c.removed || c.removing) throw noSuchContainer(c.rec.Id);
    // The last exit's unmount runs outside the lock (exit.ts): not over our mount.
    await c.settling;
    const mounted = await ctx.mounts.isMounted(p.merged);
    if (!mounted) await ctx.mounts.mountOverlay(p.merged, { lowerdirs: p.lower, upperdir: p.upper, workdir: p.work });
    try {
      return await fn(p.merged, p);
    } finally {
      if (!mounted && !c.rec.State.Running) await ctx.mounts.unmount(p.merged).catch(() => {});
    }
  });
}
