// A hostile neighbour on the host's network (issue 16, finding 3): a machine that routes packets
// for container addresses through the host. The test makes that neighbour itself: a network
// namespace joined to the host by a veth pair on a 198.18.x.0/30 (the benchmark range, which no
// route of this host uses; checked), with a route to the daemon's bridge subnet via the host end.
// Everything it makes (namespace, veth, the neighbour's server) goes in after(), even on failure.
//
// What must hold (moby 27/28's bridge driver): the FORWARD policy is DROP once berthd enables
// forwarding; an unpublished container port, and a published one reached by routing straight to
// the container address (in particular a port published on 127.0.0.1 only), are out of reach; a
// port published on every address answers at the host's address; containers still reach the
// neighbour and get its replies, and still reach each other.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { TestDaemon, makeBusybox, ok, runCmd, sleep } from '../../helpers/daemon.ts';

/** An unused host port (the kernel's pick on 127.0.0.1). */
function freePort(): Promise<number> {
  return new Promise((resolveP, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolveP(port));
    });
  });
}

/** A 198.18.x.0/30 that no address or route of this host is in. */
function pickNeighbourNet(): { host: string; peer: string } {
  const used = readFileSync('/proc/net/fib_trie', 'utf8');
  for (let i = 0; i < 50; i++) {
    const x = randomInt(0, 256);
    if (used.includes(` 198.18.${x}.`) || used.includes(' 198.18.0.0') || used.includes(' 198.16.0.0')) continue;
    return { host: `198.18.${x}.1`, peer: `198.18.${x}.2` };
  }
  throw new Error('no free 198.18.x.0/30');
}

const httpd = (text: string, port: number): string => `mkdir -p /www${port} && echo ${text} > /www${port}/index.html && httpd -p ${port} -h /www${port}`;

