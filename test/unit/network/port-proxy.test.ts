// The userland port proxy on loopback only: a "container" on 127.0.0.1, the proxy on other
// 127.x addresses. In-process PortProxy first, then the real bin/berth-proxy process.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { PortProxy, parseForwards } from '../../../src/network/port-proxy.ts';
import type { PortForward } from '../../../src/network/port-proxy.ts';
import { startProxy, stopProxy, isProxy } from '../../../src/sys/proxy-process.ts';

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

/** Pids of berth-proxy processes whose command line mentions `needle`. */
function proxiesWith(needle: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      return cmd.includes('proxy/main.ts') && cmd.includes(needle) ? [Number(d)] : [];
    } catch { return []; }
  });
}

test('startProxy/stopProxy run the real bin/berth-proxy', async (t) => {
  const cport = await tcpServer(t, '127.0.0.1', echo);
  const { pid, forwards } = await startProxy([{ proto: 'tcp', hostIp: '127.0.0.2', hostPort: 0, containerIp: '127.0.0.1', containerPort: cport }]);
  t.after(() => stopProxy(pid));
  assert.ok(pid > 0);
  assert.ok(isProxy(pid));
  assert.equal(isProxy(process.pid), false);
  const port = forwards[0]!.hostPort;
  assert.ok(port > 0);
  // Its own session: the proxy must not die with berthd's process group or terminal.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  assert.equal(Number(stat[3]), pid, 'session leader');
  const data = randomBytes(1024 * 1024);
  assert.equal(sha(await roundTrip('127.0.0.2', port, data)), sha(data));
  await stopProxy(pid);
  assert.equal(isProxy(pid), false);
  const c = net.connect({ host: '127.0.0.2', port });
  const [err] = await once(c, 'error');
  assert.equal((err as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  await stopProxy(pid); // already gone: no error
});

test('a failing startProxy rejects with the proxy\'s message and leaves no process', async (t) => {
  const busy = await tcpServer(t, '127.0.0.4', () => {});
  const fwd: PortForward = { proto: 'tcp', hostIp: '127.0.0.4', hostPort: busy, containerIp: '127.0.0.1', containerPort: 9 };
  await assert.rejects(startProxy([fwd]), { message: `bind 127.0.0.4:${busy}/tcp: address already in use` });
  assert.deepEqual(proxiesWith(`"hostPort":${busy},`), []);
});

test('startProxy kills a proxy that does not get ready in time', async (t) => {
  // A tiny timeout: node's own start-up outlasts it, so the child is killed before the ready line.
  const marker = await freePort('127.0.0.5');
  const fwd: PortForward = { proto: 'tcp', hostIp: '127.0.0.5', hostPort: marker, containerIp: '127.0.0.1', containerPort: 9 };
  t.after(() => { for (const pid of proxiesWith(`"hostPort":${marker},`)) process.kill(pid, 'SIGKILL'); });
  await assert.rejects(startProxy([fwd], { timeoutMs: 1 }), /did not report ready within 1 ms/);
  assert.deepEqual(proxiesWith(`"hostPort":${marker},`), []);
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
