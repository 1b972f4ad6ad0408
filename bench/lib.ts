// Helpers every benchmark script shares: bounded child processes, the API over a unix socket,
// quantiles, and what a berthd left behind (conmon processes, mounts).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, mkdirSync, mkdtempSync, openSync, closeSync, existsSync, writeFileSync, appendFileSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** The Docker CLI every benchmark drives. */
export const DOCKER = '/usr/local/bin/docker';

/** Progress and diagnostics go to stderr; stdout carries only the Markdown section. */
export const log = (s: string): void => { process.stderr.write(`${s}\n`); };

/** A figure for a table: `digits` decimals, or a dash when there is none. */
export const fmt = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');

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

/**
 * A hijacked POST as the Docker CLI makes it (`Connection: Upgrade`, `Upgrade: tcp`): the write
 * side is closed at once (nothing to send: no stdin), the stream read to its end. Resolves with
 * the status (101, or the plain reply's) and every byte that came.
 */
export function apiHijacked(socketPath: string, path: string, body: unknown, timeoutMs = 30_000): Promise<ApiResult> {
  return new Promise((resolveP, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request({
      socketPath, method: 'POST', path, agent: false, timeout: timeoutMs,
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(data.length), Connection: 'Upgrade', Upgrade: 'tcp' },
    });
    const timer = setTimeout(() => req.destroy(new Error(`POST ${path} (hijacked) timed out after ${timeoutMs} ms`)), timeoutMs);
    const done = (status: number, chunks: Buffer[]): void => { clearTimeout(timer); resolveP({ status, body: Buffer.concat(chunks) }); };
    req.on('upgrade', (res, sock, head) => {
      const chunks: Buffer[] = [head];
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('end', () => { done(res.statusCode ?? 0, chunks); sock.destroy(); });
      sock.on('error', (e) => { clearTimeout(timer); reject(e); });
      sock.end();
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(res.statusCode ?? 0, chunks));
      res.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
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

export interface BerthdOptions { repo: string; dataRoot: string; execRoot: string; socket: string; pidfile: string; logFile: string; args?: string[]; /** berthd's environment (default this process's), e.g. with NODE_OPTIONS=--cpu-prof */ env?: NodeJS.ProcessEnv }

/** Starts a berthd of the benchmark's own and waits (at most 15 s) until /_ping answers. */
export async function startBerthd(o: BerthdOptions): Promise<ChildProcess> {
  mkdirSync(o.execRoot, { recursive: true });
  const fd = openSync(o.logFile, 'a');
  const daemon = spawn(join(o.repo, 'bin/berthd'), [
    '--data-root', o.dataRoot, '--exec-root', o.execRoot, '-H', `unix://${o.socket}`, '--pidfile', o.pidfile, ...(o.args ?? []),
  ], { stdio: ['ignore', fd, fd], env: o.env ?? process.env });
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

// ---------- the berthd of a benchmark ----------

export interface BenchPaths { tag: string; execRoot: string; socket: string; pidfile: string; dataRoot: string; scratch: string; cliConfig: string; logFile: string; env: NodeJS.ProcessEnv }

/** The roots of a benchmark's own berthd (data root and scratch made now under /var/tmp, exec root /run/bb-<hex>) and the CLI's env for it. */
export function benchPaths(): BenchPaths {
  const tag = randomBytes(3).toString('hex');
  const execRoot = `/run/bb-${tag}`;
  const socket = `${execRoot}/d.sock`;
  const dataRoot = mkdtempSync('/var/tmp/berth-bench-');
  const scratch = mkdtempSync('/var/tmp/berth-bench-x-'); // CLI config, berthd log, and whatever the script keeps there
  const cliConfig = join(scratch, 'docker-config');
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: cliConfig, DOCKER_CLI_HINTS: 'false' };
  return { tag, execRoot, socket, pidfile: `${execRoot}/p.pid`, dataRoot, scratch, cliConfig, logFile: join(scratch, 'berthd.log'), env };
}

/** `--runs`, checked: a positive integer, or exit 2 with a message. */
export function runsOption(value: string | undefined): number {
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`--runs wants a positive integer, not ${value}`);
    process.exit(2);
  }
  return runs;
}

/** Imports busybox:latest (from the host's busybox-static) into the berthd `env` points at; returns the rootfs tar. */
export async function importBusybox(repo: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const tar = (await mustRun('bash', [join(repo, 'scripts/busybox-image.sh')], { timeoutMs: 60_000 })).stdout;
  await mustRun(DOCKER, ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar, env, timeoutMs: 60_000 });
  return tar;
}

