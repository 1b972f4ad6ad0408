// The pure parts of networking: address pools and the iptables rules planned for bridges and ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressPool, defaultGateway, macFor, parseCidr, overlaps } from '../../../src/network/ipam.ts';
import { bridgeRules, portRules } from '../../../src/network/firewall.ts';
import { Forbidden, InvalidParameter } from '../../../src/errors.ts';

test('a range hands out from its own start; a gateway other than .1 leaves .1 free; --ip may lie outside the range', () => {
  const r = new AddressPool({ subnet: '10.9.0.0/24', gateway: '10.9.0.1', ipRange: '10.9.0.128/28' });
  assert.equal(r.allocate(), '10.9.0.128');
  assert.equal(r.allocate('10.9.0.5'), '10.9.0.5');
  assert.equal(r.allocate(), '10.9.0.129');
  const g = new AddressPool({ subnet: '10.9.1.0/24', gateway: '10.9.1.2' });
  assert.deepEqual([g.allocate(), g.allocate()], ['10.9.1.1', '10.9.1.3']);
  const low = new AddressPool({ subnet: '10.9.2.0/24', gateway: '10.9.2.1', ipRange: '10.9.2.0/28' });
  assert.equal(low.allocate(), '10.9.2.2', 'the network address and the gateway are skipped inside a range too');
  // dockerd asks the pool for the gateway first: the range's lowest address
  assert.equal(defaultGateway(parseCidr('10.9.3.0/24')), '10.9.3.1');
  assert.equal(defaultGateway(parseCidr('10.9.3.0/24'), '10.9.3.128/28'), '10.9.3.128');
  assert.equal(defaultGateway(parseCidr('10.9.3.0/24'), '10.9.3.0/28'), '10.9.3.1');
});

test('an address pool skips network, gateway and broadcast, hands out the lowest free address, and refuses doubles', () => {
  const p = new AddressPool({ subnet: '10.9.0.0/29', gateway: '10.9.0.1' });
  assert.deepEqual([p.allocate(), p.allocate(), p.allocate()], ['10.9.0.2', '10.9.0.3', '10.9.0.4']);
  p.release('10.9.0.2');
  // libnetwork's default IPAM is not serial for bridge networks: a released address comes back first
  assert.equal(p.allocate(), '10.9.0.2', 'the lowest free address is handed out again');
  assert.equal(p.allocate(), '10.9.0.5');
  assert.equal(p.allocate('10.9.0.6'), '10.9.0.6');
  assert.throws(() => p.allocate(), /no available IPv4 addresses/);
  assert.throws(() => p.allocate('10.9.0.3'), (e: Error) => e instanceof Forbidden && e.message === 'Address already in use');
  assert.throws(() => p.allocate('10.9.0.1'), /^Error: Address already in use$|Address already in use/, 'the gateway is held by the pool');
  assert.throws(() => p.allocate('10.9.0.7'), /Address already in use/, 'so is the broadcast address');
  assert.throws(() => p.allocate('10.9.1.2'), (e: Error) => e instanceof InvalidParameter && e.message === "Invalid address 10.9.1.2: It does not belong to any of this network's subnets");
  assert.equal(p.claim('10.9.0.3'), false);
  assert.equal(macFor('10.9.0.3'), '02:42:0a:09:00:03');
  assert.throws(() => new AddressPool({ subnet: '10.9.0.0/24', gateway: '10.8.0.1' }), /not in subnet/);
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.9.0.0/24')));
  assert.ok(!overlaps(parseCidr('10.9.1.0/24'), parseCidr('10.9.0.0/24')));
});

test('bridge rules: NAT and forwarding out unless internal, isolation always', () => {
  const open = bridgeRules({ bridge: 'b0', subnet: '10.1.0.0/24', internal: false }).map((r) => `${r.table} ${r.chain} ${r.spec}`);
  assert.ok(open.includes('nat BERTH-POSTROUTING -s 10.1.0.0/24 ! -o b0 -j MASQUERADE'));
  assert.ok(open.includes('filter BERTH-ISOLATION-2 -o b0 -j DROP'));
  const internal = bridgeRules({ bridge: 'b1', subnet: '10.2.0.0/24', internal: true }).map((r) => `${r.table} ${r.chain} ${r.spec}`);
  assert.ok(!internal.some((r) => r.includes('MASQUERADE')), 'an internal network has no way out');
  assert.ok(internal.includes('filter BERTH-ISOLATION-1 -i b1 ! -o b1 -j DROP'));
});

test('port rules: DNAT only for non-loopback host addresses (loopback is the proxy\'s)', () => {
  const all = portRules('b0', { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80 });
  assert.ok(all.some((r) => r.chain === 'BERTH' && r.spec === '! -i b0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80'));
  const lo = portRules('b0', { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerIp: '10.1.0.2', containerPort: 53 });
  assert.ok(!lo.some((r) => r.spec.includes('-j DNAT')));
  assert.ok(lo.some((r) => r.chain === 'BERTH-FORWARD' && r.spec.includes('-p udp -m udp --dport 53')));
});

test('loopback NAT: the host\'s own 127.0.0.x connections are DNATed in OUTPUT only, and containers may not use the host loopback', () => {
  const lo = portRules('b0', { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80 }, true);
  assert.deepEqual(lo.filter((r) => r.spec.includes('-j DNAT')).map((r) => `${r.chain} ${r.spec}`),
    ['BERTH-LOOPBACK -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80']);
  const any = portRules('b0', { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8081, containerIp: '10.1.0.2', containerPort: 80 }, true);
  assert.deepEqual(any.filter((r) => r.spec.includes('-j DNAT')).map((r) => r.chain).sort(), ['BERTH', 'BERTH-LOOPBACK']);
  const br = bridgeRules({ bridge: 'b0', subnet: '10.1.0.0/24', internal: false, loopbackNat: true }).map((r) => `${r.chain} ${r.spec}`);
  assert.ok(br.includes('BERTH-POSTROUTING -s 127.0.0.0/8 -o b0 -j MASQUERADE'));
  assert.ok(br.includes('BERTH-INPUT -i b0 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'));
});
