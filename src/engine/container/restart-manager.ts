// The restart policy after an exit (moby restartmanager): always; unless-stopped unless stopped
// by hand; on-failure for a non-zero code while RestartCount < max. The delay starts at 100 ms
// and doubles up to a minute; a run of 10 s or more resets it. A stop or kill by hand cancels a
// pending restart and marks the container so no policy but `always` at boot restarts it; a start
// by hand clears both and counts again from zero (moby ResetRestartManager).
import type { KeyedMutex } from '../../util/keyed-mutex.ts';
import type { Logger } from '../../util/log.ts';
import type { Container } from './store.ts';

export interface RestartDeps {
  lock: KeyedMutex;
  log: Logger;
  persist(c: Container): Promise<void>;
  /** The start sequence; the manager runs it under the container's lock. */
  startLocked(c: Container): Promise<void>;
  /** Set while berthd shuts down: exits then do not trigger restart policies. */
  shuttingDown(): boolean;
}

/** A run at least this long resets the back-off. */
const STABLE_RUN_MS = 10_000;
const MAX_DELAY_MS = 60_000;

export class RestartManager {
  readonly #d: RestartDeps;

  constructor(d: RestartDeps) {
    this.#d = d;
  }

  /** An exit after a run of `ranMs`: a long enough run starts the back-off over. */
  exited(c: Container, ranMs: number): void {
    if (ranMs >= STABLE_RUN_MS) c.restartDelay = 0;
  }

  /** Starts the back-off when the policy says so. `atBoot`: berthd just started. */
  schedule(c: Container, atBoot: boolean): void {
    const p = c.rec.HostConfig.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 };
    // One pending restart at a time (an exit seen at boot is also a boot restart candidate).
    if (this.#d.shuttingDown() || c.removed || c.removing || c.rec.State.Running || c.restartTimer) return;
    const manual = c.rec.HasBeenManuallyStopped === true;
    let restart = false;
    if (p.Name === 'always') restart = atBoot || !manual;
    else if (p.Name === 'unless-stopped') restart = !manual;
    else if (p.Name === 'on-failure') restart = !manual && c.rec.State.ExitCode !== 0 && (!p.MaximumRetryCount || (c.rec.RestartCount ?? 0) < p.MaximumRetryCount);
    if (!restart) return;
    c.restartDelay = atBoot ? 0 : Math.min(MAX_DELAY_MS, c.restartDelay ? c.restartDelay * 2 : 100);
    c.rec.State.Restarting = !atBoot;
    if (!atBoot) {
      c.rec.State.Status = 'restarting';
      // moby counts a restart when it decides on it (handleContainerExit: RestartCount++ then
      // SetRestarting), so inspect during the back-off already shows the new count.
      c.rec.RestartCount = (c.rec.RestartCount ?? 0) + 1;
    }
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      if (c.removed || c.removing || c.rec.State.Running) return;
      // Restarting stays set until the start succeeds (setRunning clears it) or fails.
      this.#d.lock.run(c.rec.Id, () => this.#d.startLocked(c)).catch((err: unknown) => {
        this.#d.log.warn({ id: c.rec.Id, err: String(err) }, 'restart by policy failed');
        c.rec.State.Restarting = false;
        c.rec.State.Status = 'exited';
        this.#d.persist(c).catch(() => {});
        this.schedule(c, false);
      });
    }, c.restartDelay);
  }

  /** A stop or kill by hand: no restart by policy until the next start. */
  manualStop(c: Container): void {
    // A stop by berthd's own shutdown (live-restore off) is not a stop by hand (as in dockerd).
    if (!this.#d.shuttingDown()) c.rec.HasBeenManuallyStopped = true;
    if (c.restartTimer) {
      clearTimeout(c.restartTimer);
      c.restartTimer = undefined;
      c.rec.State.Restarting = false;
      if (c.rec.State.Status === 'restarting') c.rec.State.Status = 'exited';
    }
  }

  /** A start by hand: the restart policy counts again from zero (moby ResetRestartManager). */
  reset(c: Container): void {
    if (c.restartTimer) { clearTimeout(c.restartTimer); c.restartTimer = undefined; }
    c.rec.HasBeenManuallyStopped = false;
    c.rec.RestartCount = 0;
    c.restartDelay = 0;
  }
}
