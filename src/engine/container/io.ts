// Reading from containers: logs, top, the filesystem diff, sizes.
import { InvalidParameter } from '../../errors.ts';
import { run } from '../../sys/exec.ts';
import { readLogs, type LogEntry } from '../../runtime/logs.ts';
import { diffChanges } from '../../image/archive/index.ts';
import type { ContainerService, Container } from '../containers.ts';
import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogOptions {
  stdout: boolean; stderr: boolean; follow: boolean; tail?: number; since?: number; until?: number;
}

/**
 * The container's log as entries; when following, the stream ends once the container has
 * exited and the rest of the file is drained, or when `signal` aborts (client gone).
 */
export function containerLogs(svc: ContainerService, ref: string, opts: LogOptions, signal: AbortSignal): { tty: boolean; entries: AsyncIterable<LogEntry> } {
  const c = svc.get(ref);
  const ac = new AbortController();
  signal.addEventListener('abort', () => ac.abort(), { once: true });
  const follow = opts.follow && c.rec.State.Running;
  if (follow) {
    // conmon has written everything by the time it writes the exit file; give the reader a
    // moment to drain the tail before it stops.
    svc.nextExit(c).then(() => setTimeout(() => ac.abort(), 150));
  }
  const entries = readLogs(c.rec.LogPath, {
    tail: opts.tail, since: opts.since, until: opts.until, follow, stdout: opts.stdout, stderr: opts.stderr, signal: ac.signal,
  });
  return { tty: c.rec.Config.Tty, entries };
}

/** `docker top`: the host's ps, filtered to the container's PIDs (as moby does). */
export async function containerTop(svc: ContainerService, ref: string, psArgs: string | null): Promise<{ Titles: string[]; Processes: string[][] }> {
  const { pids } = await svc.pids(ref);
  const args = (psArgs || '-ef').split(/\s+/).filter(Boolean);
  // moby reports the first line of ps's stderr, prefixed "ps: "
  const { stdout } = await run('ps', args).catch((e) => {
    const first = ((e as { stderr?: string }).stderr ?? '').split('\n').find((l) => l.trim()) ?? (e as Error).message;
    throw new InvalidParameter(`ps: ${first.trim()}`);
  });
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const titles = lines[0]!.trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new InvalidParameter(`Couldn't find PID field in ps output`);
  const want = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!want.has(Number(fields[pidCol]))) continue;
    // The last column (the command) may contain spaces: keep it whole.
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  }
  return { Titles: titles, Processes: processes };
}

export async function containerChanges(svc: ContainerService, ref: string): Promise<{ Path: string; Kind: number }[]> {
  const c = svc.get(ref);
  const p = svc.paths(c);
  return diffChanges(p.upper, p.lower);
}

/** Bytes of regular files under dir (hard links counted once): `docker ps -s`'s SizeRw. */
async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) { await walk(p); continue; }
      if (!e.isFile()) continue;
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1) { if (seen.has(key)) continue; seen.add(key); }
      total += st.size;
    }
  };
  await walk(dir);
  return total;
}

/** SizeRw (the container's own layer) and SizeRootFs (that plus its image). */
export async function containerSizes(svc: ContainerService, c: Container, imageSize: number): Promise<{ SizeRw: number; SizeRootFs: number }> {
  const rw = await treeSize(svc.paths(c).upper);
  return { SizeRw: rw, SizeRootFs: rw + imageSize };
}
