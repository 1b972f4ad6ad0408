// The userland port proxy on loopback only: a "container" on 127.0.0.1, the proxy on other
// 127.x addresses. In-process PortProxy and ForwardTable first, then the real bin/berth-proxy
// process, one per daemon, driven by ProxyClient over its control socket.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { ForwardTable, PortProxy, parseForwards } from '../../../src/network/port-proxy.ts';
import type { PortForward } from '../../../src/network/port-proxy.ts';
import { ProxyClient, listProxies, startProxy, stopProxy, isProxy } from '../../../src/sys/proxy-process.ts';

async function tcpServer(t: TestContext, host: string, onConn: (s: net.Socket) => void, port = 0): Promise<number> {
  const srv = net.createServer({ allowHalfOpen: true }, onConn);
  const sockets = new Set<net.Socket>();
  srv.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  srv.listen(port, host);
  await once(srv, 'listening');
  t.after(() => { for (const s of sockets) s.destroy(); srv.close(); });
  return (srv.address() as net.AddressInfo).port;
}

/** Echo server: everything back, then FIN once the client has sent FIN. */
const echo = (s: net.Socket): void => { s.pipe(s); };

async function startedProxy(t: TestContext, forwards: PortForward[], opts?: ConstructorParameters<typeof PortProxy>[1]): Promise<PortForward[]> {
  const proxy = new PortProxy(forwards, opts);
  t.after(() => proxy.close());
  return proxy.start();
}

