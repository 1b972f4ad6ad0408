// Log drivers and rotation. Every driver that keeps a file (json-file, local) keeps the same
// one: conmon's k8s-file/CRI lines in `container.log` (LogPath), with rotation on by default —
// Docker's json-file grows without bound unless told otherwise, a top complaint.
//
// berthd does the cutting, through conmon (kubelet's CRI ReopenContainerLog): when the current
// file reaches max-size, it writes "2" to conmon's ctl FIFO, and conmon opens
// `container.log.tmp` and renames it over `container.log` — at an entry boundary, never blocking
// on berthd. berthd keeps the file conmon leaves with hard links:
//   .container.log.live  → the inode conmon writes (it survives conmon's rename),
//   .container.log.next  → an empty `container.log.tmp` made ready in advance, which conmon's
//                          O_TRUNC open takes over.
// A watcher (a stat on a timer, faster while the file fills fast) sees the inode change and
// shifts: `.live` → `.1`, `.k` → `.k+1`, what passes the retention goes (then gzip'd to `.1.gz`
// with compress=true), and a new `.next` is made. It asks for the next cut only after that
// shift, so however fast the writer, no file is ever replaced before it is kept: a busy or
// stalled berthd makes the current file pass max-size by what was written meanwhile, and loses
// nothing. (conmon cutting alone at max-size, as before, lost every file the watcher missed:
// 100 MB of output kept 31 MB of a 50 MB window.)
// Retention is counted in bytes: the newest rotated files are kept until they hold
// (max-file − 1) × max-size, so a short file (a restart, conmon's own cut) costs no lines.
// conmon's own `--log-size-max` stays as the safety net (conmonLimit: the whole retention, at
// least 64 MiB) that bounds the disk while berthd is down; then older output is dropped. A
// conmon started before berthd knew its ctl FIFO cuts at max-size alone, as before.
// The watcher runs in a worker thread with synchronous fs calls (log-rotation-worker.ts), so a
// busy main loop (attach streams, `docker logs` of 100 MB) delays neither the cut nor the
// shift. gzip runs on the main thread's zlib pool, one file at a time; the worker renames the
// result into place.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip, constants as zconst } from 'node:zlib';
import { Worker } from 'node:worker_threads';
import { InvalidParameter } from '../errors.ts';
import type { Logger } from '../util/log.ts';
import { fromHumanSize, ramInBytes } from '../util/go-units.ts';
import { setLogSizeMax } from './conmon.ts';
import { listRotated } from './logs.ts';
import type { ToWorker, FromWorker } from './log-rotation-worker.ts';

export interface LogConfig { Type: string; Config: Record<string, string> }

export interface RotationPolicy {
  /** Bytes per file; 0: one file, never cut. */
  maxSize: number;
  /** Files kept, the current one included. */
  maxFile: number;
  compress: boolean;
}

export const LOG_DRIVERS = ['json-file', 'local', 'k8s-file', 'none'] as const;

/**
 * Defaults when an option is not given: json-file 10 MB × 5 files (at most 50 MB a container),
 * local as Docker's local driver (20 MiB × 5, compressed).
 */
export const ROTATION_DEFAULTS: Record<'json-file' | 'local', RotationPolicy> = {
  'json-file': { maxSize: 10_000_000, maxFile: 5, compress: false },
  local: { maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true },
};

// Options dockerd accepts for each driver; labels/env/tag are accepted and not recorded.
const knownOpts: Record<string, string[]> = {
  'json-file': ['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'],
  local: ['max-file', 'max-size', 'compress'],
  // podman's name for the same file.
  'k8s-file': ['max-file', 'max-size', 'compress'],
  none: [],
};
// Every driver's (moby's removeReservedOpts): delivery mode and its buffer.
const reservedOpts = ['mode', 'max-buffer-size'];

function parseBool(s: string, what: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new InvalidParameter(`${what}: strconv.ParseBool: parsing "${s}": invalid syntax`);
}

