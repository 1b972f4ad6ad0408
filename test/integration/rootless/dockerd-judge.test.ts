// Rootless berthd judged by rootless dockerd (issue 20: "dockerd is the judge"). Two real, ordinary
// users made by the test: one runs Debian's dockerd 20.10 through its own rootless launcher
// (dockerd-rootless.sh: RootlessKit, slirp4netns, the builtin port driver), the other bin/berthd
// (bin/berthd-rootless: the same three). The same Docker CLI 28 commands run as each user on
// their own daemon, both at once where that is safe, and what each user sees (exit code, stdout,
// stderr, what the host serves) is written to a transcript per daemon, line by line under a key.
//
// After normalisation (each user's own name, home, uid, subordinate range, published ports,
// container ids and addresses, ping times) every line must be equal, unless the key is in
// ALLOWED, which says why the daemons differ there and the exact form each side must take. Some
// entries are deliberate (berthd refuses what dockerd silently ignores); the ones marked
// 'berth-to-fix' are Berth's faults, accepted here so the judge stays green, with the fix named:
// once Berth matches dockerd the entry fails as stale and must go. Each step also asserts the
// facts that must hold on both (ports served, names resolved), so two equally wrong transcripts
// do not pass. Both transcripts are printed when they differ.
//
// cgroup v1 hosts only for the limit steps (what dockerd does there is what is judged). Live
// restore is not compared: dockerd-rootless.sh makes dockerd RootlessKit's child, so dockerd's
// exit ends the namespace (slirp4netns, ports) whatever --live-restore says.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, closeSync, chownSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { join } from 'node:path';
import { RootlessUser, RootlessDaemon, rootlessSkip, ensureTunUsable, freePort, portFree, refused } from '../../helpers/rootless.ts';
import { DOCKER, runBuffer, repo, sleep, settledWithin, type Result } from '../../helpers/daemon.ts';

const LAUNCHER = '/usr/share/docker.io/contrib/dockerd-rootless.sh';
const CGROUP_V1 = !existsSync('/sys/fs/cgroup/cgroup.controllers');

/** Rootless dockerd as a RootlessUser, the way the user would run it from a shell. */
class RootlessDockerd {
  readonly user: RootlessUser;
  readonly socket: string;
  readonly pidfile: string;
  readonly logFile: string;
  private proc?: ChildProcess;

  constructor(user: RootlessUser) {
    this.user = user;
    this.socket = join(user.xdg, 'docker.sock');
    this.pidfile = join(user.xdg, 'docker.pid');
    this.logFile = join(user.home, 'dockerd.log');
  }

  /**
   * dockerd-rootless.sh re-executes itself inside RootlessKit, which starts dockerd, which starts
   * its own containerd under $XDG_RUNTIME_DIR/docker. The paths given are its rootless defaults,
   * spelt out so the test knows them. Inside its own network namespace dockerd's iptables rules
   * and docker0 touch nothing of the host's.
   */
  async start(): Promise<void> {
    ensureTunUsable();
    const fd = openSync(this.logFile, 'a');
    chownSync(this.logFile, this.user.uid, this.user.gid);
    const env = this.user.env({ DOCKERD_ROOTLESS_ROOTLESSKIT_NET: 'slirp4netns', DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER: 'builtin' });
    this.proc = spawn('runuser', ['-u', this.user.name, '--', 'env', '-i', ...env, LAUNCHER,
      '--data-root', join(this.user.home, '.local/share/docker'), '--exec-root', join(this.user.xdg, 'docker'),
      '-H', `unix://${this.socket}`, '--pidfile', this.pidfile], { stdio: ['ignore', fd, fd], cwd: '/' });
    closeSync(fd);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`rootless dockerd exited with ${this.proc.exitCode}:\n${this.logTail()}`);
      const r = await this.docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 5_000 });
      if (r.code === 0) return;
      await sleep(200);
    }
    throw new Error(`rootless dockerd did not answer within 30 s:\n${this.logTail()}`);
  }

  logTail(lines = 30): string {
    try { return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return ''; }
  }

  docker(args: string[], o: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<Result> {
    return this.user.run(DOCKER, args, { ...o, env: { DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.user.home, '.docker'), DOCKER_CLI_HINTS: 'false' } });
  }

  /** Containers gone, then SIGTERM to dockerd: RootlessKit exits with its child. Never throws. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    try {
      const ids = (await this.docker(['ps', '-aq'], { timeoutMs: 15_000 })).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids], { timeoutMs: 30_000 });
    } catch { /* the user's removal kills what is left */ }
    const exited = new Promise((r) => p.once('exit', r));
    try { process.kill(Number(readFileSync(this.pidfile, 'utf8').trim()), 'SIGTERM'); } catch { p.kill('SIGTERM'); }
    await settledWithin(exited, 15_000);
  }
}

