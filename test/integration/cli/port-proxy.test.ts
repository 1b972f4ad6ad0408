// Published ports without a Node process per container, through the real Docker CLI: by default
// (userland-proxy=false) berthd holds the host ports itself and kernel NAT carries the traffic, so
// no proxy process runs at all; with userland-proxy=true one berth-proxy serves the whole daemon.
// Also: ports freed on stop and rm, live restore across a berthd stop / kill -9 in both modes, a
// port conflict's error, and two daemons with a proxy each that leave each other's forwards alone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { TestDaemon, makeBusybox, runCmd, sleep, until, ok, type Result } from '../../helpers/daemon.ts';
import { listProxies, isProxy } from '../../../src/sys/proxy-process.ts';

/** A port free on 127.0.0.1 right now (bound to 0, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something on the host holds TCP `port` (binding it on 0.0.0.0 fails with EADDRINUSE). */
function held(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err)));
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(false)));
  });
}

/** curl from the host, retried (bounded) until it answers: the server may still be starting. */
async function curlUntil(url: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: Result | undefined;
  while (Date.now() < deadline) {
    last = await runCmd('curl', ['-s', '--max-time', '3', url], { timeoutMs: 5000 });
    if (last.code === 0 && last.stdout) return last.stdout;
    await sleep(100);
  }
  assert.fail(`curl ${url} did not answer within ${timeoutMs} ms: exit ${last?.code} ${last?.stderr}`);
}

/** httpd serving /www/index.html whose content is `text`. */
function httpd(text: string): string[] {
  return ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];
}

/** Node processes whose command line mentions `needle` (a daemon's exec root): berthd and its proxy, if any. */
function nodeProcessesMentioning(needle: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      if (!/\/node$/.test(readlinkSync(`/proc/${p}/exe`))) return [];
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').some((a) => a.includes(needle)) ? [Number(p)] : [];
    } catch { return []; }
  });
}

const proxiesOf = (d: TestDaemon): number[] => listProxies().filter((p) => p.control.startsWith(`${d.execRoot}/`)).map((p) => p.pid);

/** Waits (bounded) for a condition on ports or processes that a teardown reaches in the background. */
async function eventually(what: string, fn: () => Promise<boolean> | boolean): Promise<void> {
  await until(async () => fn(), 10_000, what);
}

