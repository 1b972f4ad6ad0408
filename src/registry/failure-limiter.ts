// Failed logins per key ("user:<name>", "addr:<client>"), with exponential back-off.
// The CNCF registry has no limit of its own (it leaves it to a proxy in front); Berth's registry
// is often run bare, so it keeps one. Each key may fail `free` times; every further failure
// blocks the key for base·2^k (k = failures beyond free, minus one), at most `max`. A key with
// no failure for `forgetMs` is forgotten; the table holds at most `maxKeys` (oldest dropped).
// An attempt counts as a failure from the moment it starts (so a burst of concurrent guesses
// cannot all pass the check before the first one fails) and is taken back if it succeeds.
export interface FailureLimits {
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
  maxKeys: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = { free: 5, baseMs: 1000, maxMs: 5 * 60_000, forgetMs: 15 * 60_000, maxKeys: 10_000 };

interface Entry { failures: number; lastAt: number; blockedUntil: number }

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly limits: FailureLimits;
  private readonly now: () => number;

  /** now: the clock (unit tests pass a fake one). */
  constructor(limits: FailureLimits = DEFAULT_FAILURE_LIMITS, now: () => number = Date.now) {
    this.limits = limits;
    this.now = now;
  }

  /** Milliseconds until any of keys may try again; 0 when all may. */
  retryAfter(keys: string[]): number {
    const now = this.now();
    let wait = 0;
    for (const k of keys) {
      const e = this.live(k, now);
      if (e && e.blockedUntil > now) wait = Math.max(wait, e.blockedUntil - now);
    }
    return wait;
  }

  /** An attempt starts: counted as a failure until `succeeded`. */
  attempt(keys: string[]): void {
    const now = this.now();
    for (const k of keys) {
      const e = this.live(k, now) ?? { failures: 0, lastAt: now, blockedUntil: 0 };
      e.failures++;
      e.lastAt = now;
      const beyond = e.failures - this.limits.free;
      if (beyond > 0) e.blockedUntil = now + Math.min(this.limits.maxMs, this.limits.baseMs * 2 ** Math.min(beyond - 1, 30));
      this.entries.delete(k);
      this.entries.set(k, e);
    }
    while (this.entries.size > this.limits.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The attempt was right: `reset` keys start over, the others only lose this attempt. */
  succeeded(reset: string[], others: string[]): void {
    for (const k of reset) this.entries.delete(k);
    for (const k of others) {
      const e = this.entries.get(k);
      if (!e) continue;
      e.failures = Math.max(0, e.failures - 1);
      if (e.failures <= this.limits.free) e.blockedUntil = 0;
    }
  }

  private live(k: string, now: number): Entry | undefined {
    const e = this.entries.get(k);
    if (e && now - e.lastAt > this.limits.forgetMs && e.blockedUntil <= now) {
      this.entries.delete(k);
      return undefined;
    }
    return e;
  }
}
