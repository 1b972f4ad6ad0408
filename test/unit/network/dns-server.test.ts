import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet } from 'dns-packet';
import { EmbeddedDns } from '../../../src/network/dns-server.ts';
import type { DnsLookup } from '../../../src/network/dns-server.ts';
import { silentLogger } from '../../../src/util/log.ts';

// Loopback only: the networks are served on 127.0.90.1 and 127.0.90.2 (all of 127/8 is loopback on
// Linux) on ports the kernel picks (listen(address, 0)); the upstream is a fake on 127.0.0.1.
const NET1 = '127.0.90.1';
const NET2 = '127.0.90.2';

const names: Record<string, Record<string, string[]>> = {
  [NET1]: { web: ['10.89.0.2'], 'web-alias': ['10.89.0.2'], db: ['10.89.0.3'], many: Array.from({ length: 60 }, (_, i) => `10.89.1.${i + 1}`) },
  [NET2]: { cache: ['10.90.0.2'] },
};
const asked: string[] = [];
const lookup: DnsLookup = (address, name) => { asked.push(name); return names[address]?.[name]; };

interface Upstream { port: number; seen: Buffer[] }

/** A fake upstream on 127.0.0.1: `outside.test` A 192.0.2.7; every other name NXDOMAIN. */
async function fakeUpstream(t: TestContext, opts: { silent?: boolean } = {}): Promise<Upstream> {
  const sock = dgram.createSocket('udp4');
  const seen: Buffer[] = [];
  sock.on('message', (msg, rinfo) => {
    seen.push(msg);
    if (opts.silent) return;
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    const known = question?.name.toLowerCase() === 'outside.test';
    const resp = dnsPacket.encode({
      type: 'response', id: q.id, flags: (known ? 0 : 3) | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: known ? [{ type: 'A', name: 'outside.test', ttl: 30, data: '192.0.2.7' }] : [],
    });
    sock.send(resp, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => sock.close(() => resolve())));
  return { port: sock.address().port, seen };
}

/** A port on 127.0.0.1 with nothing listening. */
async function deadPort(): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  await new Promise<void>((resolve) => sock.close(() => resolve()));
  return port;
}

async function server(t: TestContext, upstreams: string[], upstreamTimeoutMs = 1000): Promise<{ dns: EmbeddedDns; port1: number; port2: number }> {
  const dns = new EmbeddedDns({
    log: silentLogger, lookup, upstreams, upstreamTimeoutMs,
    reverseLookup: (address, ip) => (address === NET1 && ip === '10.89.0.2' ? 'web.net1' : undefined),
  });
  t.after(() => dns.closeAll());
  await dns.listen(NET1, 0);
  await dns.listen(NET2, 0);
  const port1 = dns.port(NET1);
  const port2 = dns.port(NET2);
  assert.ok(port1 && port2);
  return { dns, port1, port2 };
}

function query(name: string, type: 'A' | 'AAAA' | 'PTR' | 'MX' = 'A', id = 0x1234): Buffer {
  const p: Packet = { type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] };
  return dnsPacket.encode(p);
}

/** Sends raw bytes over UDP; the decoded reply, or undefined after timeoutMs. */
function udpAsk(address: string, port: number, msg: Buffer, timeoutMs = 2000): Promise<DecodedPacket | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => { sock.close(); resolve(undefined); }, timeoutMs);
    sock.on('error', (err) => { clearTimeout(timer); sock.close(); reject(err); });
    sock.on('message', (resp) => { clearTimeout(timer); sock.close(); resolve(dnsPacket.decode(resp)); });
    sock.send(msg, port, address);
  });
}

function tcpAsk(address: string, port: number, msg: Buffer): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: address, port });
    let buf = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length);
      // Split the frame in two writes to exercise reassembly.
      sock.write(Buffer.concat([head, msg.subarray(0, 5)]));
      setTimeout(() => sock.write(msg.subarray(5)), 10);
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.end();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
  });
}

function rcode(p: DecodedPacket): string {
  return (p as DecodedPacket & { rcode: string }).rcode;
}

test('A record for a container name: same id and question, TTL 600, RA on, AA off', async (t) => {
  const up = await fakeUpstream(t);
  const { port1 } = await server(t, [`127.0.0.1:${up.port}`]);
  const r = await udpAsk(NET1, port1, query('web', 'A', 0xbeef));
  assert.ok(r);
  assert.equal(r.id, 0xbeef);
  assert.equal(r.type, 'response');
  assert.equal(rcode(r), 'NOERROR');
  assert.equal(r.flag_aa, false);
  assert.equal(r.flag_ra, true);
  assert.equal(r.flag_rd, true);
  assert.deepEqual(r.questions, [{ name: 'web', type: 'A', class: 'IN' }]);
  assert.equal(r.answers?.length, 1);
  const a = r.answers?.[0];
  assert.ok(a && a.type === 'A');
  assert.equal(a.name, 'web');
  assert.equal(a.data, '10.89.0.2');
  assert.equal(a.ttl, 600);
  assert.equal(up.seen.length, 0, 'a known name is never forwarded');
});

