import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHost, isLoopback, activationFds, selectFds } from '../../../src/daemon/hosts.ts';

test('parseHost: unix, tcp (dockerd defaults, bare host:port, IPv6), fd', () => {
  assert.deepEqual(parseHost('unix:///run/berth/berth.sock'), { kind: 'unix', path: '/run/berth/berth.sock' });
  assert.deepEqual(parseHost('tcp://0.0.0.0:2376'), { kind: 'tcp', host: '0.0.0.0', port: 2376 });
  assert.deepEqual(parseHost('tcp://'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
  assert.deepEqual(parseHost('tcp://:2380'), { kind: 'tcp', host: '127.0.0.1', port: 2380 });
  assert.deepEqual(parseHost('10.1.1.1:2376'), { kind: 'tcp', host: '10.1.1.1', port: 2376 });
  assert.deepEqual(parseHost('tcp://[::1]:2376'), { kind: 'tcp', host: '::1', port: 2376 });
  assert.deepEqual(parseHost('fd://'), { kind: 'fd', spec: '' });
  assert.deepEqual(parseHost('fd://4'), { kind: 'fd', spec: '4' });
  assert.throws(() => parseHost('unix://rel.sock'), /absolute path/);
  assert.throws(() => parseHost('tcp://h:99999'), /invalid port/);
  assert.throws(() => parseHost('fd://three'), /should be a number: three/);
  assert.throws(() => parseHost('npipe:////./pipe/x'), /invalid host address/);
});

test('isLoopback: localhost, 127.0.0.0/8 and ::1 only; names other than localhost are not', () => {
  for (const h of ['localhost', '127.0.0.1', '127.9.8.7', '::1', '0:0:0:0:0:0:0:1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('socket activation: LISTEN_FDS from fd 3, LISTEN_PID absent or ours; fd:// picks all or one (dockerd\'s errors)', () => {
  assert.deepEqual(activationFds({}, 100), []);
  assert.deepEqual(activationFds({ LISTEN_FDS: '2' }, 100), [3, 4]);
  assert.deepEqual(activationFds({ LISTEN_FDS: '1', LISTEN_PID: '100' }, 100), [3]);
  assert.deepEqual(activationFds({ LISTEN_FDS: '1', LISTEN_PID: '99' }, 100), [], 'meant for another process');
  assert.deepEqual(activationFds({ LISTEN_FDS: 'x' }, 100), []);
  assert.deepEqual(selectFds('', [3, 4]), [3, 4]);
  assert.deepEqual(selectFds('*', [3]), [3]);
  assert.deepEqual(selectFds('4', [3, 4]), [4]);
  assert.throws(() => selectFds('', []), /no sockets found via socket activation: make sure the service was started by systemd/);
  assert.throws(() => selectFds('5', [3, 4]), /too few socket activated files passed in by systemd/);
});
