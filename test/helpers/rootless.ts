// Rootless berthd as a real, ordinary user made by the test (issue 20): `RootlessUser.make()`
// adds a user with a home under /tmp, a subordinate id range and a private XDG_RUNTIME_DIR
// (/tmp/berth-rt-xdg-*, as pam_systemd makes /run/user/UID); `RootlessDaemon` starts bin/berthd
// as that user (which goes through bin/berthd-rootless and RootlessKit) and runs the Docker CLI
// and the berth CLI as the user. `destroy()` removes everything, on failure too: the containers,
// berthd, RootlessKit's namespace (and with it slirp4netns and every mount made inside), any
// process left with the user's ids or its subordinate ids, the user, its /etc/subuid and
// /etc/subgid lines, its home and its runtime dir. The leak check of scripts/test.sh looks for
// what would be left: RootlessKit, slirp4netns and holder processes, berth-rt users and dirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync, readdirSync, openSync, closeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { DOCKER, repo, runCmd, runBuffer, sleep, settledWithin, type Result } from './daemon.ts';

const SUBID_FILES = ['/etc/subuid', '/etc/subgid'];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Why rootless tests cannot run here, or false. */
export function rootlessSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (it makes a user)';
  for (const bin of ['/usr/sbin/useradd', '/usr/sbin/userdel', '/usr/sbin/runuser', '/usr/bin/rootlesskit', '/usr/bin/slirp4netns', '/usr/bin/newuidmap']) {
    if (!existsSync(bin)) return `needs ${bin} (scripts/install.sh installs it)`;
  }
  return false;
}

/**
 * slirp4netns opens /dev/net/tun as the user; distributions ship it 0666, this project's VMs 0600.
 * The tests make it usable (scripts/test.sh puts the old mode back at the end of the suite).
 */
export function ensureTunUsable(): void {
  const st = statSync('/dev/net/tun');
  if ((st.mode & 0o006) !== 0o006) chmodSync('/dev/net/tun', 0o666);
}

/** fuse-overlayfs (the storage driver for kernels before 5.11) opens /dev/fuse as the user: the same. */
export function ensureFuseUsable(): void {
  const st = statSync('/dev/fuse');
  if ((st.mode & 0o006) !== 0o006) chmodSync('/dev/fuse', 0o666);
}

/**
 * useradd, usermod or userdel, tried again while another process holds the shadow files' locks
 * (rootless and userns test files run at the same time: "cannot lock /etc/passwd; try again later").
 */
export async function shadowTool(tool: string, args: string[]): Promise<Result> {
  let r = await runCmd(tool, args);
  for (let i = 0; i < 50 && r.code !== 0 && /lock/i.test(r.stderr); i++) {
    await sleep(100 + Math.floor(Math.random() * 100));
    r = await runCmd(tool, args);
  }
  return r;
}

/** The "start-end" ranges of a user in one of the files. */
function rangesOf(user: string, file: string): Array<{ start: number; size: number }> {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  return lines.filter((l) => l.startsWith(`${user}:`)).map((l) => {
    const [, start, size] = l.split(':').map(Number);
    return { start: start!, size: size! };
  });
}

export class RootlessUser {
  readonly name: string;
  readonly home: string;
  uid = 0;
  gid = 0;
  xdg = '';
  /** The user's subordinate uid range (container ids 1… map to start…). */
  subuid = { start: 0, size: 0 };

  private constructor(name: string) {
    this.name = name;
    this.home = `/tmp/${name}`;
  }

