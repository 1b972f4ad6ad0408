// The network records (engine/networks.ts) on a fake driver (test/fakes/network-driver.ts): what
// the engine records, allocates and undoes around each driver call, without root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkService, type NetContainer } from '../../../src/engine/networks.ts';
import { NotFound } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/util/log.ts';
import { FakeNetworkDriver } from '../../fakes/network-driver.ts';

async function open(dataRoot: string, driver = new FakeNetworkDriver()): Promise<{ nets: NetworkService; driver: FakeNetworkDriver }> {
  const nets = await NetworkService.open({ dataRoot, log: silentLogger, bridge: 'berth0', bip: '10.87.0.1/16', mtu: 1500, pool: '10.88.0.0/16', driver });
  return { nets, driver };
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-networks-'));
  try { await fn(root); } finally { await rm(root, { recursive: true, force: true }); }
}

function container(id: string, nets: NetworkService, mode = 'bridge'): NetContainer {
  return {
    id: id.padEnd(64, '0'), name: `c-${id}`, hostname: id, networkMode: mode, portBindings: {}, publishAll: false, exposedPorts: [],
    net: { SandboxKey: '', Networks: nets.initialEndpoints(mode, undefined), Ports: {} },
  };
}

test('open makes the predefined networks and each bridge through the driver', () => withRoot(async (root) => {
  const { nets, driver } = await open(root);
  assert.deepEqual(nets.list().map((n) => n.Name).sort(), ['bridge', 'host', 'none']);
  assert.deepEqual(driver.calls.map((c) => c.op), ['init', 'createNetwork']);
  assert.deepEqual(driver.of('createNetwork')[0]!.detail, { id: nets.get('bridge').Id, name: 'bridge', bridge: 'berth0', subnet: '10.87.0.0/16', internal: false, gatewayCidr: '10.87.0.1/16', gateway6Cidr: undefined });
}));

test('create makes the bridge then the record; remove takes both away', () => withRoot(async (root) => {
  const { nets, driver } = await open(root);
  const n = await nets.create({ Name: 'n1' });
  const bridge = `br-${n.Id.slice(0, 12)}`;
  assert.equal(n.IPAM.Config[0]!.Subnet, '10.88.0.0/24', 'the first /24 of the pool');
  assert.ok(driver.bridges.has(bridge));
  assert.ok((await readdir(join(root, 'network'))).includes(`${n.Id}.json`));
  await nets.remove('n1');
  assert.equal(driver.of('removeNetwork')[0]!.subject, bridge);
  assert.ok(!driver.bridges.has(bridge));
  assert.ok(!(await readdir(join(root, 'network'))).includes(`${n.Id}.json`));
  assert.throws(() => nets.get('n1'), NotFound);
}));

test('a driver failure at create leaves no record behind', () => withRoot(async (root) => {
  const { nets, driver } = await open(root);
  driver.failOn('createNetwork');
  await assert.rejects(nets.create({ Name: 'n1' }), /injected createNetwork failure/);
  assert.throws(() => nets.get('n1'), NotFound);
  assert.equal((await readdir(join(root, 'network'))).length, 3, 'only the predefined networks are on disk');
  // the name is free again
  assert.equal((await nets.create({ Name: 'n1' })).IPAM.Config[0]!.Subnet, '10.88.1.0/24', 'the search goes on serially, as dockerd\'s');
}));

