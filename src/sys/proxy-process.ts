// berthd's side of the userland port proxy (userland-proxy=true): one berth-proxy process per
// daemon, started detached (its own session, so it outlives berthd for live restore) and driven
// over its control socket in the daemon's exec root (proxy/main.ts has the protocol). After a
// berthd restart the client simply connects again: the socket answers while the proxy lives, and
// a request that needs a proxy when none answers starts one. The proxy exits by itself when it is
// left with nothing to hold.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { System } from '../errors.ts';
import type { PortForward, ProxyReply, ProxyRequest } from '../types/port-forward.ts';

const PROXY_BIN = resolve(import.meta.dirname, '../../bin/berth-proxy');
/** The script berth-proxy runs, built or not: how its processes are told from others in /proc. */
const PROXY_MAIN = /\/proxy\/main\.(ts|js)$/;

export interface StartProxyOptions {
  /** How long to wait for the ready line; default 5 s. The child is killed when it passes. */
  timeoutMs?: number;
}

/**
 * Starts a berth-proxy on control socket `control`. Resolves with its pid once the socket
 * answers; rejects with the proxy's own message (e.g. "another berth-proxy serves …"), leaving
 * no process behind.
 */
export async function startProxy(control: string, pidfile: string, o: StartProxyOptions = {}): Promise<{ pid: number }> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const child = spawn(PROXY_BIN, ['--control', control, '--pidfile', pidfile], {
    detached: true, // setsid: own session and process group, no SIGHUP/SIGINT from berthd's terminal
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const killChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    await exited;
  };

  let line: string;
  try {
    line = await new Promise<string>((ok, fail) => {
      let buf = '';
      const timer = setTimeout(() => fail(new System(`berth-proxy did not report ready within ${timeoutMs} ms`)), timeoutMs);
      const settle = (f: () => void): void => { clearTimeout(timer); f(); };
      child.once('error', (err) => settle(() => fail(new System(`cannot start berth-proxy: ${err.message}`, { cause: err }))));
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl >= 0) settle(() => ok(buf.slice(0, nl)));
      });
      child.stdout!.once('end', () => {
        if (!buf.includes('\n')) {
          void exited.then((code) => settle(() => fail(new System(`berth-proxy exited (code ${code}) before it was ready`))));
        }
      });
    });
  } catch (err) {
    child.stdout!.destroy();
    await killChild();
    throw err;
  }
  child.stdout!.destroy();

  let msg: { ok?: boolean; error?: string; pid?: number };
  try {
    msg = JSON.parse(line);
  } catch {
    await killChild();
    throw new System(`berth-proxy: unexpected ready line: ${line.slice(0, 200)}`);
  }
  if (msg.ok !== true) {
    // It exits by itself after a failure; wait for that (bounded) so nothing is left behind.
    const gone = await Promise.race([exited.then(() => true), sleep(2000, false, { ref: false })]);
    if (!gone) await killChild();
    throw new System(msg.error ?? `berth-proxy failed: ${line.slice(0, 200)}`);
  }
  child.unref();
  return { pid: child.pid! };
}

/**
 * A berthd's connection to its berth-proxy: the ProxyControl of port publishing when
 * userland-proxy=true. Requests go one at a time, each on a connection of its own.
 */
export class ProxyClient {
  readonly control: string;
  readonly pidfile: string;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #timeoutMs: number;

  /** `runDir`: the daemon's exec root, where the control socket and pidfile live. */
  constructor(runDir: string, o: { timeoutMs?: number } = {}) {
    this.control = join(runDir, 'proxy.sock');
    this.pidfile = join(runDir, 'proxy.pid');
    this.#timeoutMs = o.timeoutMs ?? 10_000;
  }

  /** Binds the owner's forwards in the proxy (started when none runs); the proxy's pid and the forwards as bound. */
  add(owner: string, forwards: PortForward[]): Promise<{ pid: number; forwards: PortForward[] }> {
    return this.#serial(async () => {
      let r = await this.#request({ op: 'add', owner, forwards });
      if (!r) {
        await startProxy(this.control, this.pidfile).catch(async (err: Error) => {
          // Another start won the socket (it answers): use that one.
          if (!(await this.#request({ op: 'list' }))) throw err;
        });
        r = await this.#request({ op: 'add', owner, forwards });
        if (!r) throw new System('berth-proxy started but its control socket does not answer');
      }
      return { pid: r.pid, forwards: r.forwards ?? [] };
    });
  }