  /** A new user with a subordinate range (unless `subids: false`) and its runtime dir. */
  static async make(o: { subids?: boolean } = {}): Promise<RootlessUser> {
    const u = new RootlessUser(`berthrt${randomBytes(3).toString('hex')}`);
    // Without a range: login.defs' counts set to 0 for this useradd, so /etc/subuid is never
    // rewritten here (another test's useradd may be appending to it at the same moment).
    const noRange = o.subids === false ? ['-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0'] : [];
    const made = await shadowTool('useradd', [...noRange, '--create-home', '--home-dir', u.home, '--shell', '/bin/bash', u.name]);
    if (made.code !== 0) throw new Error(`useradd: ${made.stderr}`);
    try {
      u.uid = Number((await runCmd('id', ['-u', u.name])).stdout.trim());
      u.gid = Number((await runCmd('id', ['-g', u.name])).stdout.trim());
      if (o.subids === false) {
        if (rangesOf(u.name, '/etc/subuid').length || rangesOf(u.name, '/etc/subgid').length) throw new Error(`useradd gave ${u.name} a subordinate range despite SUB_UID_COUNT=0`);
      } else if (!rangesOf(u.name, '/etc/subuid').length || !rangesOf(u.name, '/etc/subgid').length) {
        // useradd adds a range where login.defs says so (Debian does); otherwise one past all others.
        let top = 100_000;
        for (const f of SUBID_FILES) {
          for (const l of (existsSync(f) ? readFileSync(f, 'utf8') : '').split('\n')) {
            const [, s, n] = l.split(':').map(Number);
            if (Number.isFinite(s) && Number.isFinite(n)) top = Math.max(top, s! + n!);
          }
        }
        const r = await shadowTool('usermod', ['--add-subuids', `${top}-${top + 65535}`, '--add-subgids', `${top}-${top + 65535}`, u.name]);
        if (r.code !== 0) throw new Error(`usermod: ${r.stderr}`);
      }
      u.subuid = rangesOf(u.name, '/etc/subuid')[0] ?? { start: 0, size: 0 };
      u.xdg = mkdtempSync('/tmp/berth-rt-xdg-');
      chownSync(u.xdg, u.uid, u.gid);
      chmodSync(u.xdg, 0o700);
    } catch (err) {
      await u.remove();
      throw err;
    }
    return u;
  }

  /** Takes the user's /etc/subuid and /etc/subgid lines away (only those lines). */
  dropSubids(): void {
    for (const f of SUBID_FILES) {
      if (!existsSync(f)) continue;
      const text = readFileSync(f, 'utf8');
      const kept = text.split('\n').filter((l) => !l.startsWith(`${this.name}:`)).join('\n');
      if (kept !== text) writeFileSync(f, kept);
    }
  }

  /** The user's login-like environment. */
  env(extra: Record<string, string> = {}): string[] {
    return Object.entries({ HOME: this.home, USER: this.name, LOGNAME: this.name, PATH, XDG_RUNTIME_DIR: this.xdg, ...extra }).map(([k, v]) => `${k}=${v}`);
  }

  /**
   * Runs a command as the user (runuser, a clean environment). The time limit is timeout(1)'s,
   * inside runuser: runCmd's own kill would reach runuser alone, and the command under it would
   * keep the output pipes open, so the call would not end.
   */
  run(cmd: string, args: string[], o: { input?: string | Buffer; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Result> {
    const ms = o.timeoutMs ?? 60_000;
    return runCmd('runuser', ['-u', this.name, '--', 'timeout', '-s', 'KILL', `${Math.ceil(ms / 1000)}s`, 'env', '-i', ...this.env(o.env), cmd, ...args], { input: o.input, timeoutMs: ms + 5_000 });
  }

  /** Pids of every process whose real uid is the user's or in its subordinate range. */
  processes(): number[] {
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let status = '';
      try { status = readFileSync(`/proc/${name}/status`, 'utf8'); } catch { continue; }
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      if (uid === this.uid || (this.subuid.size > 0 && uid >= this.subuid.start && uid < this.subuid.start + this.subuid.size)) out.push(Number(name));
    }
    return out;
  }

  /** Kills every process of the user and its subordinate ids, then removes the user and its files. */
  async remove(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const left = this.uid ? this.processes() : [];
      if (!left.length) break;
      for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await sleep(100);
    }
    // Mounts made inside RootlessKit's mount namespace went with it; one seen from here (a
    // fuse-overlayfs, say) would keep the home busy.
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n').reverse()) {
      const target = line.split(' ')[1];
      if (target && (target.startsWith(`${this.home}/`) || (this.xdg && target.startsWith(`${this.xdg}/`)))) {
        await runCmd('umount', ['-l', target.replace(/\\040/g, ' ')]);
      }
    }
    const del = await shadowTool('userdel', ['--remove', this.name]);
    if (del.code !== 0 && !/does not exist/.test(del.stderr)) console.error(`userdel ${this.name}: ${del.stderr.trim()}`);
    this.dropSubids();
    await rm(this.home, { recursive: true, force: true });
    if (this.xdg) await rm(this.xdg, { recursive: true, force: true });
  }
}