describe('published ports: no Node process per container', () => {
  const plain = new TestDaemon();
  const userland = new TestDaemon({ args: ['--userland-proxy=true'] });
  const run = (d: TestDaemon, args: string[]): Promise<string> => ok(d.docker(['run', '-d', ...args]));

  before(async () => {
    await Promise.all([plain.start(), userland.start()]);
    await Promise.all([makeBusybox(plain), makeBusybox(userland)]);
  });
  after(async () => {
    await Promise.all([plain.cleanup(), userland.cleanup()]);
  });

  it('default mode: several -p containers and no proxy process; berthd holds the ports, kernel NAT carries 127.0.0.1', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const [i, p] of ports.entries()) await run(plain, ['--name', `p${i}`, '-p', `${p}:80`, 'busybox', ...httpd(`hello-p${i}`)]);
    for (const [i, p] of ports.entries()) assert.equal(await curlUntil(`http://127.0.0.1:${p}/index.html`), `hello-p${i}\n`);
    assert.deepEqual(proxiesOf(plain), [], 'no berth-proxy for this daemon');
    assert.deepEqual(nodeProcessesMentioning(plain.execRoot), [plain.pid], 'berthd is the only Node process of this daemon');
    for (const p of ports) assert.equal(await held(p), true, `host port ${p} is held`);

    await ok(plain.docker(['stop', '-t', '1', 'p0']));
    assert.equal(await held(ports[0]!), false, 'a stopped container\'s port is free');
    await ok(plain.docker(['rm', '-f', 'p0', 'p1', 'p2']));
    for (const p of ports) assert.equal(await held(p), false, `host port ${p} is free after rm`);
  });

  it('userland-proxy=true: one proxy for the daemon carries 127.0.0.1 and frees ports on stop and rm', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const [i, p] of ports.entries()) await run(userland, ['--name', `u${i}`, '-p', `${p}:80`, 'busybox', ...httpd(`hello-u${i}`)]);
    const proxies = proxiesOf(userland);
    assert.equal(proxies.length, 1, `one berth-proxy for the daemon: ${proxies.join(' ')}`);
    assert.deepEqual(nodeProcessesMentioning(userland.execRoot).sort(), [userland.pid!, proxies[0]!].sort(), 'berthd and its proxy, nothing per container');
    // 127.0.0.1 is not DNATed in this mode: the answer can only come through the proxy.
    for (const [i, p] of ports.entries()) assert.equal(await curlUntil(`http://127.0.0.1:${p}/index.html`), `hello-u${i}\n`);
    const nat = (await ok(runCmd('iptables-save', ['-t', 'nat']))).split('\n');
    assert.ok(!nat.some((l) => l.startsWith('-A BERTH-LOOPBACK') && l.includes(`--dport ${ports[0]}`)), 'no loopback NAT with userland-proxy');

    await ok(userland.docker(['stop', '-t', '1', 'u0']));
    assert.equal(await held(ports[0]!), false, 'the stopped container\'s port is free');
    assert.equal(await held(ports[1]!), true);
    assert.deepEqual(proxiesOf(userland), proxies, 'the proxy stays for the others');
    await ok(userland.docker(['rm', '-f', 'u0', 'u1', 'u2']));
    for (const p of ports) assert.equal(await held(p), false, `host port ${p} is free after rm`);
    await eventually('the proxy exits with the last forward', () => proxiesOf(userland).length === 0);
  });

  it('a host port in use: run fails with the bind error in both modes, and a port taken by another container says so', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      for (const d of [plain, userland]) {
        const r = await d.docker(['run', '-d', '--name', 'busyport', '-p', `127.0.0.1:${port}:80`, 'busybox', ...httpd('x')]);
        assert.notEqual(r.code, 0, r.stdout);
        // dockerd's text: the allocator finds the port taken before anything binds it.
        assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint busyport \\([0-9a-f]{64}\\): Error starting userland proxy: listen tcp4 127\\.0\\.0\\.1:${port}: bind: address already in use`));
        assert.equal(holder.listening, true);
        await ok(d.docker(['rm', '-f', 'busyport']));
      }
      await eventually('a failed first bind leaves no proxy', () => proxiesOf(userland).length === 0);
    } finally {
      holder.close();
    }
    const p = await freePort();
    await run(plain, ['--name', 'first', '-p', `${p}:80`, 'busybox', ...httpd('first')]);
    const r = await plain.docker(['run', '-d', '--name', 'second', '-p', `${p}:80`, 'busybox', ...httpd('second')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${p} failed: port is already allocated`));
    assert.equal(await curlUntil(`http://127.0.0.1:${p}/index.html`), 'first\n');
    await ok(plain.docker(['rm', '-f', 'first', 'second']));
  });

  it('live restore, default mode: kill -9 of berthd keeps the port answering, restart holds it again, rm frees it', async () => {
    const port = await freePort();
    await run(plain, ['--name', 'lr', '-p', `${port}:80`, 'busybox', ...httpd('hello-lr')]);
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-lr\n');
    await plain.kill9();
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-lr\n', 'kernel NAT serves while berthd is down');
    await plain.start();
    assert.equal(await held(port), true, 'the restarted berthd holds the port again');
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-lr\n');
    assert.deepEqual(proxiesOf(plain), []);
    await ok(plain.docker(['rm', '-f', 'lr']));
    assert.equal(await held(port), false);
  });

  it('live restore, userland-proxy=true: the proxy outlives berthd, is found again, drops a container that died meanwhile, and goes with the last rm', async () => {
    const [port, port2] = [await freePort(), await freePort()];
    await run(userland, ['--name', 'lu', '-p', `${port}:80`, 'busybox', ...httpd('hello-lu')]);
    await run(userland, ['--name', 'dies', '-p', `${port2}:80`, 'busybox', ...httpd('hello-dies')]);
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-lu\n');
    const [proxy] = proxiesOf(userland);
    assert.ok(proxy);
    const diesPid = Number((await ok(userland.docker(['inspect', '-f', '{{.State.Pid}}', 'dies']))).trim());

    await userland.stop(); // SIGTERM: live restore keeps the containers
    assert.ok(isProxy(proxy), 'the proxy outlives berthd');
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-lu\n', 'published port answers while berthd is down');
    process.kill(diesPid, 'SIGKILL'); // a container that dies while berthd is down
    await userland.start();

    assert.deepEqual(proxiesOf(userland), [proxy], 'the same proxy serves after the restart');
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-lu\n');
    await eventually('the dead container\'s port is let go', async () => !(await held(port2)));
    await ok(userland.docker(['rm', '-f', 'lu', 'dies']));
    assert.equal(await held(port), false);
    await eventually('the proxy goes with its last forward', () => !isProxy(proxy));
  });

  it('a daemon restarted without userland-proxy stops its old proxy and holds the ports itself', async () => {
    const port = await freePort();
    await run(userland, ['--name', 'sw', '-p', `${port}:80`, 'busybox', ...httpd('hello-sw')]);
    const [proxy] = proxiesOf(userland);
    assert.ok(proxy);
    await userland.stop();
    const switched = new TestDaemon({ dataRoot: userland.dataRoot, execRoot: userland.execRoot });
    try {
      await switched.start();
      await eventually('the old proxy goes', () => !isProxy(proxy));
      assert.equal(await held(port), true, 'berthd holds the port');
      assert.deepEqual(nodeProcessesMentioning(userland.execRoot), [switched.pid]);
      assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-sw\n');
      await ok(switched.docker(['rm', '-f', 'sw']));
      assert.equal(await held(port), false);
    } finally {
      await switched.stop();
      await rm(switched.env.DOCKER_CONFIG!, { recursive: true, force: true });
      await userland.start();
    }
  });

  it('two daemons with userland-proxy=true side by side: each its own proxy; a restart of one leaves the other\'s forwards alone', async () => {
    const other = new TestDaemon({ args: ['--userland-proxy=true'] });
    try {
      await other.start();
      await makeBusybox(other);
      const [pa, pb] = [await freePort(), await freePort()];
      await run(userland, ['--name', 'sa', '-p', `${pa}:80`, 'busybox', ...httpd('hello-sa')]);
      await run(other, ['--name', 'sb', '-p', `${pb}:80`, 'busybox', ...httpd('hello-sb')]);
      const [mine, theirs] = [proxiesOf(userland), proxiesOf(other)];
      assert.equal(mine.length, 1);
      assert.equal(theirs.length, 1);
      assert.notEqual(mine[0], theirs[0]);

      // A restart of one sweeps its own proxy's forwards only.
      await userland.kill9();
      await userland.start();
      assert.deepEqual(proxiesOf(other), theirs);
      assert.equal(await curlUntil(`http://127.0.0.1:${pb}/index.html`), 'hello-sb\n');
      assert.equal(await curlUntil(`http://127.0.0.1:${pa}/index.html`), 'hello-sa\n');

      await ok(userland.docker(['rm', '-f', 'sa']));
      await eventually('the first daemon\'s proxy goes', () => proxiesOf(userland).length === 0);
      assert.deepEqual(proxiesOf(other), theirs, 'the other daemon\'s proxy stays');
      assert.equal(await curlUntil(`http://127.0.0.1:${pb}/index.html`), 'hello-sb\n');
      await ok(other.docker(['rm', '-f', 'sb']));
      await eventually('the second daemon\'s proxy goes', () => proxiesOf(other).length === 0);
    } finally {
      await other.cleanup();
    }
  });
});
