// Reads conmon's k8s-file log: lines `<RFC3339Nano> <stdout|stderr> <P|F> <text>`, where P
// marks a partial line that continues in the next entry. The file outlives the container and
// berthd restarts, which is what makes `docker logs` work after exit and after a restart.
import { open, stat } from 'node:fs/promises';

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

function wanted(e: LogEntry, o: ReadLogsOptions): boolean {
  if (e.stream === 'stdout' && !o.stdout) return false;
  if (e.stream === 'stderr' && !o.stderr) return false;
  const t = e.time.getTime() / 1000;
  if (o.since !== undefined && t < o.since) return false;
  if (o.until !== undefined && t > o.until) return false;
  return true;
}

/** Yields complete lines of the file from `pos`; returns the offset after the last whole line. */
async function* linesFrom(path: string, pos: { offset: number }): AsyncGenerator<string> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    const buf = Buffer.alloc(64 * 1024);
    let rest = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos.offset + rest.length);
      if (bytesRead === 0) break;
      let chunk = Buffer.concat([rest, buf.subarray(0, bytesRead)]);
      let nl: number;
      while ((nl = chunk.indexOf(10)) >= 0) {
        const line = chunk.subarray(0, nl).toString('utf8');
        pos.offset += nl + 1;
        chunk = chunk.subarray(nl + 1);
        yield line;
      }
      rest = Buffer.from(chunk);
    }
  } finally {
    await fh.close();
  }
}

export async function* readLogs(path: string, o: ReadLogsOptions): AsyncGenerator<LogEntry> {
  const pos = { offset: 0 };
  if (o.tail !== undefined) {
    // A ring of the last N wanted entries: memory stays bounded by N, not by the file.
    const ring: LogEntry[] = [];
    if (o.tail > 0) {
      for await (const line of linesFrom(path, pos)) {
        const e = parseLogLine(line);
        if (!e || !wanted(e, o)) continue;
        ring.push(e);
        if (ring.length > o.tail) ring.shift();
      }
    } else {
      for await (const _ of linesFrom(path, pos)) { /* skip to the end */ }
    }
    yield* ring;
  } else {
    for await (const line of linesFrom(path, pos)) {
      const e = parseLogLine(line);
      if (e && wanted(e, o)) yield e;
    }
  }
  if (!o.follow) return;
  // Follow: poll for growth until aborted, then drain what was written before the abort.
  while (!o.signal.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 50);
      o.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (size <= pos.offset) continue;
    for await (const line of linesFrom(path, pos)) {
      const e = parseLogLine(line);
      if (!e || !wanted(e, o)) continue;
      if (o.until !== undefined && e.time.getTime() / 1000 > o.until) return;
      yield e;
    }
  }
  for await (const line of linesFrom(path, pos)) {
    const e = parseLogLine(line);
    if (e && wanted(e, o)) yield e;
  }
}
