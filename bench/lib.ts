// Helpers every benchmark script shares: bounded child processes, the API over a unix socket,
// quantiles, and what a berthd left behind (conmon processes, mounts).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Result { code: number; stdout: Buffer; stderr: string; ms: number }

export function runCmd(file: string, args: string[], o: { input?: Buffer | string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolveP) => {
    const t0 = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(file, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (e) {
      resolveP({ code: -1, stdout: Buffer.alloc(0), stderr: String(e), ms: 0 });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (o.input !== undefined) {
      child.stdin!.on('error', () => {});
      child.stdin!.end(o.input);
    }
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, o.timeoutMs ?? 30_000);
    let spawnError = '';
    child.on('error', (e) => { spawnError = e.message; });
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString() + (spawnError ? `\n${spawnError}` : '') + (timedOut ? '\n(timed out)' : '');
      resolveP({ code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out), stderr, ms });
    });
  });
}

export async function mustRun(file: string, args: string[], o: Parameters<typeof runCmd>[2] = {}): Promise<Result> {
  const r = await runCmd(file, args, o);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return r;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]);
}

// ---------- HTTP over the unix socket ----------

export interface ApiResult { status: number; body: Buffer }

export function api(socketPath: string, method: string, path: string, body?: unknown, agent?: http.Agent, timeoutMs = 30_000): Promise<ApiResult> {
  return new Promise((resolveP, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({
      socketPath, method, path, agent,
      headers: data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {},
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveP({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`${method} ${path}: response aborted`)));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

// ---------- statistics ----------

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}


export function conmonPidsOf(root: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      if (comm !== 'conmon') continue;
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(`${root}/`)) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids;
}

export function mountsUnder(...roots: string[]): string[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => unescape(l.split(' ')[1] ?? ''))
    .filter((m) => roots.some((r) => m === r || m.startsWith(`${r}/`)));
}

/** The last lines of a log file ('' when there is none). */
export function tailOf(file: string, lines = 30): string {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n'); } catch { return ''; }
}

export interface BerthdOptions { repo: string; dataRoot: string; execRoot: string; socket: string; pidfile: string; logFile: string; args?: string[] }

/** Starts a berthd of the benchmark's own and waits (at most 15 s) until /_ping answers. */
export async function startBerthd(o: BerthdOptions): Promise<ChildProcess> {
  mkdirSync(o.execRoot, { recursive: true });
  const fd = openSync(o.logFile, 'a');
  const daemon = spawn(join(o.repo, 'bin/berthd'), [
    '--data-root', o.dataRoot, '--exec-root', o.execRoot, '-H', `unix://${o.socket}`, '--pidfile', o.pidfile, ...(o.args ?? []),
  ], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`berthd exited (${daemon.exitCode ?? daemon.signalCode}):\n${tailOf(o.logFile)}`);
    const ok = await api(o.socket, 'GET', '/_ping', undefined, undefined, 1_000).then((r) => r.status === 200, () => false);
    if (ok) return daemon;
    await sleep(50);
  }
  throw new Error(`berthd did not answer /_ping within 15 s:\n${tailOf(o.logFile)}`);
}

/**
 * Cleans up on SIGINT/SIGTERM/SIGHUP (a second signal does not interrupt the cleaning) and
 * returns the check the measuring loops call between steps (it throws once a signal came).
 */
export function onSignals(cleanup: () => Promise<void>, timeoutMs: number, log: (s: string) => void): { check: () => void; interrupted: () => boolean } {
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = true;
      log(`\n${sig}: cleaning up`);
      void withTimeout(cleanup(), timeoutMs, 'cleanup').catch((e) => log(String(e))).finally(() => process.exit(130));
    });
  }
  return { check: () => { if (interrupted) throw new Error('interrupted'); }, interrupted: () => interrupted };
}

/** SIGTERM, up to 5 s, then SIGKILL (and up to 5 s more): no child of a benchmark outlives it. */
export async function stopChild(p: ChildProcess | undefined, what: string, log: (s: string) => void): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  await Promise.race([exited, sleep(5_000)]);
  if (p.exitCode === null && p.signalCode === null) {
    log(`${what} did not exit within 5 s of SIGTERM: SIGKILL`);
    p.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
  }
}
