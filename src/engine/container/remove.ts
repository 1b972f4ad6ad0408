// `docker rm`'s teardown, once the container's process is gone. On the reply path: the
// container is marked removing (durably: the mark is what a restart finds), its network let
// go, and it is dropped from the store, the name index and the links, so the API has forgotten
// it and its name is free the moment the reply is sent. The rest (runc state with its cgroup,
// the rootfs and /dev/shm mounts, the directory) is taken away in the background, after the
// exit's own cleanup has settled; a crash before that is finished at the next start
// (`finishUnfinishedRemovals`, from the mark). Then its anonymous volumes (with -v), and
// everyone still waiting on it is told.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { noSuchContainer } from '../../errors.ts';
import { failpoint } from '../../util/failpoint.ts';
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
  let background = true;
  try {
    // The durable mark first: a crash from here on is finished at the next start, never
    // half-undone. Without the mark on disk nothing may be left for later: all of it happens
    // now, with the record saying removing (as reconcile also reads it).
    await ctx.store.markRemoving(c).catch(async (err) => {
      ctx.log.warn({ id, err: String(err) }, 'removing mark not written: tearing down before the reply');
      background = false;
      await ctx.store.persist(c).catch(() => {});
    });
    await releaseNetwork(ctx, c);
    if (!background) await teardownFiles(ctx, c);
  } catch (err) {
    c.removing = false;
    c.rec.State.Status = prev;
    if (background) await ctx.store.unmarkRemoving(c).catch(() => {});
    await ctx.store.persist(c).catch(() => {});
    throw err;
  }
  c.removed = true;
  ctx.store.forget(c);
  ctx.links.removed(id, c.rec.Name);
  // setImmediate: after the reply has been written (the rest of the remove and the handler run
  // in this turn's microtasks), so that runc and umount do not compete with it.
  if (background) track(ctx, new Promise((r) => setImmediate(r)).then(() => {
    failpoint('container-remove-replied');
    return teardownFiles(ctx, c);
  }).catch((err) => {
    // The mark stays on disk: the next start of berthd finishes it.
    ctx.log.warn({ id, err: String(err) }, 'background teardown of a removed container failed; finished at the next start');
  }));
  return true;
}

function track(ctx: ContainerContext, p: Promise<void>): void {
  ctx.store.teardowns.add(p);
  void p.finally(() => ctx.store.teardowns.delete(p));
}

/**
 * What a removed container leaves on the host, in the order that keeps a crash safe: runtime
 * state (runc delete also removes its cgroup), mounts, the record, then the directory (a
 * directory cut short without its record is swept at load).
 */
async function teardownFiles(ctx: ContainerContext, c: Container, opts: { killConmon?: boolean } = {}): Promise<void> {
  const id = c.rec.Id;
  await c.settling;
  if (opts.killConmon) await ctx.runtime.killConmon(id).catch(() => {});
  if (!c.runtimeClean) await ctx.runtime.delete(id);
  c.runtimeClean = true;
  await ctx.mounts.unmount(join(c.dir, 'merged'));
  await releaseShm(ctx.mounts, c.dir);
  // The record before the rest (and before the mark, which a recursive rm may take first): a
  // crash in the middle leaves a directory without a record, which load sweeps, never a record
  // without its mark, which would bring the container back.
  await rm(join(c.dir, 'config.v2.json'), { force: true });
  await rm(c.dir, { recursive: true, force: true });
}

/** Waits for the background teardowns under way (shutdown; tests). */
export async function drainTeardowns(ctx: ContainerContext): Promise<void> {
  while (ctx.store.teardowns.size) await Promise.all([...ctx.store.teardowns]);
}

/**
 * At start-up: the removes that had replied but not finished before berthd stopped (their record
 * marked removing). Their network goes too, in case the crash came before it did.
 */
export async function finishUnfinishedRemovals(ctx: ContainerContext): Promise<void> {
  const list = ctx.store.unfinishedRemovals.splice(0);
  await Promise.all(list.map(async (c) => {
    try {
      await releaseNetwork(ctx, c);
      await teardownFiles(ctx, c, { killConmon: true });
    } catch (err) {
      ctx.log.error({ id: c.rec.Id, err: String(err) }, 'could not finish the remove of a container');
    }
  }));
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
