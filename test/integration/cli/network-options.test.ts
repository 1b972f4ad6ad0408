// Network options through the real Docker CLI: --ip and IPAM settings of user networks,
// --internal networks without a way out, network ls filters and prune, bad input, and the
// /etc/hosts and resolv.conf options (--add-host incl. host-gateway, --hostname/--domainname, --dns*).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox, runCmd, type Result, ok } from '../../helpers/daemon.ts';


describe('network options against berthd', () => {
  const d = new TestDaemon();
  const docker = (args: string[]): Promise<string> => ok(d.docker(args));
  // Subnets inside this daemon's own pool, so they never meet another daemon's.
  const base = d.net.pool.split('.').slice(0, 2).join('.');
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('a user network with its own subnet, gateway and range; --ip pins an address', async () => {
    await docker(['network', 'create', '--subnet', `${base}.77.0/24`, '--gateway', `${base}.77.254`, '--ip-range', `${base}.77.128/25`, '--label', 'team=a', 'ipam1']);
    const [n] = JSON.parse(await docker(['network', 'inspect', 'ipam1']));
    assert.deepEqual(n.IPAM.Config, [{ Subnet: `${base}.77.0/24`, Gateway: `${base}.77.254`, IPRange: `${base}.77.128/25` }]);
    assert.equal(n.Labels.team, 'a');
    const auto = (await docker(['run', '--rm', '--network', 'ipam1', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0 | awk \'{print $4}\'; ip route | grep default'])).split('\n');
    assert.match(auto[0]!, new RegExp(`^${base.replace('.', '\\.')}\\.77\\.(12[89]|1[3-9]\\d|2[0-4]\\d|25[0-3])/24$`), 'an address from the range');
    assert.match(auto[1]!, new RegExp(`default via ${base.replace('.', '\\.')}\\.77\\.254`));
    await docker(['run', '-d', '--name', 'pinned', '--network', 'ipam1', '--ip', `${base}.77.10`, 'busybox', 'sleep', '120']);
    assert.equal((await docker(['inspect', '-f', '{{.NetworkSettings.Networks.ipam1.IPAddress}}', 'pinned'])).trim(), `${base}.77.10`);
    const taken = await d.docker(['run', '--rm', '--network', 'ipam1', '--ip', `${base}.77.10`, 'busybox', 'true']);
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /Address already in use/);
    const outside = await d.docker(['run', '--rm', '--network', 'ipam1', '--ip', `${base}.78.10`, 'busybox', 'true']);
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /Invalid address .*: It does not belong to any of this network's subnets/);
    await docker(['rm', '-f', 'pinned']);
  });

  it('an --internal network has no default route, but its containers reach each other', async () => {
    await docker(['network', 'create', '--internal', 'inner']);
    await docker(['run', '-d', '--name', 'in1', '--network', 'inner', 'busybox', 'sh', '-c', 'mkdir /www; echo inner > /www/index.html; exec httpd -f -p 80 -h /www']);
    const routes = await docker(['run', '--rm', '--network', 'inner', 'busybox', 'ip', 'route']);
    assert.doesNotMatch(routes, /default/);
    const got = await docker(['run', '--rm', '--network', 'inner', 'busybox', 'sh', '-c', 'for i in $(seq 1 30); do timeout 5 wget -q -O - http://in1/index.html && exit 0; sleep 0.2; done; exit 1']);
    assert.equal(got, 'inner\n');
    // The host's NAT does not cover it: no MASQUERADE for its subnet.
    const [n] = JSON.parse(await docker(['network', 'inspect', 'inner']));
    const nat = (await ok(runCmd('iptables-save', ['-t', 'nat']))).split('\n');
    assert.ok(!nat.some((l) => l.includes(n.IPAM.Config[0].Subnet) && l.includes('MASQUERADE')), 'no NAT for an internal network');
    await docker(['rm', '-f', 'in1']);
  });

  it('network ls filters, prune, and clear errors for bad input', async () => {
    await docker(['network', 'create', '--label', 'keep=no', 'scratch1']);
    const custom = (await docker(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}'])).trim().split('\n').sort();
    assert.ok(custom.includes('scratch1') && !custom.includes('bridge'));
    assert.deepEqual((await docker(['network', 'ls', '--filter', 'label=keep=no', '--format', '{{.Name}}'])).trim().split('\n'), ['scratch1']);
    const builtin = (await docker(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}}'])).trim().split('\n').sort();
    assert.deepEqual(builtin, ['bridge', 'host', 'none']);
    const dup = await d.docker(['network', 'create', 'scratch1']);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /already exists/);
    const overlap = await d.docker(['network', 'create', '--subnet', `${base}.77.0/25`, 'clash']);
    assert.notEqual(overlap.code, 0);
    assert.match(overlap.stderr, /overlaps/);
    const rmBridge = await d.docker(['network', 'rm', 'bridge']);
    assert.notEqual(rmBridge.code, 0);
    assert.match(rmBridge.stderr, /pre-defined network and cannot be removed/);
    const missing = await d.docker(['run', '--rm', '--network', 'nope', 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /network nope not found/);
    assert.doesNotMatch(missing.stderr, /Unable to find image/, 'a missing network is not taken for a missing image');
    await docker(['run', '-d', '--name', 'user1', '--network', 'ipam1', 'busybox', 'sleep', '120']);
    const inUse = await d.docker(['network', 'rm', 'ipam1']);
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /has active endpoints/);
    await docker(['rm', '-f', 'user1']);
    const pruned = await docker(['network', 'prune', '-f']);
    assert.match(pruned, /scratch1/);
    assert.match(pruned, /ipam1/);
    const left = (await docker(['network', 'ls', '--format', '{{.Name}}'])).trim().split('\n').sort();
    assert.deepEqual(left.filter((n) => !['bridge', 'host', 'none', 'inner'].includes(n)), []);
  });

  it('/etc/hosts and resolv.conf follow --add-host (host-gateway too), --hostname, --domainname and --dns*', async () => {
    const gw = d.net.bip.split('/')[0]!;
    const out = await docker(['run', '--rm', '--add-host', 'gw.test:host-gateway', '--add-host', 'fixed.test:192.0.2.77',
      '--hostname', 'web', '--domainname', 'example.test', '--dns', '192.0.2.53', '--dns-search', 'corp.test', '--dns-option', 'ndots:2',
      'busybox', 'sh', '-c', 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname; ip -o -4 addr show eth0']);
    const [hosts, resolv, rest] = out.split('---\n');
    assert.match(hosts!, new RegExp(`^${gw.replace(/\./g, '\\.')}\\tgw\\.test$`, 'm'));
    assert.match(hosts!, /^192\.0\.2\.77\tfixed\.test$/m);
    const ip = /inet (\S+)\//.exec(rest!)?.[1];
    assert.ok(ip);
    assert.match(hosts!, new RegExp(`^${ip!.replace(/\./g, '\\.')}\\tweb\\.example\\.test web$`, 'm'), 'the container\'s own line');
    // dockerd 20.10's order (libnetwork resolvconf.Build): search, nameservers, options
    assert.equal(resolv, 'search corp.test\nnameserver 192.0.2.53\noptions ndots:2\n');
    assert.match(rest!, /^web\n/);
  });

  it('with --bridge none there is no bridge network and containers default to none', async () => {
    const plain = new TestDaemon({ args: ['--bridge', 'none'] });
    try {
      await plain.start();
      await makeBusybox(plain);
      const nets = (await ok(plain.docker(['network', 'ls', '--format', '{{.Name}}']))).trim().split('\n').sort();
      assert.deepEqual(nets, ['host', 'none']);
      assert.equal(await ok(plain.docker(['run', '--rm', 'busybox', 'sh', '-c', 'ls /sys/class/net'])), 'lo\n');
      const id = (await ok(plain.docker(['create', 'busybox']))).trim();
      assert.equal((await ok(plain.docker(['inspect', '-f', '{{.HostConfig.NetworkMode}}', id]))).trim(), 'default'); // recorded as dockerd does; none is what it means here
    } finally {
      await plain.cleanup();
    }
  });
});
