// Health checks (moby daemon/health.go): the container's Healthcheck runs as an exec every
// Interval (first one after Interval), limited to Timeout; a pass makes it healthy, Retries
// failures in a row make it unhealthy, and failures during StartPeriod do not count. The last
// five results are kept in State.Health.Log, and each change of status is a `health_status` event.
import type { Logger } from '../../util/log.ts';
import type { ContainerService, Container } from '../containers.ts';
import type { ExecService } from '../exec.ts';
import type { HealthConfig } from './health-config.ts';

const NS = 1e6; // Docker's durations are nanoseconds; timers are milliseconds
const DEFAULT_INTERVAL = 30_000;
const DEFAULT_TIMEOUT = 30_000;
const DEFAULT_RETRIES = 3;
const MAX_OUTPUT = 4096;
const MAX_LOG = 5;

export interface HealthResult { Start: string; End: string; ExitCode: number; Output: string }
export interface HealthState { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: HealthResult[] }

function probeCommand(test: string[] | null | undefined, shell: string[] | undefined): string[] | undefined {
  if (!test?.length || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD') return test.slice(1);
  if (test[0] === 'CMD-SHELL') return [...(shell ?? ['/bin/sh', '-c']), test.slice(1).join(' ')];
  return test; // an old-style bare command
}

export class HealthMonitor {
  private readonly containers: ContainerService;
  private readonly exec: ExecService;
  private readonly log: Logger;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(containers: ContainerService, exec: ExecService, log: Logger) {
    this.containers = containers;
    this.exec = exec;
    this.log = log;
  }

  /** Starts probing a running container that has a check; `resume`: after a daemon restart. */
  start(c: Container, resume = false): void {
    this.stop(c);
    const hc = c.rec.Config.Healthcheck as HealthConfig | null | undefined;
    const cmd = probeCommand(hc?.Test, c.rec.Config.Shell as string[] | undefined);
    if (!hc || !cmd) return;
    const state = c.rec.State as unknown as { Health?: HealthState };
    if (!resume || !state.Health) state.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    const startedAt = Date.parse(c.rec.State.StartedAt);
    const interval = (hc.Interval ?? 0) / NS || DEFAULT_INTERVAL;
    const startInterval = (hc.StartInterval ?? 0) / NS || interval;
    const timeout = (hc.Timeout ?? 0) / NS || DEFAULT_TIMEOUT;
    const startPeriod = (hc.StartPeriod ?? 0) / NS;
    const retries = hc.Retries || DEFAULT_RETRIES;
    const id = c.rec.Id;
    const schedule = (): void => {
      const inStart = Date.now() - startedAt < startPeriod;
      this.timers.set(id, setTimeout(() => { void tick(); }, inStart && state.Health!.Status === 'starting' ? startInterval : interval));
    };
    const tick = async (): Promise<void> => {
      if (!this.timers.has(id) || !c.rec.State.Running) return;
      if (c.rec.State.Paused) { schedule(); return; }
      const result = await this.probe(c, cmd, timeout);
      if (!this.timers.has(id) || !c.rec.State.Running) return;
      const h = state.Health!;
      const before = h.Status;
      h.Log = [...h.Log, result].slice(-MAX_LOG);
      if (result.ExitCode === 0) {
        h.FailingStreak = 0;
        h.Status = 'healthy';
      } else if (Date.now() - startedAt >= startPeriod || h.Status !== 'starting') {
        h.FailingStreak++;
        if (h.FailingStreak >= retries) h.Status = 'unhealthy';
      }
      if (h.Status !== before) this.containers.emit(c, `health_status: ${h.Status}`);
      await this.containers.persistState(c).catch(() => {});
      schedule();
    };
    schedule();
  }

  stop(c: Container): void {
    const t = this.timers.get(c.rec.Id);
    if (t) clearTimeout(t);
    this.timers.delete(c.rec.Id);
  }

  stopAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** One run of the check as an exec: exit code and the first 4 KiB of its output. */
  private async probe(c: Container, cmd: string[], timeoutMs: number): Promise<HealthResult> {
    const start = new Date().toISOString();
    let output = '';
    let exitCode = -1;
    try {
      const { Id } = await this.exec.create(c.rec.Id, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const { rec, stream } = await this.exec.start(Id, { detach: false });
      stream?.on('data', (_fd, chunk) => { if (output.length < MAX_OUTPUT) output += chunk.toString('utf8').slice(0, MAX_OUTPUT - output.length); });
      const drained = new Promise<void>((r) => { if (stream) stream.on('end', () => r()); else r(); });
      const exited = rec.session!.exited.catch(() => -1);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); });
      const r = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (r === 'timeout') {
        if (rec.pid) { try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone */ } }
        output = `Health check exceeded timeout (${timeoutMs / 1000}s)`;
        exitCode = -1;
      } else {
        exitCode = r;
        // The output may still be on its way when the exit is known.
        await Promise.race([drained, new Promise((res) => setTimeout(res, 1000))]);
      }
      stream?.close();
      this.exec.forget(Id);
    } catch (err) {
      output = String((err as Error).message ?? err);
      exitCode = -1;
      this.log.debug({ id: c.rec.Id, err: output }, 'health probe failed to run');
    }
    return { Start: start, End: new Date().toISOString(), ExitCode: exitCode, Output: output };
  }
}
