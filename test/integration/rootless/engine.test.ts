// Rootless berthd end to end (issue 20), as the ordinary user who runs it: a real user made by the
// test starts bin/berthd (which goes through bin/berthd-rootless and RootlessKit) and every command
// runs as that user through the Docker CLI 28, or the berth CLI finding the rootless socket on its
// own. What is asserted is what the user would see, plus what the host sees of it: ids mapped to
// the user and its subordinate range, ports published on the host by RootlessKit's port driver,
// limits refused on this cgroup v1 host, containers that outlive a stopped or killed berthd. The
// user, its daemon, RootlessKit's namespace and every process of its ids go afterwards, on failure
// too, and the after hook fails if destroy() left any process of the user's behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { RootlessUser, RootlessDaemon, rootlessSkip, freePort, portFree, refused } from '../../helpers/rootless.ts';
import { sleep, settledWithin, type Result } from '../../helpers/daemon.ts';

/** GET http://127.0.0.1:port/path from the host: the body, or the error's code. */
function fetchBody(port: number, path: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 2_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
  });
}

/** Fetches until the server answers 200 (httpd may still be starting), within `ms`. */
async function fetchOk(port: number, path: string, ms = 10_000): Promise<string> {
  const deadline = Date.now() + ms;
  let last: Awaited<ReturnType<typeof fetchBody>> = { error: 'not tried' };
  while (Date.now() < deadline) {
    last = await fetchBody(port, path);
    if ('status' in last && last.status === 200) return last.body;
    await sleep(100);
  }
  throw new Error(`http://127.0.0.1:${port}${path} did not answer 200 within ${ms} ms: ${JSON.stringify(last)}`);
}

/** The host's view of a process: its real uid and its state letter (R, S, T…). */
function hostProc(pid: number): { uid: number; state: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return {
    uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]),
    // The state follows the command name in parentheses, which may itself hold spaces or ')'.
    state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3),
  };
}