export class RootlessDaemon {
  readonly user: RootlessUser;
  readonly socket: string;
  readonly logFile: string;
  private proc?: ChildProcess;

  constructor(user: RootlessUser) {
    this.user = user;
    this.socket = join(user.xdg, 'berth', 'berth.sock');
    this.logFile = join(user.home, 'berthd.log');
  }

  get pidfile(): string { return join(this.user.xdg, 'berth', 'berthd.pid'); }

  /** Starts bin/berthd as the user (it goes rootless through bin/berthd-rootless) and waits for /_ping. */
  async start(o: { env?: Record<string, string>; args?: string[] } = {}): Promise<void> {
    ensureTunUsable();
    const fd = openSync(this.logFile, 'a');
    chownSync(this.logFile, this.user.uid, this.user.gid);
    this.proc = spawn('runuser', ['-u', this.user.name, '--', 'env', '-i', ...this.user.env(o.env), join(repo, 'bin/berthd'), '--log-level', 'debug', ...(o.args ?? [])], {
      stdio: ['ignore', fd, fd], cwd: '/',
    });
    closeSync(fd);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`rootless berthd exited with ${this.proc.exitCode}:\n${this.logTail()}`);
      const r = await this.user.run(DOCKER, ['version', '--format', '{{.Server.Version}}'], { env: this.dockerEnv(), timeoutMs: 5_000 });
      if (r.code === 0) return;
      await sleep(100);
    }
    throw new Error(`rootless berthd did not answer within 20 s:\n${this.logTail()}`);
  }

  logTail(lines = 40): string {
    try { return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
  }

  /** berthd's pid (inside RootlessKit's namespaces berthd is the process runuser started, after execs). */
  berthdPid(): number {
    return Number(readFileSync(this.pidfile, 'utf8').trim());
  }

  /** SIGTERM to berthd and wait: containers and RootlessKit keep running (live restore). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM', 15_000);
  }

  /** SIGKILL to berthd itself (not RootlessKit): what a crash leaves. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  /** Signals berthd by its pidfile (runuser, its parent, would not pass SIGKILL on) and waits for runuser's exit. */
  private async signal(sig: NodeJS.Signals, ms: number): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    let pid = 0;
    try { pid = this.berthdPid(); } catch { /* no pidfile yet */ }
    try { if (pid) process.kill(pid, sig); else p.kill(sig); } catch { /* gone */ }
    await settledWithin(exited, ms);
    if (p.exitCode === null && p.signalCode === null) {
      try { if (pid) process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      p.kill('SIGKILL');
    }
  }

  dockerEnv(): Record<string, string> {
    return { DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.user.home, '.docker'), DOCKER_CLI_HINTS: 'false' };
  }

  /** The Docker CLI 28, as the user, on the rootless socket. */
  docker(args: string[], o: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<Result> {
    return this.user.run(DOCKER, args, { ...o, env: this.dockerEnv() });
  }

  /** The berth CLI as the user with no host named: it finds the rootless socket itself. */
  berth(args: string[], o: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<Result> {
    return this.user.run(join(repo, 'bin/berth'), args, o);
  }

  /** busybox:latest from the host's busybox-static, imported as the user. */
  async importBusybox(): Promise<void> {
    const tar = await runBuffer('bash', [join(repo, 'scripts/busybox-image.sh')]);
    const r = await this.docker(['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'], { input: tar });
    if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  }

  /** Removes every container, stops berthd, ends RootlessKit's namespace. Never throws. */
  async destroy(): Promise<void> {
    try {
      if (this.proc && this.proc.exitCode === null) {
        const ids = (await this.docker(['ps', '-aq'], { timeoutMs: 15_000 })).stdout.split('\n').filter(Boolean);
        if (ids.length) await this.docker(['rm', '-f', ...ids], { timeoutMs: 60_000 });
      }
    } catch { /* berthd gone: the namespace's end below takes the containers with it */ }
    await this.stop().catch(() => {});
    await this.user.run(join(repo, 'bin/berthd-rootless'), ['--stop-namespace'], { timeoutMs: 15_000 }).catch(() => undefined);
  }
}

/** A port nothing on the host listens on now (bound on the wildcard, as RootlessKit binds, then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether the host can bind a port (as root here), i.e. nothing else holds it. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** Whether a TCP connect to 127.0.0.1:port is refused (nothing listens on the host). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(2_000, () => { s.destroy(); resolve(false); });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}