/**
 * The container's LogConfig from the request and the daemon's log-driver/log-opts (moby's
 * mergeAndVerifyLogConfig: the daemon's opts fill in only for the daemon's driver), validated
 * like dockerd (unknown driver or option, bad value: 400).
 */
export function resolveLogConfig(input: { Type?: string | null; Config?: Record<string, string> | null } | null | undefined, daemon: { driver?: string; opts?: Record<string, string> } = {}): LogConfig {
  const daemonDriver = daemon.driver || 'json-file';
  const type = input?.Type || daemonDriver;
  const config: Record<string, string> = { ...(input?.Config ?? {}) };
  if (type === daemonDriver) {
    for (const [k, v] of Object.entries(daemon.opts ?? {})) if (!(k in config)) config[k] = v;
  }
  const cfg = { Type: type, Config: config };
  validateLogConfig(cfg);
  return cfg;
}

export function validateLogConfig(cfg: LogConfig): void {
  const known = knownOpts[cfg.Type];
  if (!known) throw new InvalidParameter(`logger: no log driver named '${cfg.Type}' is registered`);
  if (cfg.Type === 'none') return;
  for (const [k, v] of Object.entries(cfg.Config)) {
    if (k === 'mode') {
      if (v !== '' && v !== 'blocking' && v !== 'non-blocking') throw new InvalidParameter(`logger: logging mode not supported: ${v}`);
      continue;
    }
    if (k === 'max-buffer-size') { ramInBytes(v); continue; }
    if (reservedOpts.includes(k)) continue;
    if (!known.includes(k)) {
      throw new InvalidParameter(cfg.Type === 'json-file' ? `unknown log opt '${k}' for json-file log driver` : `unknown log opt '${k}' for log driver ${cfg.Type}`);
    }
  }
  rotationPolicy(cfg);
}

/** What the options mean for the files (undefined: no file). `max-size=-1` turns rotation off. */
export function rotationPolicy(cfg: LogConfig): RotationPolicy | undefined {
  if (cfg.Type === 'none') return undefined;
  const local = cfg.Type === 'local';
  const d = ROTATION_DEFAULTS[local ? 'local' : 'json-file'];
  const o = cfg.Config;
  let maxSize = d.maxSize;
  if (o['max-size'] !== undefined && o['max-size'] !== '') {
    if (o['max-size'] === '-1') maxSize = 0;
    else {
      // go-units: json-file reads max-size with FromHumanSize (decimal), local with RAMInBytes.
      maxSize = local ? ramInBytes(o['max-size']) : fromHumanSize(o['max-size']);
      if (maxSize <= 0) throw new InvalidParameter('max-size must be a positive number');
    }
  }
  let maxFile = d.maxFile;
  if (o['max-file'] !== undefined && o['max-file'] !== '') {
    if (!/^[+-]?\d+$/.test(o['max-file'])) throw new InvalidParameter(`strconv.Atoi: parsing "${o['max-file']}": invalid syntax`);
    maxFile = Number(o['max-file']);
    if (maxFile < 1) throw new InvalidParameter('max-file cannot be less than 1');
  }
  let compress = d.compress && maxFile > 1 && maxSize > 0;
  if (o.compress !== undefined && o.compress !== '') {
    compress = parseBool(o.compress, 'error reading compress log option');
    if (compress && (maxFile < 2 || maxSize === 0)) throw new InvalidParameter('compress cannot be true when max-file is less than 2 or max-size is not set');
  }
  return { maxSize, maxFile, compress };
}

/** A record's HostConfig.LogConfig (records from before log options: json-file, no options). */
function asLogConfig(x: unknown): LogConfig {
  const c = x as Partial<LogConfig> | null | undefined;
  return { Type: c?.Type || 'json-file', Config: c?.Config ?? {} };
}

/** One worker thread and the calls it has not answered yet. */
interface WorkerHandle { worker: Worker; pending: Map<number, (error?: string, lost?: boolean) => void> }

