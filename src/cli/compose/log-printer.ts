// The output of `compose logs` and of an attached `compose up`: every container's lines behind a
// `web-1  | ` prefix padded to the widest name seen so far, each container in a colour of Compose's
// cycle on a terminal (plain otherwise), and `web-1 exited with code 0` when one ends.
//
// Lifecycle of attachProject: the project's container events are subscribed to first (so nothing
// that starts between the list and the subscription is missed), then the containers are listed.
// Running ones get a log stream at once; created ones (up attaches before it starts them) get one
// on their `start` event, as do containers that appear later (scale, recreate) and restarts (from
// their StartedAt, so earlier output is not repeated). A `die` is reported once that container's
// stream has drained, so its last lines come before the exit line. It resolves when no watched
// container is left running (with follow), when every stream ended (without), or on abort.
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { checkOk, demux, jsonLines, query } from '../../client/engine-client.ts';
import { getTimestamp } from '../commands/container-logs.ts';
import { CliError } from '../command.ts';
import type { ComposeCtx } from './command.ts';
import type { Project } from '../../compose/model/types.ts';
import { LABEL, canonicalName, listContainers, serviceOf, shortName, type Listed } from './s-containers.ts';

/** Compose's rainbow: cyan, yellow, green, magenta, blue, then their intense forms. */
const RAINBOW = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

/** Go's `%-Ns | `-style prefixes and the colour cycle, per container name (Compose's logConsumer). */
export class LogPrinter {
  private readonly presenters = new Map<string, { color: (s: string) => string; prefix: string }>();
  private next = 0;
  private readonly out: Writable;
  private readonly err: Writable;
  readonly opts: { color: boolean; prefix: boolean };

  constructor(out: Writable, err: Writable, opts: { color: boolean; prefix: boolean }) {
    this.out = out;
    this.err = err;
    this.opts = opts;
  }

  /** Registers a name (its colour is the next of the cycle) and re-pads every prefix to the widest name + 1. */
  register(name: string): void {
    if (this.presenters.has(name)) return;
    let color = (s: string): string => s;
    if (this.opts.color && name !== '') {
      const code = RAINBOW[this.next]!;
      this.next = (this.next + 1) % RAINBOW.length;
      color = (s) => `\x1b[${code}m${s}\x1b[0m`;
    }
    this.presenters.set(name, { color, prefix: '' });
    const width = Math.max(...[...this.presenters.keys()].map((n) => n.length)) + 1;
    if (this.opts.prefix) for (const [n, p] of this.presenters) p.prefix = p.color(`${n.padEnd(width)} | `);
  }

  /** The prefix of a name as it is now (registering it first if needed). */
  prefix(name: string): string {
    this.register(name);
    return this.presenters.get(name)!.prefix;
  }

  /** One line of a container's output (without its newline). */
  log(name: string, line: string, stderr = false): void {
    (stderr ? this.err : this.out).write(`${this.prefix(name)}${line}\n`);
  }

  /** A status line: `web-1 exited with code 0`, in the container's colour. */
  status(name: string, message: string): void {
    this.register(name);
    const p = this.presenters.get(name)!;
    // Compose starts the line with goterm's RESET_LINE; that only means something on a terminal.
    this.out.write(p.color(`${this.opts.color ? '\r\x1b[K' : ''}${name} ${message}\n`));
  }
}

/** Splits a byte stream into lines (a last line without newline is flushed at the end), as Compose's splitWriter. */
export class LineSplitter {
  private buf = '';
  private readonly decoder = new TextDecoder();
  private readonly emit: (line: string) => void;
  constructor(emit: (line: string) => void) { this.emit = emit; }
  write(chunk: Buffer): void {
    this.buf += this.decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      this.emit(this.buf.slice(0, i));
      this.buf = this.buf.slice(i + 1);
    }
  }
  end(): void {
    this.buf += this.decoder.decode();
    if (this.buf) this.emit(this.buf);
    this.buf = '';
  }
}

