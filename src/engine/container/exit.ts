// Exit handling: conmon writes the exit file when the container's process ends and the runtime
// reports it (onExit, or reconcile at start-up); this records the exit, decides the restart,
// releases the network, the runtime state, the mount and the volumes, wakes the waiters, and
// removes the container when AutoRemove is set.
import { NotFound } from '../../errors.ts';
import type { ExitInfo } from '../../runtime/runtime.ts';
import { initStillRuns } from '../../runtime/exit-check.ts';
import { releaseShm } from './namespace-modes.ts';
import type { ContainerContext } from './context.ts';
import type { RestartManager } from './restart-manager.ts';
import { setStopped } from './state.ts';
import type { Container } from './store.ts';
import { join } from 'node:path';

export interface ExitHooks {
  restarts: RestartManager;
  /** Told when a container's process ends (health checks follow it). */
  onStopped(c: Container): void;
  releaseNetwork(c: Container): Promise<void>;
  remove(id: string, opts: { force: boolean; volumes: boolean }): Promise<void>;
}

/**
 * Records an exit reported by conmon; idempotent (reconcile and the watcher may both call it).
 * A report while the container's init process still runs is not its exit (a previous run's
 * file seen late, a stray file): it is logged and dropped, or the running process would be
 * recorded as exited and killed by the cleanup. `checked`: reconcile, which has asked the
 * runtime already (and must end a container whose conmon is gone even if it still runs).
 */
export async function handleExit(ctx: ContainerContext, hooks: ExitHooks, id: string, info: ExitInfo, opts: { checked?: boolean } = {}): Promise<void> {
  const c = ctx.store.byFullId(id);
  if (!c) return;
  const { runtime, mounts, log } = ctx;
  let autoRemove = false;
  let exited = false;
  await ctx.lock.run(id, async () => {
    if (!c.rec.State.Running) return;
    if (!opts.checked && await initStillRuns(c.rec.State.Pid, () => runtime.state(id))) {
      log.warn({ id, pid: c.rec.State.Pid, exitCode: info.exitCode, finishedAt: info.finishedAt.toISOString() }, 'exit report for a container whose process still runs: ignored');
      return;
    }
    exited = true;
    hooks.onStopped(c);
    const ranMs = info.finishedAt.getTime() - Date.parse(c.rec.State.StartedAt);
    setStopped(c.rec.State, info.exitCode, info.oomKilled, info.finishedAt);
    if (info.oomKilled) ctx.emit(c, 'oom');
    ctx.emit(c, 'die', { exitCode: String(info.exitCode), execDuration: String(Math.max(0, Math.round(ranMs / 1000))) });
    hooks.restarts.exited(c, ranMs);
    // The exit is on disk before the exit file goes (runtime.delete removes it): a crash in
    // between leaves a record reconcile can finish, never a lost exit code.
    // persist serialises the record when called: the file says exited (a crash in the back-off
    // leaves a stopped container, restarted by its policy at boot) ...
    const persisted = ctx.store.persist(c);
    // ... while the restart is decided at once, before the cleanup and before waiters learn the
    // exit, as moby's handleContainerExit (ShouldRestart starts the back-off, SetRestarting
    // wakes the waiters): an rm right after a wait is refused as restarting, and inspect never
    // shows the container exited in between. The timer's start queues on this lock, so not
    // before the cleanup below is done.
    autoRemove = c.rec.HostConfig.AutoRemove;
    if (!autoRemove) hooks.restarts.schedule(c, false);
    await persisted;
    // The network goes before waiters learn the exit, as in moby (Cleanup, then SetStopped):
    // an inspect or ps right after `docker stop` or a wait shows no addresses or ports. The
    // rest of the cleanup runs meanwhile; anything waiters do next (start, rm) queues on this
    // lock behind it.
    const network = hooks.releaseNetwork(c);
    // runc's state (and cgroup), the rootfs and /dev/shm go without holding the lock: a remove
    // or inspect after the wait need not wait for them. Whatever needs them gone (a start, a
    // mount of the rootfs, a remove's teardown) awaits c.settling first.
    c.settling = Promise.all([
      runtime.delete(id).then(() => { c.runtimeClean = true; },
        (err) => log.warn({ id, err: String(err) }, 'runtime delete failed')),
      mounts.unmount(join(c.dir, 'merged')).catch((err) => log.warn({ id, err: String(err) }, 'unmount failed')),
      releaseShm(mounts, c.dir).catch((err) => log.warn({ id, err: String(err) }, 'shm unmount failed')),
      // The rotation's last look at the log (a round trip to its worker).
      ctx.logRotator.unwatch(c.rec.LogPath),
    ]).then(() => {});
    await network;
    for (const w of c.exitWaiters) w(c.rec.State.ExitCode);
    c.exitWaiters.clear();
    await ctx.volumes.releaseAll(c.rec.Mounts ?? []).catch((err) => log.warn({ id, err: String(err) }, 'volume release failed'));
  });
  if (autoRemove && exited) {
    await hooks.remove(id, { force: true, volumes: true }).catch((err) => {
      if (!(err instanceof NotFound)) log.warn({ id, err: String(err) }, 'auto-remove failed');
    });
  }
}
