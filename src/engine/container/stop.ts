// Ending a container's process: a signal through the runtime (thawing a frozen process, which
// acts on SIGTERM or SIGKILL only once thawed), `docker stop`'s signal-then-wait-then-SIGKILL,
// and the SIGKILL-and-wait that kill -9 and rm -f use. The exit itself is recorded by exit.ts
// when conmon reports it; these wait for that through the container's exit waiters.
import { BerthError, System } from '../../errors.ts';
import type { ContainerContext } from './context.ts';
import type { Container } from './store.ts';

const MAX_STOP_WAIT_MS = 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Resolves with the exit code at the container's next exit. */
export function nextExit(c: Container): Promise<number> {
  return new Promise((resolve) => c.exitWaiters.add(resolve));
}

export async function signal(ctx: ContainerContext, c: Container, sig: number): Promise<void> {
  ctx.emit(c, 'kill', { signal: String(sig) });
  try {
    await ctx.runtime.kill(c.rec.Id, sig, sig === 9);
    // A frozen process only acts on its signal once thawed (moby does the same).
    if (c.rec.State.Paused && (sig === 9 || sig === 15)) {
      await ctx.runtime.resume(c.rec.Id).catch(() => {});
      c.rec.State.Paused = false;
      c.rec.State.Status = 'running';
    }
  } catch (err) {
    // The process may have exited between our check and the signal; that is not an error.
    const st = await ctx.runtime.state(c.rec.Id).catch(() => undefined);
    if (st && st.status !== 'stopped') throw err;
  }
}

/** `docker stop` once the guard allowed it: `sig`, up to `timeout` s (negative: forever), then SIGKILL. */
export async function stopProcess(ctx: ContainerContext, c: Container, sig: number, timeout: number): Promise<void> {
  const exited = nextExit(c);
  await signal(ctx, c, sig);
  if (timeout >= 0) {
    const done = await Promise.race([exited.then(() => true), sleep(timeout * 1000).then(() => false)]);
    if (done) { ctx.emit(c, 'stop'); return; }
    await signal(ctx, c, 9);
  }
  await Promise.race([exited, sleep(MAX_STOP_WAIT_MS).then(() => { throw new System(`container ${c.rec.Id} did not exit after SIGKILL`); })]);
  ctx.emit(c, 'stop');
}

/** SIGKILL, then wait for the exit (at most a minute, as a stuck runtime must not hang the verb). */
export async function killAndWait(ctx: ContainerContext, c: Container): Promise<void> {
  const exited = nextExit(c);
  await signal(ctx, c, 9);
  await Promise.race([exited, sleep(MAX_STOP_WAIT_MS)]);
}

/**
 * What a failed restart answers. moby ContainerRestart wraps what failed, named as the client
 * gave it, in a plain error (a 500); Berth keeps the class of a client's fault (a container
 * marked for removal is a 409, not a fault of the daemon) and says it the same way.
 */
export function restartFailure(ref: string, err: unknown): BerthError {
  const message = `Cannot restart container ${ref}: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof BerthError && err.status >= 400 && err.status < 500) {
    return new (err.constructor as new (m: string) => BerthError)(message);
  }
  return new System(message);
}
