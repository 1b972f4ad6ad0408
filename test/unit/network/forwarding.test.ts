// The rules that keep a neighbour of the host out of its containers (issue 16, finding 3): what
// firewall.ts plans for a bridge and a published port, and the FORWARD policy parse. The attack
// itself runs in test/integration/hostile-neighbour/forwarding.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeRules, portRules, CHAINS } from '../../../src/network/firewall.ts';
import { parseForwardPolicy } from '../../../src/network/forwarding.ts';

const text = (rs: { table: string; chain: string; spec: string }[]): string[] => rs.map((r) => `${r.table} ${r.chain} ${r.spec}`);

test('a bridge refuses what is routed onto it from elsewhere unless it is a reply or DNAT\'ed (moby\'s DOCKER chain DROP)', () => {
  const r = text(bridgeRules({ bridge: 'b0', subnet: '10.1.0.0/24', internal: false }));
  assert.ok(r.includes('filter BERTH-FORWARD ! -i b0 -o b0 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP'));
  // containers' own traffic, on the bridge and out of it, stays accepted
  assert.ok(r.includes('filter BERTH-FORWARD -i b0 -o b0 -j ACCEPT'));
  assert.ok(r.includes('filter BERTH-FORWARD -i b0 ! -o b0 -j ACCEPT'));
  assert.ok(r.includes('filter BERTH-FORWARD -o b0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'));
});

test('a packet for the bridge subnet that did not come in on the bridge is dropped in raw, the host\'s own address excepted (moby 28)', () => {
  for (const internal of [false, true]) {
    const r = text(bridgeRules({ bridge: 'b0', subnet: '10.1.0.0/24', internal }));
    assert.ok(r.includes('raw BERTH-PREROUTING -d 10.1.0.0/24 ! -i b0 -m addrtype ! --dst-type LOCAL -j DROP'), `internal=${internal}`);
  }
  assert.deepEqual(CHAINS.raw, ['BERTH-PREROUTING']);
});

test('a published port is let in only when DNAT\'ed: routing straight to the container port is not enough', () => {
  const any = portRules('b0', { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80 });
  assert.deepEqual(any.filter((r) => r.chain === 'BERTH-FORWARD').map((r) => r.spec),
    ['-d 10.1.0.2/32 ! -i b0 -o b0 -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT']);
  assert.ok(!any.some((r) => r.table === 'raw'), 'a port published on every address needs no loopback guard');
});

test('a port published on a loopback address is dropped in raw for packets not from lo (moby 28 filterPortMappedOnLoopback)', () => {
  for (const loopbackNat of [false, true]) {
    const lo = portRules('b0', { proto: 'udp', hostIp: '127.0.0.2', hostPort: 5353, containerIp: '10.1.0.2', containerPort: 53 }, loopbackNat);
    assert.deepEqual(text(lo.filter((r) => r.table === 'raw')), ['raw BERTH-PREROUTING -d 127.0.0.2/32 ! -i lo -p udp -m udp --dport 5353 -j DROP']);
  }
  const other = portRules('b0', { proto: 'tcp', hostIp: '192.0.2.2', hostPort: 8080, containerIp: '10.1.0.2', containerPort: 80 });
  assert.ok(!other.some((r) => r.table === 'raw'));
});

test('the FORWARD policy is read from iptables-save', () => {
  assert.equal(parseForwardPolicy('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [12:34]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'), 'DROP');
  assert.equal(parseForwardPolicy(':FORWARD ACCEPT [0:0]'), 'ACCEPT');
  assert.equal(parseForwardPolicy('*filter\nCOMMIT\n'), undefined);
});

test('the opt-out is dockerd\'s: --ip-forward-no-drop or daemon.json ip-forward-no-drop, off by default, not both', async () => {
  const { parseDaemonConfig } = await import('../../../src/daemon/config.ts');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/berth-cfg-');
  try {
    writeFileSync(`${dir}/none.json`, '{}');
    writeFileSync(`${dir}/on.json`, '{"ip-forward-no-drop": true}');
    assert.equal((await parseDaemonConfig(['--config-file', `${dir}/none.json`])).ipForwardNoDrop, false);
    assert.equal((await parseDaemonConfig(['--config-file', `${dir}/none.json`, '--ip-forward-no-drop'])).ipForwardNoDrop, true);
    assert.equal((await parseDaemonConfig(['--config-file', `${dir}/none.json`, '--ip-forward-no-drop=false'])).ipForwardNoDrop, false);
    assert.equal((await parseDaemonConfig(['--config-file', `${dir}/on.json`])).ipForwardNoDrop, true);
    await assert.rejects(parseDaemonConfig(['--config-file', `${dir}/on.json`, '--ip-forward-no-drop']), /ip-forward-no-drop/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