test('a container joins at start, connects and disconnects a second network, and leaves', () => withRoot(async (root) => {
  const { nets, driver } = await open(root);
  const n1 = await nets.create({ Name: 'n1' });
  const c = container('a', nets, 'n1');
  const key = await nets.attach(c);
  assert.equal(key, c.net.SandboxKey);
  assert.deepEqual(driver.of('join')[0]!.networks, ['n1']);
  assert.equal(c.net.Networks['n1']!.IPAddress, '10.88.0.2');
  assert.deepEqual(c.net.Networks['n1']!.DNSNames, [c.name, c.id.slice(0, 12)]);
  assert.deepEqual(nets.containersOf(n1).map((x) => x.id), [c.id]);
  assert.deepEqual(nets.resolveName(c.id, 'c-a'), ['10.88.0.2']);

  await nets.create({ Name: 'n2' });
  await nets.connect(c, 'n2', {}, true);
  assert.deepEqual(driver.of('addEndpoint')[0]!.detail, { index: 1 });
  assert.equal(c.net.Networks['n2']!.IfName, 'eth1');
  assert.equal(c.net.Networks['n2']!.IPAddress, '10.88.1.2');
  await nets.disconnect(c, 'n2', true);
  assert.deepEqual(driver.of('removeEndpoint')[0]!.detail, { first: false });
  assert.equal(c.net.Networks['n2'], undefined);
  // the address went back to the pool
  const d = container('d', nets, 'n2');
  await nets.attach(d);
  assert.equal(d.net.Networks['n2']!.IPAddress, '10.88.1.2');

  await nets.detach(c);
  assert.deepEqual(driver.of('leave').at(-1)!.networks, ['n1']);
  assert.equal(c.net.SandboxKey, '');
  assert.equal(c.net.Networks['n1']!.IPAddress, '');
  assert.deepEqual(nets.containersOf(n1), []);
  await assert.rejects(nets.remove('n2'), /has active endpoints/);
}));

test('a driver failure at join or connect leaves no address and no member behind', () => withRoot(async (root) => {
  const { nets, driver } = await open(root);
  const n1 = await nets.create({ Name: 'n1' });
  const c = container('a', nets, 'n1');
  driver.failOn('join');
  await assert.rejects(nets.attach(c), /injected join failure/);
  assert.equal(driver.of('leave').length, 1, 'what join may have made is torn down');
  assert.equal(c.net.Networks['n1']!.IPAddress, '');
  assert.equal(c.net.Networks['n1']!.EndpointID, '');
  assert.deepEqual(nets.containersOf(n1), []);

  // the teardown failing too: the addresses allocated are given back all the same
  driver.failOn('join');
  driver.failOn('leave');
  await assert.rejects(nets.attach(c), /injected join failure/);
  assert.equal(c.net.Networks['n1']!.IPAddress, '');
  await nets.attach(c);
  assert.equal(c.net.Networks['n1']!.IPAddress, '10.88.0.2', 'the failed starts gave their address back');
  await nets.create({ Name: 'n2' });
  driver.failOn('addEndpoint');
  await assert.rejects(nets.connect(c, 'n2', {}, true), /injected addEndpoint failure/);
  assert.equal(c.net.Networks['n2'], undefined);
  const d = container('d', nets, 'n2');
  await nets.attach(d);
  assert.equal(d.net.Networks['n2']!.IPAddress, '10.88.1.2', 'the failed connect gave its address back');
}));

test('after a restart the records are read back and a running container\'s addresses are claimed again', () => withRoot(async (root) => {
  const first = await open(root);
  await first.nets.create({ Name: 'n1' });
  const c = container('a', first.nets, 'n1');
  await first.nets.attach(c);
  const stopped = container('s', first.nets, 'n1');
  await first.nets.attach(stopped);

  const { nets, driver } = await open(root);
  const n1 = nets.get('n1');
  assert.deepEqual(driver.of('createNetwork').map((x) => x.subject).sort(), ['berth0', `br-${n1.Id.slice(0, 12)}`]);
  await nets.restore(c, true);
  assert.deepEqual(driver.of('restore')[0]!.networks, ['n1']);
  assert.deepEqual(nets.containersOf(n1).map((x) => x.id), [c.id]);
  await nets.restore(stopped, false);
  assert.deepEqual(driver.of('leave')[0]!.subject, stopped.id, 'a container that stopped meanwhile is torn down');
  const d = container('d', nets, 'n1');
  await nets.attach(d);
  assert.equal(d.net.Networks['n1']!.IPAddress, '10.88.0.3', 'the running container keeps .2; the stopped one\'s .3 is free');
  await nets.sweep(new Set([c.id, d.id]), new Set([c.id, d.id, stopped.id]), new Set(), new Set());
  assert.deepEqual((driver.of('sweep')[0]!.detail as { bridges: Set<string> }).bridges, new Set(['berth0', `br-${n1.Id.slice(0, 12)}`]));
}));
