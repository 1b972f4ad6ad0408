// Groups file events into batches, as Compose v2's BatchDebounceEvents does: an editor saving a
// project writes many files (and temp files) in a burst, and one sync of the burst is wanted, not
// one per file. Each event restarts a quiet-period timer (500 ms); when it fires, the distinct
// paths seen since the last flush go out as one batch, in the order first seen. A steady stream
// of events faster than the quiet period holds the batch back until it pauses, as in Compose.

export const QUIET_PERIOD_MS = 500;

/** The timer seam, so that unit tests drive time themselves. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return t;
  },
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Debouncer {
  private seen = new Set<string>();
  private timer: unknown = undefined;
  private readonly flushTo: (batch: string[]) => void;
  private readonly quietMs: number;
  private readonly timers: Timers;

  constructor(flushTo: (batch: string[]) => void, quietMs = QUIET_PERIOD_MS, timers: Timers = realTimers) {
    this.flushTo = flushTo;
    this.quietMs = quietMs;
    this.timers = timers;
  }

  add(path: string): void {
    this.seen.add(path);
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = this.timers.set(() => this.flush(), this.quietMs);
  }

  /** Sends what is pending now (also what close does: Compose flushes when its input ends). */
  flush(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    if (this.seen.size === 0) return;
    const batch = [...this.seen];
    this.seen = new Set();
    this.flushTo(batch);
  }

  /** Drops what is pending and the timer (watch stopped: nothing more is handled). */
  cancel(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.seen = new Set();
  }
}
