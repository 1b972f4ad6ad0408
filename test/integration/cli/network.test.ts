// Networking through the real Docker CLI: the default bridge, user-defined networks with their
// embedded DNS (names and aliases) and isolation, published TCP and UDP ports (port proxy plus
// iptables DNAT), a port already in use, --network none/host, connect/disconnect, what is left
// after everything is removed, and published ports and DNS across a berthd kill -9.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { TestDaemon, makeBusybox, runCmd, until, sleep, type Result, ok } from '../../helpers/daemon.ts';
import { listProxies } from '../../../src/sys/proxy-process.ts';


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

/** The host's own non-loopback IPv4 address: the one on the interface of the default route. */
async function hostAddress(): Promise<{ dev: string; addr: string } | undefined> {
  const r = await runCmd('ip', ['-j', '-4', 'route', 'show', 'default']);
  const dev = (JSON.parse(r.stdout || '[]') as { dev?: string }[])[0]?.dev;
  if (!dev) return undefined;
  const a = await runCmd('ip', ['-j', '-4', 'addr', 'show', 'dev', dev]);
  const addr = (JSON.parse(a.stdout || '[]') as { addr_info?: { local?: string }[] }[])[0]?.addr_info?.[0]?.local;
  return addr ? { dev, addr } : undefined;
}

async function defaultRouteDev(): Promise<string | undefined> {
  const r = await runCmd('ip', ['-j', '-4', 'route', 'show', 'default']);
  return (JSON.parse(r.stdout || '[]') as { dev?: string }[])[0]?.dev;
}

/** curl from the host, retried (bounded) until it answers: the server may still be starting. */
async function curlUntil(url: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: Result | undefined;
  while (Date.now() < deadline) {
    last = await runCmd('curl', ['-s', '--max-time', '3', url], { timeoutMs: 5000 });
    if (last.code === 0 && last.stdout) return last.stdout;
    await sleep(100);
  }
  assert.fail(`curl ${url} did not answer within ${timeoutMs} ms: exit ${last?.code} ${last?.stderr}`);
}

/** Shell that runs `timeout 5 wget -q -O - URL` up to `tries` times (a server may still be starting). */
function wgetLoop(url: string, tries = 30): string {
  return `for i in $(seq 1 ${tries}); do timeout 5 wget -q -O - ${url} && exit 0; sleep 0.2; done; exit 1`;
}

/** httpd serving /www/index.html whose content is `text`. */
function httpd(text: string): string[] {
  return ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];
}

async function iptablesSave(): Promise<string[]> {
  return (await ok(runCmd('iptables-save', []))).split('\n');
}

/** berth-proxy processes of daemon `d` (only with userland-proxy=true; by default berthd holds the ports itself). */
const proxiesOf = (d: TestDaemon): number[] => listProxies().filter((p) => p.control.startsWith(`${d.execRoot}/`)).map((p) => p.pid);

/** Whether something holds TCP 127.0.0.1:`port` (binding it fails with EADDRINUSE). */
function held(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err)));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(false)));
  });
}

