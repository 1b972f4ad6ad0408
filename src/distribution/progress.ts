// The JSON progress messages pull and push stream to the Docker CLI (pkg/jsonmessage): per-layer
// status lines keyed by a short ID, with progressDetail the CLI draws its bars from.

export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: unknown;
}

export type Progress = (m: JsonMessage) => void;

function human(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  const text = i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return `${text}${units[i]}`;
}

/** The text bar older clients print as is: `[=====>      ]  1.2MB/5MB`. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return human(current);
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
  return `${bar}  ${human(current)}/${human(total)}`;
}

/** A status line for one layer: `{"status":"Pull complete","progressDetail":{},"id":"…"}`. */
export function layerStatus(id: string, status: string): JsonMessage {
  return { status, progressDetail: {}, id };
}

/** Throttled `Downloading`/`Extracting`/`Pushing` updates: at most one per 100 ms per layer, plus the last. */
export function meter(progress: Progress, id: string, status: string, total: number): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = Date.now();
    if (current < total && now - last < 100) return;
    last = now;
    progress({ status, progressDetail: { current, total }, progress: progressBar(current, total), id });
  };
}