describe('a hostile network neighbour routing through the host', { timeout: 120_000 }, () => {
  const d = new TestDaemon();
  const tag = randomBytes(3).toString('hex');
  const ns = `bnb-${tag}`;
  const hostIf = `bnb${tag}h`;
  const peerIf = `bnb${tag}n`;
  const nb = pickNeighbourNet();
  const subnet = `${d.net.subnetPrefix}0/24`;
  const docker = (args: string[]): Promise<string> => ok(d.docker(args, { timeoutMs: 60_000 }));
  let webIp = '';
  let loIp = '';
  let pubPort = 0;
  let loPort = 0;
  let nbServer: ChildProcess | undefined;
  const scratch = mkdtempSync('/tmp/berth-nb-');

  /** The neighbour's HTTP GET: the body, or '' when nothing answered within `secs`. */
  const fromNeighbour = async (url: string, secs = 2): Promise<string> => {
    const r = await runCmd('ip', ['netns', 'exec', ns, 'curl', '-s', '--max-time', String(secs), url], { timeoutMs: (secs + 5) * 1000 });
    return r.code === 0 ? r.stdout : '';
  };
  /** Retries a GET that must succeed (a server starting), bounded to `tries` attempts. */
  const until = async (get: () => Promise<string>, tries = 10): Promise<string> => {
    for (let i = 0; i < tries; i++) {
      const body = await get();
      if (body) return body;
      await sleep(300);
    }
    return '';
  };

  before(async () => {
    await d.start();
    await makeBusybox(d);
    await ok(runCmd('ip', ['netns', 'add', ns]));
    await ok(runCmd('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', peerIf, 'netns', ns]));
    await ok(runCmd('ip', ['addr', 'add', `${nb.host}/30`, 'dev', hostIf]));
    await ok(runCmd('ip', ['link', 'set', hostIf, 'up']));
    await ok(runCmd('ip', ['-n', ns, 'addr', 'add', `${nb.peer}/30`, 'dev', peerIf]));
    await ok(runCmd('ip', ['-n', ns, 'link', 'set', peerIf, 'up']));
    await ok(runCmd('ip', ['-n', ns, 'link', 'set', 'lo', 'up']));
    // The attack's premise: the neighbour routes the container subnet through the host.
    await ok(runCmd('ip', ['-n', ns, 'route', 'add', subnet, 'via', nb.host]));

    pubPort = await freePort();
    loPort = await freePort();
    // One container serves 80 (published on every address) and 81 (not published); another
    // serves 80 published on 127.0.0.1 only.
    await docker(['run', '-d', '--name', 'nbweb', '-p', `${pubPort}:80`, 'busybox', 'sh', '-c',
      `${httpd('published', 80)} && ${httpd('unpublished', 81)} && exec sleep 600`]);
    await docker(['run', '-d', '--name', 'nblo', '-p', `127.0.0.1:${loPort}:80`, 'busybox', 'sh', '-c', `${httpd('loopback-only', 80)} && exec sleep 600`]);
    webIp = (await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'nbweb'])).trim();
    loIp = (await docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'nblo'])).trim();
    // The servers answer the host itself (the host may always reach its containers directly).
    assert.equal(await until(async () => (await runCmd('curl', ['-s', '--max-time', '2', `http://${webIp}:81/`])).stdout), 'unpublished\n');
    assert.equal(await until(async () => (await runCmd('curl', ['-s', '--max-time', '2', `http://${loIp}:80/`])).stdout), 'loopback-only\n');
  });

  after(async () => {
    if (nbServer && nbServer.exitCode === null) nbServer.kill('SIGKILL');
    await runCmd('ip', ['link', 'del', hostIf]);
    await runCmd('ip', ['netns', 'del', ns]);
    rmSync(scratch, { recursive: true, force: true });
    await d.cleanup();
  });

  it('the FORWARD policy is DROP once berthd has enabled forwarding (dockerd\'s default)', async () => {
    const filter = await ok(runCmd('iptables-save', ['-t', 'filter']));
    assert.match(filter, /^:FORWARD DROP /m);
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), '1');
  });

  it('a published port answers the neighbour at the host\'s address', async () => {
    assert.equal(await until(() => fromNeighbour(`http://${nb.host}:${pubPort}/`)), 'published\n');
  });

  it('an unpublished port is out of reach of the neighbour routing to the container address', async () => {
    assert.equal(await fromNeighbour(`http://${webIp}:81/`), '');
    // nor is a published one when the neighbour skips the host's address and its DNAT
    assert.equal(await fromNeighbour(`http://${webIp}:80/`), '');
    // nor anything else routed to the subnet: no ping of a container
    const ping = await runCmd('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', webIp], { timeoutMs: 5_000 });
    assert.notEqual(ping.code, 0, 'the container does not answer a ping routed by the neighbour');
  });

  it('a port published on 127.0.0.1 only is refused to a neighbour that routes to the container address (Docker 28)', async () => {
    assert.equal(await fromNeighbour(`http://${loIp}:80/`), '');
    // the host itself still gets it on its loopback
    assert.equal(await until(async () => (await runCmd('curl', ['-s', '--max-time', '2', `http://127.0.0.1:${loPort}/`])).stdout), 'loopback-only\n');
  });

  it('containers still reach the neighbour (replies come back) and each other', async () => {
    const www = `${scratch}/www`;
    await ok(runCmd('mkdir', ['-p', www]));
    writeFileSync(`${www}/index.html`, 'neighbour\n');
    const port = 18000 + randomInt(0, 1000);
    nbServer = spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', `${nb.peer}:${port}`, '-h', www], { stdio: 'ignore' });
    const out = await docker(['run', '--rm', 'busybox', 'sh', '-c',
      // (busybox 1.35's wget -T segfaults here: the time limit is timeout's)
      `for i in 1 2 3 4 5 6 7 8 9 10; do timeout 2 wget -q -O - http://${nb.peer}:${port}/ && exit 0; sleep 0.3; done; exit 1`]);
    assert.equal(out, 'neighbour\n');
    assert.equal(await docker(['run', '--rm', 'busybox', 'timeout', '3', 'wget', '-q', '-O', '-', `http://${webIp}:81/`]), 'unpublished\n',
      'a container on the same bridge reaches an unpublished port');
  });
});
