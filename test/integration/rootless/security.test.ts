// Rootless berthd under attack (issue 20: "Security tests, real, as a non-root user made by the
// test"). A real ordinary user runs berthd through RootlessKit; each test tries something that
// would work against a rootful daemon (or as the host's root) and checks on the host, as root,
// that it did not: another user reaching the socket, container root writing root's files through
// a bind, --privileged reaching host devices, the host's /root or the host's network, and what a
// SIGKILLed berthd leaves behind. Everything made here goes in `after`, on failure too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { DOCKER, runCmd, type Result } from '../../helpers/daemon.ts';
import { RootlessDaemon, RootlessUser, rootlessSkip } from '../../helpers/rootless.ts';


/** What the host (as root, in the initial namespaces) sees of one process. */
interface ProcInfo { pid: number; ppid: number; ruid: number; euid: number; capEff: bigint; userns: string }

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(s)!;
    return {
      pid,
      ppid: Number(/^PPid:\s+(\d+)/m.exec(s)![1]),
      ruid: Number(uids[1]), euid: Number(uids[2]),
      capEff: BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(s)![1]}`),
      userns: nsOf(pid),
    };
  } catch { return undefined; /* exited meanwhile */ }
}

/** The process's user namespace, or '?' where even root may not look (the sandbox's own pid 1). */
function nsOf(pid: number): string {
  try { return readlinkSync(`/proc/${pid}/ns/user`); } catch { return '?'; }
}

function allProcs(): Map<number, ProcInfo> {
  const m = new Map<number, ProcInfo>();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const p = procInfo(Number(n));
    if (p) m.set(p.pid, p);
  }
  return m;
}

/** A command that must fail; its output, for the reason. */
function mustFail(r: Result, what: string): string {
  assert.notEqual(r.code, 0, `${what} succeeded:\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