const show = (r: Result): string => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe('rootless berthd: engine and network as an ordinary user', { skip: rootlessSkip() }, () => {
  let user: RootlessUser;
  let d: RootlessDaemon;

  /** Docker CLI as the user; the command must succeed, and its stdout is returned. */
  async function docker(args: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await d.docker(args, { timeoutMs: 20_000, ...o });
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${show(r)}`);
    return r.stdout;
  }

  const pidOf = async (name: string): Promise<number> => Number((await docker(['inspect', '-f', '{{.State.Pid}}', name])).trim());

  before(async () => {
    user = await RootlessUser.make();
    d = new RootlessDaemon(user);
    await d.start();
    await d.importBusybox();
  }, { timeout: 60_000 });

  after(async () => {
    // What destroy() leaves of the user's is read before remove() kills it all, so a leak fails here.
    let left: string[] = [];
    try {
      if (d) {
        // Bounded: a Docker CLI that hangs outlives runCmd's timeout (it kills runuser, not the CLI
        // under it), and remove() below must run regardless; it kills such a CLI with the rest.
        await settledWithin(d.destroy(), 45_000);
        for (let i = 0; i < 30; i++) {
          left = user.processes().map((pid) => {
            try { return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`; } catch { return `${pid}`; }
          });
          if (!left.length) break;
          await sleep(100);
        }
      }
    } finally {
      await user?.remove();
    }
    assert.deepEqual(left, [], 'processes of the user or its subordinate ids left after destroy()');
    if (user) assert.deepEqual(user.processes(), []);
  }, { timeout: 75_000 });

  it('docker info says rootless; the socket is the user\'s (0600) in XDG_RUNTIME_DIR, the data under ~/.local/share/berth', { timeout: 20_000 }, async () => {
    const sec = JSON.parse(await docker(['info', '-f', '{{json .SecurityOptions}}'])) as string[];
    assert.ok(sec.includes('name=rootless'), JSON.stringify(sec));
    const sock = join(user.xdg, 'berth', 'berth.sock');
    assert.equal(d.socket, sock);
    const st = statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, user.uid);
    const root = (await docker(['info', '-f', '{{.DockerRootDir}}'])).trim();
    assert.equal(root, join(user.home, '.local/share/berth'));
    assert.equal(statSync(root).uid, user.uid);
  });

  it('the berth CLI finds the rootless socket with no host set, and talks to this daemon', { timeout: 20_000 }, async () => {
    const id = (await docker(['info', '-f', '{{.ID}}'])).trim();
    assert.ok(id);
    const r = await d.berth(['info', '-f', '{{.ID}} {{.DockerRootDir}}'], { timeoutMs: 15_000 });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout.trim(), `${id} ${join(user.home, '.local/share/berth')}`);
    const v = await d.berth(['version', '-f', '{{.Server.Version}}'], { timeoutMs: 15_000 });
    assert.equal(v.code, 0, show(v));
    assert.equal(v.stdout.trim(), (await docker(['version', '-f', '{{.Server.Version}}'])).trim());
  });

  it('run: root in the container is the user on the host, container uid 1 the subordinate range\'s start', { timeout: 30_000 }, async () => {
    assert.equal((await docker(['run', '--rm', 'busybox', 'id', '-u'])).trim(), '0');
    const map = (await docker(['run', '--rm', 'busybox', 'cat', '/proc/self/uid_map'])).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    assert.deepEqual(map.find((r) => r[0] === 0)?.slice(0, 3), [0, user.uid, 1], JSON.stringify(map));
    const one = map.find((r) => r[0] === 1);
    assert.ok(one, JSON.stringify(map));
    assert.equal(one[1], user.subuid.start);
    assert.ok(one[2]! >= 65536, JSON.stringify(map));

    await docker(['run', '-d', '--name', 'ids', 'busybox', 'sleep', '300']);
    const pid = await pidOf('ids');
    assert.ok(pid > 0);
    assert.equal(hostProc(pid).uid, user.uid, 'the container\'s root process runs as the user on the host');
    await docker(['rm', '-f', 'ids']);
  });

  it('exec, exec -i with input, logs and logs --tail, run -a with input, attach with input', { timeout: 30_000 }, async () => {
    await docker(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']);
    assert.equal(await docker(['exec', 'ex', 'sh', '-c', 'echo out-$((6*7))']), 'out-42\n');
    assert.equal(await docker(['exec', '-i', 'ex', 'sh', '-c', 'tr a-z A-Z'], { input: 'from stdin\n' }), 'FROM STDIN\n');
    const failed = await d.docker(['exec', 'ex', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3, show(failed));
    await docker(['rm', '-f', 'ex']);

    await docker(['run', '-d', '--name', 'lg', 'busybox', 'sh', '-c', 'echo one; echo two; echo three']);
    assert.equal((await docker(['wait', 'lg'])).trim(), '0');
    assert.equal(await docker(['logs', 'lg']), 'one\ntwo\nthree\n');
    assert.equal(await docker(['logs', '--tail', '1', 'lg']), 'three\n');
    await docker(['rm', 'lg']);

    assert.equal(await docker(['run', '--rm', '-a', 'stdin', '-a', 'stdout', '-i', 'busybox', 'cat'], { input: 'hello\n' }), 'hello\n');

    // attach returns when the container ends (docker's CLI waits for it), so this one ends after a line.
    await docker(['run', '-d', '-i', '--name', 'att', 'busybox', 'sh', '-c', 'read l; echo "got $l"; exit 5']);
    const a = await d.docker(['attach', 'att'], { input: 'hello\n', timeoutMs: 15_000 });
    assert.deepEqual({ code: a.code, stdout: a.stdout }, { code: 5, stdout: 'got hello\n' }, show(a));
    await docker(['rm', 'att']);
  });

  it('a user network resolves containers by name; the default bridge does not', { timeout: 40_000 }, async () => {
    await docker(['network', 'create', 'rn']);
    try {
      await docker(['run', '-d', '--name', 'c1', '--network', 'rn', 'busybox', 'sleep', '300']);
      await docker(['run', '-d', '--name', 'c2', '--network', 'rn', 'busybox', 'sleep', '300']);
      const ip = (await docker(['inspect', '-f', '{{(index .NetworkSettings.Networks "rn").IPAddress}}', 'c1'])).trim();
      assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      const ns = await docker(['exec', 'c2', 'nslookup', 'c1']);
      assert.ok(ns.includes(ip), ns);
      const ping = await docker(['run', '--rm', '--network', 'rn', 'busybox', 'ping', '-c1', '-W2', 'c1']);
      assert.match(ping, /1 packets transmitted, 1 packets received/);
      assert.ok(ping.includes(ip), ping);
      // On the default bridge there is no embedded DNS: the name is not in its /etc/hosts and its
      // resolver, pointed at its own loopback here so that no query leaves the machine, knows nothing.
      const hosts = await docker(['run', '--rm', 'busybox', 'cat', '/etc/hosts', '/etc/resolv.conf']);
      assert.doesNotMatch(hosts, /\bc1\b|127\.0\.0\.11/, hosts);
      const miss = await d.docker(['run', '--rm', '--dns', '127.0.0.1', 'busybox', 'ping', '-c1', '-W1', 'c1'], { timeoutMs: 20_000 });
      assert.notEqual(miss.code, 0, show(miss));
      assert.match(miss.stdout + miss.stderr, /bad address/, show(miss));
    } finally {
      await d.docker(['rm', '-f', 'c1', 'c2']);
      await d.docker(['network', 'rm', 'rn']);
    }
  });

  it('-p PORT:80 serves on the host through RootlessKit; docker port says so; rm -f closes it', { timeout: 30_000 }, async () => {
    const port = await freePort();
    await docker(['run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', 'sh', '-c',
      'mkdir -p /www && echo "served by $(hostname) rootless" > /www/index.html && exec httpd -f -p 80 -h /www']);
    const hostname = (await docker(['inspect', '-f', '{{.Config.Hostname}}', 'web'])).trim();
    assert.equal(await fetchOk(port, '/index.html'), `served by ${hostname} rootless\n`);
    const ports = await docker(['port', 'web']);
    assert.match(ports, new RegExp(`^80/tcp -> 0\\.0\\.0\\.0:${port}$`, 'm'), ports);
    assert.equal((await docker(['port', 'web', '80'])).split('\n')[0], `0.0.0.0:${port}`);
    await docker(['rm', '-f', 'web']);
    assert.ok(await refused(port), `port ${port} still accepts connections on the host after rm -f`);
  });

  it('-p below ip_unprivileged_port_start fails naming the sysctl, and leaves nothing running', { timeout: 30_000 }, async (t) => {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
    let low = 0;
    for (const p of [80, 81, 88, 90, 99, 443, 900]) {
      if (p < start && await portFree(p)) { low = p; break; }
    }
    if (!low) {
      t.skip(`no free port below net.ipv4.ip_unprivileged_port_start=${start} on this host`);
      return;
    }
    const before = (await docker(['ps', '-q'])).trim();
    const r = await d.docker(['run', '-d', '--name', 'low', '-p', `${low}:80`, 'busybox', 'sleep', '300'], { timeoutMs: 20_000 });
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /net\.ipv4\.ip_unprivileged_port_start/, show(r));
    assert.equal((await docker(['ps', '-q'])).trim(), before, 'a container runs for the refused port');
    assert.equal((await docker(['ps', '-aq', '--filter', 'name=low', '--filter', 'status=running'])).trim(), '');
    assert.ok(await refused(low), `port ${low} listens on the host`);
    await d.docker(['rm', '-f', 'low']);
  });

  it('limits: -m and --cpus refused naming the flag and cgroup v1; pause and update refused; top and commit work', { timeout: 40_000 }, async (t) => {
    if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      t.skip('this host has cgroup v2: the refusal names other reasons');
      return;
    }
    const count = async (): Promise<number> => (await docker(['ps', '-aq'])).split('\n').filter(Boolean).length;
    const n = await count();
    for (const [flags, name] of [[['-m', '64m'], '--memory'], [['--cpus', '1'], '--cpus']] as const) {
      const r = await d.docker(['run', ...flags, 'busybox', 'true']);
      assert.equal(r.code, 125, show(r));
      assert.ok(r.stderr.includes(name), show(r));
      assert.match(r.stderr, /cgroup v1/, show(r));
    }
    assert.equal(await count(), n, 'a refused run left a container');

    await docker(['run', '-d', '--name', 'lim', 'busybox', 'sh', '-c', 'echo committed > /marker; exec sleep 300']);
    try {
      const p = await d.docker(['pause', 'lim']);
      assert.notEqual(p.code, 0, show(p));
      assert.match(p.stderr, /freezer/, show(p));
      assert.equal((await docker(['inspect', '-f', '{{.State.Status}}', 'lim'])).trim(), 'running');

      const top = await docker(['top', 'lim']);
      assert.match(top, /sleep 300/, top);
      const pid = await pidOf('lim');
      assert.match(top, new RegExp(`\\b${pid}\\b`), top);

      const u = await d.docker(['update', '--memory', '64m', 'lim']);
      assert.notEqual(u.code, 0, show(u));
      assert.ok(u.stderr.includes('--memory'), show(u));
      assert.match(u.stderr, /cgroup v1/, show(u));

      const img = (await docker(['commit', 'lim', 'limsnap:1'])).trim();
      assert.match(img, /^sha256:[0-9a-f]{64}$/);
      assert.equal(await docker(['run', '--rm', 'limsnap:1', 'cat', '/marker']), 'committed\n');
      assert.equal((await docker(['inspect', '-f', '{{.State.Running}}', 'lim'])).trim(), 'true');
    } finally {
      await d.docker(['rm', '-f', 'lim']);
    }
  });

  it('volumes: data shared between containers; an owner set inside is the mapped subordinate id on the host', { timeout: 30_000 }, async () => {
    await docker(['volume', 'create', 'v1']);
    await docker(['run', '--rm', '-v', 'v1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f && chown 1000:1000 /data/f']);
    assert.equal(await docker(['run', '--rm', '-v', 'v1:/data', 'busybox', 'cat', '/data/f']), 'kept\n');
    assert.equal((await docker(['run', '--rm', '-v', 'v1:/data', 'busybox', 'stat', '-c', '%u:%g', '/data/f'])).trim(), '1000:1000');
    const mp = (await docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'v1'])).trim();
    assert.ok(mp.startsWith(join(user.home, '.local/share/berth/')), mp);
    const st = statSync(join(mp, 'f'));
    assert.equal(st.uid, user.subuid.start + 999, 'container uid 1000 is subordinate id start + 999 on the host');
    assert.equal(readFileSync(join(mp, 'f'), 'utf8'), 'kept\n');
    await docker(['volume', 'rm', 'v1']);
  });

  it('cp into a running container and back out; it keeps running, not left stopped', { timeout: 30_000 }, async () => {
    await docker(['run', '-d', '--name', 'cpc', 'busybox', 'sleep', '300']);
    const src = join(user.home, 'cp-in.txt');
    writeFileSync(src, 'copied in\n');
    chownSync(src, user.uid, user.gid);
    await docker(['cp', src, 'cpc:/cp-in.txt']);
    assert.equal(await docker(['exec', 'cpc', 'cat', '/cp-in.txt']), 'copied in\n');
    await docker(['exec', 'cpc', 'sh', '-c', 'echo made inside > /cp-out.txt']);
    const dst = join(user.home, 'cp-out.txt');
    await docker(['cp', 'cpc:/cp-out.txt', dst]);
    assert.equal(readFileSync(dst, 'utf8'), 'made inside\n');
    assert.equal(statSync(dst).uid, user.uid);
    assert.equal((await docker(['inspect', '-f', '{{.State.Running}} {{.State.Paused}}', 'cpc'])).trim(), 'true false');
    const pid = await pidOf('cpc');
    assert.notEqual(hostProc(pid).state, 'T', 'the container\'s process was left stopped by cp');
    assert.equal(await docker(['exec', 'cpc', 'echo', 'alive']), 'alive\n');
    await docker(['rm', '-f', 'cpc']);
  });

  it('live restore: a container and its published port outlive berthd stopped, then killed', { timeout: 60_000 }, async () => {
    const port = await freePort();
    await docker(['run', '-d', '--name', 'lr', '-p', `${port}:80`, 'busybox', 'sh', '-c',
      'mkdir -p /www && echo live > /www/index.html && exec httpd -f -p 80 -h /www']);
    const pid = await pidOf('lr');
    assert.equal(await fetchOk(port, '/index.html'), 'live\n');
    for (const [how, end] of [['stop', () => d.stop()], ['kill -9', () => d.kill9()]] as const) {
      await end();
      assert.ok(existsSync(`/proc/${pid}`) && hostProc(pid).uid === user.uid, `the container's process is gone after berthd's ${how}`);
      // The port is RootlessKit's, not berthd's: it serves while berthd is down.
      assert.equal(await fetchOk(port, '/index.html', 5_000), 'live\n', `while berthd is down after ${how}`);
      await d.start();
      assert.equal((await docker(['inspect', '-f', '{{.State.Running}} {{.State.Pid}}', 'lr'])).trim(), `true ${pid}`, `after ${how}`);
      assert.equal(await docker(['exec', 'lr', 'cat', '/www/index.html']), 'live\n');
      assert.equal(await fetchOk(port, '/index.html', 5_000), 'live\n', `after ${how} and a new start`);
    }
    await docker(['rm', '-f', 'lr']);
    assert.ok(await refused(port), `port ${port} still accepts connections after rm -f`);
  });
});
