// The log rotation watcher (log-rotation.ts explains the scheme), in a worker thread of its
// own with synchronous fs calls, so berthd's busy main loop delays neither its cuts nor its
// shifts. Per watched log: one stat per look, looks timed to the fill rate; at max-size it asks
// conmon to cut (askCut), and asks again only after it has shifted the file conmon left.
import { parentPort } from 'node:worker_threads';
import { statSync, linkSync, renameSync, unlinkSync, openSync, closeSync, readdirSync, readSync, writeSync, constants as fsc } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { livePath, nextPath, rotatedPath } from './logs.ts';

export interface Policy { maxSize: number; maxFile: number; compress: boolean }

export type ToWorker =
  | { op: 'prepare'; seq: number; path: string; policy: Policy; ctl?: string }
  | { op: 'watch'; path: string; policy: Policy; ctl?: string }
  | { op: 'unwatch'; seq: number; path: string }
  | { op: 'finalize'; seq: number; path: string; ino: number; tmp: string };

export type FromWorker =
  | { op: 'done'; seq: number; error?: string }
  | { op: 'log'; level: 'warn' | 'debug'; msg: string; fields: Record<string, unknown> }
  | { op: 'compress'; path: string; name: string; ino: number };

interface Watched {
  path: string;
  policy: Policy;
  /** conmon's ctl FIFO: berthd cuts by asking it to reopen the log (absent: conmon cuts alone). */
  ctl?: string;
  /** When the last cut was asked for, and of which file, until conmon has made its new one. */
  cutAskedAt?: number;
  cutIno?: number;
  timer?: NodeJS.Timeout;
  liveIno: number;
  /** A `.next` is ready under conmon's tmp name. */
  hasNext: boolean;
  lastSize: number;
  lastAt: number;
}

const MIN_POLL_MS = 1;
const MAX_POLL_MS = 250;
/** The idle look assumes a writer may start at this rate (bytes/ms). */
const BURST_BYTES_PER_MS = 200_000;

const watched = new Map<string, Watched>();
const port = parentPort!;

const post = (m: FromWorker): void => port.postMessage(m);
const warn = (msg: string, fields: Record<string, unknown>): void => post({ op: 'log', level: 'warn', msg, fields });

function statOr(p: string): { ino: number; size: number; nlink: number } | undefined {
  try {
    const s = statSync(p);
    return { ino: s.ino, size: s.size, nlink: s.nlink };
  } catch {
    return undefined;
  }
}

const quietly = (fn: () => void): void => { try { fn(); } catch { /* gone already */ } };

/** The rotated files, highest N first (logs.ts's listRotated, synchronous). */
function listRotated(path: string): { name: string; n: number; gz: boolean }[] {
  const base = basename(path);
  const out: { name: string; n: number; gz: boolean }[] = [];
  let names: string[] = [];
  try { names = readdirSync(dirname(path)); } catch { /* no dir */ }
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^(\d+)(\.gz)?$/.exec(name.slice(base.length + 1));
    if (m) out.push({ name: join(dirname(path), name), n: Number(m[1]), gz: m[2] !== undefined });
  }
  return out.sort((a, b) => b.n - a.n || Number(a.gz) - Number(b.gz));
}

