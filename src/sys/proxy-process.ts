// berthd's side of the userland port proxy: spawn bin/berth-proxy detached (its own session, so
// it outlives berthd for live restore), read its one ready line, and later stop it by pid. After
// a daemon restart a recorded pid may have been reused, so check isProxy() before trusting it.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { System } from '../errors.ts';
import type { PortForward } from '../types/port-forward.ts';

const PROXY_BIN = resolve(import.meta.dirname, '../../bin/berth-proxy');
const PROXY_MAIN = '/src/proxy/main.ts';

export interface StartProxyOptions {
  /** How long to wait for the ready line; default 5 s. The child is killed when it passes. */
  timeoutMs?: number;
  /** The container the proxy serves, in its command line (berthd finds orphans by it). */
  owner?: string;
}

/**
 * Starts a berth-proxy for `forwards`. Resolves with its pid and the forwards as bound (hostPort 0
 * replaced by the real port); rejects with the proxy's own message, e.g.
 * "bind 0.0.0.0:8080/tcp: address already in use", leaving no process behind.
 */
export async function startProxy(forwards: PortForward[], o: StartProxyOptions = {}): Promise<{ pid: number; forwards: PortForward[] }> {
  const timeoutMs = o.timeoutMs ?? 5000;
  const child = spawn(PROXY_BIN, ['--forwards', JSON.stringify(forwards), ...(o.owner ? ['--owner', o.owner] : [])], {
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

  let msg: { ok?: boolean; error?: string; forwards?: PortForward[] };
  try {
    msg = JSON.parse(line);
  } catch {
    await killChild();
    throw new System(`berth-proxy: unexpected ready line: ${line.slice(0, 200)}`);
  }
  if (msg.ok !== true || !Array.isArray(msg.forwards)) {
    // It exits by itself after a failure; wait for that (bounded) so nothing is left behind.
    const gone = await Promise.race([exited.then(() => true), sleep(2000, false, { ref: false })]);
    if (!gone) await killChild();
    throw new System(msg.error ?? `berth-proxy failed: ${line.slice(0, 200)}`);
  }
  child.unref();
  return { pid: child.pid!, forwards: msg.forwards };
}

/** Every live berth-proxy with the container it serves (`--owner`). */
export function listProxies(): { pid: number; owner: string }[] {
  const out: { pid: number; owner: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let argv: string[];
    try { argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (!argv.some((a) => a.endsWith(PROXY_MAIN))) continue;
    const i = argv.indexOf('--owner');
    out.push({ pid: Number(d), owner: i >= 0 ? argv[i + 1] ?? '' : '' });
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
  return argv.some((a) => a.endsWith(PROXY_MAIN) || a === 'berth-proxy' || a.endsWith('/berth-proxy'));
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