export interface AttachOptions {
  services?: string[];
  timestamps?: boolean;
  noColor?: boolean;
  noPrefix?: boolean;
  /** set by callers that resolved --no-color / --ansi themselves (up): wins over noColor */
  color?: boolean;
  /** likewise for --no-log-prefix */
  prefix?: boolean;
  /** default true: follow the streams and new containers until none is left running */
  follow?: boolean;
  tail?: string;
  since?: string;
  until?: string;
  /** `up` (not `logs`): print "Attaching to …" first and send containers' stderr to stderr */
  attach?: boolean;
  /** --index: only this container number (with one service) */
  index?: number;
  /** called when a watched container exits for good (not restarting) */
  onExit?: (c: { id: string; name: string; service: string }, code: number) => void;
  signal?: AbortSignal;
}

/** What attachProject returns once it is streaming: the end, and a way to stop. */
export interface Attached {
  /** resolves when no watched container is left running (follow), every stream ended (no follow), or on close/abort */
  done: Promise<void>;
  /** stops following; waits (up to 2 s) for the exit lines of containers that are stopping, then cuts the streams */
  close(): Promise<void>;
}

/** A docker timestamp flag value → the API's, with Compose's message for a bad one. */
function apiTime(flag: string, v: string | undefined): string | undefined {
  if (!v) return undefined;
  try { return getTimestamp(v); } catch (e) { throw new CliError(`invalid value for "${flag}": ${(e as Error).message}`); }
}