describe('container networking against berthd', () => {
  const d = new TestDaemon();
  const gateway = d.net.bip.split('/')[0]!;
  const docker = (args: string[], timeoutMs?: number): Promise<string> => ok(d.docker(args, { timeoutMs }));
  const inspect = async (fmt: string, ref: string): Promise<string> => (await docker(['inspect', '-f', fmt, ref])).trim();
  const ensureNetwork = async (name: string): Promise<void> => {
    if ((await d.docker(['network', 'inspect', name])).code !== 0) await docker(['network', 'create', name]);
  };
  const bridgeOf = async (name: string): Promise<string> => `br-${(await docker(['network', 'inspect', '-f', '{{.Id}}', name])).trim().slice(0, 12)}`;

  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    await d.cleanup();
  });

  it('default network: an address in the daemon subnet on eth0, the bridge as gateway, reachable by IP', async () => {
    await docker(['run', '-d', '--name', 'def1', 'busybox', ...httpd('hello-def1')]);
    const ip = await inspect('{{.NetworkSettings.IPAddress}}', 'def1');
    assert.ok(ip.startsWith(d.net.subnetPrefix), `${ip} in ${d.net.subnetPrefix}0/24`);
    assert.notEqual(ip, gateway);
    assert.equal(await inspect('{{.NetworkSettings.Gateway}}', 'def1'), gateway);
    assert.equal(await inspect('{{.NetworkSettings.Networks.bridge.IPAddress}}', 'def1'), ip);
    const addr = await docker(['exec', 'def1', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24 `));
    assert.match(await docker(['exec', 'def1', 'ip', 'route']), new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth0`, 'm'));
    const got = await docker(['run', '--rm', 'busybox', 'sh', '-c', wgetLoop(`http://${ip}/index.html`)], 90_000);
    assert.equal(got, 'hello-def1\n');
  });

  it('user network: containers reach each other by name and alias; inspect lists them; other networks are isolated', async () => {
    await ensureNetwork('n1');
    await ensureNetwork('n2');
    const [n1] = JSON.parse(await docker(['network', 'inspect', 'n1']));
    const n1gw: string = n1.IPAM.Config[0].Gateway;
    await docker(['run', '-d', '--name', 'u1', '--network', 'n1', 'busybox', ...httpd('hello-u1')]);
    await docker(['run', '-d', '--name', 'u2', '--network', 'n1', '--network-alias', 'webalias', 'busybox', ...httpd('hello-u2')]);
    const ip1 = await inspect('{{.NetworkSettings.Networks.n1.IPAddress}}', 'u1');
    const ip2 = await inspect('{{.NetworkSettings.Networks.n1.IPAddress}}', 'u2');
    // Docker's embedded DNS inside the container, not the gateway (which serves no DNS).
    const resolv = await docker(['exec', 'u1', 'cat', '/etc/resolv.conf']);
    assert.match(resolv, /^nameserver 127\.0\.0\.11$/m);
    assert.ok(!resolv.includes(n1gw), resolv);

    assert.equal(await docker(['exec', 'u1', 'sh', '-c', wgetLoop('http://u2/index.html')], 90_000), 'hello-u2\n');
    assert.equal(await docker(['exec', 'u1', 'sh', '-c', wgetLoop('http://webalias/index.html')], 90_000), 'hello-u2\n');
    assert.equal(await docker(['exec', 'u2', 'sh', '-c', wgetLoop('http://u1/index.html')], 90_000), 'hello-u1\n');

    const [again] = JSON.parse(await docker(['network', 'inspect', 'n1']));
    const members = Object.values(again.Containers as Record<string, { Name: string; IPv4Address: string }>)
      .map((c) => `${c.Name} ${c.IPv4Address}`).sort();
    assert.deepEqual(members, [`u1 ${ip1}/24`, `u2 ${ip2}/24`]);

    // A container on n2 cannot reach u1 by IP (isolation between bridges), though u2 just did.
    await docker(['run', '-d', '--name', 'other2', '--network', 'n2', 'busybox', 'sleep', '300']);
    const t0 = Date.now();
    const cross = await d.docker(['exec', 'other2', 'timeout', '5', 'wget', '-q', '-O', '-', `http://${ip1}/index.html`], { timeoutMs: 30_000 });
    assert.notEqual(cross.code, 0, `n2 reached n1 by IP: ${cross.stdout}`);
    assert.equal(cross.stdout, '');
    assert.ok(Date.now() - t0 < 20_000, 'the failed wget came back within its timeout');
  });

  it('published TCP ports: loopback binding, all addresses (DNAT on the host address), random port', async () => {
    const port = await freePort();
    await docker(['run', '-d', '--name', 'pub1', '-p', `127.0.0.1:${port}:80`, 'busybox', ...httpd('hello-pub1')]);
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-pub1\n');
    assert.equal(await docker(['port', 'pub1']), `80/tcp -> 127.0.0.1:${port}\n`);

    const port2 = await freePort();
    await docker(['run', '-d', '--name', 'pub2', '-p', `${port2}:80`, 'busybox', ...httpd('hello-pub2')]);
    assert.match(await docker(['port', 'pub2', '80/tcp']), new RegExp(`^0\\.0\\.0\\.0:${port2}$`, 'm'));
    assert.equal(await curlUntil(`http://127.0.0.1:${port2}/index.html`), 'hello-pub2\n');
    const id2 = await inspect('{{.Id}}', 'pub2');
    const ip2 = await inspect('{{.NetworkSettings.IPAddress}}', 'pub2');
    // One DNAT for traffic arriving from elsewhere (BERTH), one for the host's own loopback connections (BERTH-LOOPBACK).
    const ours2 = (await iptablesSave()).filter((l) => l.includes(`berth:${d.net.bridge}/${id2.slice(0, 12)}`) && l.includes('DNAT'));
    assert.equal(ours2.filter((l) => l.startsWith('-A BERTH-LOOPBACK ')).length, 1, ours2.join('\n'));
    const dnat = ours2.filter((l) => l.startsWith('-A BERTH '));
    assert.equal(dnat.length, 1, ours2.join('\n'));
    assert.match(dnat[0]!, new RegExp(`--dport ${port2} .*--to-destination ${ip2.replace(/\./g, '\\.')}:80`));
    const host = await hostAddress();
    if (host) {
      // The proxy listens on 0.0.0.0 too, so the DNAT rule's packet counter shows which path was taken.
      const dnatPackets = async (): Promise<number> => {
        const line = (await ok(runCmd('iptables-save', ['-c', '-t', 'nat']))).split('\n')
          .find((l) => l.includes(`berth:${d.net.bridge}/${id2.slice(0, 12)}`) && l.includes('DNAT') && l.includes('-A BERTH '));
        return Number(/^\[(\d+):/.exec(line ?? '')?.[1] ?? NaN);
      };
      const before = await dnatPackets();
      assert.equal(await curlUntil(`http://${host.addr}:${port2}/index.html`), 'hello-pub2\n', `via ${host.dev} ${host.addr}`);
      assert.ok(await dnatPackets() > before, `the connection to ${host.addr}:${port2} went through the DNAT rule`);
    }

    await docker(['run', '-d', '--name', 'pub3', '-p', '80', 'busybox', ...httpd('hello-pub3')]);
    const shown = (await docker(['port', 'pub3', '80'])).trim().split('\n')[0]!;
    const m = /^0\.0\.0\.0:(\d+)$/.exec(shown);
    assert.ok(m, `docker port pub3 80: ${shown}`);
    assert.ok(Number(m[1]) > 0);
    assert.equal(await curlUntil(`http://127.0.0.1:${m[1]}/index.html`), 'hello-pub3\n');
  });

  it('published UDP port: docker port shows it, the proxy holds it, a datagram crosses into the container and back', async () => {
    // Busybox (this image's only userland) has no UDP server: its nc has no -u, and there is no
    // udpsvd or socat. So the echo server is a small node:dgram program run *inside the
    // container's network namespace* (nsenter -n into the container's init process): a reply
    // can only come back if the datagram sent to 127.0.0.1:PORT on the host went through the
    // proxy to <container IP>:5353. `netstat -uln` run by the container itself shows the socket,
    // so it really is the container's network.
    const port = await freePort();
    await docker(['run', '-d', '--name', 'udp1', '-p', `127.0.0.1:${port}:5353/udp`, 'busybox', 'sleep', '300']);
    assert.equal(await docker(['port', 'udp1']), `5353/udp -> 127.0.0.1:${port}\n`);

    // The port proxy holds the UDP port.
    const probe = dgram.createSocket('udp4');
    const bindErr = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      probe.once('error', (e) => resolve(e));
      probe.bind(port, '127.0.0.1', () => resolve(undefined));
    });
    probe.close();
    assert.equal(bindErr?.code, 'EADDRINUSE', 'binding the published UDP port on the host must fail');
    const id = await inspect('{{.Id}}', 'udp1');
    const udpRules = (await iptablesSave()).filter((l) => l.includes(`berth:${d.net.bridge}/${id.slice(0, 12)}`));
    assert.ok(udpRules.some((l) => l.includes('-p udp') && l.includes('--dport 5353') && l.includes('-j ACCEPT')), 'a UDP forward rule for the container');
    // A loopback binding is DNATed only for the host's own connections (OUTPUT → BERTH-LOOPBACK),
    // never in BERTH (PREROUTING), where a crafted LAN packet to 127.0.0.1 could use it.
    assert.ok(!udpRules.some((l) => l.includes('DNAT') && l.startsWith('-A BERTH ')), 'no PREROUTING DNAT for a 127.0.0.1 binding');
    assert.ok(udpRules.some((l) => l.includes('DNAT') && l.startsWith('-A BERTH-LOOPBACK -d 127.0.0.1/32 -p udp')), 'kernel NAT for the host\'s own loopback datagrams');

    const pid = await inspect('{{.State.Pid}}', 'udp1');
    const script = `const s=require('node:dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));s.bind(5353,'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),60000);`;
    const echo = spawn('nsenter', ['-t', pid, '-n', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const client = dgram.createSocket('udp4');
    try {
      let out = '';
      let err = '';
      echo.stdout.on('data', (b: Buffer) => { out += b; });
      echo.stderr.on('data', (b: Buffer) => { err += b; });
      await until(async () => out.includes('ready') || echo.exitCode !== null, 10_000, 'the UDP echo server in the container netns');
      assert.ok(out.includes('ready'), `echo server: ${err}`);
      assert.match(await docker(['exec', 'udp1', 'netstat', '-uln']), /0\.0\.0\.0:5353\s/);

      const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
      client.bind(0, '127.0.0.1');
      const deadline = Date.now() + 10_000;
      let answer: string | undefined;
      while (!answer && Date.now() < deadline) {
        client.send('ping-udp', port, '127.0.0.1');
        answer = await Promise.race([reply, sleep(300).then(() => undefined)]);
      }
      assert.equal(answer, 'echo:ping-udp');
    } finally {
      client.close();
      echo.kill('SIGKILL');
    }
  });

  it('a host port already in use: run fails, nothing of the container stays running or programmed', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const r = await d.docker(['run', '-d', '--name', 'busyport', '-p', `127.0.0.1:${port}:80`, 'busybox', ...httpd('x')]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, new RegExp(`${port}`));
      assert.match(r.stderr, /already in use/);
      assert.equal(await inspect('{{.State.Running}}', 'busyport'), 'false');
      const id = await inspect('{{.Id}}', 'busyport');
      assert.deepEqual(proxiesOf(d), [], 'no proxy process');
      assert.deepEqual((await iptablesSave()).filter((l) => l.includes(`/${id.slice(0, 12)}`)), []);
      assert.equal((await runCmd('ip', ['netns', 'list'])).stdout.includes(`berth-${id.slice(0, 16)}`), false, 'no netns left');
      // Our listener still has the port.
      assert.equal(holder.listening, true);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('--network none has only lo; --network host sees the host interfaces', async () => {
    const none = (await docker(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link'])).trim().split('\n');
    assert.equal(none.length, 1, none.join('\n'));
    assert.match(none[0]!, /^1: lo: /);
    const host = await docker(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link']);
    const names = host.trim().split('\n').map((l) => l.split(': ')[1]!.split('@')[0]);
    const dev = await defaultRouteDev();
    if (dev) assert.ok(names.includes(dev), `${dev} in ${names.join(' ')}`);
    assert.ok(names.includes(d.net.bridge), `the daemon's bridge ${d.net.bridge} in ${names.join(' ')}`);
  });

  it('network connect adds a working eth1 in the network subnet; disconnect removes it', async () => {
    await ensureNetwork('n1');
    const [n1] = JSON.parse(await docker(['network', 'inspect', 'n1']));
    const subnet: string = n1.IPAM.Config[0].Subnet;
    const n1prefix = subnet.split('.').slice(0, 3).join('.') + '.';
    await docker(['run', '-d', '--name', 'target7', '--network', 'n1', 'busybox', ...httpd('hello-target7')]);
    const tip = await inspect('{{.NetworkSettings.Networks.n1.IPAddress}}', 'target7');
    await docker(['run', '-d', '--name', 'mover', 'busybox', 'sleep', '300']);
    assert.equal((await d.docker(['exec', 'mover', 'ip', 'link', 'show', 'eth1'])).code !== 0, true, 'no eth1 before connect');
    // Before the connect, the default bridge cannot reach n1.
    assert.notEqual((await d.docker(['exec', 'mover', 'timeout', '5', 'wget', '-q', '-O', '-', `http://${tip}/index.html`], { timeoutMs: 30_000 })).code, 0);

    await docker(['network', 'connect', 'n1', 'mover']);
    const mip = await inspect('{{.NetworkSettings.Networks.n1.IPAddress}}', 'mover');
    assert.ok(mip.startsWith(n1prefix), `${mip} in ${subnet}`);
    assert.match(await docker(['exec', 'mover', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth1']), new RegExp(`inet ${mip.replace(/\./g, '\\.')}/24 `));
    assert.equal(await docker(['exec', 'mover', 'sh', '-c', wgetLoop(`http://${tip}/index.html`)], 90_000), 'hello-target7\n');
    // eth0 on the default bridge is still there.
    assert.ok((await inspect('{{.NetworkSettings.Networks.bridge.IPAddress}}', 'mover')).startsWith(d.net.subnetPrefix));

    await docker(['network', 'disconnect', 'n1', 'mover']);
    assert.notEqual((await d.docker(['exec', 'mover', 'ip', 'link', 'show', 'eth1'])).code, 0, 'eth1 is gone');
    assert.equal(await inspect('{{if index .NetworkSettings.Networks "n1"}}yes{{else}}no{{end}}', 'mover'), 'no');
    assert.match(await docker(['exec', 'mover', 'ip', '-o', 'link']), /eth0/);
    const [after] = JSON.parse(await docker(['network', 'inspect', 'n1']));
    assert.ok(!Object.values(after.Containers as Record<string, { Name: string }>).some((c) => c.Name === 'mover'));
  });

  it('run --network n1 --network n2 (API >= 1.44: both endpoints in one create): eth0 and eth1, one per network, each reachable', async () => {
    await ensureNetwork('n1');
    await ensureNetwork('n2');
    await docker(['run', '-d', '--name', 'two-nets', '--network', 'n1', '--network', 'n2', '--network-alias', 'both', 'busybox', ...httpd('hello-two')]);
    const ips = (await inspect('{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}', 'two-nets')).trim().split(' ');
    assert.deepEqual(ips.map((p) => p.split('=')[0]), ['n1', 'n2']);
    const aliases = await inspect('{{range $k, $v := .NetworkSettings.Networks}}{{$k}}:{{join $v.Aliases ","}} {{end}}', 'two-nets');
    for (const net of ['n1', 'n2']) {
      // a neighbour on each network reaches it by its name, and by the aliases of that network's endpoint
      const name = aliases.includes(`${net}:both`) ? 'both' : 'two-nets';
      const out = await docker(['run', '--rm', '--network', net, 'busybox', 'sh', '-c', wgetLoop(`http://${name}/index.html`, 10)], 90_000);
      assert.equal(out, 'hello-two\n', `from ${net} (${aliases})`);
    }
    assert.ok(aliases.includes('n1:both'), `the CLI's --network-alias on the first network: ${aliases}`);
    assert.match(await docker(['exec', 'two-nets', 'ip', '-o', 'link']), /eth0.*\n(.*\n)*.*eth1/s);
    await docker(['rm', '-f', 'two-nets']);
  });

  it('removing every container and user network leaves no veth, bridge, netns, rule or proxy behind', async () => {
    // Something of everything, whatever the tests before left: published ports on both kinds of network.
    await ensureNetwork('n1');
    await ensureNetwork('nh');
    const [ph1, ph2] = [await freePort(), await freePort()];
    await docker(['run', '-d', '--name', 'h1', '-p', `127.0.0.1:${ph1}:80`, 'busybox', ...httpd('h1')]);
    await docker(['run', '-d', '--name', 'h2', '--network', 'nh', '-p', `127.0.0.1:${ph2}:80/tcp`, '-p', `127.0.0.1:${await freePort()}:53/udp`, 'busybox', ...httpd('h2')]);
    await docker(['network', 'connect', 'n1', 'h1']);

    const ids = (await docker(['ps', '-aq', '--no-trunc'])).trim().split('\n').filter(Boolean);
    const nets = (await docker(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}'])).trim().split('\n').filter(Boolean);
    assert.ok(nets.includes('nh') && nets.includes('n1'));
    const userBridges: string[] = [];
    for (const n of nets) {
      const [rec] = JSON.parse(await docker(['network', 'inspect', n]));
      userBridges.push(`br-${(rec.Id as string).slice(0, 12)}`);
    }
    const bridges = [d.net.bridge, ...userBridges];
    const links = JSON.parse((await ok(runCmd('ip', ['-j', 'link']))) || '[]') as { ifindex: number; ifname: string; master?: string }[];
    // The containers' host ends, found through each container interface's peer index (the
    // daemon also keeps a few prepared namespaces with veths on its bridge: those stay).
    const veths: string[] = [];
    const running = (await docker(['ps', '-q', '--no-trunc'])).trim().split('\n').filter(Boolean);
    for (const id of running) {
      const peers = (await docker(['exec', id, 'sh', '-c', 'cat /sys/class/net/eth*/iflink'])).trim().split('\n');
      for (const idx of peers) veths.push(links.find((l) => l.ifindex === Number(idx))?.ifname ?? `missing-${idx}`);
    }
    assert.ok(veths.length >= 3, `veths of the running containers: ${veths.join(' ')}`);
    assert.ok(veths.every((v) => bridges.includes(links.find((l) => l.ifname === v)?.master ?? '')), 'each on one of the daemon\'s bridges');
    assert.ok(veths.every((v) => /^vb[0-9a-f]{11}$/.test(v)), veths.join(' '));
    assert.ok(await held(ph1) && await held(ph2), 'the published ports are held');
    assert.deepEqual(proxiesOf(d), [], 'by berthd itself: no proxy process');

    for (const id of ids) await docker(['rm', '-f', id]);
    for (const n of nets) await docker(['network', 'rm', n]);

    // The kernel destroys a deleted namespace's veth pairs in the background (tens of ms): bounded wait.
    let names: string[] = [];
    for (let i = 0; i < 100; i++) {
      names = (await ok(runCmd('ip', ['-br', 'link']))).split('\n').map((l) => l.split(/\s+/)[0]!.split('@')[0]!);
      if (!names.some((n) => veths.includes(n))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(names.filter((n) => veths.includes(n)), [], 'veths of the removed containers');
    assert.deepEqual(names.filter((n) => userBridges.includes(n)), [], 'bridges of the removed networks');
    const nsList = (await ok(runCmd('ip', ['netns', 'list']))).split('\n').map((l) => l.split(' ')[0]!);
    assert.deepEqual(nsList.filter((n) => ids.some((id) => n === `berth-${id.slice(0, 16)}`)), [], 'netns of the removed containers');
    const rules = await iptablesSave();
    assert.deepEqual(rules.filter((l) => l.includes(`berth:${d.net.bridge}/`)), [], 'per-container rules');
    assert.deepEqual(rules.filter((l) => userBridges.some((b) => l.includes(`berth:${b}`))), [], 'rules of the removed networks');
    assert.ok(!(await held(ph1)) && !(await held(ph2)), 'the published ports are free');
    assert.deepEqual(proxiesOf(d), [], 'proxies of this daemon');
  });

  it('kill -9 and restart of berthd: published port, DNS on a user network and rules all survive, once', async () => {
    await ensureNetwork('nr');
    const bridge = await bridgeOf('nr');
    const port = await freePort();
    await docker(['run', '-d', '--name', 'r1', '--network', 'nr', '-p', `127.0.0.1:${port}:80`, 'busybox', ...httpd('hello-r1')]);
    await docker(['run', '-d', '--name', 'r2', '--network', 'nr', 'busybox', ...httpd('hello-r2')]);
    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-r1\n');
    assert.equal(await docker(['exec', 'r1', 'sh', '-c', wgetLoop('http://r2/index.html')], 90_000), 'hello-r2\n');
    assert.ok(await held(port), 'berthd holds r1\'s port');
    const ours = (l: string): boolean => l.includes(`berth:${d.net.bridge}`) || l.includes(`berth:${bridge}`);
    const rulesBefore = (await iptablesSave()).filter(ours).sort();

    await d.kill9();
    await d.start();

    assert.equal(await curlUntil(`http://127.0.0.1:${port}/index.html`), 'hello-r1\n');
    assert.ok(await held(port), 'the restarted berthd holds r1\'s port again');
    // The embedded DNS answers again (it lives in berthd): a name lookup, retried for a moment.
    assert.equal(await docker(['exec', 'r1', 'sh', '-c', wgetLoop('http://r2/index.html')], 90_000), 'hello-r2\n');
    assert.equal(await docker(['exec', 'r2', 'sh', '-c', wgetLoop('http://r1/index.html')], 90_000), 'hello-r1\n');

    const all = await iptablesSave();
    const tagged = all.filter((l) => l.includes('berth:'));
    assert.deepEqual(tagged, [...new Set(tagged)], 'no berth rule twice');
    const jumps = all.filter((l) => /^-A (FORWARD|PREROUTING|OUTPUT|POSTROUTING|BERTH-FORWARD) .*-j BERTH/.test(l) && !l.includes('berth:'));
    assert.deepEqual(jumps, [...new Set(jumps)], 'no jump into Berth chains twice');
    assert.deepEqual(all.filter(ours).sort(), rulesBefore, 'the same rules as before the restart');
    const id1 = await inspect('{{.Id}}', 'r1');
    assert.ok(all.some((l) => l.includes(`berth:${bridge}/${id1.slice(0, 12)}`) && l.includes('-j ACCEPT')), 'the forward rule of r1');
    assert.equal(await inspect('{{.State.Running}}', 'r1'), 'true');
  });
});
