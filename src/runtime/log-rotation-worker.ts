// The log rotation watcher (log-rotation.ts explains the scheme), in a worker thread of its
// own with synchronous fs calls: it must see conmon's cut within about two cuts' time however
// busy berthd's main loop is. Per watched log: one stat per look, looks timed to the fill rate.
import { parentPort } from 'node:worker_threads';
import { statSync, linkSync, renameSync, unlinkSync, openSync, closeSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { livePath, nextPath, rotatedPath } from './logs.ts';

export interface Policy { maxSize: number; maxFile: number; compress: boolean }

export type ToWorker =
  | { op: 'prepare'; seq: number; path: string; policy: Policy }
  | { op: 'watch'; path: string; policy: Policy }
  | { op: 'unwatch'; seq: number; path: string }
  | { op: 'finalize'; seq: number; path: string; ino: number; tmp: string };

export type FromWorker =
  | { op: 'done'; seq: number; error?: string }
  | { op: 'log'; level: 'warn' | 'debug'; msg: string; fields: Record<string, unknown> }
  | { op: 'compress'; path: string; name: string; ino: number };

interface Watched {
  path: string;
  policy: Policy;
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

/** `src` becomes `.1`; `.k` → `.k+1`; what passes max-file goes. An empty file just goes. */
function shiftIn(w: Watched, src: string): void {
  const keep = w.policy.maxFile - 1;
  const s = statOr(src);
  if (!s) return;
  if (keep <= 0 || s.size === 0) { quietly(() => unlinkSync(src)); return; }
  for (const r of listRotated(w.path)) {
    if (r.n >= keep) quietly(() => unlinkSync(r.name));
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

/** One stat; a sync when conmon has cut; the next look timed to the fill rate. */
function tick(w: Watched): void {
  if (watched.get(w.path) !== w) return;
  let cur = statOr(w.path);
  if (cur && (cur.ino !== w.liveIno || !w.hasNext)) {
    try { sync(w); } catch (err) { warn('log rotation failed', { path: w.path, err: String(err) }); }
    cur = statOr(w.path);
  }
  const now = performance.now();
  const size = cur?.size ?? 0;
  const grown = size >= w.lastSize ? size - w.lastSize : size + Math.max(0, w.policy.maxSize - w.lastSize);
  const rate = grown / Math.max(0.5, now - w.lastAt);
  w.lastSize = size;
  w.lastAt = now;
  const idle = Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, w.policy.maxSize / BURST_BYTES_PER_MS));
  const left = Math.max(0, w.policy.maxSize - size);
  schedule(w, rate > 0 ? Math.max(MIN_POLL_MS, Math.min(idle, left / rate / 2)) : idle);
}

function watch(path: string, policy: Policy): Watched {
  const old = watched.get(path);
  if (old) clearTimeout(old.timer);
  const w: Watched = { path, policy, liveIno: -1, hasNext: false, lastSize: 0, lastAt: performance.now() };
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
      const w = watch(m.path, m.policy);
      prepare(w);
      schedule(w, MIN_POLL_MS);
    } else if (m.op === 'watch') {
      if (watched.has(m.path)) return;
      const w = watch(m.path, m.policy);
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
