// Human-readable container status as `docker ps` prints it (moby container/state.go String()
// and go-units HumanDuration).

export const zeroTime = '0001-01-01T00:00:00Z';

export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

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
  if (st.Restarting) return `Restarting (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
  if (st.Running) {
    const up = humanDuration(now - Date.parse(st.StartedAt));
    if (st.Paused) return `Up ${up} (Paused)`;
    const h = st.Health?.Status;
    return `Up ${up}${h === 'starting' ? ' (health: starting)' : h ? ` (${h})` : ''}`;
  }
  if (st.Status === 'removing') return 'Removal In Progress';
  if (st.Dead) return 'Dead';
  if (st.StartedAt === zeroTime) return 'Created';
  if (st.FinishedAt === zeroTime) return '';
  return `Exited (${st.ExitCode}) ${humanDuration(now - Date.parse(st.FinishedAt))} ago`;
}

/** RFC3339Nano in UTC, like Go's time.Time JSON encoding. */
export function nowRfc3339(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, (_, ms: string) => `.${ms}${String(process.hrtime.bigint() % 1000000n).padStart(6, '0')}Z`);
}
