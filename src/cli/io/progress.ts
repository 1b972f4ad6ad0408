// The daemon's JSON progress stream (pull, push, load, import, build) shown as the Docker CLI
// shows it (moby's jsonmessage.DisplayJSONMessagesStream): on a terminal every layer id keeps
// one line that is redrawn in place (cursor up, erase line) with a progress bar drawn from
// progressDetail; when the output is not a terminal, progress updates are dropped and status
// lines are printed one after the other, so piped output stays readable in logs.
import type { Readable } from 'node:stream';
import { jsonLines } from '../../client/engine-client.ts';
import { CliError, type Ctx } from '../command.ts';
import { humanSize } from '../format/units.ts';

export interface JsonProgress { current?: number; total?: number; start?: number; units?: string; hidecounts?: boolean }

export interface JsonMessage {
  id?: string;
  status?: string;
  /** the daemon's pre-rendered bar (deprecated: used only when progressDetail is absent) */
  progress?: string;
  progressDetail?: JsonProgress;
  stream?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
}

/** An `error` line of the stream: the message, and the code a build's failed RUN exits with. */
export class StreamError extends CliError {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message, 1);
    this.code = code;
  }
}

export interface DisplayOptions {
  /** draw bars and redraw lines in place */
  tty: boolean;
  /** terminal width: bars are drawn only when wider than 110 columns, as docker does */
  width?: number;
  /** for the time-left estimate (tests pin it) */
  now?: () => number;
}

/** Go's time.Duration.String() of a rounded number of seconds: "5s", "1m2s", "1h0m3s". */
function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}

/** jsonmessage.JSONProgress.String(): `[=====>      ]  12.5MB/40MB 3s`. */
export function progressString(p: JsonProgress, width: number, now = Date.now() / 1000): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current, 4).padStart(8);
  const pct = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const bar = width > 110 ? `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ` : '';
  let numbers = '';
  if (!p.hidecounts) {
    if (!p.units) numbers = current > total ? humanSize(current, 4).padStart(8) : `${humanSize(current, 4).padStart(8)}/${humanSize(total, 4)}`;
    else numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let left = '';
  if (current > 0 && p.start && p.start > 0 && pct < 50) {
    const perEntry = (now - p.start) / current;
    left = ` ${goDuration(Math.max(0, Math.round((total - current) * perEntry)))}`;
  }
  return bar + numbers + left;
}

const RFC3339NanoFixed = (ms: number, nanos: number): string => {
  const d = new Date(ms);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(nanos, 9)}Z`;
};

/** One message as JSONMessage.Display writes it; undefined for a progress update hidden off a terminal. */
function display(m: JsonMessage, o: DisplayOptions): string | undefined {
  if (m.errorDetail || m.error) throw new StreamError(m.errorDetail?.message ?? m.error ?? '', m.errorDetail?.code ?? 0);
  let s = '';
  let endl = '';
  const prog = m.progressDetail ? progressString(m.progressDetail, o.width ?? 200, (o.now ?? (() => Date.now() / 1000))()) : undefined;
  if (o.tty && !m.stream && m.progressDetail) {
    endl = '\r';
    s += '\x1b[2K\r';
  } else if (m.progressDetail && prog) {
    return undefined;
  }
  if (m.timeNano) s += `${RFC3339NanoFixed(Math.floor(m.timeNano / 1e6), m.timeNano % 1e9)} `;
  else if (m.time) s += `${RFC3339NanoFixed(m.time * 1000, 0)} `;
  if (m.id) s += `${m.id}: `;
  if (m.from) s += `(from ${m.from}) `;
  if (m.progressDetail && o.tty) s += `${m.status ?? ''} ${prog}${endl}`;
  else if (m.progress) s += `${m.status ?? ''} ${m.progress}${endl}`;
  else if (m.stream) s += `${m.stream}${endl}`;
  else s += `${m.status ?? ''}${endl}\n`;
  return s;
}

/**
 * DisplayJSONMessagesStream over parsed messages: writes to `write`, returns the aux messages.
 * Layer lines are remembered by id: a new id opens a line, an update moves the cursor up to its
 * line, redraws it and moves back down. Any line without an id forgets them (a new phase).
 */
export async function displayStream(msgs: AsyncIterable<JsonMessage>, write: (s: string) => void, o: DisplayOptions): Promise<unknown[]> {
  const aux: unknown[] = [];
  let ids = new Map<string, number>();
  for await (const m of msgs) {
    if (m.aux !== undefined && m.aux !== null) {
      aux.push(m.aux);
      continue;
    }
    let diff = 0;
    if (m.id && (m.progressDetail || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (o.tty) write('\n');
      }
      diff = ids.size - line;
      if (o.tty && diff > 0) write(`\x1b[${diff}A`);
    } else {
      ids = new Map();
    }
    const s = display(m, o);
    if (s !== undefined) write(s);
    if (m.id && o.tty && diff > 0) write(`\x1b[${diff}B`);
  }
  return aux;
}

/** Whether `out` is a terminal, and how wide. */
export function terminalOf(out: NodeJS.WritableStream): { tty: boolean; width?: number } {
  const t = out as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  return { tty: !!t.isTTY, width: t.isTTY ? t.columns : undefined };
}

/**
 * Prints the stream to `out` (ctx.out by default): redrawn in place per layer id on a terminal,
 * plain lines otherwise. Throws a StreamError (a CliError) with the message of an `error` line.
 * Returns the aux messages (image IDs, push digests).
 */
export async function renderProgress(ctx: Ctx, res: Readable, out: NodeJS.WritableStream = ctx.out): Promise<unknown[]> {
  return displayStream(jsonLines<JsonMessage>(res), (s) => { out.write(s); }, terminalOf(out));
}
