// Starts a real berthd for integration tests, on its own short exec root and fresh data root,
// and takes everything it made away again (containers, conmon, mounts, runc state, dirs),
// even when a test failed half-way.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, openSync, closeSync } from 'node:fs';
import { rm, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { run } from '../../src/sys/exec.ts';
import { removeRules } from '../../src/network/firewall.ts';
import { listProxies } from '../../src/sys/proxy-process.ts';
import { daemonTag } from '../../src/engine/engine.ts';

export const repo = resolve(import.meta.dirname, '../..');
export const DOCKER = '/usr/local/bin/docker';

export interface Result { code: number; stdout: string; stderr: string }
export interface ApiResult { status: number; headers: http.IncomingHttpHeaders; body: Buffer; json: () => any }

export interface DaemonOptions { dataRoot?: string; execRoot?: string; /** More berthd flags. */ args?: string[] }

/** Each test daemon has a bridge and subnets of its own (derived from its tag), like side-by-side daemons must. */
export interface DaemonNet { bridge: string; bip: string; subnetPrefix: string; pool: string; execRoot: string }

function netFor(tag: string, execRoot: string): DaemonNet {
  const b = Buffer.from(tag, 'hex');
  const second = 100 + (b[0]! % 100);
  return {
    bridge: `bt${tag}`, bip: `10.${second}.${b[1]}.1/24`, subnetPrefix: `10.${second}.${b[1]}.`,
    pool: `10.${200 + (b[2]! % 50)}.0.0/16`, execRoot,
  };
}

export class TestDaemon {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  readonly logFile: string;
  readonly env: NodeJS.ProcessEnv;
  readonly net: DaemonNet;
  private readonly extraArgs: string[];
  private proc?: ChildProcess;

  constructor(o: DaemonOptions = {}) {
    const tag = randomBytes(3).toString('hex');
    this.dataRoot = o.dataRoot ?? mkdtempSync('/var/tmp/berth-test-');
    this.execRoot = o.execRoot ?? `/run/bt-${tag}`;
    this.extraArgs = o.args ?? [];
    this.net = netFor(this.execRoot.match(/bt-([0-9a-f]{6})$/)?.[1] ?? tag, this.execRoot);
    this.socket = `${this.execRoot}/d.sock`;
    this.logFile = join(this.dataRoot, '..', `${this.dataRoot.split('/').pop()}.log`);
    const cfg = mkdtempSync('/tmp/berth-cli-');
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: cfg, DOCKER_CLI_HINTS: 'false' };
  }

  /** Starts berthd and waits until /_ping answers (bounded). */
  async start(): Promise<void> {
    mkdirSync(this.execRoot, { recursive: true });
    const fd = openSync(this.logFile, 'a');
    this.proc = spawn(join(repo, 'bin/berthd'), [
      '--data-root', this.dataRoot, '--exec-root', this.execRoot, '-H', `unix://${this.socket}`,
      '--pidfile', join(this.execRoot, 'berthd.pid'), '--log-level', 'debug',
      '--bridge', this.net.bridge, '--bip', this.net.bip, '--default-address-pool', this.net.pool, ...this.extraArgs,
    ], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`berthd exited with ${this.proc.exitCode}:\n${this.logTail()}`);
      const ok = await this.api('GET', '/_ping').then((r) => r.status === 200, () => false);
      if (ok) return;
      await sleep(50);
    }
    throw new Error(`berthd did not answer within 15 s:\n${this.logTail()}`);
  }

  logTail(lines = 40): string {
    try { return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
  }

  get pid(): number | undefined { return this.proc?.pid; }

  /** SIGTERM and wait for the exit (containers keep running: live restore). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await settledWithin(exited, 10_000);
    if (p.exitCode === null) p.kill('SIGKILL');
  }

  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  /** Runs the real Docker CLI against this daemon. */
  docker(args: string[], o: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
    return runCmd(DOCKER, args, { input: o.input, timeoutMs: o.timeoutMs ?? 30_000, env: { ...this.env, ...o.env } });
  }

  api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult> {
    return new Promise((resolveP, reject) => {
      const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = http.request({
        socketPath: this.socket, method, path,
        headers: { ...(data ? { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } : {}), ...headers },
        timeout: 30_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolveP({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()) });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Removes every container through the API, stops berthd, then removes whatever is left by hand. */
  async cleanup(): Promise<void> {
    try {
      if (this.proc && this.proc.exitCode === null) {
        const list = await this.api('GET', '/containers/json?all=1');
        if (list.status === 200) {
          for (const c of list.json() as { Id: string }[]) await this.api('DELETE', `/containers/${c.Id}?force=1`).catch(() => {});
        }
      }
    } catch { /* daemon gone: the hard cleanup below still runs */ }
    await this.stop().catch(() => {});
    await hardCleanup(this.dataRoot, this.execRoot, this.net);
    await rm(this.logFile, { force: true });
    await rm(this.env.DOCKER_CONFIG!, { recursive: true, force: true });
  }
}

/** Kills conmon processes, deletes runc containers and unmounts everything under the roots. */
export async function hardCleanup(dataRoot: string, execRoot: string, net?: DaemonNet): Promise<void> {
  if (net) await cleanupNetwork(dataRoot, net);
  const runcRoot = join(execRoot, 'runc');
  const listed = await run('runc', ['--root', runcRoot, 'list', '-q'], { okCodes: [0, 1] }).catch(() => ({ stdout: '' }));
  for (const id of listed.stdout.split('\n').filter(Boolean)) {
    await run('runc', ['--root', runcRoot, 'delete', '-f', id], { okCodes: [0, 1] }).catch(() => {});
  }
  await run('pkill', ['-9', '-f', `conmon.*${execRoot}/`], { okCodes: [0, 1] }).catch(() => {});
  const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dataRoot}/`) || m.startsWith(`${execRoot}/`) || m === execRoot)
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m], { okCodes: [0, 1, 32] }).catch(() => {});
  await rm(dataRoot, { recursive: true, force: true });
  await rm(execRoot, { recursive: true, force: true });
  // The daemon's cgroup tree (engine.ts names it after the exec root): leaves first.
  const parent = `berth-${daemonTag(execRoot)}`;
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const dir = join('/sys/fs/cgroup', ctrl, parent);
    for (const child of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!child.isDirectory()) continue;
      // A process the daemon lost track of (a runc init whose state is gone) still sits here.
      const cg = join(dir, child.name);
      await writeFile(join(cg, 'freezer.state'), 'THAWED').catch(() => {});
      for (const pid of (await readFile(join(cg, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
      for (let i = 0; i < 20; i++) {
        if (await rmdir(cg).then(() => true, () => false)) break;
        await sleep(50);
      }
    }
    await rmdir(dir).catch(() => {});
  }
}

/** The daemon's network leftovers: proxies, namespaces, veths, bridges and iptables rules. */
async function cleanupNetwork(dataRoot: string, net: DaemonNet): Promise<void> {
  const ids = await readdir(join(dataRoot, 'containers')).catch(() => [] as string[]);
  // Namespaces the daemon prepared ahead of time, and those its containers took.
  const poolPrefix = `berth-p.${daemonTag(net.execRoot)}-`;
  for (const ns of await readdir('/run/netns').catch(() => [] as string[])) {
    if (ns.startsWith(poolPrefix)) await run('ip', ['netns', 'del', ns], { okCodes: [0, 1, 2] }).catch(() => {});
  }
  // The daemon's one berth-proxy (userland-proxy=true) has its control socket in the exec root.
  for (const p of listProxies()) {
    if (p.control.startsWith(`${net.execRoot}/`)) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  for (const id of ids) await run('ip', ['netns', 'del', `berth-${id.slice(0, 16)}`], { okCodes: [0, 1, 2] }).catch(() => {});
  const bridges = [net.bridge];
  for (const f of await readdir(join(dataRoot, 'network')).catch(() => [] as string[])) {
    try {
      const n = JSON.parse(await readFile(join(dataRoot, 'network', f), 'utf8')) as { Id: string; Driver: string; Name: string; Options: Record<string, string> };
      if (n.Driver === 'bridge' && n.Name !== 'bridge') bridges.push(n.Options['com.docker.network.bridge.name'] || `br-${n.Id.slice(0, 12)}`);
    } catch { /* unreadable */ }
  }
  for (const b of bridges) {
    await removeRules(b).catch(() => {});
    await run('ip', ['link', 'del', b], { okCodes: [0, 1, 2] }).catch(() => {});
  }
}

export function runCmd(file: string, args: string[], o: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolveP) => {
    const child = spawn(file, args, { env: o.env ?? process.env, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (o.input !== undefined) {
      child.stdin!.on('error', () => { /* the command exited before reading all its input */ });
      child.stdin!.end(o.input);
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveP({ code: code ?? (signal ? 128 + 9 : -1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Imports busybox:latest made from the host's busybox-static. */
export async function makeBusybox(d: TestDaemon): Promise<string> {
  const tar = await runBuffer('bash', [join(repo, 'scripts/busybox-image.sh')]);
  const r = await d.docker(['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar });
  if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function runBuffer(file: string, args: string[]): Promise<Buffer> {
  return new Promise((resolveP, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('close', (code) => (code === 0 ? resolveP(Buffer.concat(out)) : reject(new Error(`${file} exited ${code}`))));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Waits for `p`, or `ms` at most, and clears its timer either way. Not `Promise.race([p,
 * sleep(ms)])`: that timer stays pending after `p` wins and keeps the test file's process
 * alive until it fires (node --test waits for each file's process to exit: 10 s per file).
 */
export async function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((r) => { timer = setTimeout(r, ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until fn returns true (bounded). */
export async function until(fn: () => Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The stdout of a command that must succeed (the assertion shows its stderr otherwise). */
export async function ok(p: Promise<Result>): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}