type Side = 'dockerd' | 'berthd';
type Lines = string[];

/** A difference the daemons may show, why, and the exact form each side must take. */
interface Allowed {
  key: string;
  kind: 'deliberate' | 'berth-to-fix';
  reason: string;
  /** For 'berth-to-fix': what Berth should change. */
  fix?: string;
  ok: (dockerd: Lines, berthd: Lines) => boolean;
}

const same = (a: Lines, b: Lines): boolean => JSON.stringify(a) === JSON.stringify(b);
const NO_CGROUPS_V1 = 'this host has cgroup v1, where an ordinary user gets no cgroups (rootless cgroups need cgroup v2 with systemd delegation, Delegate=yes)';
const HELP = "err: Run 'docker run --help' for more information";
const PORT_PREFIX = 'Error starting userland proxy: error while calling PortManager.AddPort(): ';

/** A limit dockerd ignores without a word and berthd refuses, naming the flag. */
const limit = (flags: string, flag: string): Allowed => ({
  key: `run --rm ${flags} busybox echo ran`,
  kind: 'deliberate',
  reason: `dockerd rootless on cgroup v1 runs the container without ${flag} and says nothing (no warning; inspect even shows the limit as if applied): a container silently running without the limit it asked for is worse, so berthd refuses it with the reason`,
  ok: (d, b) => same(d, ['exit 0', 'out: ran']) &&
    same(b, ['exit 125', `err: docker: Error response from daemon: rootless berthd cannot apply ${flag}: ${NO_CGROUPS_V1}`, HELP]),
});

/** Removes a non-empty directory of an image's layer and makes it again: it must be empty (opaque). */
const RM_LAYER_DIR_CMD = 'rm -rf /d && mkdir /d && ls -A /d && echo emptied';
const RM_LAYER_DIR = `run --rm layered sh -c ${RM_LAYER_DIR_CMD}`;

const ALLOWED: Allowed[] = [
  {
    key: 'info.SecurityOptions',
    kind: 'deliberate',
    reason: 'dockerd 20.10 calls its built-in seccomp profile "default"; dockerd 23 and later (API 1.42+, what the CLI 28 is written against) say "builtin", as berthd does',
    ok: (d, b) => same(d, ['out: ["name=seccomp,profile=default","name=rootless"]']) && same(b, ['out: ["name=seccomp,profile=builtin","name=rootless"]']),
  },
  {
    key: 'info.DockerRootDir',
    kind: 'deliberate',
    reason: 'each product keeps its data under its own name in the user\'s ~/.local/share',
    ok: (d, b) => same(d, ['out: "<home>/.local/share/docker"']) && same(b, ['out: "<home>/.local/share/berth"']),
  },
  {
    key: 'info.LiveRestoreEnabled',
    kind: 'deliberate',
    reason: 'berthd-rootless keeps RootlessKit apart from berthd (held), so containers and their ports outlive a berthd restart; dockerd-rootless.sh makes dockerd RootlessKit\'s child, so its exit ends the namespace, and live restore is off by default',
    ok: (d, b) => same(d, ['out: false']) && same(b, ['out: true']),
  },
  {
    key: 'run -d --name low -p <low>:80 busybox sleep 300',
    kind: 'deliberate',
    reason: 'both refusals are RootlessKit\'s builtin port driver\'s own words; dockerd 20.10 wraps them in its userland-proxy error and asks for tcp4 (and tcp6) forwards, berthd passes them on as they are and asks for one "tcp" forward (a dual-stack listener)',
    ok: (d, b) => d.length === b.length && d.some((l) => l.includes(PORT_PREFIX)) &&
      same(b, d.map((l) => l.replace(PORT_PREFIX, '').replace('listen tcp4 ', 'listen tcp '))),
  },
  limit('-m 64m', '--memory'),
  limit('--cpus 1', '--cpus'),
  limit('--pids-limit 10', '--pids-limit'),
  {
    key: 'pause pz',
    kind: 'deliberate',
    reason: 'both refuse (no freezer cgroup); dockerd with runc\'s words after making the attempt, berthd naming the freezer and why there is none',
    ok: (d, b) => same(d, ['exit 1', 'err: Error response from daemon: Cannot pause container <id>: OCI runtime pause failed: cannot toggle freezer: cgroups not configured for container: unknown']) &&
      same(b, ['exit 1', `err: Error response from daemon: rootless berthd cannot pause a container (that needs the cgroup freezer): ${NO_CGROUPS_V1}`]),
  },
  {
    key: 'top pz',
    kind: 'deliberate',
    reason: 'dockerd asks runc for the container\'s pids, which runc reads from a cgroup the container does not have, and fails; berthd lists the processes of the container\'s pid namespace',
    ok: (d, b) => d[0] === 'exit 1' && d.some((l) => l.includes('unable to get all container pids')) &&
      b[0] === 'exit 0' && b[1] === 'out: UID PID PPID C STIME TTY TIME CMD' && b.length === 3 && /^out: root \d+ \d+ \d+ \S+ \? \S+ sleep 300$/.test(b[2]!),
  },
  {
    key: 'stats --no-stream --format {{.PIDs}} pz',
    kind: 'deliberate',
    reason: 'without a pids cgroup dockerd reports 0 processes; berthd counts the container\'s pid namespace (one: sleep)',
    ok: (d, b) => same(d, ['exit 0', 'out: 0']) && same(b, ['exit 0', 'out: 1']),
  },
  {
    key: 'update --memory 64m pz',
    kind: 'deliberate',
    reason: 'dockerd fails on an unrelated check (its record of a swap limit nothing applies); berthd refuses the limit it cannot apply, with the reason',
    ok: (d, b) => same(d, ['exit 1', 'err: Error response from daemon: Cannot update container <id>: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time']) &&
      same(b, ['exit 1', `err: Error response from daemon: rootless berthd cannot apply --memory: ${NO_CGROUPS_V1}`]),
  },
];

