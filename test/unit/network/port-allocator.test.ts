// Host port allocation as dockerd 20.10 (libnetwork portallocator), and the order in which a
// container's bindings are published (go-connections nat.SortPortMap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortAllocator, hostPortRange, probeBind, type PortRequest } from '../../../src/network/port-allocator.ts';
import { publishOrder } from '../../../src/network/port-order.ts';

const free = async () => ({ close: async () => {} });

test('ports come serially from the dynamic range, per host address and protocol, and a released one is not reused at once', () => {
  const a = new PortAllocator({ begin: 32768, end: 32771 });
  assert.equal(a.request('0.0.0.0', 'tcp', 0, 0), 32768);
  assert.equal(a.request('', 'tcp', 0, 0), 32769, 'no address is 0.0.0.0');
  assert.equal(a.request('::', 'tcp', 0, 0), 32768, ':: has its own table');
  assert.equal(a.request('127.0.0.1', 'tcp', 0, 0), 32768, 'so has 127.0.0.1');
  assert.equal(a.request('0.0.0.0', 'udp', 0, 0), 32768, 'and each protocol');
  a.release('0.0.0.0', 'tcp', 32768);
  assert.equal(a.request('0.0.0.0', 'tcp', 0, 0), 32770);
  assert.equal(a.request('0.0.0.0', 'tcp', 0, 0), 32771);
  assert.equal(a.request('0.0.0.0', 'tcp', 0, 0), 32768, 'wraps round to the released port');
  assert.throws(() => a.request('0.0.0.0', 'tcp', 0, 0), /all ports are allocated/);
});

test('a port asked for by number is held once; a range is served serially from its own start', () => {
  const a = new PortAllocator({ begin: 40000, end: 40010 });
  assert.equal(a.request('0.0.0.0', 'tcp', 8080), 8080);
  assert.throws(() => a.request('0.0.0.0', 'tcp', 8080), { message: 'Bind for 0.0.0.0:8080 failed: port is already allocated' });
  assert.equal(a.request('127.0.0.1', 'tcp', 8080), 8080, 'another address is another table');
  assert.equal(a.request('0.0.0.0', 'tcp', 8000, 8002), 8000);
  assert.equal(a.request('0.0.0.0', 'tcp', 8000, 8002), 8001);
  a.release('0.0.0.0', 'tcp', 8000);
  assert.equal(a.request('0.0.0.0', 'tcp', 8000, 8002), 8002);
  assert.equal(a.request('0.0.0.0', 'tcp', 8000, 8002), 8000);
  assert.equal(a.claim('0.0.0.0', 'tcp', 8001), false, 'claiming a held port fails');
  assert.equal(a.claim('0.0.0.0', 'tcp', 9000), true);
  assert.throws(() => a.request('0.0.0.0', 'tcp', 9000), /already allocated/, 'a claimed port is held');
  assert.throws(() => a.request('0.0.0.0', 'tcp', 9, 3), /invalid port range/);
});

