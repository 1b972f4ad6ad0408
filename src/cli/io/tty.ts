// The local terminal while a container's TTY is attached: raw mode on stdin (restored on every way
// out, including process.exit) and the window size sent to the daemon at start and on SIGWINCH,
// as the Docker CLI's MonitorTtySize does.
import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from '../../client/engine-client.ts';

interface TtyIn { isTTY?: boolean; setRawMode?(raw: boolean): unknown }
interface TtyOut { isTTY?: boolean; rows?: number; columns?: number }

export const isTerminal = (s: Readable | Writable): boolean => (s as TtyIn).isTTY === true;

/** [height, width] of the terminal `out` is, or undefined when it is not one. */
export function ttySize(out: Writable): [number, number] | undefined {
  const t = out as TtyOut;
  return t.isTTY && t.rows && t.columns ? [t.rows, t.columns] : undefined;
}

/**
 * Puts `stdin` in raw mode when it is a terminal; returns the (idempotent) restore. The terminal is
 * also restored if the process exits first, so an error path never leaves the user's shell raw.
 */
export function makeRaw(stdin: Readable): () => void {
  const t = stdin as TtyIn;
  if (!t.isTTY || !t.setRawMode) return () => {};
  t.setRawMode(true);
  let done = false;
  const restore = (): void => {
    if (done) return;
    done = true;
    process.removeListener('exit', restore);
    try { t.setRawMode!(false); } catch { /* the terminal went away */ }
  };
  process.on('exit', restore);
  return restore;
}

/**
 * Sends the size of `out` to `resizePath` (`/containers/ID/resize` or `/exec/ID/resize`) now and on
 * every window change. Returns the function that stops watching. A failed first resize is retried
 * ten times (the process may not have its terminal yet), as docker's initTtySize.
 */
export function monitorTtySize(client: EngineClient, resizePath: string, out: Writable): () => void {
  const send = (size = ttySize(out)): Promise<boolean> => {
    if (!size) return Promise.resolve(true);
    return client.request('POST', `${resizePath}?h=${size[0]}&w=${size[1]}`).then(() => true, () => false);
  };
  let stopped = false;
  void send().then(async (ok) => {
    for (let retry = 0; !ok && !stopped && retry < 10; retry++) {
      await new Promise((r) => setTimeout(r, (retry + 1) * 10));
      ok = await send();
    }
  });
  const onResize = (): void => { void send(); };
  out.on('resize', onResize);
  return () => {
    stopped = true;
    out.removeListener('resize', onResize);
  };
}

/** Sends one size (docker attach first sends height+1 × width+1 so a shell redraws its prompt). */
export async function resizeTo(client: EngineClient, resizePath: string, h: number, w: number): Promise<void> {
  await client.request('POST', `${resizePath}?h=${h}&w=${w}`).catch(() => {});
}