/** How many entries a GET of a list (containers, images) returns; -1 when it does not answer 200. */
export async function countListed(socket: string, path: string): Promise<number> {
  const r = await api(socket, 'GET', path);
  return r.status === 200 ? (JSON.parse(r.body.toString()) as unknown[]).length : -1;
}

/** The machine and versions every section's first line names; `dirtyNote` is appended to the commit when src/ or bin/ has uncommitted changes. */
export async function machineInfo(repo: string, dirtyNote?: string): Promise<{ nproc: string; cpu: string; kernel: string; node: string; docker: string; commit: string }> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const dirty = dirtyNote === undefined ? '' : await outputOf('git', ['-C', repo, 'status', '--porcelain', '--', 'src', 'bin']);
  return {
    nproc: await outputOf('nproc', []),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    kernel: await outputOf('uname', ['-r']),
    node: process.version,
    docker: `${await outputOf(DOCKER, ['version', '--format', '{{.Client.Version}}'])} (client)`,
    commit: `${await outputOf('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'])}${dirty ? dirtyNote : ''}`,
  };
}

/** A command's trimmed stdout (10 s at most), for version strings. */
export async function outputOf(file: string, args: string[]): Promise<string> {
  return (await runCmd(file, args, { timeoutMs: 10_000 })).stdout.toString().trim();
}

/** One measurement of a benchmark's table: its samples and how to take one. */
export interface Sampled { key: string; fn: () => Promise<number>; samples: number[] }

/** Runs `warmups` unrecorded rounds, then `runs` recorded ones, each round one sample of every measurement in turn; logs each round. */
export async function runInterleaved(ms: Sampled[], o: { runs: number; warmups?: number; what?: string; digits: number; check: () => void }): Promise<void> {
  for (let i = 0; i < (o.warmups ?? 0); i++) for (const m of ms) { o.check(); await m.fn(); }
  for (let i = 0; i < o.runs; i++) {
    for (const m of ms) {
      o.check();
      m.samples.push(await m.fn());
    }
    log(`${o.what ? `${o.what} ` : ''}run ${i + 1}/${o.runs}: ${ms.map((m) => `${m.key}=${fmt(m.samples.at(-1)!, o.digits)}`).join(' ')}`);
  }
}

/** Logs berthd's warnings and errors (pino level ≥ 40) to stderr; the log itself goes with the scratch dir. */
export function logComplaints(logFile: string): void {
  const complaints = (() => { try { return readFileSync(logFile, 'utf8').split('\n'); } catch { return []; } })()
    .filter((l) => { try { return (JSON.parse(l) as { level?: number }).level! >= 40; } catch { return false; } });
  if (complaints.length) log(`berthd logged ${complaints.length} warnings/errors; the first ones:\n${complaints.slice(0, 10).join('\n')}`);
}

/** Appends a section to BENCHMARKS.md (made with `header` when missing). */
export function appendSection(repo: string, section: string, header = '# Benchmarks\n'): void {
  const file = join(repo, 'BENCHMARKS.md');
  if (!existsSync(file)) writeFileSync(file, header);
  appendFileSync(file, `\n${section}`);
  log(`appended to ${file}`);
}