test('the dynamic range is read from the kernel setting, with libnetwork\'s fallback', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ports-'));
  try {
    writeFileSync(join(dir, 'r'), '32768\t60999\n');
    assert.deepEqual(hostPortRange(join(dir, 'r')), { begin: 32768, end: 60999 });
    writeFileSync(join(dir, 'bad'), 'x');
    assert.deepEqual(hostPortRange(join(dir, 'bad')), { begin: 49153, end: 65535 });
    assert.deepEqual(hostPortRange(join(dir, 'missing')), { begin: 49153, end: 65535 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('allocate: a port that cannot be bound is given back and the next is tried (random ports only)', async () => {
  const a = new PortAllocator({ begin: 50000, end: 50100 });
  const busy = new Set([50000, 50001]);
  const bind = async (r: PortRequest & { hostPort: number }) => {
    if (busy.has(r.hostPort)) throw new Error(`listen ${r.hostPort}: bind: address already in use`);
    return free();
  };
  assert.deepEqual(await a.allocate([{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 0 }, { proto: 'tcp', hostIp: '::', hostPort: 0 }], bind), [50002, 50002]);
  assert.equal(a.claim('0.0.0.0', 'tcp', 50000), true, 'the port that failed to bind went back');
  // an explicit port (or range) is tried once, and what was taken before is given back
  await assert.rejects(a.allocate([{ proto: 'udp', hostIp: '0.0.0.0', hostPort: 0 }, { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 50001, hostPortEnd: 50003 }], bind), /address already in use/);
  assert.equal(a.claim('0.0.0.0', 'udp', 50000), true, 'the udp port of the failed container was released');
  // ten attempts, then the last error
  const never = async () => { throw new Error('nope'); };
  await assert.rejects(a.allocate([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }], never), /nope/);
  assert.equal(a.request('127.0.0.1', 'tcp', 0, 0), 50010, 'ten ports were tried and given back; the next starts after them');

});

test('allocate: ports other programs hold do not use up the ten attempts of a random port (Berth beside a dockerd)', async () => {
  const a = new PortAllocator({ begin: 40000, end: 42000 });
  // 30 ports held elsewhere, as a dockerd's docker-proxy ports are: EADDRINUSE, skipped
  const inUse = async (r: PortRequest & { hostPort: number }) => {
    if (r.hostPort < 40030) throw Object.assign(new Error(`listen ${r.hostPort}: bind: address already in use`), { code: 'EADDRINUSE' });
    return free();
  };
  assert.deepEqual(await a.allocate([{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 0 }], inUse), [40030]);
  // probeBind's own error (the errno in its cause) counts as in use too: a real held port is skipped
  const srv = net.createServer();
  await new Promise<void>((res) => srv.listen({ host: '127.0.0.1', port: 0 }, res));
  try {
    const held = (srv.address() as net.AddressInfo).port;
    const b = new PortAllocator({ begin: held, end: held + 20 });
    const [got] = await b.allocate([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0 }]);
    assert.notEqual(got, held);
  } finally {
    await new Promise((res) => srv.close(res));
  }
  // a range with every port held fails, bounded, with docker-proxy's text
  const c = new PortAllocator({ begin: 43000, end: 43050 });
  const all = async (r: PortRequest & { hostPort: number }) => { throw Object.assign(new Error(`listen tcp4 0.0.0.0:${r.hostPort}: bind: address already in use`), { code: 'EADDRINUSE' }); };
  await assert.rejects(c.allocate([{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 0 }], all), /address already in use/);
});

test('probeBind holds the port (a second bind fails with docker-proxy\'s text) until closed', async () => {
  const held = await probeBind({ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0 });
  const srv = net.createServer();
  await new Promise<void>((res) => srv.listen({ host: '127.0.0.1', port: 0 }, res));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    await assert.rejects(probeBind({ proto: 'tcp', hostIp: '127.0.0.1', hostPort: port }), { message: `Error starting userland proxy: listen tcp4 127.0.0.1:${port}: bind: address already in use` });
    const udp = await probeBind({ proto: 'udp', hostIp: '127.0.0.1', hostPort: port });
    await udp.close();
  } finally {
    await held.close();
    await new Promise((res) => srv.close(res));
  }
});

test('publishOrder: SortPortMap\'s insertion sort (explicit host ports or larger container ports first), -P for unbound ports only', () => {
  const keys = (o: { key: string; HostIp: string; HostPort: string }[]) => o.map((b) => `${b.key}=${b.HostIp}:${b.HostPort}`);
  assert.deepEqual(keys(publishOrder(['7000/tcp', '7001/tcp'], { '7000/tcp': [{ HostIp: '', HostPort: '' }], '7001/tcp': [{ HostIp: '', HostPort: '' }] }, false)),
    ['7001/tcp=:', '7000/tcp=:']);
  assert.deepEqual(keys(publishOrder(['80/tcp', '90/tcp', '81/udp'], { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '81/udp': [{ HostIp: '', HostPort: '' }] }, false)),
    ['81/udp=:', '80/tcp=127.0.0.1:'], 'an exposed port without binding publishes nothing without -P');
  // the comparison is not a strict order: with this input order the larger port wins over the explicit host port
  assert.deepEqual(keys(publishOrder(['80/tcp', '90/tcp'], { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, true)),
    ['90/tcp=:', '80/tcp=:8080']);
  assert.deepEqual(keys(publishOrder(['90/tcp', '80/tcp'], { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, true)),
    ['80/tcp=:8080', '90/tcp=:']);
  // tcp before udp of the same port; two bindings of one port are swapped by the insertion sort, as in Go
  assert.deepEqual(keys(publishOrder(['53/udp', '53/tcp'], { '53/udp': [{ HostIp: '', HostPort: '' }], '53/tcp': [{ HostIp: '', HostPort: '' }] }, false)),
    ['53/tcp=:', '53/udp=:']);
  assert.deepEqual(keys(publishOrder(['80/tcp'], { '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '', HostPort: '8081' }] }, false)),
    ['80/tcp=:8081', '80/tcp=:8080']);
  assert.deepEqual(keys(publishOrder(['80/tcp'], { '80/tcp': [] }, false)), ['80/tcp=:'], 'an empty binding list still publishes a random port');
});