describe('rootless berthd: attacks by other users, by container root and by --privileged fail', { skip: rootlessSkip() }, () => {
  let user: RootlessUser | undefined;
  let other: RootlessUser | undefined;
  let d: RootlessDaemon;
  // This test runs as root in the initial user namespace (rootlessSkip checks the uid; uid_map
  // says which namespace), so its own namespace is the host's.
  const hostUserns = readlinkSync('/proc/self/ns/user');
  /** Made by root for the write attempts; removed in after. */
  let rootDir = '';
  const pwned = `/root/berth-pwned-${randomBytes(3).toString('hex')}`;
  const link = `bpwn${randomBytes(3).toString('hex')}`;

  const docker = (args: string[], timeoutMs = 30_000): Promise<Result> => d.docker(args, { timeoutMs });

  before(async () => {
    user = await RootlessUser.make();
    other = await RootlessUser.make({ subids: false });
    d = new RootlessDaemon(user);
    await d.start();
    await d.importBusybox();
    rootDir = mkdtempSync('/tmp/berth-rootowned-');
    chmodSync(rootDir, 0o755);
    writeFileSync(join(rootDir, 'f'), 'root only\n', { mode: 0o644 });
  });

  after(async () => {
    const users = [user, other].filter((u): u is RootlessUser => !!u);
    if (d) await d.destroy();
    for (const u of users) await u.remove();
    if (rootDir) rmSync(rootDir, { recursive: true, force: true });
    rmSync(pwned, { force: true });
    await runCmd('ip', ['link', 'del', link]);
    for (const u of users) assert.deepEqual(u.processes(), [], `processes of ${u.name} left`);
  });

  it('another user cannot reach the socket: the socket is 0600 in a 0700 directory, and connect() is refused', async () => {
    const u = user!;
    const o = other!;
    const dir = join(u.xdg, 'berth');
    const sock = statSync(d.socket);
    assert.ok(sock.isSocket());
    assert.equal(sock.mode & 0o777, 0o600, `socket mode ${(sock.mode & 0o777).toString(8)}`);
    assert.equal(sock.uid, u.uid);
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'the socket directory');
    assert.equal(statSync(dir).uid, u.uid);

    const v = await o.run(DOCKER, ['-H', `unix://${d.socket}`, 'version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 });
    assert.match(mustFail(v, 'docker version as another user'), /permission denied/i);

    const connect = (): Promise<Result> => o.run('/usr/bin/python3', ['-c', [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX)',
      'try:',
      '    s.connect(sys.argv[1]); print("connected")',
      'except OSError as e:',
      '    print("errno", e.errno)',
    ].join('\n'), d.socket], { timeoutMs: 10_000 });
    assert.equal((await connect()).stdout.trim(), 'errno 13', 'EACCES');

    // The socket's own mode holds even where its directories could be passed through (a user
    // who made XDG_RUNTIME_DIR 0711 by mistake): connect() needs write permission on it.
    const modes = [u.xdg, dir].map((p) => [p, statSync(p).mode & 0o7777] as const);
    try {
      for (const [p] of modes) chmodSync(p, 0o711);
      const r = await connect();
      assert.equal(r.stdout.trim(), 'errno 13', `connect through 0711 directories: ${r.stdout}${r.stderr}`);
    } finally {
      for (const [p, m] of modes) chmodSync(p, m);
    }
    // Still the owner's: the daemon answers the user.
    assert.equal((await docker(['version', '--format', '{{.Server.Version}}'])).code, 0);
  });

  it('container root cannot write host files the user cannot write, --privileged or not', async () => {
    // /etc/passwd changes meanwhile (other test files add and remove users): the attack's own
    // marker must never be in it.
    const marker = `pwned-${Math.random().toString(36).slice(2)}`;
    const f = join(rootDir, 'f');
    const before = readFileSync(f, 'utf8');
    for (const priv of [[], ['--privileged']]) {
      // /etc bound whole and /etc/passwd bound alone (RootlessKit's --copy-up=/etc gives berthd's
      // mount namespace an /etc of its own whose entries lead to the host's files).
      const a = await docker(['run', '--rm', ...priv, '-v', '/etc:/host-etc', 'busybox', 'sh', '-c', `echo ${marker} >> /host-etc/passwd`]);
      mustFail(a, `append to /etc/passwd through -v /etc ${priv}`);
      const b = await docker(['run', '--rm', ...priv, '-v', '/etc/passwd:/host-passwd', 'busybox', 'sh', '-c', `echo ${marker} >> /host-passwd`]);
      assert.match(mustFail(b, `append to a bound /etc/passwd ${priv}`), /Permission denied|Read-only/i);
      assert.ok(!readFileSync('/etc/passwd', 'utf8').includes(marker), 'the marker reached /etc/passwd');

      // A root-owned 0644 file in a root-owned 0755 directory: no append, chmod, chown or unlink.
      for (const attack of ['echo x >> /h/f', 'chmod 666 /h/f', 'chown 0:0 /h/f', 'rm -f /h/f', 'touch /h/new']) {
        const r = await docker(['run', '--rm', ...priv, '-v', `${rootDir}:/h`, 'busybox', 'sh', '-c', attack]);
        assert.match(mustFail(r, `${attack} ${priv}`), /Permission denied|Operation not permitted|Read-only/i);
      }
      assert.equal(readFileSync(f, 'utf8'), before);
      const st = statSync(f);
      assert.equal(st.mode & 0o7777, 0o644);
      assert.equal(st.uid, 0);
      assert.deepEqual(readdirSync(rootDir), ['f']);
    }
  });

  it('files made in a bind belong to the user; ids inside map to its subordinate range', async () => {
    const u = user!;
    const dir = join(u.home, 'bind');
    mkdirSync(dir);
    chownSync(dir, u.uid, u.gid);
    const id = (await docker(['run', '-d', '-v', `${dir}:/b`, 'busybox', 'sleep', '60'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    // The mapping the container runs under, as the host sees it: 0 → the user, 1… → the subordinate ids.
    const map = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    assert.deepEqual(map, [[0, u.uid, 1], [1, u.subuid.start, u.subuid.size]], 'uid_map');

    const e = await docker(['exec', id, 'sh', '-c', 'touch /b/byroot && touch /b/by1000 && chown 1000:1000 /b/by1000']);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(statSync(join(dir, 'byroot')).uid, u.uid, 'container root is the user');
    assert.equal(statSync(join(dir, 'by1000')).uid, u.subuid.start + 999, 'container uid 1000 is subuid start + 999');
    assert.equal(statSync(join(dir, 'by1000')).gid >= u.subuid.start, true);
    // A process running as 1000 inside shows as subuid start + 999 on the host.
    const s = await docker(['exec', '-d', '-u', '1000', id, 'sleep', '30']);
    assert.equal(s.code, 0, s.stderr);
    let seen = false;
    for (let i = 0; i < 50 && !seen; i++) {
      seen = [...allProcs().values()].some((p) => p.ruid === u.subuid.start + 999 && p.userns !== hostUserns);
      if (!seen) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen, 'no process with uid subuid start + 999 in the container\'s user namespace');
    await docker(['rm', '-f', id]);
  });

  it('--privileged gives no more than the user has: no host /root, host network, host devices or host uid', async () => {
    // (a) The host's / bound in: /root is the host root's 0700 directory, container root is not its owner.
    const a = await docker(['run', '--rm', '--privileged', '-v', '/:/host', 'busybox', 'sh', '-c', `echo x > /host${pwned}`]);
    assert.match(mustFail(a, 'write to the host\'s /root'), /Permission denied/);
    assert.ok(!existsSync(pwned), `${pwned} exists`);

    // (b) --net=host is RootlessKit's network namespace: a bridge made there is no host link.
    const b = await docker(['run', '--rm', '--privileged', '--net=host', 'busybox', 'sh', '-c', `ip link add ${link} type bridge && ip link show ${link}`]);
    assert.equal(b.code, 0, `ip link add in the rootless "host" network: ${b.stderr}`);
    assert.match(b.stdout, new RegExp(`${link}:`));
    const host = await runCmd('ip', ['link', 'show', link]);
    assert.notEqual(host.code, 0, `the host has ${link}:\n${host.stdout}`);
    const child = readFileSync(join(user!.xdg, 'berth/rootlesskit/child_pid'), 'utf8').trim();
    const inNs = await runCmd('nsenter', ['-t', child, '-n', 'ip', 'link', 'show', link]);
    assert.equal(inNs.code, 0, `not in RootlessKit's namespace: ${inNs.stderr}`);

    // (c) A privileged container's processes are the user's, in a user namespace not the host's.
    const id = (await docker(['run', '-d', '--privileged', 'busybox', 'sleep', '60'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    const p = procInfo(pid)!;
    assert.equal(p.ruid, user!.uid);
    assert.equal(p.euid, user!.uid);
    assert.notEqual(p.userns, hostUserns);
    // Full capabilities, but in that namespace only.
    const caps = (await docker(['exec', id, 'sh', '-c', 'grep CapEff /proc/self/status'])).stdout;
    assert.match(caps, /CapEff:\s+0*[13]?f{9,}/, caps);

    // (d) No device the user could not open itself: mknod is refused, a host disk cannot be read.
    const m = await docker(['exec', id, 'mknod', '/tmp/sda', 'b', '8', '0']);
    mustFail(m, 'mknod');
    const disks = readdirSync('/sys/block').filter((n) => !/^(loop|ram|zram)/.test(n) && existsSync(`/dev/${n}`));
    assert.ok(disks.length > 0, 'no host disk to try');
    for (const disk of disks) {
      const r = await docker(['exec', id, 'sh', '-c', `ls -l /dev/${disk}; head -c 512 /dev/${disk} | wc -c`]);
      // Either the node is not there at all or opening it is refused: never 512 bytes read.
      assert.doesNotMatch(r.stdout, /^512$/m, `read /dev/${disk}: ${r.stdout}${r.stderr}`);
    }
    await docker(['rm', '-f', id]);
  });

  it('after berthd is SIGKILLed nothing runs with more than the user\'s privilege, and the next berthd restores the container', async () => {
    const u = user!;
    const id = (await docker(['run', '-d', '--name', 'live', 'busybox', 'sleep', '600'])).stdout.trim();
    const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    assert.ok(pid > 0);
    await d.kill9();

    const procs = allProcs();
    const mine = (uid: number): boolean => uid === u.uid || (uid >= u.subuid.start && uid < u.subuid.start + u.subuid.size);
    const theirs = [...procs.values()].filter((p) => mine(p.ruid) || mine(p.euid));
    for (const p of theirs) {
      assert.ok(p.userns !== hostUserns || p.capEff === 0n,
        `pid ${p.pid} (${readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim()}) has CapEff ${p.capEff.toString(16)} in the host's user namespace`);
    }
    const rk = Number(readFileSync(join(u.xdg, 'berth/rootlesskit/rootlesskit.pid'), 'utf8').trim());
    assert.ok(theirs.some((p) => p.pid === pid && p.userns !== hostUserns), 'the container still runs, in the user namespace');
    assert.ok(theirs.some((p) => p.pid === rk && p.userns === hostUserns && p.capEff === 0n), 'RootlessKit still runs, without capabilities');

    // No host-root process descends from one of the user's.
    for (const p of procs.values()) {
      if (p.ruid !== 0 && p.euid !== 0) continue;
      for (let q = procs.get(p.ppid), n = 0; q && n < 1000; q = procs.get(q.ppid), n++) {
        assert.ok(!mine(q.ruid) && !mine(q.euid), `root process ${p.pid} descends from ${q.pid} (uid ${q.ruid})`);
      }
    }

    await d.start();
    const state = (await docker(['inspect', '-f', '{{.State.Running}} {{.State.Pid}}', id])).stdout.trim();
    assert.equal(state, `true ${pid}`);
    const e = await docker(['exec', id, 'echo', 'alive']);
    assert.equal(e.stdout.trim(), 'alive', e.stderr);
    await docker(['rm', '-f', id]);
  });
});
