// Reads a container's log: conmon's k8s-file (CRI) lines `<RFC3339Nano> <stdout|stderr> <P|F> <text>`,
// where P marks a partial line that continues in the next entry. The log is a sequence of
// files — the rotated `container.log.N` (oldest, highest N, first; `.gz` when compressed),
// then the current `container.log` (log-rotation.ts keeps them). The files outlive the
// container and berthd restarts, which is what makes `docker logs` work after exit and after
// a restart.
//
// Two readers over one scanner: readLogBatches (the API's fast path: line ranges over a 1 MiB
// read buffer, no per-line strings or Dates unless since/until/timestamps need them) and
// readLogs (LogEntry objects, for attach's logs=1 and tests).
import { open, stat, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { LogBatch } from '../types/log-batch.ts';

export type { LogBatch };

const gunzipAsync = promisify(gunzip);
const READ_SIZE = 1 << 20;
/** A follower's longest sleep when it cannot watch the directory (inotify refused). */
const FOLLOW_POLL_MS = 50;
/** With a directory watch: the look it takes anyway, in case an event was missed. */
const FOLLOW_WATCHED_POLL_MS = 250;

/** A follower's catch-up smaller than this waits FOLLOW_GATHER_MS before its next look. */
const FOLLOW_BATCH = 256 * 1024;
const FOLLOW_GATHER_MS = 4;

/** A sleep that an abort ends at once. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * How long an idle follower sleeps after `idle` empty looks: 2, 4, 8, … ms up to `cap` (the
 * writer may cut a small file every few ms, so the first looks come soon). Bounded whatever
 * `idle` is: `2 << idle` alone wraps at 31 and then polls at 0–1 ms for ever.
 */
export function followDelay(idle: number, cap = FOLLOW_POLL_MS): number {
  return Math.min(cap, 2 ** (Math.min(Math.max(idle, 0), 20) + 1));
}

export interface LogEntry {
  stream: 'stdout' | 'stderr';
  time: Date;
  /** RFC3339Nano in UTC with `Z`, as Docker prints it. */
  timeNano: string;
  /** The line's bytes, with its `\n` when the line was complete. */
  data: Buffer;
}

export interface ReadLogsOptions {
  tail?: number;
  since?: number;
  until?: number;
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  signal: AbortSignal;
}

// ---- file names -------------------------------------------------------------------------------

/** `container.log.3` or `container.log.3.gz`. */
export function rotatedPath(path: string, n: number, gz: boolean): string {
  return `${path}.${n}${gz ? '.gz' : ''}`;
}
/** berthd's hard link to the inode conmon writes (log-rotation.ts): survives conmon's own rotation. */
export function livePath(path: string): string {
  return join(dirname(path), `.${basename(path)}.live`);
}
/** berthd's hard link to the file it made ready as conmon's next one (`container.log.tmp`). */
export function nextPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.next`);
}

export interface RotatedFile { name: string; n: number; gz: boolean }

/** The rotated files, oldest (highest N) first; a plain `.N` wins over a `.N.gz` of the same N. */
export async function listRotated(path: string): Promise<RotatedFile[]> {
  const base = basename(path);
  const byN = new Map<number, RotatedFile>();
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    if (!name.startsWith(`${base}.`)) continue;
    const m = /^(\d+)(\.gz)?$/.exec(name.slice(base.length + 1));
    if (!m) continue;
    const n = Number(m[1]);
    const gz = m[2] !== undefined;
    const had = byN.get(n);
    if (!had || (had.gz && !gz)) byN.set(n, { name: join(dirname(path), name), n, gz });
  }
  return [...byN.values()].sort((a, b) => b.n - a.n);
}

// ---- line parsing -----------------------------------------------------------------------------

const lineRe = /^(\S+) (stdout|stderr) ([PF])(?: (.*))?$/s;

/** conmon writes a local offset (`+00:00`); Docker prints UTC with a `Z`. */
export function toUtcNano(ts: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/.exec(ts);
  if (!m) return ts;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  if (m[3] === 'Z' || /^[+-]00:?00$/.test(m[3]!)) return `${m[1]}.${frac}Z`;
  const d = new Date(`${m[1]}${m[3]!.length === 5 ? `${m[3]!.slice(0, 3)}:${m[3]!.slice(3)}` : m[3]}`);
  return `${d.toISOString().slice(0, 19)}.${frac}Z`;
}

export function parseLogLine(line: string): LogEntry | undefined {
  const m = lineRe.exec(line);
  if (!m) return undefined;
  const timeNano = toUtcNano(m[1]!);
  const text = m[4] ?? '';
  return {
    stream: m[2] as 'stdout' | 'stderr',
    time: new Date(timeNano),
    timeNano,
    data: Buffer.from(m[3] === 'F' ? `${text}\n` : text),
  };
}

const SP = 0x20;
const NL = 0x0a;

/**
 * Parses one line `buf[s, nl)` in place. Returns 0 for a malformed line, else 1 (stdout) or 2
 * (stderr), and leaves the timestamp's end and the payload's range in the fields.
 */
class LineParser {
  tsEnd = 0;
  payStart = 0;
  payEnd = 0;
  /** A P entry: the line goes on in the stream's next entry. */
  partial = false;

  parse(buf: Buffer, s: number, nl: number): 0 | 1 | 2 {
    const sp = buf.indexOf(SP, s);
    if (sp < 0 || sp + 9 > nl || buf[sp + 7] !== SP) return 0;
    // `stdout` and `stderr` differ at their fourth byte.
    const c = buf[sp + 4];
    const stream = c === 0x6f ? 1 : c === 0x65 ? 2 : 0;
    if (stream === 0) return 0;
    const flag = buf[sp + 8];
    this.tsEnd = sp;
    // `ts stdout F ` + text: an F line's text ends with the line's own `\n`; a P line's `\n` is conmon's.
    this.payStart = Math.min(sp + 10, nl);
    if (flag === 0x46) { this.payEnd = nl + 1; this.partial = false; }
    else if (flag === 0x50) { this.payEnd = nl; this.partial = true; }
    else return 0;
    return stream;
  }
}

/** Line times (seconds) and Docker's timestamps, cached per raw timestamp (conmon stamps a whole read with one). */
class StampCache {
  private raw = Buffer.alloc(64);
  private rawLen = -1;
  seconds = 0;
  stamp: Buffer = Buffer.alloc(0);

  /** Makes `seconds` and `stamp` those of `buf[s, e)`. */
  load(buf: Buffer, s: number, e: number): boolean {
    const len = e - s;
    if (len === this.rawLen && buf.compare(this.raw, 0, len, s, e) === 0) return false;
    if (len > this.raw.length) this.raw = Buffer.alloc(len);
    buf.copy(this.raw, 0, s, e);
    this.rawLen = len;
    const utc = toUtcNano(buf.toString('latin1', s, e));
    this.seconds = Date.parse(utc) / 1000;
    this.stamp = Buffer.from(utc, 'latin1');
    return true;
  }
}

/** What a line must pass: its stream, and since/until when given. */
class LineFilter {
  readonly p = new LineParser();
  readonly stamps = new StampCache();
  private readonly o: ReadLogsOptions;
  private readonly timed: boolean;

  constructor(o: ReadLogsOptions) {
    this.o = o;
    this.timed = o.since !== undefined || o.until !== undefined;
  }

  /** 0 when the line is not wanted, else its stream. */
  test(buf: Buffer, s: number, nl: number): 0 | 1 | 2 {
    const stream = this.p.parse(buf, s, nl);
    if (stream === 0) return 0;
    if (stream === 1 ? !this.o.stdout : !this.o.stderr) return 0;
    if (this.timed) {
      this.stamps.load(buf, s, this.p.tsEnd);
      const t = this.stamps.seconds;
      if (this.o.since !== undefined && t < this.o.since) return 0;
      if (this.o.until !== undefined && t > this.o.until) return 0;
    }
    return stream;
  }
}

// ---- the files, opened ----------------------------------------------------------------------

/** One file of the log: an open fd (plain) or its whole content (gzip; bounded by max-size). */
interface Part { ino: number; fh?: FileHandle; data?: Buffer; size: number }

async function openPart(name: string, gz: boolean): Promise<Part | undefined> {
  if (gz) {
    const raw = await readFile(name).catch(() => undefined);
    if (!raw) return undefined;
    const data = await gunzipAsync(raw).catch(() => Buffer.alloc(0));
    return { ino: -1, data, size: data.length };
  }
  const fh = await open(name, 'r').catch(() => undefined);
  if (!fh) return undefined;
  const st = await fh.stat();
  return { ino: st.ino, fh, size: st.size };
}

async function closeParts(parts: Part[]): Promise<void> {
  await Promise.all(parts.map((p) => p.fh?.close().catch(() => {})));
}

/** Every name of the log with its inode: rotated (oldest first), the links, the current file. */
async function snapshot(path: string): Promise<{ name: string; gz: boolean; ino: number }[]> {
  const names = [...(await listRotated(path)).map((r) => ({ name: r.name, gz: r.gz })),
    { name: livePath(path), gz: false }, { name: nextPath(path), gz: false }, { name: path, gz: false }];
  const out: { name: string; gz: boolean; ino: number }[] = [];
  for (const n of names) {
    const st = await stat(n.name).catch(() => undefined);
    if (st) out.push({ ...n, ino: st.ino });
  }
  return out;
}

/**
 * Opens the whole sequence, oldest first, the current file last (absent: empty). Open fds pin
 * the content, so a rotation while reading loses nothing; names that changed while opening
 * (berthd's shifts) make it start again. A file conmon has cut but berthd has not shifted yet
 * (the `.live`/`.next` links) is read in its place, before the current file.
 */
async function openSequence(path: string): Promise<Part[]> {
  for (let attempt = 0; ; attempt++) {
    const before = await snapshot(path);
    const parts: Part[] = [];
    const seen = new Set<number>();
    const cur = before.find((n) => n.name === path);
    let consistent = true;
    for (const n of before) {
      if (n.name === path || seen.has(n.ino) || n.ino === cur?.ino) continue;
      const p = await openPart(n.name, n.gz);
      if (!p || (!n.gz && p.ino !== n.ino)) { consistent = false; if (p) await p.fh?.close(); continue; }
      seen.add(n.ino);
      if (p.size === 0) { await p.fh?.close(); continue; }
      parts.push(p);
    }
    const current = cur ? await openPart(path, false) : undefined;
    if (cur && current?.ino !== cur.ino) consistent = false;
    parts.push(current ?? { ino: -1, data: Buffer.alloc(0), size: 0 });
    if (consistent) {
      const after = await snapshot(path);
      consistent = after.length === before.length && after.every((n, i) => n.name === before[i]!.name && n.ino === before[i]!.ino);
    }
    if (consistent || attempt >= 20) return parts;
    await closeParts(parts);
    await new Promise((r) => setTimeout(r, 1));
  }
}

// ---- scanning -----------------------------------------------------------------------------------

/** Where the last `n` wanted lines begin: [part, offset] (reading whole lines backwards). */
async function tailStart(parts: Part[], n: number, f: LineFilter): Promise<[number, number]> {
  const last = parts.length - 1;
  let left = n;
  for (let i = last; i >= 0; i--) {
    const p = parts[i]!;
    let pos = p.size;
    let carry = Buffer.alloc(0);
    while (pos > 0) {
      let block: Buffer;
      if (p.data) {
        block = p.data;
        pos = 0;
      } else {
        const len = Math.min(READ_SIZE, pos);
        pos -= len;
        const b = Buffer.allocUnsafe(len);
        const { bytesRead } = await p.fh!.read(b, 0, len, pos);
        block = carry.length ? Buffer.concat([b.subarray(0, bytesRead), carry]) : b.subarray(0, bytesRead);
      }
      // Only whole lines count: bytes after the last `\n` are a line still being written.
      let end = block.lastIndexOf(NL);
      if (left <= 0) return [i, end < 0 ? 0 : pos + end + 1];
      while (end >= 0) {
        const prev = end === 0 ? -1 : block.lastIndexOf(NL, end - 1);
        if (prev < 0 && pos > 0) break; // the line may begin in the block before
        const s = prev + 1;
        // Lines count, not entries: conmon splits a line its read cut in two into P + F.
        const stream = f.test(block, s, end);
        if (stream !== 0 && !f.p.partial && --left === 0) return [i, pos + partialsBefore(block, s, stream, f.p)];
        end = prev;
      }
      carry = end >= 0 ? Buffer.from(block.subarray(0, end + 1)) : Buffer.alloc(0);
    }
    if (left <= 0) return [i, 0];
  }
  return [0, 0];
}

/** Where the line ending at the entry that starts at `s` begins: back over its P entries. */
function partialsBefore(block: Buffer, s: number, stream: number, p: LineParser): number {
  let start = s;
  while (start > 0) {
    const prevNl = start - 1;
    const ps = prevNl === 0 ? 0 : block.lastIndexOf(NL, prevNl - 1) + 1;
    if (p.parse(block, ps, prevNl) !== stream || !p.partial) break;
    start = ps;
  }
  return start;
}

interface Cursor { part: Part; off: number }

/** Yields whole lines of a part from `c.off` (a line still being written stays for later). */
async function* drain(c: Cursor, buf: Buffer, maxReads = Infinity): AsyncGenerator<Buffer> {
  const p = c.part;
  if (p.data) {
    if (c.off >= p.data.length) return;
    const end = p.data.lastIndexOf(NL);
    if (end + 1 > c.off) yield p.data.subarray(c.off, end + 1);
    c.off = Math.max(c.off, end + 1);
    return;
  }
  let b = buf;
  for (let reads = 0; reads < maxReads; reads++) {
    const { bytesRead } = await p.fh!.read(b, 0, b.length, c.off);
    if (bytesRead === 0) return;
    const end = b.lastIndexOf(NL, bytesRead - 1);
    if (end < 0) {
      if (bytesRead < b.length) return;
      b = Buffer.allocUnsafe(b.length * 2); // a line longer than the buffer (conmon never writes one)
      continue;
    }
    c.off += end + 1;
    yield b.subarray(0, end + 1);
    if (bytesRead < b.length) return;
  }
}

/**
 * Wakes a follower when the log's directory changes (conmon's writes and cuts, berthd's
 * shifts), or after a bounded sleep: inotify where it can, polling where it cannot (too many
 * watches). An event while the follower reads is kept, so the next wait returns at once.
 */
class LogWaker {
  private watcher?: FSWatcher;
  private dirty = false;
  private wake?: () => void;

  constructor(path: string) {
    const base = basename(path);
    try {
      this.watcher = watch(dirname(path), { persistent: false }, (_ev, name) => {
        if (name !== null && !String(name).startsWith(base) && !String(name).startsWith(`.${base}`)) return;
        this.dirty = true;
        this.wake?.();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = undefined;
    }
  }

  /** The longest sleep: long when events will wake the follower, short when only polls will. */
  get cap(): number {
    return this.watcher ? FOLLOW_WATCHED_POLL_MS : FOLLOW_POLL_MS;
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted || this.dirty) { this.dirty = false; resolve(); return; }
      const done = (): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        this.dirty = false;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Clears the flag before a look: what happens after it wakes the next wait. */
  arm(): void {
    this.dirty = false;
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/**
 * Yields buffers of whole k8s-file lines, oldest first, across the rotated files; with tail,
 * from the n-th last wanted line; with follow, then the lines as they come (across rotations)
 * until the signal aborts, and what was written before the abort. A yielded buffer is valid
 * until the next one is asked for.
 */
async function* lineChunks(path: string, o: ReadLogsOptions, f: LineFilter): AsyncGenerator<Buffer> {
  if (!path) return; // log driver `none`
  const buf = Buffer.allocUnsafe(READ_SIZE);
  const parts = await openSequence(path);
  // Follow: the files still to read, in order; the last is conmon's current file as last seen.
  const queue: Cursor[] = [];
  let waker: LogWaker | undefined;
  try {
    const [first, off] = o.tail !== undefined ? await tailStart(parts, o.tail, f) : [0, 0];
    const last = parts.length - 1;
    for (let i = first; i <= last; i++) {
      const c: Cursor = { part: parts[i]!, off: i === first ? off : 0 };
      yield* drain(c, buf);
      if (i === last) queue.push(c);
    }
    if (!o.follow) return;
    waker = new LogWaker(path);
    let idle = 0;
    for (;;) {
      const stopping = o.signal.aborted;
      waker.arm();
      // Files conmon has moved on from are opened at once: an open fd keeps a file (and its
      // inode number) however far berthd's shifts go while this reader catches up.
      const newest = queue[queue.length - 1]!;
      const now = await stat(path).catch(() => undefined);
      if (now && now.ino !== newest.part.ino) {
        const seq = await openSequence(path);
        const at = seq.findIndex((p) => p.ino === newest.part.ino);
        // Not there any more: compressed since (then older than every plain file), or gone
        // past max-file before this reader saw it go (then every file left is newer).
        const later = at >= 0 ? seq.slice(at + 1) : seq.some((p) => p.data) ? seq.filter((p) => !p.data) : seq;
        await closeParts(seq.filter((p) => !later.includes(p)));
        for (const p of later) queue.push({ part: p, off: 0 });
      }
      const head = queue[0]!;
      const before = head.off;
      yield* drain(head, buf, 4);
      if (head.off !== before) {
        idle = 0;
        // The writer is writing: conmon's writes come a few KiB at a time, and a look per write
        // (a stat, a read, a batch, a socket write) cost berthd 3–8× the CPU of reading the same
        // bytes at rest, taken from the writer and conmon. After a small catch-up, a moment lets
        // the next look take more at once.
        if (head.off - before < FOLLOW_BATCH && !o.signal.aborted) await pause(FOLLOW_GATHER_MS, o.signal);
        continue;
      }
      if (queue.length > 1) {
        // A file conmon moved on from before this drain is complete.
        await head.part.fh?.close().catch(() => {});
        queue.shift();
        continue;
      }
      if (stopping) return;
      // Soon again while the writer writes (it may cut a small file every few ms); once it is
      // quiet, woken by the directory's events, with a look at most waker.cap apart.
      await waker.wait(followDelay(idle++, waker.cap), o.signal);
    }
  } finally {
    waker?.close();
    await closeParts([...parts, ...queue.map((c) => c.part)]);
  }
}

// ---- readers ------------------------------------------------------------------------------------

export async function* readLogBatches(path: string, o: ReadLogsOptions & { timestamps?: boolean }): AsyncGenerator<LogBatch> {
  const f = new LineFilter(o);
  let cap = 1 << 15;
  let batch: LogBatch = newBatch(cap, o.timestamps === true);
  const timedFollow = o.follow && o.until !== undefined;
  for await (const chunk of lineChunks(path, o, f)) {
    // Every line takes at least 12 bytes (`t stdout F \n`), so a chunk holds at most length/12.
    const most = Math.ceil(chunk.length / 12) + 1;
    if (most > cap) { cap = most; batch = newBatch(cap, o.timestamps === true); }
    batch.buf = chunk;
    let n = 0;
    let stampIdx = -1;
    if (batch.stamps) batch.stamps.length = 0;
    let s = 0;
    let stop = false;
    while (s < chunk.length) {
      const nl = chunk.indexOf(NL, s);
      if (nl < 0) break;
      const stream = f.test(chunk, s, nl);
      if (stream !== 0) {
        batch.stream[n] = stream;
        batch.start[n] = f.p.payStart;
        batch.end[n] = f.p.payEnd;
        if (batch.stamps) {
          if (f.stamps.load(chunk, s, f.p.tsEnd) || stampIdx < 0) { batch.stamps.push(f.stamps.stamp); stampIdx = batch.stamps.length - 1; }
          batch.stamp![n] = stampIdx;
        }
        n++;
      } else if (timedFollow && f.p.parse(chunk, s, nl) !== 0) {
        f.stamps.load(chunk, s, f.p.tsEnd);
        if (f.stamps.seconds > o.until!) { stop = true; break; }
      }
      s = nl + 1;
    }
    batch.count = n;
    if (n > 0) yield batch;
    if (stop) return;
  }
}

function newBatch(cap: number, timestamps: boolean): LogBatch {
  return {
    buf: Buffer.alloc(0), count: 0, stream: new Uint8Array(cap), start: new Int32Array(cap), end: new Int32Array(cap),
    ...(timestamps ? { stamp: new Int32Array(cap), stamps: [] } : {}),
  };
}

/** The log as entries (copies): attach's logs=1 and tests. */
export async function* readLogs(path: string, o: ReadLogsOptions): AsyncGenerator<LogEntry> {
  for await (const b of readLogBatches(path, { ...o, timestamps: true })) {
    const out: LogEntry[] = [];
    for (let i = 0; i < b.count; i++) {
      const timeNano = b.stamps![b.stamp![i]!]!.toString('latin1');
      out.push({
        stream: b.stream[i] === 2 ? 'stderr' : 'stdout', time: new Date(timeNano), timeNano,
        data: Buffer.from(b.buf.subarray(b.start[i], b.end[i])),
      });
    }
    yield* out;
  }
}
