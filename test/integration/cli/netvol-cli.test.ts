// berth network … and berth volume … against a real berthd, compared with the Docker CLI's output
// for the same commands against the same daemon.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox } from '../../helpers/daemon.ts';
import { berthCli, BERTH } from '../../helpers/berth-cli.ts';

describe('berth network and volume', () => {
  const d = new TestDaemon();
  /** The same command through both CLIs: same stdout, stderr (docker → berth) and status. */
  const { berth, same } = berthCli(d, { bin: process.env.BERTH_TEST_BIN || BERTH, env: { ...d.env, DOCKER_HOST: '' } });
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('network create prints the ID and sends the IPAM config, labels, options and flags', async () => {
    const r = await berth(['network', 'create', '--subnet', '10.231.0.0/24', '--gateway', '10.231.0.1', '--ip-range', '10.231.0.128/25',
      '--label', 'team=a', '--label', 'env', '-o', 'com.docker.network.bridge.name=brtnv0', '--internal', '--attachable', 'nv1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    const ins = JSON.parse((await d.docker(['network', 'inspect', 'nv1'])).stdout)[0];
    assert.equal(ins.Id, r.stdout.trim());
    assert.deepEqual(ins.IPAM.Config, [{ Subnet: '10.231.0.0/24', IPRange: '10.231.0.128/25', Gateway: '10.231.0.1' }]);
    assert.deepEqual(ins.Labels, { team: 'a', env: '' });
    assert.equal(ins.Internal, true);
    assert.equal(ins.Attachable, true);
    assert.equal(ins.Options['com.docker.network.bridge.name'], 'brtnv0');
    const bad = await berth(['network', 'create', '--gateway', '10.9.0.1', 'nv-bad']);
    assert.deepEqual([bad.code, bad.stderr], [1, 'every ip-range or gateway must have a corresponding subnet\n']);
    await same(['network', 'create', 'nv1']);
  });

  it('network ls, inspect and their formats print what docker prints', async () => {
    await d.docker(['network', 'create', '--label', 'team=b', 'nv2']);
    await same(['network', 'ls']);
    await same(['network', 'list', '-q']);
    await same(['network', 'ls', '--no-trunc']);
    await same(['network', 'ls', '-f', 'label=team', '--format', '{{.Name}} {{.Driver}} {{.Label "team"}} {{.Internal}}']);
    // json: nv1 has two labels, which docker joins from a Go map in random order; both CLIs'
    // rows are compared with each row's Labels list sorted
    const sortLabels = (out: string): unknown[] => out.trim().split('\n').map((l) => {
      const row = JSON.parse(l) as Record<string, string>;
      return { ...row, Labels: row.Labels!.split(',').sort().join(',') };
    });
    const [viaDocker, viaBerth] = [await d.docker(['network', 'ls', '--format', 'json']), await berth(['network', 'ls', '--format', 'json'])];
    assert.deepEqual([viaBerth.code, viaBerth.stderr], [0, '']);
    assert.deepEqual(sortLabels(viaBerth.stdout), sortLabels(viaDocker.stdout));
    // one label each: docker joins a Go map's labels in random order
    await same(['network', 'ls', '-f', 'label=team=b', '--format', 'table {{.Name}}\t{{.IPv6}}\t{{.Labels}}']);
    await same(['network', 'inspect', 'nv1', 'nv2']);
    await same(['network', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'nv2', 'bridge']);
    await same(['network', 'inspect', 'nosuch']);
    await same(['network', 'inspect', '-f', '{{.Name}}', 'nosuch', 'nv2']);
    await same(['network', 'ls', '-f', 'nonsense']);
    await same(['volume', 'ls', '--filter', 'nonsense']);
  });

  it('network connect and disconnect with aliases and an address', async () => {
    await d.docker(['run', '-d', '--name', 'nvc', 'busybox', 'sleep', '300']);
    const r = await berth(['network', 'connect', '--alias', 'web,www', '--ip', '10.231.0.140', 'nv1', 'nvc']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    const ep = JSON.parse((await d.docker(['inspect', '-f', '{{json .NetworkSettings.Networks.nv1}}', 'nvc'])).stdout);
    assert.equal(ep.IPAddress, '10.231.0.140');
    assert.ok(ep.Aliases.includes('web') && ep.Aliases.includes('www'), JSON.stringify(ep.Aliases));
    await same(['network', 'connect', 'nv1', 'nosuchctr']);
    assert.equal((await berth(['network', 'disconnect', 'nv1', 'nvc'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{len .NetworkSettings.Networks}}', 'nvc'])).stdout, '1\n');
    await same(['network', 'disconnect', 'nv1', 'nvc']);
    await d.docker(['rm', '-f', 'nvc']);
  });

  it('network rm reports each failure and ends with "exit status 1"; -f ignores missing ones', async () => {
    await d.docker(['network', 'create', 'nv3']);
    const r = await berth(['network', 'rm', 'nosuch', 'nv3']);
    assert.deepEqual(r, { code: 1, stdout: 'nv3\n', stderr: 'Error response from daemon: network nosuch not found\nexit status 1\n' });
    await same(['network', 'rm', 'nosuch']);
    await same(['network', 'rm', '-f', 'nosuch']);
  });

  it('network prune asks first, as docker does, and lists what it removed', async () => {
    await same(['network', 'prune'], { input: 'n\n' });
    await same(['network', 'prune'], { input: '' });
    await d.docker(['network', 'prune', '-f']);
    await d.docker(['network', 'create', 'nvp']);
    const want = await d.docker(['network', 'prune', '-f']);
    await d.docker(['network', 'create', 'nvp']);
    const got = await berth(['network', 'prune'], { input: 'y\n' });
    assert.equal(got.stdout, `WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ${want.stdout}`);
    assert.match(want.stdout, /^Deleted Networks:\n(nv\w+\n)+\n$/);
  });

  it('volume create, ls, inspect and rm print what docker prints', async () => {
    assert.deepEqual(await berth(['volume', 'create', '--label', 'k=v', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'vol1']), { code: 0, stdout: 'vol1\n', stderr: '' });
    const anon = await berth(['volume', 'create']);
    assert.match(anon.stdout, /^[0-9a-f]{64}\n$/);
    const ins = JSON.parse((await d.docker(['volume', 'inspect', 'vol1'])).stdout)[0];
    assert.deepEqual([ins.Labels, ins.Options], [{ k: 'v' }, { type: 'tmpfs', device: 'tmpfs' }]);
    await d.docker(['volume', 'create', 'vol2']);
    await same(['volume', 'ls']);
    await same(['volume', 'list', '-q']);
    await same(['volume', 'ls', '-f', 'label=k']);
    await same(['volume', 'ls', '--format', '{{.Name}}|{{.Driver}}|{{.Labels}}|{{.Label "k"}}|{{.Mountpoint}}']);
    await same(['volume', 'ls', '--format', 'json']);
    await same(['volume', 'inspect', 'vol1', 'vol2']);
    await same(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}}', 'vol1']);
    await same(['volume', 'inspect', 'nosuch']);
    await same(['volume', 'create', '-d', 'nosuchdriver', 'x']);
    await same(['volume', 'rm', 'nosuch', 'nosuch2']);
    await d.docker(['run', '-d', '--name', 'vuser', '-v', 'vol2:/data', 'busybox', 'sleep', '300']);
    await same(['volume', 'rm', 'vol2']);
    await d.docker(['rm', '-f', 'vuser']);
    assert.deepEqual(await berth(['volume', 'remove', 'vol2', anon.stdout.trim()]), { code: 0, stdout: `vol2\n${anon.stdout}`, stderr: '' });
  });

  it('volume prune asks first, removes anonymous volumes, or all unused with -a', async () => {
    await same(['volume', 'prune'], { input: 'n\n' });
    await same(['volume', 'prune', '-a'], { input: 'n\n' });
    await d.docker(['volume', 'prune', '-af']);
    await d.docker(['volume', 'create', 'vp1']);
    await same(['volume', 'prune', '-f']);
    const want = await d.docker(['volume', 'prune', '-af']);
    await d.docker(['volume', 'create', 'vp1']);
    const got = await berth(['volume', 'prune', '-a'], { input: 'y\n' });
    assert.equal(got.stdout, `WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ${want.stdout}`);
    assert.match(want.stdout, /^Deleted Volumes:\nvp1\n\nTotal reclaimed space: \S+\n$/);
    await same(['volume', 'prune', '-a', '--filter', 'all=1', '-f']);
  });
});