/** Sends `data`, half-closes, and collects everything until the server's FIN. */
async function roundTrip(host: string, port: number, data: Buffer): Promise<Buffer> {
  const c = net.connect({ host, port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  c.on('data', (b: Buffer) => chunks.push(b));
  c.end(data);
  await once(c, 'end');
  c.destroy();
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function freePort(host: string): Promise<number> {
  const s = net.createServer().listen(0, host);
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

test('TCP: a few MB round trip through the proxy, checksum intact', async (t) => {
  const cport = await tcpServer(t, '127.0.0.1', echo);
  const [f] = await startedProxy(t, [{ proto: 'tcp', hostIp: '127.0.0.2', hostPort: 0, containerIp: '127.0.0.1', containerPort: cport }]);
  assert.ok(f!.hostPort > 0);
  assert.equal(f!.hostIp, '127.0.0.2');
  const data = randomBytes(6 * 1024 * 1024);
  const back = await roundTrip('127.0.0.2', f!.hostPort, data);
  assert.equal(back.length, data.length);
  assert.equal(sha(back), sha(data));
});

test('TCP: half-close — the client ends, the container still answers', async (t) => {
  const cport = await tcpServer(t, '127.0.0.1', (s) => {
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => { got += d; });
    // Only after the client's FIN arrives (through the proxy) does the server reply, late.
    s.on('end', () => setTimeout(() => { s.write(`got ${got};`); setTimeout(() => s.end('bye'), 50); }, 50));
  });
  const [f] = await startedProxy(t, [{ proto: 'tcp', hostIp: '127.0.0.2', hostPort: 0, containerIp: '127.0.0.1', containerPort: cport }]);
  const back = await roundTrip('127.0.0.2', f!.hostPort, Buffer.from('hello'));
  assert.equal(back.toString(), 'got hello;bye');
});

test('TCP: an unreachable container closes the client connection', async (t) => {
  const dead = await freePort('127.0.0.1');
  const [f] = await startedProxy(t, [{ proto: 'tcp', hostIp: '127.0.0.2', hostPort: 0, containerIp: '127.0.0.1', containerPort: dead }]);
  const c = net.connect({ host: '127.0.0.2', port: f!.hostPort });
  c.on('error', () => {});
  c.resume();
  await once(c, 'close');
});

async function udpEcho(t: TestContext): Promise<{ port: number; sources: Set<number> }> {
  const s = dgram.createSocket('udp4');
  const sources = new Set<number>();
  s.on('message', (msg, r) => { sources.add(r.port); s.send(msg, r.port, r.address); });
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  return { port: s.address().port, sources };
}

async function udpClient(t: TestContext): Promise<{ ask(port: number, msg: string): Promise<string> }> {
  const c = dgram.createSocket('udp4');
  c.bind(0, '127.0.0.1');
  await once(c, 'listening');
  t.after(() => c.close());
  return {
    async ask(port, msg) {
      const reply = once(c, 'message');
      c.send(msg, port, '127.0.0.2');
      const [m] = await Promise.race([reply, new Promise<never>((_, no) => setTimeout(() => no(new Error(`no reply to ${msg}`)), 2000).unref())]);
      return (m as Buffer).toString();
    },
  };
}

test('UDP: two clients each get their own replies', async (t) => {
  const { port, sources } = await udpEcho(t);
  const [f] = await startedProxy(t, [{ proto: 'udp', hostIp: '127.0.0.2', hostPort: 0, containerIp: '127.0.0.1', containerPort: port }]);
  const a = await udpClient(t);
  const b = await udpClient(t);
  for (let i = 0; i < 5; i++) {
    assert.equal(await a.ask(f!.hostPort, `a${i}`), `a${i}`);
    assert.equal(await b.ask(f!.hostPort, `b${i}`), `b${i}`);
  }
  assert.equal(sources.size, 2, 'one upstream socket per client');
});

test('UDP: idle flows expire and the flow table is bounded', async (t) => {
  const { port, sources } = await udpEcho(t);
  const [f] = await startedProxy(t, [{ proto: 'udp', hostIp: '127.0.0.2', hostPort: 0, containerIp: '127.0.0.1', containerPort: port }], { udpIdleMs: 100, udpMaxClients: 1 });
  const a = await udpClient(t);
  const b = await udpClient(t);
  assert.equal(await a.ask(f!.hostPort, 'a'), 'a');
  assert.equal(await b.ask(f!.hostPort, 'b'), 'b'); // evicts a's flow
  assert.equal(await a.ask(f!.hostPort, 'a'), 'a'); // a new flow, evicting b's
  assert.equal(sources.size, 3);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(await a.ask(f!.hostPort, 'a'), 'a'); // expired: yet another flow
  assert.equal(sources.size, 4);
});

test('binding a port in use rejects with the address and leaves nothing bound', async (t) => {
  const busy = await tcpServer(t, '127.0.0.3', () => {});
  const first = await freePort('127.0.0.2');
  const proxy = new PortProxy([
    { proto: 'tcp', hostIp: '127.0.0.2', hostPort: first, containerIp: '127.0.0.1', containerPort: 9 },
    { proto: 'udp', hostIp: '127.0.0.2', hostPort: first, containerIp: '127.0.0.1', containerPort: 9 },
    { proto: 'tcp', hostIp: '127.0.0.3', hostPort: busy, containerIp: '127.0.0.1', containerPort: 9 },
  ]);
  t.after(() => proxy.close());
  await assert.rejects(proxy.start(), { message: `bind 127.0.0.3:${busy}/tcp: address already in use` });
  // What the failed start had bound is free again.
  await tcpServer(t, '127.0.0.2', () => {}, first);
  const u = dgram.createSocket('udp4');
  t.after(() => u.close());
  u.bind(first, '127.0.0.2');
  await once(u, 'listening');
});

test('forwards are validated', () => {
  assert.throws(() => parseForwards('[]'), /non-empty/);
  assert.throws(() => parseForwards('[{"proto":"sctp","hostIp":"","hostPort":1,"containerIp":"10.0.0.2","containerPort":1}]'), /proto/);
  assert.throws(() => parseForwards('[{"proto":"tcp","hostIp":"x","hostPort":1,"containerIp":"10.0.0.2","containerPort":1}]'), /hostIp/);
  assert.throws(() => parseForwards('[{"proto":"tcp","hostIp":"","hostPort":70000,"containerIp":"10.0.0.2","containerPort":1}]'), /hostPort/);
  assert.deepEqual(parseForwards('[{"proto":"udp","hostPort":0,"containerIp":"10.0.0.2","containerPort":53}]'),
    [{ proto: 'udp', hostIp: '', hostPort: 0, containerIp: '10.0.0.2', containerPort: 53 }]);
});

test('ForwardTable: owners\' forwards are added, replaced and removed one owner at a time', async (t) => {
  const cport = await tcpServer(t, '127.0.0.1', echo);
  const table = new ForwardTable();
  t.after(() => table.close());
  const fwd = (hostIp: string): PortForward => ({ proto: 'tcp', hostIp, hostPort: 0, containerIp: '127.0.0.1', containerPort: cport });
  const a = await table.add('a', [fwd('127.0.0.6')]);
  assert.equal(a.pid, process.pid);
  const b = await table.add('b', [fwd('127.0.0.6')]);
  assert.deepEqual((await table.owners()).sort(), ['a', 'b']);
  assert.equal((await roundTrip('127.0.0.6', a.forwards[0]!.hostPort, Buffer.from('a'))).toString(), 'a');
  // A failing add of an owner binds nothing and leaves the others alone.
  await assert.rejects(table.add('c', [fwd('127.0.0.6'), { ...fwd('127.0.0.6'), hostPort: b.forwards[0]!.hostPort }]), /address already in use/);
  assert.deepEqual((await table.owners()).sort(), ['a', 'b']);
  await table.remove('a');
  await table.remove('a'); // none left: no error
  const refused = net.connect({ host: '127.0.0.6', port: a.forwards[0]!.hostPort });
  assert.equal(((await once(refused, 'error'))[0] as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.equal((await roundTrip('127.0.0.6', b.forwards[0]!.hostPort, Buffer.from('b'))).toString(), 'b');
  assert.deepEqual(await table.owners(), ['b']);
  await assert.rejects(table.add('', [fwd('127.0.0.6')]), /no owner/);
});

/** Pids of berth-proxy processes serving control socket `control`. */
const proxiesOn = (control: string): number[] => listProxies().filter((p) => p.control === control).map((p) => p.pid);

async function runDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-test-'));
  t.after(async () => {
    for (const pid of proxiesOn(join(dir, 'proxy.sock'))) await stopProxy(pid);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

test('ProxyClient: one real berth-proxy holds every owner\'s forwards and exits with the last', async (t) => {
  const cport = await tcpServer(t, '127.0.0.1', echo);
  const dir = await runDir(t);
  const client = new ProxyClient(dir);
  assert.deepEqual(await client.owners(), [], 'no proxy yet: no owners, and none started');
  assert.deepEqual(proxiesOn(client.control), []);
  const fwd: PortForward = { proto: 'tcp', hostIp: '127.0.0.2', hostPort: 0, containerIp: '127.0.0.1', containerPort: cport };
  const [a, b] = await Promise.all([client.add('a', [fwd]), client.add('b', [fwd, { ...fwd, proto: 'udp' }])]);
  assert.equal(a.pid, b.pid, 'one process for both');
  assert.deepEqual(proxiesOn(client.control), [a.pid]);
  assert.ok(isProxy(a.pid));
  assert.equal(isProxy(process.pid), false);
  assert.equal((await readFile(client.pidfile, 'utf8')).trim(), String(a.pid));
  // Its own session: the proxy must not die with berthd's process group or terminal.
  const stat = readFileSync(`/proc/${a.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  assert.equal(Number(stat[3]), a.pid, 'session leader');
  const data = randomBytes(1024 * 1024);
  assert.equal(sha(await roundTrip('127.0.0.2', a.forwards[0]!.hostPort, data)), sha(data));
  assert.equal(b.forwards[1]!.proto, 'udp');

  // A new client (berthd restarted) finds the same proxy and its owners.
  const again = new ProxyClient(dir);
  assert.deepEqual((await again.owners()).sort(), ['a', 'b']);
  assert.equal(await again.pid(), a.pid);
  // A bind conflict is the proxy's message, and the others stay.
  await assert.rejects(again.add('c', [{ ...fwd, hostPort: a.forwards[0]!.hostPort }]), { message: `bind 127.0.0.2:${a.forwards[0]!.hostPort}/tcp: address already in use` });
  await again.remove('a');
  const refused = net.connect({ host: '127.0.0.2', port: a.forwards[0]!.hostPort });
  assert.equal(((await once(refused, 'error'))[0] as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.deepEqual(await again.owners(), ['b']);
  await again.remove('b');
  assert.equal(isProxy(a.pid), false, 'the proxy exits with its last forward');
  assert.equal(existsSync(client.control), false, 'its control socket goes');
  assert.equal(existsSync(client.pidfile), false, 'its pidfile goes');
  await again.remove('b'); // no proxy: no error
  // The next add starts a new one.
  const c = await client.add('c', [fwd]);
  assert.notEqual(c.pid, a.pid);
  await client.remove('c');
  assert.deepEqual(proxiesOn(client.control), []);
});

test('ProxyClient: a failed first add leaves no process; a stale socket file is replaced', async (t) => {
  const busy = await tcpServer(t, '127.0.0.4', () => {});
  const dir = await runDir(t);
  const client = new ProxyClient(dir);
  await assert.rejects(client.add('x', [{ proto: 'tcp', hostIp: '127.0.0.4', hostPort: busy, containerIp: '127.0.0.1', containerPort: 9 }]),
    { message: `bind 127.0.0.4:${busy}/tcp: address already in use` });
  for (let i = 0; i < 100 && proxiesOn(client.control).length; i++) await sleep(20);
  assert.deepEqual(proxiesOn(client.control), []);
  // A crashed proxy leaves its socket file: nobody answers on it, and the next proxy takes it over.
  const crashed = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(client.control)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(crashed.stdout!, 'data');
  crashed.kill('SIGKILL');
  await once(crashed, 'exit');
  assert.ok(existsSync(client.control));
  assert.deepEqual(await client.owners(), []);
  const cport = await tcpServer(t, '127.0.0.1', echo);
  const { pid, forwards } = await client.add('y', [{ proto: 'tcp', hostIp: '127.0.0.4', hostPort: 0, containerIp: '127.0.0.1', containerPort: cport }]);
  assert.equal((await roundTrip('127.0.0.4', forwards[0]!.hostPort, Buffer.from('y'))).toString(), 'y');
  // SIGTERM closes everything.
  await stopProxy(pid);
  assert.equal(isProxy(pid), false);
  assert.deepEqual(await client.owners(), []);
});

test('startProxy kills a proxy that does not get ready in time, and reports a bad one\'s message', async (t) => {
  const dir = await runDir(t);
  // A tiny timeout: node's own start-up outlasts it, so the child is killed before the ready line.
  await assert.rejects(startProxy(join(dir, 'proxy.sock'), join(dir, 'proxy.pid'), { timeoutMs: 1 }), /did not report ready within 1 ms/);
  assert.deepEqual(proxiesOn(join(dir, 'proxy.sock')), []);
  await assert.rejects(startProxy(join(dir, 'no/such/dir/proxy.sock'), join(dir, 'proxy.pid')), /berth-proxy: listen/);
  assert.deepEqual(proxiesOn(join(dir, 'no/such/dir/proxy.sock')), []);
});

test('TCP: a random port\'s "::" twin takes the IPv4 forward\'s port (dockerd shows one port for both)', async (t) => {
  const { ipv6Listenable } = await import('../../../src/network/ipv6-listenable.ts');
  if (!(await ipv6Listenable())) { t.skip('this host cannot listen on IPv6'); return; }
  const cport = await tcpServer(t, '127.0.0.1', echo);
  const f = { proto: 'tcp' as const, hostPort: 0, containerIp: '127.0.0.1', containerPort: cport };
  const [v4, v6] = await startedProxy(t, [{ ...f, hostIp: '0.0.0.0' }, { ...f, hostIp: '::' }]);
  assert.ok(v4!.hostPort > 0);
  assert.equal(v6!.hostIp, '::');
  assert.equal(v6!.hostPort, v4!.hostPort);
  assert.equal((await roundTrip('127.0.0.1', v4!.hostPort, Buffer.from('twin'))).toString(), 'twin');
});
