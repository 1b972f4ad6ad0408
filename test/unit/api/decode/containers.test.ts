// The request bodies of /containers/create and /update decoded as dockerd's Go decoder does:
// one validator per body, with the API version's reading and Go's error texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBodyFor, decodeContainerCreate, decodeContainerUpdate } from '../../../../src/api/decode/containers.ts';
import { decodeExecConfig, decodeExecStart } from '../../../../src/api/decode/exec.ts';

const body = (): Record<string, unknown> => ({
  Image: 'busybox',
  HostConfig: {
    ConsoleSize: [24, 80],
    Mounts: [{ Type: 'bind', Source: '/a', Target: '/b', BindOptions: { CreateMountpoint: true, ReadOnlyNonRecursive: true } }],
  },
});

test('before 1.42 a bind\'s CreateMountpoint and the console size are ignored; from 1.42 they are kept', () => {
  const old = createBodyFor(body(), '1.41') as { HostConfig: { ConsoleSize: number[]; Mounts: { BindOptions: object }[] } };
  assert.deepEqual(old.HostConfig.Mounts[0]!.BindOptions, { ReadOnlyNonRecursive: true });
  assert.deepEqual(old.HostConfig.ConsoleSize, [0, 0]);
  assert.deepEqual(createBodyFor(body(), '1.42'), body());
  assert.equal(createBodyFor(null, '1.24'), null);
  assert.deepEqual(createBodyFor({ Image: 'b', HostConfig: null }, '1.24'), { Image: 'b', HostConfig: null });
});

test('a resource limit JavaScript cannot hold, or of the wrong type, is refused with Go\'s text (create and update alike)', () => {
  const create = (hc: Record<string, unknown>): unknown => decodeContainerCreate({ Image: 'busybox', HostConfig: hc }, '1.47');
  assert.throws(() => create({ Memory: 2 ** 60 }), { message: 'json: cannot unmarshal number into Go struct field HostConfig.Memory of type int64' });
  assert.throws(() => create({ CpuShares: '512' }), { message: 'json: cannot unmarshal string into Go struct field HostConfig.CpuShares of type int64' });
  assert.throws(() => create({ CpusetCpus: 1 }), { message: 'json: cannot unmarshal number into Go struct field HostConfig.CpusetCpus of type string' });
  assert.throws(() => create({ OomKillDisable: 'yes' }), { message: 'json: cannot unmarshal string into Go struct field HostConfig.OomKillDisable of type bool' });
  assert.throws(() => create({ BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: '1' }] }), { message: 'json: cannot unmarshal array into Go struct field HostConfig.BlkioDeviceReadBps of type []*blkiodev.ThrottleDevice' });
  assert.throws(() => create({ Ulimits: [{ Name: 'nofile', Soft: 1 }] }), { message: 'json: cannot unmarshal array into Go struct field HostConfig.Ulimits of type []*units.Ulimit' });
  assert.throws(() => decodeContainerUpdate({ PidsLimit: 1.5 }), { message: 'json: cannot unmarshal number into Go struct field HostConfig.PidsLimit of type int64' });
  const ok = decodeContainerCreate({ Image: 'busybox', HostConfig: { Memory: 8 << 20, Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }] } }, '1.47');
  assert.equal(ok.HostConfig?.Memory, 8 << 20);
  // the schema's own fields still answer with the field's path
  assert.throws(() => create({ Privileged: 'yes' }), /^InvalidParameter|json: cannot unmarshal ContainerConfigWrapper field HostConfig.Privileged/);
});

test('create: the embedded HostConfig is lifted, keys fold by case, a string Cmd is a list; update keeps its keys as given', () => {
  const c = decodeContainerCreate({ image: 'busybox', Cmd: 'ls', Runtime: 'runc', HostConfig: null }, '1.47');
  assert.equal(c.Image, 'busybox');
  assert.deepEqual(c.Cmd, ['ls']);
  assert.equal((c.HostConfig as { Runtime?: string }).Runtime, 'runc');
  assert.deepEqual(decodeContainerCreate(c, '1.47'), c, 'decoding a decoded body changes nothing (the engine decodes it again)');
  assert.deepEqual(decodeContainerUpdate({ memory: 1, RestartPolicy: null }), { memory: 1, RestartPolicy: null });
});

test('exec: Cmd must be a list (ExecConfig.Cmd is []string), detachKeys folds to DetachKeys', () => {
  assert.throws(() => decodeExecConfig({ Cmd: 'ls' }), { message: 'json: cannot unmarshal string into Go struct field ExecConfig.Cmd of type []string' });
  assert.deepEqual(decodeExecConfig({ Cmd: ['ls'], detachKeys: 'ctrl-x' }), { Cmd: ['ls'], DetachKeys: 'ctrl-x' });
  assert.deepEqual(decodeExecStart({ Detach: true }), { Detach: true });
  assert.throws(() => decodeExecStart({ Tty: 'x' }), /ExecStartCheck field Tty/);
});

test('several networks at create: refused before API 1.44 with moby\'s text, accepted from 1.44 (Compose v2 sends them all)', () => {
  const two = { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { front: {}, back: { Aliases: ['api'] } } } };
  assert.throws(() => decodeContainerCreate(structuredClone(two), '1.43'), { name: 'InvalidParameter', message: 'Container cannot be connected to network endpoints: front, back' });
  const ok = decodeContainerCreate(structuredClone(two), '1.44');
  assert.deepEqual(Object.keys(ok.NetworkingConfig?.EndpointsConfig ?? {}), ['front', 'back']);
});
