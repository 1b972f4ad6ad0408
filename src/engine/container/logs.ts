// `docker logs`: the container's log files read as batches of lines (runtime/logs.ts), for the
// API to frame. Follow ends a moment after the container exits (conmon has written everything
// by the time it writes the exit file) or when the client goes.
import { NotImplemented } from '../../errors.ts';
import { readLogBatches, type LogBatch } from '../../runtime/logs.ts';
import type { ContainerService } from '../containers.ts';

export interface LogReadOptions {
  stdout: boolean;
  stderr: boolean;
  follow: boolean;
  tail?: number;
  since?: number;
  until?: number;
  timestamps: boolean;
}

export function containerLogBatches(svc: ContainerService, ref: string, o: LogReadOptions, signal: AbortSignal): { tty: boolean; batches: AsyncIterable<LogBatch> } {
  const c = svc.get(ref);
  if (!c.rec.LogPath || (c.rec.HostConfig.LogConfig as { Type?: string } | undefined)?.Type === 'none') {
    // dockerd's words (Nomad and others match them).
    throw new NotImplemented('configured logging driver does not support reading');
  }
  const ac = new AbortController();
  const follow = o.follow && c.rec.State.Running;
  if (follow) {
    // A waiter of our own, dropped when the client goes: a follower never outlives its socket.
    let timer: NodeJS.Timeout | undefined;
    const onExit = (): void => { timer = setTimeout(() => ac.abort(), 150); };
    c.exitWaiters.add(onExit);
    signal.addEventListener('abort', () => { c.exitWaiters.delete(onExit); clearTimeout(timer); ac.abort(); }, { once: true });
  }
  const batches = readLogBatches(c.rec.LogPath, {
    stdout: o.stdout, stderr: o.stderr, follow, tail: o.tail, since: o.since, until: o.until, timestamps: o.timestamps, signal: ac.signal,
  });
  return { tty: c.rec.Config.Tty, batches };
}