/** GET http://127.0.0.1:port/ from the host until it answers 200 (httpd may be starting): "200 body" or the last error. */
async function fetchFromHost(port: number, ms = 10_000): Promise<string> {
  const once = (): Promise<string> => new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/index.html', timeout: 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(`${res.statusCode} ${Buffer.concat(chunks).toString().trim()}`));
      res.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
  const deadline = Date.now() + ms;
  let last = await once();
  while (!last.startsWith('200 ') && Date.now() < deadline) {
    await sleep(100);
    last = await once();
  }
  return last;
}

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('rootless berthd judged by rootless dockerd: the same Docker CLI commands, what each user sees', {
  skip: rootlessSkip() || (existsSync(LAUNCHER) && existsSync('/usr/sbin/dockerd') ? false : `needs ${LAUNCHER} and /usr/sbin/dockerd (Debian's docker.io)`),
  timeout: 150_000,
}, () => {
  const users: Partial<Record<Side, RootlessUser>> = {};
  let dockerd: RootlessDockerd | undefined;
  let berthd: RootlessDaemon | undefined;
  const tx: Record<Side, Map<string, Lines>> = { dockerd: new Map(), berthd: new Map() };
  /** Each side's own values that differ between runs, replaced by a placeholder before comparing. */
  const own: Record<Side, Array<[RegExp, string]>> = { dockerd: [], berthd: [] };

  const cli = (side: Side, args: string[], timeoutMs = 30_000): Promise<Result> =>
    side === 'dockerd' ? dockerd!.docker(args, { timeoutMs }) : berthd!.docker(args, { timeoutMs });

  function normalise(side: Side, text: string): Lines {
    const u = users[side]!;
    let t = text;
    for (const [re, to] of own[side]) t = t.replace(re, to);
    t = t.replaceAll(u.home, '<home>').replaceAll(u.xdg, '<xdg>').replaceAll(u.name, '<user>')
      .replace(/\b[0-9a-f]{64}\b/g, '<id>').replace(/\b[0-9a-f]{12}\b/g, '<id>')
      // the user networks' subnets are each daemon's pick from its own pool
      .replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, (ip) => (ip === '0.0.0.0' || ip.startsWith('127.') ? ip : '<ip>'))
      .replace(new RegExp(`\\b${u.subuid.start}\\b`, 'g'), '<subuid>').replace(new RegExp(`\\b${u.uid}\\b`, 'g'), '<uid>')
      .replace(/time=[\d.]+ ms/g, 'time=<t> ms').replace(/min\/avg\/max = [\d./]+ ms/g, 'min/avg/max = <t> ms');
    return t.split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean);
  }

  /** Writes a line list under a key in one side's transcript. */
  function note(side: Side, key: string, lines: Lines): void {
    assert.ok(!tx[side].has(key), `key ${key} recorded twice`);
    tx[side].set(key, lines);
  }

  /** A command's exit code, stdout and stderr as transcript lines. */
  function noteResult(side: Side, key: string, r: Result): void {
    note(side, key, [`exit ${r.code}`, ...normalise(side, r.stdout).map((l) => `out: ${l}`), ...normalise(side, r.stderr).map((l) => `err: ${l}`)]);
  }

  /** Runs the same CLI command on both daemons at once and records each result under `key` (the command by default). */
  async function both(args: string[], key = args.join(' '), timeoutMs = 30_000): Promise<Record<Side, Result>> {
    const [d, b] = await Promise.all([cli('dockerd', args, timeoutMs), cli('berthd', args, timeoutMs)]);
    noteResult('dockerd', key, d);
    noteResult('berthd', key, b);
    return { dockerd: d, berthd: b };
  }

  const show = (r: Result): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  const transcripts = (): string => (['dockerd', 'berthd'] as const).map((s) =>
    `--- ${s} transcript ---\n${[...tx[s]].map(([k, ls]) => `[${k}]\n${ls.map((l) => `  ${l}`).join('\n')}`).join('\n')}`).join('\n');

  before(async () => {
    const [du, bu] = await Promise.all([RootlessUser.make(), RootlessUser.make()]);
    users.dockerd = du;
    users.berthd = bu;
    dockerd = new RootlessDockerd(du);
    berthd = new RootlessDaemon(bu);
    await Promise.all([dockerd.start(), berthd.start()]);
    const tar = await runBuffer('bash', [join(repo, 'scripts/busybox-image.sh')]);
    await Promise.all((['dockerd', 'berthd'] as const).map(async (s) => {
      const args = ['import', '-c', 'CMD ["sh"]', '-', 'busybox:latest'];
      const r = await (s === 'dockerd' ? dockerd!.docker(args, { input: tar }) : berthd!.docker(args, { input: tar }));
      assert.equal(r.code, 0, `${s}: import: ${show(r)}`);
    }));
  }, { timeout: 90_000 });

  after(async () => {
    await Promise.all([
      dockerd ? settledWithin(dockerd.stop(), 45_000) : undefined,
      berthd ? settledWithin(berthd.destroy(), 45_000) : undefined,
    ]);
    // Kills whatever either left (containerd shims included: they run as the user) and removes the users.
    await Promise.all(Object.values(users).map((u) => u.remove()));
    for (const u of Object.values(users)) assert.deepEqual(u.processes(), [], `processes of ${u.name} left`);
  }, { timeout: 90_000 });

  it('ids: container root is the user, container uid 1 the start of its subordinate range', { timeout: 20_000 }, async () => {
    const id = await both(['run', '--rm', 'busybox', 'id', '-u']);
    const map = await both(['run', '--rm', 'busybox', 'cat', '/proc/self/uid_map']);
    for (const s of ['dockerd', 'berthd'] as const) {
      assert.equal(id[s].stdout.trim(), '0', `${s}: ${show(id[s])}`);
      assert.deepEqual(tx[s].get('run --rm busybox cat /proc/self/uid_map'), ['exit 0', 'out: 0 <uid> 1', 'out: 1 <subuid> 65536'], `${s}: ${show(map[s])}`);
    }
  });

  it('info: rootless, no cgroup driver, no limits (cgroup v1)', { timeout: 20_000 }, async () => {
    const fields = ['SecurityOptions', 'CgroupDriver', 'CgroupVersion', 'MemoryLimit', 'SwapLimit', 'CpuCfsPeriod', 'CpuCfsQuota', 'CPUShares',
      'CPUSet', 'PidsLimit', 'OomKillDisable', 'IPv4Forwarding', 'Driver', 'LoggingDriver', 'DefaultRuntime', 'DockerRootDir', 'LiveRestoreEnabled', 'Warnings'];
    const r = await Promise.all((['dockerd', 'berthd'] as const).map((s) => cli(s, ['info', '--format', '{{json .}}'])));
    (['dockerd', 'berthd'] as const).forEach((s, i) => {
      assert.equal(r[i]!.code, 0, `${s}: ${show(r[i]!)}`);
      const info = JSON.parse(r[i]!.stdout) as Record<string, unknown>;
      for (const f of fields) note(s, `info.${f}`, normalise(s, JSON.stringify(info[f] ?? null)).map((l) => `out: ${l}`));
      assert.ok((info.SecurityOptions as string[]).includes('name=rootless'), `${s}: ${JSON.stringify(info.SecurityOptions)}`);
      if (CGROUP_V1) assert.equal(info.CgroupDriver, 'none', s);
    });
  });

  it('-p 127.0.0.1:PORT:80 serves on the host from both; docker port and ps show it; rm -f closes it', { timeout: 30_000 }, async () => {
    const port: Record<Side, number> = { dockerd: await freePort(), berthd: 0 };
    do port.berthd = await freePort(); while (port.berthd === port.dockerd);
    for (const s of ['dockerd', 'berthd'] as const) own[s].push([new RegExp(`\\b${port[s]}\\b`, 'g'), '<port>']);
    const [d, b] = await Promise.all((['dockerd', 'berthd'] as const).map((s) => cli(s, ['run', '-d', '--name', 'web', '-p', `127.0.0.1:${port[s]}:80`, 'busybox', 'sh', '-c',
      'mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 80 -h /www'])));
    noteResult('dockerd', 'run -d --name web -p 127.0.0.1:<port>:80 busybox httpd', d!);
    noteResult('berthd', 'run -d --name web -p 127.0.0.1:<port>:80 busybox httpd', b!);
    const served = await Promise.all([fetchFromHost(port.dockerd), fetchFromHost(port.berthd)]);
    note('dockerd', 'GET http://127.0.0.1:<port>/index.html from the host', [served[0]]);
    note('berthd', 'GET http://127.0.0.1:<port>/index.html from the host', [served[1]]);
    assert.deepEqual(served, ['200 served', '200 served'], `dockerd ${show(d!)}\nberthd ${show(b!)}`);
    await both(['port', 'web']);
    await both(['port', 'web', '80']);
    await both(['ps', '--filter', 'name=web', '--format', '{{.Names}} {{.Ports}}']);
    await both(['rm', '-f', 'web']);
    const closed = await Promise.all([refused(port.dockerd), refused(port.berthd)]);
    note('dockerd', 'after rm -f: the host port refuses', [String(closed[0])]);
    note('berthd', 'after rm -f: the host port refuses', [String(closed[1])]);
    assert.deepEqual(closed, [true, true]);
  });

  it('-p below ip_unprivileged_port_start: both refuse with RootlessKit\'s hint, nothing runs', { timeout: 30_000 }, async (t) => {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
    let low = 0;
    for (const p of [80, 81, 88, 90, 99, 443, 900]) if (p < start && await portFree(p)) { low = p; break; }
    if (!low) return t.skip(`no free port below net.ipv4.ip_unprivileged_port_start=${start} on this host`);
    for (const s of ['dockerd', 'berthd'] as const) own[s].push([new RegExp(`\\b${low}\\b`, 'g'), '<low>']);
    // Both at once: each RootlessKit binds the host's port as its user, and both must be refused.
    const r = await both(['run', '-d', '--name', 'low', '-p', `${low}:80`, 'busybox', 'sleep', '300'], 'run -d --name low -p <low>:80 busybox sleep 300');
    for (const s of ['dockerd', 'berthd'] as const) {
      assert.notEqual(r[s].code, 0, `${s}: ${show(r[s])}`);
      assert.match(r[s].stderr, /cannot expose privileged port/, `${s}: ${show(r[s])}`);
    }
    await both(['ps', '-a', '--filter', 'name=low', '--format', '{{.Names}} {{.Status}}']);
    await both(['rm', '-f', 'low']);
  });

  it('limits on cgroup v1: dockerd ignores them silently, berthd refuses them (ALLOWED)', { timeout: 30_000, skip: CGROUP_V1 ? false : 'the limits judged are cgroup v1\'s' }, async () => {
    for (const flags of [['-m', '64m'], ['--cpus', '1'], ['--pids-limit', '10']]) {
      const r = await both(['run', '--rm', ...flags, 'busybox', 'echo', 'ran']);
      assert.equal(r.berthd.code, 125, show(r.berthd));
    }
    await both(['ps', '-aq']);
  });

  it('pause, unpause, top, stats and update of a running container', { timeout: 40_000, skip: CGROUP_V1 ? false : 'what is judged is cgroup v1\'s' }, async () => {
    await both(['run', '-d', '--name', 'pz', 'busybox', 'sleep', '300']);
    await both(['pause', 'pz']);
    await both(['inspect', '-f', '{{.State.Status}}', 'pz'], 'inspect after pause');
    await both(['unpause', 'pz']);
    await both(['top', 'pz']);
    await both(['stats', '--no-stream', '--format', '{{.PIDs}}', 'pz'], 'stats --no-stream --format {{.PIDs}} pz');
    await both(['update', '--memory', '64m', 'pz']);
    const st = await both(['inspect', '-f', '{{.State.Status}}', 'pz'], 'inspect after update');
    assert.equal(st.berthd.stdout.trim(), 'running');
    await both(['rm', '-f', 'pz']);
  });

  it('a user network: two containers, DNS by name on both', { timeout: 40_000 }, async () => {
    await both(['network', 'create', 'rn']);
    try {
      await both(['run', '-d', '--name', 'c1', '--network', 'rn', 'busybox', 'sleep', '300']);
      const ping = await both(['run', '--rm', '--network', 'rn', 'busybox', 'ping', '-c1', '-W2', 'c1']);
      // A records only: busybox asks for A and AAAA at once and prints the answers as they arrive.
      const ns = await both(['run', '--rm', '--network', 'rn', 'busybox', 'nslookup', '-type=a', 'c1']);
      for (const s of ['dockerd', 'berthd'] as const) {
        const ip = (await cli(s, ['inspect', '-f', '{{(index .NetworkSettings.Networks "rn").IPAddress}}', 'c1'])).stdout.trim();
        assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/, s);
        assert.match(ping[s].stdout, /1 packets transmitted, 1 packets received/, `${s}: ${show(ping[s])}`);
        assert.ok(ping[s].stdout.includes(ip) && ns[s].stdout.includes(ip), `${s}: c1 is ${ip}: ${show(ping[s])}\n${show(ns[s])}`);
      }
      await both(['run', '--rm', '--network', 'rn', 'busybox', 'cat', '/etc/resolv.conf']);
    } finally {
      await both(['rm', '-f', 'c1'], 'rm -f c1 (cleanup)');
      await both(['network', 'rm', 'rn']);
    }
  });

  it('a non-empty directory of an image\'s layer can be removed in a container, and made again empty', { timeout: 30_000 }, async () => {
    await both(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'mkdir /d && echo x > /d/f']);
    await both(['commit', 'mk', 'layered']);
    await both(['rm', 'mk']);
    await both(['run', '--rm', 'layered', 'sh', '-c', RM_LAYER_DIR_CMD]);
    // An empty directory of the layer goes on both (a whiteout, no xattr needed): the failure above is the xattrs'.
    await both(['run', '--rm', 'busybox', 'sh', '-c', 'rmdir /home && echo removed']);
  });

  it.skip('live restore: dockerd-rootless.sh makes dockerd RootlessKit\'s child, so dockerd\'s exit ends RootlessKit and slirp4netns (containers survive, cut off, and a new dockerd cannot adopt them): nothing comparable');

  it('every line of the two transcripts is equal after normalisation, unless ALLOWED says how it differs', (t) => {
    const problems: string[] = [];
    const keys = [...new Set([...tx.dockerd.keys(), ...tx.berthd.keys()])];
    assert.ok(keys.length >= 20, `too few steps recorded (${keys.length}): an earlier test failed\n${transcripts()}`);
    for (const key of keys) {
      const d = tx.dockerd.get(key);
      const b = tx.berthd.get(key);
      if (!d || !b) { problems.push(`[${key}] only in the ${d ? 'dockerd' : 'berthd'} transcript`); continue; }
      const rule = ALLOWED.find((a) => a.key === key);
      if (!rule) {
        if (!same(d, b)) problems.push(`[${key}] differs:\n  dockerd: ${JSON.stringify(d)}\n  berthd:  ${JSON.stringify(b)}`);
      } else if (same(d, b)) {
        problems.push(`[${key}] is ALLOWED to differ (${rule.reason}) but is equal now: remove the entry`);
      } else if (!rule.ok(d, b)) {
        problems.push(`[${key}] differs, but not in the form ALLOWED states (${rule.reason}):\n  dockerd: ${JSON.stringify(d)}\n  berthd:  ${JSON.stringify(b)}`);
      } else {
        t.diagnostic(`${rule.kind}: [${key}] ${rule.reason}${rule.fix ? ` -- fix: ${rule.fix}` : ''}`);
      }
    }
    for (const a of ALLOWED) if (!keys.includes(a.key) && (CGROUP_V1 || !/^(run --rm -|pause|top|stats|update)/.test(a.key))) problems.push(`ALLOWED names [${a.key}], which no step recorded`);
    assert.deepEqual(problems, [], `${problems.join('\n')}\n${transcripts()}`);
  });
});