  /** Lets go of the owner's forwards; no error when there is no proxy or it holds none of them. */
  remove(owner: string): Promise<void> {
    return this.#serial(async () => {
      const r = await this.#request({ op: 'remove', owner });
      // The proxy is going away: wait for it (bounded), so that a stopped daemon leaves no process behind.
      if (r?.exiting) for (const deadline = Date.now() + 2000; Date.now() < deadline && isProxy(r.pid);) await sleep(10);
    });
  }

  /** The containers whose forwards the proxy holds; none when no proxy runs. */
  owners(): Promise<string[]> {
    return this.#serial(async () => (await this.#request({ op: 'list' }))?.owners ?? []);
  }

  /**
   * Removes every owner's forwards, so the proxy exits: a daemon restarted with
   * userland-proxy=false holds the ports itself and must not find them taken by its old proxy.
   */
  async removeAll(): Promise<void> {
    for (const owner of await this.owners()) await this.remove(owner);
  }

  /** The running proxy's pid, or undefined. */
  pid(): Promise<number | undefined> {
    return this.#serial(async () => (await this.#request({ op: 'list' }))?.pid);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** One request; undefined when no proxy answers on the socket. A refusal by the proxy throws its message. */
  async #request(req: ProxyRequest): Promise<Extract<ProxyReply, { ok: true }> | undefined> {
    const answer = await new Promise<ProxyReply | undefined>((ok, fail) => {
      const c = net.connect(this.control);
      let buf = '';
      let connected = false;
      const timer = setTimeout(() => { c.destroy(); fail(new System(`berth-proxy on ${this.control} did not answer within ${this.#timeoutMs} ms`)); }, this.#timeoutMs);
      const done = (f: () => void): void => { clearTimeout(timer); c.destroy(); f(); };
      c.setEncoding('utf8');
      c.once('connect', () => { connected = true; c.write(`${JSON.stringify(req)}\n`); });
      c.on('data', (chunk: string) => {
        buf += chunk;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        try { const r = JSON.parse(buf.slice(0, nl)) as ProxyReply; done(() => ok(r)); } catch { done(() => fail(new System(`berth-proxy: unexpected answer: ${buf.slice(0, 200)}`))); }
      });
      c.once('error', (err: NodeJS.ErrnoException) => {
        // No socket, or nobody behind it (a crashed proxy's file): no proxy.
        if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) done(() => ok(undefined));
        else done(() => fail(new System(`berth-proxy on ${this.control}: ${err.message}`, { cause: err })));
      });
      // Closed without an answer: the proxy exited between accept and answer.
      c.once('end', () => done(() => ok(undefined)));
    });
    if (answer && !answer.ok) {
      // A proxy that is just exiting answers so; the next request starts a new one.
      if (answer.error === 'berth-proxy is exiting') return undefined;
      throw new System(answer.error);
    }
    return answer;
  }
}

/** Every live berth-proxy with the control socket it serves (`--control`). */
export function listProxies(): { pid: number; control: string }[] {
  const out: { pid: number; control: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let argv: string[];
    try { argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (!argv.some((a) => PROXY_MAIN.test(a))) continue;
    const i = argv.indexOf('--control');
    out.push({ pid: Number(d), control: i >= 0 ? argv[i + 1] ?? '' : '' });
  }
  return out;
}

/** True when `pid` is a live berth-proxy (not a zombie, not a reused pid). */
export function isProxy(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return false;
  }
  // A zombie has an empty cmdline; the shim execs node, so the script path is in argv.
  return argv.some((a) => PROXY_MAIN.test(a) || a === 'berth-proxy' || a.endsWith('/berth-proxy'));
}

/** SIGTERM, up to 2 s to exit, then SIGKILL. No error when the process is already gone. */
export async function stopProxy(pid: number): Promise<void> {
  if (!isProxy(pid)) return;
  if (!signal(pid, 'SIGTERM')) return;
  for (const deadline = Date.now() + 2000; Date.now() < deadline;) {
    if (!isProxy(pid)) return;
    await sleep(20);
  }
  signal(pid, 'SIGKILL');
  for (const deadline = Date.now() + 1000; Date.now() < deadline && isProxy(pid);) await sleep(20);
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