test('alias, case-insensitivity and trailing dot', async (t) => {
  const up = await fakeUpstream(t);
  const { port1 } = await server(t, [`127.0.0.1:${up.port}`]);
  asked.length = 0;
  for (const name of ['web-alias', 'WEB-Alias', 'Web.', 'db.']) {
    const r = await udpAsk(NET1, port1, query(name));
    assert.ok(r, name);
    assert.equal(rcode(r), 'NOERROR', name);
    assert.equal(r.answers?.length, 1, name);
    const a = r.answers?.[0];
    assert.ok(a && a.type === 'A');
    assert.equal(a.data, name.toLowerCase().startsWith('db') ? '10.89.0.3' : '10.89.0.2', name);
    assert.equal(a.name.toLowerCase(), name.toLowerCase().replace(/\.$/, ''), name);
  }
  assert.deepEqual(asked, ['web-alias', 'web-alias', 'web', 'db'], 'lookup sees lowercase names without the dot');
  assert.equal(up.seen.length, 0);
});

test('a name known on network 1 is forwarded when asked on network 2', async (t) => {
  const up = await fakeUpstream(t);
  const { port1, port2 } = await server(t, [`127.0.0.1:${up.port}`]);
  const r = await udpAsk(NET2, port2, query('web', 'A', 77));
  assert.ok(r);
  assert.equal(r.id, 77);
  assert.equal(rcode(r), 'NXDOMAIN');
  assert.equal(up.seen.length, 1);
  const r2 = await udpAsk(NET2, port2, query('cache'));
  assert.equal(r2?.answers?.[0]?.type, 'A');
  const r1 = await udpAsk(NET1, port1, query('cache'));
  assert.equal(r1 && rcode(r1), 'NXDOMAIN');
  assert.equal(up.seen.length, 2);
});

test('AAAA (and other types) for a known name: NOERROR, no answers, not forwarded', async (t) => {
  const up = await fakeUpstream(t);
  const { port1 } = await server(t, [`127.0.0.1:${up.port}`]);
  for (const type of ['AAAA', 'MX'] as const) {
    const r = await udpAsk(NET1, port1, query('web', type, 5));
    assert.ok(r, type);
    assert.equal(r.id, 5);
    assert.equal(rcode(r), 'NOERROR', type);
    assert.deepEqual(r.answers, [], type);
  }
  assert.equal(up.seen.length, 0);
});

test('an unknown name is forwarded byte for byte and the upstream answer relayed with the original id', async (t) => {
  const up = await fakeUpstream(t);
  const { port1 } = await server(t, [`127.0.0.1:${up.port}`]);
  const q = query('outside.test', 'A', 0x4242);
  const r = await udpAsk(NET1, port1, q);
  assert.ok(r);
  assert.equal(r.id, 0x4242);
  assert.equal(rcode(r), 'NOERROR');
  const a = r.answers?.[0];
  assert.ok(a && a.type === 'A');
  assert.equal(a.data, '192.0.2.7');
  assert.equal(a.ttl, 30);
  assert.deepEqual(up.seen, [q]);
});

test('a dead upstream is skipped; when every upstream fails the client gets SERVFAIL within the timeouts', async (t) => {
  const good = await fakeUpstream(t);
  const silent = await fakeUpstream(t, { silent: true });
  const dead = await deadPort();
  const timeout = 200;
  const { dns, port1 } = await server(t, [`127.0.0.1:${dead}`, `127.0.0.1:${good.port}`], timeout);

  const ok = await udpAsk(NET1, port1, query('outside.test'));
  assert.equal(ok?.answers?.[0]?.type, 'A', 'fails over to the next upstream');

  dns.setUpstreams([`127.0.0.1:${dead}`, `127.0.0.1:${silent.port}`]);
  const started = Date.now();
  const r = await udpAsk(NET1, port1, query('outside.test', 'A', 999), 3000);
  const took = Date.now() - started;
  assert.ok(r, 'answered');
  assert.equal(r.id, 999);
  assert.equal(rcode(r), 'SERVFAIL');
  assert.deepEqual(r.questions, [{ name: 'outside.test', type: 'A', class: 'IN' }]);
  assert.ok(took < 2 * timeout + 300, `took ${took} ms`);
  assert.equal(silent.seen.length, 1);

  dns.setUpstreams([]);
  const none = await udpAsk(NET1, port1, query('outside.test'));
  assert.equal(none && rcode(none), 'SERVFAIL');
});

test('TCP: local answers and forwarded ones', async (t) => {
  const up = await fakeUpstream(t);
  const { port1 } = await server(t, [`127.0.0.1:${up.port}`]);
  const r = await tcpAsk(NET1, port1, query('web', 'A', 31));
  assert.equal(r.id, 31);
  assert.equal(r.answers?.[0]?.type, 'A');
  const f = await tcpAsk(NET1, port1, query('outside.test', 'A', 32));
  assert.equal(f.id, 32);
  const a = f.answers?.[0];
  assert.ok(a && a.type === 'A');
  assert.equal(a.data, '192.0.2.7');
});