/** A rotated file's content size: a `.gz` says it in its last four bytes (ISIZE, mod 2^32). */
function contentSize(name: string, gz: boolean): number {
  const st = statOr(name);
  if (!st) return 0;
  if (!gz || st.size < 18) return st.size;
  let fd: number | undefined;
  try {
    fd = openSync(name, 'r');
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, st.size - 4);
    return b.readUInt32LE(0);
  } catch {
    return st.size;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `src` becomes `.1`; `.k` → `.k+1`. Retention is counted in bytes: the newest rotated files
 * are kept until they hold (max-file − 1) × max-size — max-file − 1 files when every cut came
 * at max-size, one more when a short file is among them (conmon's own cut, a restart, an
 * exit), so a short file never pushes lines of the window out. Never more than 2 × max-file
 * files. An empty file just goes.
 */
function shiftIn(w: Watched, src: string): void {
  const keep = w.policy.maxFile - 1;
  const s = statOr(src);
  if (!s) return;
  if (keep <= 0 || s.size === 0) { quietly(() => unlinkSync(src)); return; }
  const budget = keep * w.policy.maxSize;
  // Newest first, src (the new `.1`) at the head.
  const rotated = listRotated(w.path).reverse();
  let held = s.size;
  let kept = 1;
  const fate = new Map<string, boolean>();
  for (const r of rotated) {
    const stays = held < budget && kept < 2 * w.policy.maxFile;
    fate.set(r.name, stays);
    if (stays) { held += contentSize(r.name, r.gz); kept++; }
  }
  // Oldest first, so no rename lands on a name still in use.
  for (const r of [...rotated].reverse()) {
    if (!fate.get(r.name)) quietly(() => unlinkSync(r.name));
    else quietly(() => renameSync(r.name, rotatedPath(w.path, r.n + 1, r.gz)));
  }
  renameSync(src, rotatedPath(w.path, 1, false));
  if (w.policy.compress) post({ op: 'compress', path: w.path, name: rotatedPath(w.path, 1, false), ino: s.ino });
}

/** Makes an empty file ready under conmon's tmp name, linked as `.next`. */
function ensureNext(w: Watched): void {
  const next = nextPath(w.path);
  w.hasNext = statOr(next) !== undefined;
  if (w.hasNext) return;
  try {
    closeSync(openSync(next, 'wx', 0o600));
  } catch {
    return;
  }
  try {
    linkSync(next, `${w.path}.tmp`);
    w.hasNext = true;
  } catch {
    // EEXIST: conmon is between its open and its rename of tmp (or an older tmp waits to be
    // taken): try at the next look.
    quietly(() => unlinkSync(next));
  }
}

/** Brings the names in line with what conmon did since the last look. */
function sync(w: Watched): void {
  const { path } = w;
  const cur = statOr(path);
  if (!cur) return;
  const live = statOr(livePath(path));
  if (live && live.ino === cur.ino) {
    w.liveIno = cur.ino;
    ensureNext(w);
    return;
  }
  if (live) {
    // conmon cut at least once: the file behind `.live` is complete.
    const next = statOr(nextPath(path));
    shiftIn(w, livePath(path));
    if (next && next.ino === cur.ino) {
      renameSync(nextPath(path), livePath(path));
    } else {
      if (next && next.size > 0) {
        // Cut twice or more: `.next` filled up too; whatever conmon made after it and
        // replaced before this look is gone.
        shiftIn(w, nextPath(path));
        warn('log cut twice or more between two looks: files in between may be lost', { path });
      } else if (next && next.nlink < 2) {
        quietly(() => unlinkSync(nextPath(path)));
      }
      // An unused `.next` (still conmon's tmp name) stays: it is conmon's next file.
      quietly(() => linkSync(path, livePath(path)));
    }
  } else {
    quietly(() => linkSync(path, livePath(path)));
  }
  w.liveIno = statOr(livePath(path))?.ino ?? -1;
  ensureNext(w);
}

function prepare(w: Watched): void {
  const { path } = w;
  // What conmon cut while berthd was down goes into the sequence first.
  sync(w);
  // conmon is not running: the links and its tmp name are free to reset.
  for (const p of [livePath(path), nextPath(path), `${path}.tmp`]) quietly(() => unlinkSync(p));
  const cur = statOr(path);
  if (cur && cur.size > 0 && w.policy.maxFile > 1) shiftIn(w, path);
  closeSync(openSync(path, 'a', 0o600));
  linkSync(path, livePath(path));
  w.liveIno = statOr(path)?.ino ?? -1;
  ensureNext(w);
}

function schedule(w: Watched, ms: number): void {
  clearTimeout(w.timer);
  w.timer = setTimeout(() => tick(w), ms);
}

/**
 * Asks conmon to cut: its ctl FIFO's "2" makes it open `container.log.tmp` (the `.next` made
 * ready) and rename it over `container.log`, at a line boundary. The file it leaves stays
 * linked as `.live` until the next look shifts it in, and this worker asks for no other cut
 * before that look: a cut berthd makes can never lose a file, however fast the writer.
 */
function askCut(w: Watched): void {
  let fd: number | undefined;
  try {
    // Non-blocking: no reader (conmon gone) is ENXIO, never a hang.
    fd = openSync(w.ctl!, fsc.O_WRONLY | fsc.O_NONBLOCK);
    writeSync(fd, '2 0 0\n');
    w.cutAskedAt = performance.now();
    w.cutIno = w.liveIno;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOENT/ENXIO: conmon has gone or not come yet; EAGAIN: its FIFO is full. The next look asks again.
    if (code !== 'ENOENT' && code !== 'ENXIO' && code !== 'EAGAIN') warn('log rotation: cannot ask conmon to cut', { path: w.path, err: String(err) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** One stat; a sync when conmon has cut; a cut asked for at max-size; the next look timed to the fill rate. */
function tick(w: Watched): void {
  if (watched.get(w.path) !== w) return;
  let cur = statOr(w.path);
  if (cur && (cur.ino !== w.liveIno || !w.hasNext)) {
    try { sync(w); } catch (err) { warn('log rotation failed', { path: w.path, err: String(err) }); }
    cur = statOr(w.path);
  }
  const now = performance.now();
  if (w.cutAskedAt !== undefined && (cur?.ino !== w.cutIno || now - w.cutAskedAt > 1000)) w.cutAskedAt = undefined;
  // Only from a state in order (the file conmon writes is linked as `.live`): one cut per look.
  if (w.ctl && cur && cur.size >= w.policy.maxSize && cur.ino === w.liveIno && w.cutAskedAt === undefined) askCut(w);
  const size = cur?.size ?? 0;
  const grown = size >= w.lastSize ? size - w.lastSize : size + Math.max(0, w.policy.maxSize - w.lastSize);
  const rate = grown / Math.max(0.5, now - w.lastAt);
  w.lastSize = size;
  w.lastAt = now;
  if (w.cutAskedAt !== undefined) { schedule(w, MIN_POLL_MS); return; }
  const idle = Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, w.policy.maxSize / BURST_BYTES_PER_MS));
  const left = Math.max(0, w.policy.maxSize - size);
  schedule(w, rate > 0 ? Math.max(MIN_POLL_MS, Math.min(idle, left / rate / 2)) : idle);
}

function watch(path: string, policy: Policy, ctl: string | undefined): Watched {
  const old = watched.get(path);
  if (old) clearTimeout(old.timer);
  const w: Watched = { path, policy, ctl, liveIno: -1, hasNext: false, lastSize: 0, lastAt: performance.now() };
  watched.set(path, w);
  return w;
}

/** Puts a gzip'd copy in place of the rotated file with this inode, wherever the shifts have moved it. */
function finalize(path: string, ino: number, tmp: string): void {
  for (const r of listRotated(path)) {
    if (r.gz || statOr(r.name)?.ino !== ino) continue;
    renameSync(tmp, `${r.name}.gz`);
    unlinkSync(r.name);
    return;
  }
  quietly(() => unlinkSync(tmp));
}

port.on('message', (m: ToWorker) => {
  let error: string | undefined;
  try {
    if (m.op === 'prepare') {
      const w = watch(m.path, m.policy, m.ctl);
      prepare(w);
      schedule(w, MIN_POLL_MS);
    } else if (m.op === 'watch') {
      if (watched.has(m.path)) return;
      const w = watch(m.path, m.policy, m.ctl);
      try { sync(w); } catch (err) { warn('log rotation failed', { path: m.path, err: String(err) }); }
      schedule(w, MIN_POLL_MS);
    } else if (m.op === 'unwatch') {
      const w = watched.get(m.path);
      if (w) {
        watched.delete(m.path);
        clearTimeout(w.timer);
        sync(w);
      }
    } else if (m.op === 'finalize') {
      finalize(m.path, m.ino, m.tmp);
    }
  } catch (err) {
    error = String(err);
  }
  if ('seq' in m) post({ op: 'done', seq: m.seq, error });
});
