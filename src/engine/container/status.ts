// Human-readable container status as `docker ps` prints it (moby container/state.go String()
// and go-units HumanDuration).

import { humanDuration } from '../../util/go-units.ts';

export const zeroTime = '0001-01-01T00:00:00Z';

export interface StatusView {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  Dead: boolean;
  ExitCode: number;
  StartedAt: string;
  FinishedAt: string;
}

export function statusString(st: StatusView & { Health?: { Status: string } }, now = Date.now()): string {
  if (st.Restarting) return `Restarting (${st.ExitCode}) ${humanDuration((now - Date.parse(st.FinishedAt)) / 1000)} ago`;
  if (st.Running) {
    const up = humanDuration((now - Date.parse(st.StartedAt)) / 1000);
    if (st.Paused) return `Up ${up} (Paused)`;
    const h = st.Health?.Status;
    return `Up ${up}${h === 'starting' ? ' (health: starting)' : h ? ` (${h})` : ''}`;
  }
  if (st.Status === 'removing') return 'Removal In Progress';
  if (st.Dead) return 'Dead';
  if (st.StartedAt === zeroTime) return 'Created';
  if (st.FinishedAt === zeroTime) return '';
  return `Exited (${st.ExitCode}) ${humanDuration((now - Date.parse(st.FinishedAt)) / 1000)} ago`;
}

/** RFC3339Nano in UTC, like Go's time.Time JSON encoding. */
export function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => `.${ms}${String(process.hrtime.bigint() % 1000000n).padStart(6, '0')}Z`);
}
