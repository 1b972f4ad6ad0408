// berthd's host tools run through bin/berth-spawner, a small Python process that starts them
// with vfork, instead of child_process.spawn: libuv forks the whole daemon for each spawn, and
// that fork blocks berthd's one event loop for 8-40 ms (growing with its RSS), so every mount,
// ip, iptables and runc call of a start or an exit held up every other request meanwhile.
// Started on first use, detached (own session: a Ctrl-C meant for berthd does not reach it or
// the tools it runs), unref'd while idle so it never keeps a process alive; it exits when berthd
// goes (its stdin ends). If it cannot start or dies, calls fall back to spawning directly.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';

const SPAWNER = resolvePath(import.meta.dirname, '../../bin/berth-spawner');
const PYTHON = '/usr/bin/python3';

export interface SpawnRequest {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Uint8Array;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface SpawnReply {
  /** Exit code, null when a signal ended it. */
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** The tool could not be started at all (spawn's 'error'): errno name and text. */
export class SpawnFailed extends Error {
  readonly errno: string;
  constructor(message: string, errno: string) {
    super(message);
    this.errno = errno;
  }
}

interface Pending { ok: (r: SpawnReply) => void; fail: (e: Error) => void }
interface Wire { id: number; code?: number | null; signal?: number | null; stdout?: string; stderr?: string; error?: string; errno?: string }

class Spawner {
  private child?: ChildProcess;
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set when the spawner cannot be used here (no python3, or it died at once): spawn directly. */
  broken = !existsSync(PYTHON) || !existsSync(SPAWNER);

  private start(): ChildProcess {
    const child = spawn(PYTHON, ['-u', SPAWNER], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => this.onData(s));
    child.stdin!.on('error', () => { /* it died: 'exit' fails what is pending */ });
    child.once('error', () => { this.broken = true; this.gone(child, new Error('berth-spawner could not start')); });
    child.once('exit', (code, sig) => this.gone(child, new Error(`berth-spawner exited (${sig ?? code})`)));
    this.child = child;
    this.idle();
    return child;
  }

  private gone(child: ChildProcess, err: Error): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.buf = '';
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.fail(err);
  }

  /** While nothing is pending the spawner must not keep the process alive. */
  private idle(): void {
    const c = this.child;
    if (!c) return;
    const busy = this.pending.size > 0;
    for (const h of [c, c.stdout!, c.stdin!] as { ref(): unknown; unref(): unknown }[]) {
      if (busy) h.ref(); else h.unref();
    }
  }

  private onData(s: string): void {
    this.buf += s;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      let msg: Wire;
      try { msg = JSON.parse(line) as Wire; } catch { continue; }
      const p = this.pending.get(msg.id);
      if (!p) continue;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.fail(new SpawnFailed(msg.error, msg.errno ?? ''));
      else p.ok({ code: msg.code ?? null, stdout: Buffer.from(msg.stdout ?? '', 'base64'), stderr: Buffer.from(msg.stderr ?? '', 'base64') });
    }
    this.idle();
  }

  run(req: SpawnRequest): Promise<SpawnReply> {
    const child = this.child ?? this.start();
    const id = this.nextId++;
    return new Promise<SpawnReply>((ok, fail) => {
      const onAbort = (): void => { child.stdin!.write(`${JSON.stringify({ kill: id })}\n`); };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => { req.signal?.removeEventListener('abort', onAbort); };
      this.pending.set(id, { ok: (r) => { done(); ok(r); }, fail: (e) => { done(); fail(e); } });
      this.idle();
      const input = req.input === undefined ? null : Buffer.from(req.input).toString('base64');
      child.stdin!.write(`${JSON.stringify({ id, file: req.file, args: req.args, env: req.env ?? null, cwd: req.cwd ?? null, input, timeoutMs: req.timeoutMs })}\n`);
      if (req.signal?.aborted) onAbort();
    });
  }
}

let spawner: Spawner | undefined;

/** The spawner, or undefined where it cannot serve (no python3) or BERTH_SPAWNER=off. */
export function theSpawner(): Spawner | undefined {
  if (process.env.BERTH_SPAWNER === 'off') return undefined;
  spawner ??= new Spawner();
  return spawner.broken ? undefined : spawner;
}
