// Start-up. load: every record read again (a directory with no readable record is swept: its
// runtime state, mounts and files go) and legacy links registered again from HostConfig.Links.
// reconcile, after a restart of berthd: each record is matched against what runc and conmon say now. A
// container still running under its conmon is adopted again (live restore: its state, log
// rotation, network, embedded DNS and volumes); one that is not is finished as an exit; a
// remove the crash cut short (marked removing, perhaps already replied to) is completed; a stopped one is left with nothing running or mounted.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExitInfo } from '../../runtime/runtime.ts';
import { containerResolverConfig } from './etc-files.ts';
import { releaseShm } from './namespace-modes.ts';
import type { ContainerContext } from './context.ts';
import { netOf, registerLinks, releaseNetwork, resolveLinks } from './network-glue.ts';
import { finishUnfinishedRemovals } from './remove.ts';
import { containerPaths } from './rootfs.ts';
import type { Container } from './store.ts';

export interface ReconcileHooks {
  remove(id: string, opts: { force: boolean }): Promise<void>;
  handleExit(id: string, info: ExitInfo, opts: { checked: boolean }): Promise<void>;
}

/** Loads every container record; unreadable ones are logged and skipped, never fatal. */
export async function loadAll(ctx: ContainerContext): Promise<void> {
  const { runtime, mounts, log } = ctx;
  // With userns-remap the container's root must be able to pass through to its rootfs.
  await ctx.store.load(ctx.idMap !== undefined, async (id, dir) => {
    try {
      await runtime.delete(id);
      await mounts.unmount(join(dir, 'merged'));
      await releaseShm(mounts, dir);
      await rm(dir, { recursive: true, force: true });
    } catch (e) {
      log.error({ id, err: String(e) }, 'could not sweep container dir');
    }
  });
  // Links again from each HostConfig.Links, as dockerd registers them at start-up; one whose
  // child is gone is dropped (logged), never fatal.
  for (const c of ctx.store.all()) {
    try {
      registerLinks(ctx, c.rec, resolveLinks(ctx, c.rec.HostConfig.NetworkMode, c.rec.HostConfig.Links as string[] | null | undefined));
    } catch (err) {
      log.warn({ id: c.rec.Id, err: String(err) }, 'legacy links not restored');
    }
  }
}

/** Matches records against what runc and conmon say now (live restore). */
export async function reconcile(ctx: ContainerContext, hooks: ReconcileHooks): Promise<void> {
  // Removes that had replied before the stop: the API forgot them then; their leftovers go now.
  await finishUnfinishedRemovals(ctx);
  await Promise.all(ctx.store.all().map((c) => reconcileOne(ctx, hooks, c).catch((err) => {
    ctx.log.error({ id: c.rec.Id, err: String(err) }, 'reconcile failed');
  })));
  // Volume mounts the previous run left and no running container claimed again go now (not
  // before: a tmpfs volume's mount is its data, shared by the containers that outlived berthd).
  await ctx.volumes.store.dropUnclaimedMounts();
}

async function reconcileOne(ctx: ContainerContext, hooks: ReconcileHooks, c: Container): Promise<void> {
  const { runtime, mounts, log } = ctx;
  const id = c.rec.Id;
  if (c.rec.State.Status === 'removing') {
    await hooks.remove(id, { force: true }).catch(() => {});
    return;
  }
  if (!c.rec.State.Running) {
    await releaseNetwork(ctx, c, true);
    // Nothing should run or be mounted for it. A start cut short by the crash may have left
    // conmon still running `runc create`: stop that first, or its runc init would outlive us.
    await runtime.killConmon(id).catch(() => {});
    await runtime.delete(id).catch(() => {});
    await mounts.unmount(containerPaths(ctx, c).merged).catch(() => {});
    await releaseShm(mounts, c.dir).catch((err) => log.warn({ id, err: String(err) }, 'shm unmount failed'));
    return;
  }
  const st = await runtime.state(id);
  if (st && st.status !== 'stopped' && await runtime.conmonAlive(id)) {
    await ctx.lock.run(id, async () => {
      c.rec.State.Paused = st.status === 'paused';
      c.rec.State.Status = st.status === 'paused' ? 'paused' : 'running';
      c.rec.State.Pid = st.pid;
      ctx.logRotator.watch(c.rec.LogPath, c.rec.HostConfig.LogConfig, join(runtime.bundleDir(id), 'ctl'));
      await ctx.networks.restore(netOf(ctx, c), true).catch((err) => log.warn({ id, err: String(err) }, 'network restore failed'));
      // The embedded DNS lived in the previous berthd: it answers again from this one.
      await ctx.networks.startResolver(netOf(ctx, c), await containerResolverConfig({ dns: c.rec.HostConfig.Dns, search: c.rec.HostConfig.DnsSearch, options: c.rec.HostConfig.DnsOptions }));
      // Its volumes count as in use again (released at its exit).
      for (const m of c.rec.Mounts ?? []) {
        if (m.Type === 'volume' && m.Name) await ctx.volumes.store.acquire(m.Name).catch((err) => log.warn({ id, err: String(err) }, 'volume not restored'));
      }
      await ctx.store.persist(c);
    });
    return;
  }
  const exit = await runtime.readExit(id);
  await hooks.handleExit(id, exit ?? { exitCode: 255, oomKilled: false, finishedAt: new Date() }, { checked: true });
}