test('an answer too big for UDP is truncated there and whole over TCP', async (t) => {
  const { port1 } = await server(t, []);
  const u = await udpAsk(NET1, port1, query('many'));
  assert.ok(u);
  assert.equal(u.flag_tc, true);
  assert.deepEqual(u.answers, []);
  const r = await tcpAsk(NET1, port1, query('many'));
  assert.equal(r.flag_tc, false);
  assert.equal(r.answers?.length, 60);
});

test('PTR for a container address comes from reverseLookup; others are forwarded', async (t) => {
  const up = await fakeUpstream(t);
  const { port1 } = await server(t, [`127.0.0.1:${up.port}`]);
  const r = await udpAsk(NET1, port1, query('2.0.89.10.in-addr.arpa', 'PTR'));
  const a = r?.answers?.[0];
  assert.ok(a && a.type === 'PTR');
  assert.equal(a.data, 'web.net1');
  const f = await udpAsk(NET1, port1, query('9.0.89.10.in-addr.arpa', 'PTR'));
  assert.equal(f && rcode(f), 'NXDOMAIN');
  assert.equal(up.seen.length, 1);
});

test('garbage packets are dropped and the server keeps answering', async (t) => {
  const up = await fakeUpstream(t);
  const { port1 } = await server(t, [`127.0.0.1:${up.port}`]);
  for (const junk of [Buffer.from('garbage'), Buffer.alloc(0), Buffer.from([0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0xc0, 0xff]), Buffer.alloc(12, 0xff)]) {
    const r = await udpAsk(NET1, port1, junk, 150);
    assert.equal(r, undefined);
  }
  // A garbage TCP frame, then a good one on a fresh connection.
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host: NET1, port: port1 }, () => { s.end(Buffer.from([0, 4, 1, 2, 3, 4])); });
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
  assert.equal((await tcpAsk(NET1, port1, query('web'))).answers?.length, 1);
  const r = await udpAsk(NET1, port1, query('web', 'A', 8));
  assert.equal(r?.id, 8);
  assert.equal(r?.answers?.length, 1);
  assert.equal(up.seen.length, 0, 'garbage is not forwarded');
});

test('listen is idempotent per address; close stops answering on that address only', async (t) => {
  const { dns, port1, port2 } = await server(t, []);
  await dns.listen(NET1, 0);
  await dns.listen(NET1, port1);
  await assert.rejects(dns.listen(NET1, port1 === 65535 ? 65534 : port1 + 1), { status: 409 });
  assert.equal(dns.port(NET1), port1);

  await dns.close(NET1);
  assert.equal(dns.port(NET1), undefined);
  assert.equal(await udpAsk(NET1, port1, query('web'), 300), undefined);
  await assert.rejects(tcpAsk(NET1, port1, query('web')), { code: 'ECONNREFUSED' });
  const r = await udpAsk(NET2, port2, query('cache'));
  assert.equal(r?.answers?.length, 1);
  await dns.close(NET1); // again: a no-op
});

test('at most 256 forwards in flight: queries beyond are dropped, and the slots come back', async (t) => {
  const silent = await fakeUpstream(t, { silent: true });
  const up = await fakeUpstream(t);
  const { dns, port1 } = await server(t, [`127.0.0.1:${silent.port}`], 400);
  const client = dgram.createSocket('udp4');
  t.after(() => new Promise<void>((resolve) => client.close(() => resolve())));
  const replies: Buffer[] = [];
  client.on('message', (m) => replies.push(m));
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  for (let i = 0; i < 300; i++) {
    await new Promise<void>((resolve) => client.send(query(`n${i}.outside.test`, 'A', i), port1, NET1, () => resolve()));
  }
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal(silent.seen.length, 256);
  assert.equal(replies.length, 256);
  assert.ok(replies.every((m) => rcode(dnsPacket.decode(m)) === 'SERVFAIL'));
  dns.setUpstreams([`127.0.0.1:${up.port}`]);
  const r = await udpAsk(NET1, port1, query('outside.test'));
  assert.equal(r?.answers?.length, 1);
});

test('listen on an address the host does not have fails, and can be retried', async (t) => {
  const dns = new EmbeddedDns({ log: silentLogger, lookup, upstreams: ['192.0.2.1', '192.0.2.2:5353', '[::1]:53', 'not-an-ip'] });
  t.after(() => dns.closeAll());
  await assert.rejects(dns.listen('203.0.113.1', 0), { code: 'EADDRNOTAVAIL' });
  await assert.rejects(dns.listen('203.0.113.1', 0), { code: 'EADDRNOTAVAIL' });
  assert.equal(dns.port('203.0.113.1'), undefined);
  await dns.close('203.0.113.1');
});