/** After berthd is stopped: `runc delete -f` what is left under its runc root (and `extraRuncRoots`), SIGKILL its conmon processes. */
export async function killRuntimeLeftovers(execRoot: string, extraRuncRoots: string[] = []): Promise<void> {
  for (const root of [join(execRoot, 'runc'), ...extraRuncRoots]) {
    if (!existsSync(root)) continue;
    const listed = await runCmd('runc', ['--root', root, 'list', '-q'], { timeoutMs: 10_000 });
    for (const id of listed.stdout.toString().split('\n').filter(Boolean)) {
      log(`leftover runc container ${id} under ${root}: delete -f`);
      await runCmd('runc', ['--root', root, 'delete', '-f', id], { timeoutMs: 10_000 });
    }
  }
  for (const pid of conmonPidsOf(execRoot)) {
    log(`leftover conmon ${pid}: SIGKILL`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** Unmounts everything under `dirs` (deepest first, lazily when busy), then removes them (each bounded by `rmTimeoutMs`). */
export async function unmountAndRemove(dirs: string[], rmTimeoutMs: number): Promise<void> {
  // Deepest first, so that a mount on top of another comes off before the one below it.
  const mounts = mountsUnder(...dirs).sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    const r = await runCmd('umount', [m], { timeoutMs: 10_000 });
    if (r.code !== 0) await runCmd('umount', ['-l', m], { timeoutMs: 10_000 });
  }
  for (const dir of dirs) {
    await withTimeout(rm(dir, { recursive: true, force: true }), rmTimeoutMs, `rm -rf ${dir}`).catch((e) => log(`removing ${dir}: ${e}`));
  }
}

/**
 * Runs a benchmark's `main`; on failure logs it with the tail of berthd's log; then (unless a
 * signal came, whose handler cleans up) runs `cleanup` (bounded), then `after` with main's result
 * (false there means failure too), and exits 0 or 1.
 */
export async function runBench<T>(main: () => Promise<T>, o: { signals: { interrupted: () => boolean }; cleanup: () => Promise<void>; cleanupTimeoutMs: number; logFile: string; after?: (result: T | undefined) => Promise<boolean> }): Promise<void> {
  let code = 0;
  let result: T | undefined;
  try {
    result = await main();
  } catch (e) {
    if (!o.signals.interrupted()) {
      log(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
      const tail = tailOf(o.logFile);
      if (tail) log(`--- berthd log (tail) ---\n${tail}`);
      code = 1;
    }
  } finally {
    if (!o.signals.interrupted()) {
      await withTimeout(o.cleanup(), o.cleanupTimeoutMs, 'cleanup').catch((e) => { log(String(e)); code = 1; });
      if (o.after && !(await o.after(result))) code = 1;
      process.exit(code);
    }
  }
}

/** A /24 for the default bridge and a /16 pool for user networks that no address or route here uses yet. */
export function pickSubnets(): { bip: string; prefix: string; pool: string } {
  const used = readFileSync('/proc/net/fib_trie', 'utf8'); // every local address and route, dotted
  for (let i = 0; i < 50; i++) {
    const a = randomInt(150, 200);
    const b = randomInt(0, 256);
    const p = randomInt(200, 250);
    const prefix = `10.${a}.${b}.`;
    if (used.includes(` ${prefix}`) || used.includes(` 10.${p}.`)) continue;
    return { bip: `${prefix}1/24`, prefix, pool: `10.${p}.0.0/16` };
  }
  throw new Error('no free 10.x subnet found');
}

/** Removes a benchmark daemon's (by now empty) cgroup tree in every hierarchy, leaves first. */
export function removeCgroupTree(parent: string): void {
  for (const ctrl of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const dir = join('/sys/fs/cgroup', ctrl, parent);
    if (!existsSync(dir)) continue;
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) { try { rmdirSync(join(dir, e.name)); } catch { /* busy */ } }
      rmdirSync(dir);
    } catch (e) { log(`removing cgroup ${dir}: ${e}`); }
  }
}

// ---------- registries and a private dockerd ----------

/** A port nobody listens on right now on 127.0.0.1 (the kernel's pick; racy only against other binders). */
export function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolveP(port));
    });
  });
}