/** RFC 3339 (nano) → "secs.nanos" for ?since=. */
export function sinceOfRfc3339(iso: string): string | undefined {
  const m = /^(.*?:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return Number.isNaN(ms) || ms <= 0 ? undefined : `${Math.floor(ms / 1000)}.${(m[2] ?? '').padEnd(9, '0')}`;
}

/**
 * Streams the project's containers' logs (see the header). `project` may be a loaded Project or just
 * a name (logs works from -p alone). Resolves once the streams are set up (so `up` can start the
 * containers next); `done` is the end.
 */
export async function attachProject(ctx: ComposeCtx, project: Project | string, opts: AttachOptions): Promise<Attached> {
  const follow = opts.follow !== false;
  const client = ctx.client();
  const projectName = typeof project === 'string' ? project : project.name;
  const services = opts.services?.length ? opts.services : (typeof project === 'string' ? [] : Object.keys(project.services));
  const printer = new LogPrinter(ctx.out, ctx.err, { color: opts.color ?? (ctx.globals.color && !opts.noColor), prefix: opts.prefix ?? !opts.noPrefix });
  const since = apiTime('since', opts.since);
  const until = apiTime('until', opts.until);
  const watched = (c: { Labels?: Record<string, string> | null }): boolean =>
    (!services.length || services.includes(c.Labels?.[LABEL.service] ?? '')) &&
    (!opts.index || c.Labels?.[LABEL.number] === String(opts.index));

  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const streams = new Map<string, Promise<void>>();
  const responses = new Set<IncomingMessage>();
  abort.signal.addEventListener('abort', () => { for (const r of responses) r.destroy(); });
  let failure: unknown;

  const stream = (id: string, name: string, tty: boolean, q: { since?: string; tail?: string }): void => {
    const run = async (): Promise<void> => {
      const res = await client.raw('GET', `/containers/${encodeURIComponent(id)}/logs${query({
        stdout: true, stderr: true, follow, timestamps: opts.timestamps ?? false,
        since: q.since, until, tail: q.tail,
      })}`);
      responses.add(res);
      try {
        await checkOk(res);
        const out = new LineSplitter((l) => printer.log(name, l));
        const err = new LineSplitter((l) => printer.log(name, l, opts.attach === true));
        if (tty) for await (const c of res) out.write(c as Buffer);
        else for await (const f of demux(res)) (f.stream === 2 ? err : out).write(f.data);
        out.end();
        err.end();
      } finally {
        responses.delete(res);
      }
    };
    const p = run().catch((e: unknown) => {
      // a stream cut by the abort is the normal end of `logs -f`
      if (!abort.signal.aborted) failure ??= e;
    }).finally(() => { if (streams.get(id) === p) streams.delete(id); });
    streams.set(id, p);
  };

  // Events first, then the list: a container started in between is seen by one or the other.
  let events: IncomingMessage | undefined;
  if (follow) {
    events = await client.raw('GET', `/events${query({
      filters: JSON.stringify({ type: ['container'], label: [`${LABEL.project}=${projectName}`, `${LABEL.oneoff}=False`] }),
    })}`);
    await checkOk(events);
    responses.add(events);
  }
  const all = (await listContainers(client, projectName, { all: true, services, oneoff: 'exclude', index: opts.index }))
    .filter(watched)
    .sort((a, b) => (canonicalName(a) < canonicalName(b) ? -1 : 1));
  // colours are given in name order, as Compose sorts before it attaches
  for (const c of all) printer.register(shortName(c));
  if (opts.attach && all.length) ctx.out.write(`Attaching to ${all.map(shortName).join(', ')}\n`);

  const live = new Set<string>();
  const names = new Map<string, { name: string; service: string }>();
  for (const c of all) {
    names.set(c.Id, { name: shortName(c), service: serviceOf(c) });
    const state = c.State ?? '';
    if (state === 'created' && !follow) continue;
    if (state === 'running' || state === 'restarting' || state === 'paused' || state === 'created') live.add(c.Id);
    if (state === 'created') continue; // its stream starts with its start event
    const inspect = await client.containerInspect(c.Id).catch(() => undefined);
    if (!inspect) continue;
    stream(c.Id, shortName(c), inspect.Config?.Tty === true, { since, tail: opts.tail });
  }

  const finish = async (): Promise<void> => {
    opts.signal?.removeEventListener('abort', onAbort);
    abort.abort();
    events?.destroy();
    await Promise.all(streams.values());
    if (failure) throw failure;
  };
  if (!events) {
    const done = Promise.all(streams.values()).then(finish);
    return { done, close: () => { abort.abort(); return done.catch(() => {}); } };
  }
  const evs = events;
  const started = new Set<string>(all.filter((c) => c.State !== 'created').map((c) => c.Id));
  const loop = async (): Promise<void> => {
    if (!live.size && !opts.attach) {
      // nothing running: logs -f has printed what there was; Compose's monitor ends the same way
      await Promise.all(streams.values());
      return;
    }
    for await (const ev of jsonLines<{ Action?: string; status?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }>(evs)) {
      const action = ev.Action ?? ev.status ?? '';
      const id = ev.Actor?.ID ?? ev.id ?? '';
      const attrs = ev.Actor?.Attributes ?? {};
      if (!watched({ Labels: attrs })) continue;
      if (action === 'start') {
        const info = await client.containerInspect(id).catch(() => undefined);
        if (!info) continue;
        const c = { Id: id, Names: [info.Name ?? ''], Labels: info.Config?.Labels ?? {} } as Listed;
        const entry = { name: shortName(c), service: serviceOf(c) };
        names.set(id, entry);
        live.add(id);
        if (!streams.has(id)) {
          // a restart continues from its start; a first start shows everything
          const from = started.has(id) && info.State?.StartedAt ? sinceOfRfc3339(info.State.StartedAt) : since;
          stream(id, entry.name, info.Config?.Tty === true, { since: from, tail: started.has(id) ? undefined : opts.tail });
        }
        started.add(id);
      } else if (action === 'die') {
        const entry = names.get(id);
        if (!entry) continue;
        // its last lines first
        await Promise.race([streams.get(id), new Promise((r) => setTimeout(r, 2000))]);
        const info = await client.containerInspect(id).catch(() => undefined);
        const code = Number(attrs.exitCode ?? info?.State?.ExitCode ?? 0);
        if (info?.State?.Restarting || info?.State?.Running) {
          printer.status(entry.name, `exited with code ${code} (restarting)`);
          continue;
        }
        printer.status(entry.name, `exited with code ${code}`);
        live.delete(id);
        opts.onExit?.({ id, ...entry }, code);
        if (!live.size) break;
      }
    }
  };
  const done = loop().catch((e: unknown) => { if (!abort.signal.aborted) failure ??= e; }).then(finish);
  const close = async (): Promise<void> => {
    // the exit lines of containers being stopped come after their die events: give them a moment
    await Promise.race([done.catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
    abort.abort();
    await done.catch(() => {});
  };
  return { done, close };
}
