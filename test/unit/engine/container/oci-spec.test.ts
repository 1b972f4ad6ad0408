// The Docker → OCI mapping: HostConfig's limits as linux.resources (Docker's swap default),
// --ulimit as rlimits, --security-opt, and the record's settings as the spec input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSpecInput, ociResources, ociRlimits, securityOptions } from '../../../../src/engine/container/oci-spec.ts';
import type { ContainerRecord } from '../../../../src/engine/container/record.ts';

test('resources: swap defaults to twice the memory, -1 stays unlimited, NanoCpus become a CFS quota; a throttle on a non-block device is refused', () => {
  assert.deepEqual(ociResources({ Memory: 8 << 20 }, () => undefined), { memory: { limit: 8 << 20, swap: 16 << 20 } });
  assert.deepEqual(ociResources({ Memory: 8 << 20, MemorySwap: -1 }, () => undefined).memory, { limit: 8 << 20, swap: -1 });
  assert.deepEqual(ociResources({ NanoCpus: 1.5e9, PidsLimit: 0 }, () => undefined), { cpu: { period: 100_000, quota: 150_000 } });
  assert.throws(() => ociResources({ BlkioDeviceReadBps: [{ Path: '/dev/null', Rate: 1 }] }, () => undefined), { message: 'invalid device path /dev/null: not a block device' });
  assert.deepEqual(ociRlimits({ Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }] }), [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }]);
  assert.deepEqual(securityOptions(['no-new-privileges', 'apparmor=x', 'label=disable']), { noNewPrivileges: true, apparmor: 'x' });
  assert.throws(() => securityOptions(['bogus']), { message: 'invalid --security-opt 1: "bogus"' });
});

test('spec input: the record\'s command, env, modes and paths', () => {
  const rec = {
    Id: 'abc', Path: 'sh', Args: ['-c', 'true'], HostnamePath: '/h', HostsPath: '/hs', ResolvConfPath: '/r',
    Config: { Hostname: 'abc', Domainname: '', User: '', Tty: false, OpenStdin: false, Env: ['A=1'], WorkingDir: '', Labels: { l: 'v' } },
    HostConfig: { NetworkMode: 'host', PidMode: 'host', IpcMode: 'private', UTSMode: '', Privileged: false, ReadonlyRootfs: true, ShmSize: 0, OomScoreAdj: 0, CapAdd: ['NET_ADMIN'], CapDrop: null, Memory: 8 << 20 },
  } as unknown as ContainerRecord;
  const s = containerSpecInput(rec, {
    rootfs: '/m', linkEnv: ['L=1'], netnsPath: undefined, joined: {}, ownShm: undefined, init: undefined,
    volumeMounts: { mounts: [] }, imageArch: 'amd64', cgroupsPath: '/berth/abc', idMap: undefined,
  });
  assert.deepEqual(s.args, ['sh', '-c', 'true']);
  assert.ok(s.env.includes('A=1') && s.env.includes('L=1') && s.envComplete);
  assert.deepEqual([s.networkMode, s.pidMode, s.ipcMode, s.utsMode, s.cwd, s.readonlyRootfs], ['host', 'host', '', '', '/', true]);
  assert.deepEqual(s.etcFiles, { hostname: '/h', hosts: '/hs', resolvConf: '/r' });
  assert.deepEqual(s.capAdd, ['NET_ADMIN']);
  assert.equal(s.shmSize, undefined);
  assert.equal(s.resources?.memory?.limit, 8 << 20);
  assert.equal(s.cgroupsPath, '/berth/abc');
  assert.ok(s.maskedPaths?.length, 'the default masked paths');
});