/** The processes named `comm` whose command line mentions `needle` (a benchmark's own root). */
export function processesOf(comm: string, needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== comm) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').includes(needle)) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids;
}

export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

export interface LocalRegistry { host: string; url: string; dir: string; child: ChildProcess; stop: () => Promise<void> }

/**
 * Starts the CNCF registry (Debian's docker-registry) on 127.0.0.1:<free port>, plain HTTP,
 * filesystem storage under `dir` (made here); waits (at most 10 s) until GET /v2/ answers.
 * stop() ends it (SIGTERM, then SIGKILL) and removes `dir`.
 */
export async function startDockerRegistry(dir: string): Promise<LocalRegistry> {
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log:', '  level: error', '  accesslog:', '    disabled: true',
      'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, '  delete:', '    enabled: true',
      'http:', `  addr: 127.0.0.1:${port}`, '',
    ].join('\n'));
    const child = spawn(DOCKER_REGISTRY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    child.on('error', (e) => { stderr += `\n${e.message}`; });
    const url = `http://127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      await stopChild(child, 'docker-registry', log);
      await withTimeout(rm(dir, { recursive: true, force: true }), 60_000, `rm -rf ${dir}`);
    };
    const deadline = Date.now() + 10_000;
    let up = false;
    while (!up && Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      up = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status === 200, () => false);
      if (!up) await sleep(50);
    }
    if (up) return { host: `127.0.0.1:${port}`, url, dir, child, stop };
    await stopChild(child, 'docker-registry', log);
    if (attempt < 3 && /address already in use/.test(stderr)) continue;
    await rm(dir, { recursive: true, force: true });
    throw new Error(`docker-registry did not answer on ${url}: ${stderr.trim()}`);
  }
}

export interface PrivateDockerd { socket: string; dataRoot: string; execRoot: string; logFile: string; child: ChildProcess; env: NodeJS.ProcessEnv; /** dockerd wrote KEY_JSON (it was not there before): stop removes it. */ madeKeyJson: boolean }

/** dockerd 20.10 writes its trust key there, whatever its roots. */
const KEY_JSON = '/etc/docker/key.json';

/**
 * Starts a dockerd of the benchmark's own (when /usr/sbin/dockerd or dockerd on PATH exists),
 * away from the host's: its own data root, exec root, socket, pidfile, config file, containerd
 * namespace and managed containerd; no bridge (or the caller's `bridge`), no iptables rules, and
 * the host's ip_forward left as it is. Waits (at most 30 s) for /_ping.
 * `env` is the CLI's environment for it. Stop it with stopPrivateDockerd.
 */
export async function startPrivateDockerd(o: { dataRoot: string; execRoot: string; scratch: string; cliConfig: string; args?: string[]; /** an existing bridge of the caller's for the default network (default: none); iptables stays off, so -p goes through docker-proxy */ bridge?: string }): Promise<PrivateDockerd> {
  mkdirSync(o.execRoot, { recursive: true });
  mkdirSync(o.dataRoot, { recursive: true });
  const madeKeyJson = !existsSync(KEY_JSON);
  const socket = join(o.execRoot, 'docker.sock');
  const logFile = join(o.scratch, 'dockerd.log');
  const configFile = join(o.scratch, 'dockerd.json');
  writeFileSync(configFile, '{}\n');
  const fd = openSync(logFile, 'a');
  const child = spawn('dockerd', [
    '--data-root', o.dataRoot, '--exec-root', o.execRoot, '-H', `unix://${socket}`, '--pidfile', join(o.execRoot, 'docker.pid'),
    '--config-file', configFile, '--bridge', o.bridge ?? 'none', '--iptables=false', '--ip-forward=false', '--ip6tables=false', '--ip-masq=false',
    '--containerd-namespace', 'berthbench', '--containerd-plugins-namespace', 'berthbench-plugins', ...(o.args ?? []),
  ], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.on('error', () => {});
  const d: PrivateDockerd = { socket, dataRoot: o.dataRoot, execRoot: o.execRoot, logFile, child, env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: o.cliConfig, DOCKER_CLI_HINTS: 'false' }, madeKeyJson };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}):\n${tailOf(logFile)}`);
    const ok = await api(socket, 'GET', '/_ping', undefined, undefined, 1_000).then((r) => r.status === 200, () => false);
    if (ok) return d;
    await sleep(100);
  }
  await stopPrivateDockerd(d);
  throw new Error(`dockerd did not answer /_ping within 30 s:\n${tailOf(logFile)}`);
}

/** SIGTERM (15 s), then SIGKILL; then SIGKILL for any containerd (and shim) it left running under its exec root. */
export async function stopPrivateDockerd(d: PrivateDockerd | undefined): Promise<void> {
  if (!d) return;
  const p = d.child;
  if (p.exitCode === null && p.signalCode === null) {
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (p.exitCode === null && p.signalCode === null) {
      log('dockerd did not exit within 15 s of SIGTERM: SIGKILL');
      p.kill('SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
  }
  for (let i = 0; i < 50; i++) {
    const left = [...processesOf('containerd', d.execRoot), ...processesOf('containerd-shim', d.execRoot), ...processesOf('containerd-shim-runc-v2', d.execRoot)];
    if (!left.length) break;
    if (i === 10) for (const pid of left) { log(`leftover containerd process ${pid}: SIGKILL`); try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await sleep(100);
    if (i === 49) log(`containerd processes of ${d.execRoot} still there after SIGKILL`);
  }
  if (d.madeKeyJson) await rm(KEY_JSON, { force: true });
}

/**
 * What a benchmark's cleanup left behind: processes (by name, with a string of theirs in their
 * command line), mounts under and existence of its roots, and cgroup trees.
 */
export function leftovers(o: { processes: (readonly [string, string])[]; roots: string[]; cgroups?: string[] }): string[] {
  const left: string[] = [];
  for (const [comm, needle] of o.processes) {
    const pids = processesOf(comm, needle);
    if (pids.length) left.push(`${comm} ${pids.join(' ')}`);
  }
  const mounts = mountsUnder(...o.roots);
  if (mounts.length) left.push(`mounts ${mounts.join(' ')}`);
  for (const d of o.roots) if (existsSync(d)) left.push(d);
  const cgroups = (o.cgroups ?? []).flatMap((c) => cgroupDirsOf(c));
  if (cgroups.length) left.push(`cgroups ${cgroups.join(' ')}`);
  return left;
}

/** The directories a cgroup `parent` (as removeCgroupTree takes it) still has, in every hierarchy: for a leftovers check. */
export function cgroupDirsOf(parent: string): string[] {
  return (existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []).map((ctrl) => join('/sys/fs/cgroup', ctrl, parent)).filter((d) => existsSync(d));
}

// ---------- memory of processes ----------

/** A process's resident memory in KiB: RSS (VmRSS = anon + file + shmem), its anon and file parts, and PSS (shared pages split among the processes mapping them, /proc/<pid>/smaps_rollup). */
export interface ProcMemory { rss: number; anon: number; file: number; pss: number }

/** `pid`'s resident memory now; undefined when it is gone (or a kernel thread). */
export function procMemory(pid: number): ProcMemory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (text: string, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    const m = { rss: kib(status, 'VmRSS'), anon: kib(status, 'RssAnon'), file: kib(status, 'RssFile'), pss: kib(rollup, 'Pss') };
    return Number.isFinite(m.rss) && Number.isFinite(m.pss) ? m : undefined;
  } catch { return undefined; }
}

/** The sum of procMemory over `pids` (those gone count nothing) and how many of them were there. */
export function sumMemory(pids: number[]): ProcMemory & { count: number } {
  const total = { rss: 0, anon: 0, file: 0, pss: 0, count: 0 };
  for (const pid of pids) {
    const m = procMemory(pid);
    if (!m) continue;
    total.rss += m.rss; total.anon += m.anon; total.file += m.file; total.pss += m.pss; total.count++;
  }
  return total;
}

/** The processes below `pid` (children, their children …), from the parent field of /proc/<n>/stat. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => { for (const c of children.get(p) ?? []) { out.push(c); walk(c); } };
  walk(pid);
  return out;
}

/**
 * The processes a daemon has added to the host: `roots` (the daemon's own pids), their
 * descendants, and every process whose command line mentions one of `needles` (its exec root:
 * conmon, containerd and its shims, which daemonize away from their parent), keeping only those
 * in this PID namespace, so that the containers' own processes (in theirs) do not count.
 */
export function daemonProcesses(roots: number[], needles: string[]): number[] {
  const ownNs = (() => { try { return readlinkSync('/proc/self/ns/pid'); } catch { return ''; } })();
  const pids = new Set<number>(roots);
  for (const r of roots) for (const d of descendantsOf(r)) pids.add(d);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (needles.some((n) => cmdline.includes(n))) pids.add(Number(d));
    } catch { /* gone */ }
  }
  return [...pids].filter((p) => { try { return readlinkSync(`/proc/${p}/ns/pid`) === ownNs; } catch { return false; } });
}

/** The names (comm) of `pids`, counted: `conmon ×20, berthd ×1`, for a table's note. */
export function commCounts(pids: number[]): string {
  const n = new Map<string, number>();
  for (const p of pids) {
    try { const c = readFileSync(`/proc/${p}/comm`, 'utf8').trim(); n.set(c, (n.get(c) ?? 0) + 1); } catch { /* gone */ }
  }
  return [...n].sort((a, b) => b[1] - a[1]).map(([c, k]) => `${c} ×${k}`).join(', ');
}

/** One timed sample. */
export type Measure = () => Promise<number>;

/** A sample: the wall time of one Docker CLI command against the daemon `e` names; a failure throws with its stderr. */
export function cliMeasure(args: string[], e: NodeJS.ProcessEnv): Measure {
  return async () => {
    const r = await runCmd(DOCKER, args, { env: e, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
    return r.ms;
  };
}

// ---------- floors: a runc bundle, counted pipes ----------

/** Makes an OCI bundle at `dir` (`runc spec`, rootfs from `tar`) whose process is `args`, no terminal: the runtime's floor. */
export async function makeBundle(dir: string, tar: Buffer, args: string[]): Promise<void> {
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  await mustRun('runc', ['spec'], { cwd: dir, timeoutMs: 10_000 });
  await mustRun('tar', ['x', '-C', join(dir, 'rootfs')], { input: tar, timeoutMs: 60_000 });
  const cfgPath = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { process: { args: string[]; terminal: boolean } };
  cfg.process.args = args;
  cfg.process.terminal = false;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
}

/** `runc run -d` with stdio on /dev/null (a pipe would be held open by the container): a running floor container. */
export function runcRunDetached(root: string, bundle: string, id: string): Promise<void> {
  return new Promise((resolveP, reject) => {
    const child = spawn('runc', ['--root', root, 'run', '-d', '-b', bundle, id], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => { clearTimeout(timer); if (code === 0) resolveP(); else reject(new Error(`runc run -d ${id} failed (exit ${code})`)); });
  });
}

export interface Counted { bytes: number; ms: number; code: number; stderr: string; /** when it exited, epoch ms */ endAt: number; /** from the first byte to the exit, ms (NaN when none came) */ msFromFirst: number }

/** Runs a command with its stdout counted, never kept: for MB/s of logs and of their floors. */
export function counted(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<Counted> {
  return new Promise((resolveP) => {
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    let first = NaN;
    child.stdout.on('data', (b: Buffer) => { if (!bytes) first = performance.now(); bytes += b.length; });
    child.stderr.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { stderr += String(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const now = performance.now();
      resolveP({ bytes, ms: now - t0, code: code ?? -1, stderr, endAt: Date.now(), msFromFirst: now - first });
    });
  });
}
