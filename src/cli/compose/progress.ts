// How `compose` shows what the engine does (ProgressSink events), in Compose v2's four forms:
//
// - plain (output not a terminal, or --progress plain): one line per event, as Compose's plain
//   writer prints them: ` Container shop-db-1  Starting`, then ` Container shop-db-1  Started`.
//   Tests and CI logs see this form.
// - tty: the live view. A title (`[+] Running 2/3`) and one line per object, redrawn in place
//   every 100 ms: a spinner while the step runs, ✔ when it ended, ✘ on an error, and the step's
//   elapsed time at the right edge: ` ✔ Container shop-db-1  Started   0.3s`. close() draws the
//   last frame and leaves it on screen.
// - json: one JSON object per event ({"id","status","text"}), for tools.
// - quiet: nothing.
//
// Progress goes to stderr, as Compose writes it, so that stdout stays the command's output.
import type { ProgressEvent, ProgressSink } from '../../compose/engine/api.ts';

export interface Progress extends ProgressSink {
  /** ends the live view (the last frame stays); plain/json/quiet have nothing to end */
  close(): void;
}

export interface ProgressOutput {
  write(s: string): unknown;
  /** the terminal's width (tty mode) */
  columns?: number;
}

const id = (e: ProgressEvent): string => `${e.kind} ${e.name}`;

export function makeProgress(mode: 'tty' | 'plain' | 'quiet' | 'json', out: ProgressOutput, o: { dryRun?: boolean; now?: () => number; title?: string } = {}): Progress {
  switch (mode) {
    case 'quiet':
      return { event() {}, line() {}, close() {} };
    case 'json':
      return {
        event(e) {
          out.write(`${JSON.stringify({ 'dry-run': !!o.dryRun, id: id(e), status: e.status, ...(e.text ? { text: e.text } : {}), ...(e.error ? { error: true } : {}) })}\n`);
        },
        line(text) { out.write(`${JSON.stringify({ 'dry-run': !!o.dryRun, message: text })}\n`); },
        close() {},
      };
    case 'plain':
      return plainProgress(out, !!o.dryRun);
    case 'tty':
      return new TtyProgress(out, o.now ?? Date.now, !!o.dryRun, o.title ?? 'Running');
  }
}

const DRY_RUN = 'DRY-RUN MODE - ';

function plainProgress(out: ProgressOutput, dryRun: boolean): Progress {
  return {
    // Compose prints fmt.Println(prefix, id, text, status): an empty text leaves two spaces.
    event(e) { out.write(`${dryRun ? DRY_RUN : ''} ${id(e)}  ${e.status}${e.text ? ` ${e.text}` : ''}\n`); },
    line(text) { out.write(`${dryRun ? DRY_RUN : ''}${text}\n`); },
    close() {},
  };
}

interface Row { id: string; status: string; text?: string; done: boolean; error: boolean; start: number; end?: number }

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The live view; exported for its unit test, which drives frame() with a fixed clock. */
export class TtyProgress implements Progress {
  private readonly rows: Row[] = [];
  private readonly out: ProgressOutput;
  private readonly now: () => number;
  private readonly dryRun: boolean;
  private readonly title: string;
  private timer: NodeJS.Timeout | undefined;
  private drawn = 0;
  private tick = 0;

  constructor(out: ProgressOutput, now: () => number, dryRun: boolean, title: string) {
    this.out = out;
    this.now = now;
    this.dryRun = dryRun;
    this.title = title;
  }

  event(e: ProgressEvent): void {
    const key = id(e);
    let row = this.rows.find((r) => r.id === key);
    if (!row) {
      row = { id: key, status: e.status, done: false, error: false, start: this.now() };
      this.rows.push(row);
    }
    row.status = e.status;
    row.text = e.text;
    row.error = !!e.error;
    if (e.done || e.error) row.end ??= this.now();
    else if (row.done) { row.start = this.now(); row.end = undefined; }
    row.done = e.done || !!e.error;
    // The timer keeps the process alive only while something is shown; close() stops it.
    this.timer ??= setInterval(() => this.draw(), 100);
    this.draw();
  }

  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    this.drawn = 0;
    this.draw();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.rows.length) this.draw();
  }

  /** The frame as text, without cursor movement. */
  frame(): string {
    const cols = Math.max(40, this.out.columns ?? 80);
    const done = this.rows.filter((r) => r.done).length;
    const spin = SPINNER[this.tick % SPINNER.length]!;
    const title = `${this.dryRun ? DRY_RUN : ''}[+] ${this.title} ${done}/${this.rows.length}`;
    const width = Math.max(0, ...this.rows.map((r) => r.id.length));
    const lines = [title];
    for (const r of this.rows) {
      const mark = r.error ? '✘' : r.done ? '✔' : spin;
      const elapsed = `${(((r.end ?? this.now()) - r.start) / 1000).toFixed(1)}s`;
      let left = ` ${mark} ${r.id.padEnd(width)}  ${r.status}${r.text ? ` ${r.text}` : ''}`;
      if (left.length + elapsed.length + 1 > cols) left = `${left.slice(0, Math.max(0, cols - elapsed.length - 4))}...`;
      lines.push(`${left}${' '.repeat(Math.max(1, cols - left.length - elapsed.length - 1))}${elapsed}`);
    }
    return lines.join('\n');
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\r\x1b[J`);
  }

  private draw(): void {
    this.tick++;
    const text = this.frame();
    this.clear();
    this.out.write(`${text}\n`);
    this.drawn = text.split('\n').length;
  }
}