/**
 * The worker's lifecycle: started by the first call, stopped when no log is watched, nothing is
 * pending and no gzip runs (its isolate is ~10 MB of an idle berthd). Each worker keeps its own
 * table of pending calls, so a worker that exits answers only its own calls, and the next call
 * starts a new worker whatever the old one is doing. A call a worker loses (it crashed) is sent
 * once more to a new one, which is first told every watched log again: an internal fault never
 * fails a container's start.
 */
export class LogRotator {
  private readonly log: Logger;
  private current?: WorkerHandle;
  private seq = 0;
  /** Compressions, one at a time per log. */
  private readonly gz = new Map<string, Promise<void>>();
  /** Logs being watched, with what a new worker needs to watch them again. */
  private readonly watched = new Map<string, { policy: RotationPolicy; ctl?: string }>();

  /** How long an idle worker is kept: a start right after an exit need not pay for a new one (~0.1-1 s). */
  private readonly idleMs: number;
  private idleTimer?: NodeJS.Timeout;

  constructor(log: Logger, opts: { idleMs?: number } = {}) {
    this.log = log;
    this.idleMs = opts.idleMs ?? WORKER_IDLE_MS;
  }

  private handle(): WorkerHandle {
    if (this.current) return this.current;
    const w = new Worker(new URL(`./log-rotation-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url));
    w.unref();
    const h: WorkerHandle = { worker: w, pending: new Map() };
    w.on('message', (msg: FromWorker) => this.onMessage(h, msg));
    w.on('error', (err) => this.log.error({ err: String(err) }, 'log rotation worker failed'));
    w.on('exit', () => {
      if (this.current === h) this.current = undefined;
      for (const done of h.pending.values()) done('log rotation worker exited', true);
      h.pending.clear();
    });
    this.current = h;
    // A worker that replaces a crashed one watches what the old one watched.
    for (const [path, { policy, ctl }] of this.watched) w.postMessage({ op: 'watch', path, policy, ctl } satisfies ToWorker);
    return h;
  }

  private send(m: ToWorker): void {
    this.handle().worker.postMessage(m);
  }

  /** A call answered by the worker; one lost by a worker that died goes to a new one, once. */
  private async call(m: ToWorker & { seq: number }): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const h = this.handle();
      const r = await new Promise<{ error?: string; lost?: boolean }>((resolve) => {
        h.pending.set(m.seq, (error, lost) => resolve({ error, lost }));
        h.worker.postMessage(m);
      });
      if (!r.error) return;
      if (!r.lost || attempt >= 1) throw new Error(r.error);
      this.log.warn({ op: m.op, err: r.error }, 'log rotation worker lost a call: sent to a new worker');
    }
  }

  private onMessage(h: WorkerHandle, m: FromWorker): void {
    if (m.op === 'done') {
      const done = h.pending.get(m.seq);
      h.pending.delete(m.seq);
      done?.(m.error);
    } else if (m.op === 'log') {
      this.log[m.level](m.fields, m.msg);
    } else if (m.op === 'compress') {
      const prev = this.gz.get(m.path) ?? Promise.resolve();
      const next = prev.then(() => this.compress(m.path, m.name, m.ino))
        .catch((err) => this.log.warn({ path: m.path, err: String(err) }, 'log compression failed'));
      this.gz.set(m.path, next);
      void next.finally(() => {
        if (this.gz.get(m.path) === next) this.gz.delete(m.path);
        this.stopIfIdle();
      });
    }
  }

  /** Stops the worker when it has nothing to do; the next call starts another. */
  private stopIfIdle(): void {
    const idle = (h: WorkerHandle | undefined): h is WorkerHandle => !!h && h === this.current && !this.watched.size && !h.pending.size && !this.gz.size;
    const h = this.current;
    if (!idle(h)) return;
    const stop = (): void => {
      if (!idle(h)) return;
      this.current = undefined;
      void h.worker.terminate();
    };
    clearTimeout(this.idleTimer);
    if (this.idleMs <= 0) { stop(); return; }
    this.idleTimer = setTimeout(stop, this.idleMs);
    this.idleTimer.unref();
  }

  /** gzip's a rotated file to a temporary name; the worker puts it in place of wherever the file is by then. */
  private async compress(path: string, name: string, ino: number): Promise<void> {
    // Shifts may have moved it since the worker asked: find it by inode, then hold an fd
    // (which pins the inode while gzip reads).
    let fh: FileHandle | undefined;
    for (const candidate of [name, ...(await listRotated(path)).filter((r) => !r.gz).map((r) => r.name)]) {
      fh = await open(candidate, 'r').catch(() => undefined);
      if (fh && (await fh.stat()).ino === ino) break;
      await fh?.close();
      fh = undefined;
    }
    if (!fh) return;
    const tmp = `${path}.gz-${ino}.tmp`;
    try {
      await pipeline(fh.createReadStream(), createGzip({ level: zconst.Z_BEST_SPEED }), createWriteStream(tmp, { mode: 0o600 }));
      await this.call({ op: 'finalize', seq: ++this.seq, path, ino, tmp });
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  /**
   * Before conmon starts: tells conmon its limit and readies the files — a fresh current file
   * (the previous run's output shifts to `.1`; with max-file=1 it is appended to), its `.live`
   * link and a `.next`. Then watches until unwatch. `ctl` is conmon's ctl FIFO (its bundle's
   * `ctl`): with it berthd makes the cuts and conmon's own limit is only the safety net.
   */
  async prepare(path: string, cfg: unknown, ctl?: string): Promise<void> {
    if (!path) return;
    const policy = rotationPolicy(asLogConfig(cfg));
    if (!policy || policy.maxSize === 0) { setLogSizeMax(path, undefined); return; }
    setLogSizeMax(path, conmonLimit(policy, ctl));
    this.watched.set(path, { policy, ctl });
    await this.call({ op: 'prepare', seq: ++this.seq, path, policy, ctl });
  }

  /** Watches a container found running after a berthd restart. */
  watch(path: string, cfg: unknown, ctl?: string): void {
    if (!path) return;
    const policy = rotationPolicy(asLogConfig(cfg));
    if (!policy || policy.maxSize === 0) return;
    setLogSizeMax(path, conmonLimit(policy, ctl));
    const fresh = !this.current;
    this.watched.set(path, { policy, ctl });
    // A new worker is told every watched log as it starts.
    if (!fresh) this.send({ op: 'watch', path, policy, ctl });
    else this.handle();
  }

  /** At the container's exit: a last look (conmon has written everything), then no more polling. */
  async unwatch(path: string): Promise<void> {
    const entry = this.watched.get(path);
    if (!path || !entry) return;
    await this.call({ op: 'unwatch', seq: ++this.seq, path }).catch((err) => this.log.warn({ path, err: String(err) }, 'log rotation: last look failed'));
    // A prepare of the same log meanwhile (a restart) watches it anew.
    if (this.watched.get(path) === entry) this.watched.delete(path);
    this.stopIfIdle();
  }
}

/** An idle worker's grace before it is stopped (its isolate is ~10 MB; starting one costs 0.1-1 s). */
export const WORKER_IDLE_MS = 10_000;

/** The smallest safety net conmon gets: 64 MiB, about 0.3 s of its fastest writing. */
export const CONMON_LIMIT_FLOOR = 64 * 1024 * 1024;

/**
 * conmon's own `--log-size-max`. When berthd cuts (ctl given) it is only the safety net that
 * bounds the disk while berthd is down or stalled: the whole retention, at least
 * CONMON_LIMIT_FLOOR. Without a ctl FIFO conmon cuts at max-size itself, as before.
 */
export function conmonLimit(policy: RotationPolicy, ctl: string | undefined): number {
  if (!ctl) return policy.maxSize;
  return Math.max(policy.maxSize * policy.maxFile, CONMON_LIMIT_FLOOR);
}
