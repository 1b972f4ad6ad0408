// `docker rm`'s teardown, once the container's process is gone: the record is marked removing
// and persisted first (a crash from there on is finished by reconcile, never half-undone), then
// the runtime state, network, rootfs mount, /dev/shm and directory go; the record is dropped
// from the store and the links. Then its anonymous volumes (with -v), and everyone still
// waiting on it is told.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { noSuchContainer } from '../../errors.ts';
import { releaseShm } from './namespace-modes.ts';
import type { ContainerContext } from './context.ts';
import { releaseNetwork } from './network-glue.ts';
import type { Container } from './store.ts';

/**
 * The teardown under the container's lock; a failure leaves the container as it was. False when
 * another remove got the lock first and took the container away.
 */
export async function teardownLocked(ctx: ContainerContext, c: Container): Promise<boolean> {
  const id = c.rec.Id;
  if (c.removed) return false;
  c.removing = true;
  const prev = c.rec.State.Status === 'removing' ? 'exited' : c.rec.State.Status;
  c.rec.State.Status = 'removing';
  try {
    // Persisted first: a crash from here on is finished by reconcile, never half-undone.
    await ctx.store.persist(c).catch(() => {});
    if (!c.runtimeClean) await ctx.runtime.delete(id);
    await releaseNetwork(ctx, c);
    await ctx.mounts.unmount(join(c.dir, 'merged'));
    await releaseShm(ctx.mounts, c.dir);
    await rm(c.dir, { recursive: true, force: true });
  } catch (err) {
    c.removing = false;
    c.rec.State.Status = prev;
    await ctx.store.persist(c).catch(() => {});
    throw err;
  }
  c.removed = true;
  ctx.store.forget(c);
  ctx.links.removed(id, c.rec.Name);
  return true;
}

/** After the teardown: anonymous volumes (`-v`), then waiters and pending attaches learn it is gone. */
export async function afterRemove(ctx: ContainerContext, c: Container, ref: string, volumes: boolean): Promise<void> {
  const id = c.rec.Id;
  if (volumes) await ctx.volumes.removeAnonymous(c.rec.Mounts ?? [], id).catch((err) => ctx.log.warn({ id, err: String(err) }, 'removing anonymous volumes failed'));
  for (const p of c.pendingAttach.splice(0)) p.fail(noSuchContainer(ref));
  for (const w of c.exitWaiters) w(c.rec.State.ExitCode);
  for (const w of c.removeWaiters) w(c.rec.State.ExitCode);
  c.exitWaiters.clear();
  c.removeWaiters.clear();
  ctx.emit(c, 'destroy');
}
