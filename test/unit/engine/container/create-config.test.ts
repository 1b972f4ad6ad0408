// Create-time merging with the image config (moby daemon/commit.go merge(), daemon/create.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeCommand, mergeConfig, createHostConfig } from '../../../../src/engine/container/create-config.ts';

const image = { Entrypoint: ['/init'], Cmd: ['serve'], Env: ['PATH=/bin', 'A=1'], User: 'app', WorkingDir: '/srv', Labels: { a: 'img' }, ExposedPorts: { '80/tcp': {} } };

test('command: the client\'s entrypoint drops the image\'s cmd only when it gives one; --entrypoint "" resets; none at all is a 400', () => {
  assert.deepEqual(mergeCommand({ Image: 'x' }, image).argv, ['/init', 'serve']);
  assert.deepEqual(mergeCommand({ Image: 'x', Cmd: ['sh'] }, image).argv, ['/init', 'sh']);
  assert.deepEqual(mergeCommand({ Image: 'x', Entrypoint: ['/bin/a'] }, image).argv, ['/bin/a']);
  assert.deepEqual(mergeCommand({ Image: 'x', Entrypoint: [''] }, image), { entrypoint: null, cmd: ['serve'], argv: ['serve'] });
  assert.throws(() => mergeCommand({ Image: 'x' }, {}), { name: 'InvalidParameter', message: 'No command specified' });
});

test('config: image defaults under the client\'s; published ports are exposed; hostname is the short ID', () => {
  const c = mergeConfig({ Image: 'x', Env: ['A=2'], Labels: { b: 'me' }, HostConfig: { PortBindings: { '53/udp': [], '8080': [] } } }, image,
    { id: 'abcdef0123456789', networkMode: 'bridge', entrypoint: ['/init'], cmd: ['serve'] });
  assert.deepEqual([c.Hostname, c.User, c.WorkingDir, c.Env], ['abcdef012345', 'app', '/srv', ['A=2', 'PATH=/bin']]);
  assert.deepEqual(c.Labels, { a: 'img', b: 'me' });
  assert.deepEqual(Object.keys(c.ExposedPorts as object).sort(), ['53/udp', '80/tcp', '8080/tcp']);
  assert.equal('HostConfig' in c, false);
  assert.throws(() => mergeConfig({ Image: 'x', StopSignal: 'SIGNOPE' }, {}, { id: 'a', networkMode: 'none', entrypoint: null, cmd: ['x'] }));
});

test('host config: defaults, daemon ulimits under the client\'s, AutoRemove with a restart policy refused', () => {
  const modes = { NetworkMode: 'default', PidMode: '', IpcMode: 'private', UTSMode: '' };
  const daemon = { defaultUlimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }, { Name: 'nproc', Soft: 3, Hard: 4 }], log: {} };
  const hc = createHostConfig({ Ulimits: [{ Name: 'nofile', Soft: 9, Hard: 9 }] }, modes, daemon);
  assert.deepEqual([hc.NetworkMode, hc.ShmSize, hc.AutoRemove, hc.RestartPolicy], ['default', 64 * 1024 * 1024, false, { Name: '', MaximumRetryCount: 0 }]);
  assert.deepEqual(hc.Ulimits, [{ Name: 'nofile', Soft: 9, Hard: 9 }, { Name: 'nproc', Soft: 3, Hard: 4 }]);
  assert.equal(createHostConfig(null, modes, { defaultUlimits: undefined, log: {} }).Ulimits, null);
  assert.throws(() => createHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'always' } }, modes, daemon), { message: "can't create 'AutoRemove' container with restart policy" });
});
