// `docker pause` / `unpause`: the cgroup freezer through the runtime, under the container's
// lock. A process that exited before its exit was handled is, as far as the client is
// concerned, not running (or not paused): the runtime's failure becomes the guard's refusal.
import { refuseWithoutFreezer } from './rootless-limits.ts';
import type { ContainerContext } from './context.ts';
import { canPause, canUnpause, notPaused, notRunning, refuse, setPaused } from './state.ts';
import type { Container } from './store.ts';

export async function pauseLocked(ctx: ContainerContext, c: Container): Promise<void> {
  refuse(canPause(c));
  refuseWithoutFreezer(ctx.rootless, 'pause a container');
  await ctx.runtime.pause(c.rec.Id).catch(async (err: unknown) => {
    // It exited before its exit was handled: as far as the client is concerned, not running.
    const now = await ctx.runtime.state(c.rec.Id).catch(() => undefined);
    if (!now || now.status === 'stopped') throw notRunning(c);
    throw err;
  });
  setPaused(c.rec.State, true);
  await ctx.store.persist(c);
  ctx.emit(c, 'pause');
}

export async function unpauseLocked(ctx: ContainerContext, c: Container): Promise<void> {
  refuse(canUnpause(c));
  refuseWithoutFreezer(ctx.rootless, 'unpause a container');
  await ctx.runtime.resume(c.rec.Id).catch(async (err: unknown) => {
    const now = await ctx.runtime.state(c.rec.Id).catch(() => undefined);
    if (!now || now.status === 'stopped') throw notPaused(c);
    throw err;
  });
  setPaused(c.rec.State, false);
  await ctx.store.persist(c);
  ctx.emit(c, 'unpause');
}
