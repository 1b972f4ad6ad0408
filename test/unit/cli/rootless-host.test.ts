// The CLI's default daemon (client/engine-client.ts hostAddress over util/rootless-paths.ts):
// a non-root user whose rootless berthd's socket exists talks to it, as Docker's rootless
// context does; root, a named host or a named context keep the system socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { hostAddress, DEFAULT_HOST } from '../../../src/client/engine-client.ts';
import { defaultClientHost } from '../../../src/util/rootless-paths.ts';

const ENV = { XDG_RUNTIME_DIR: '/run/user/1000' };
const SOCK = '/run/user/1000/berth/berth.sock';
const there = (p: string): boolean => p === SOCK;
const absent = (): boolean => false;

test('the system socket stays the default for root and when nothing rootless listens', () => {
  assert.equal(DEFAULT_HOST, 'unix:///run/berth/berth.sock');
  assert.equal(defaultClientHost(ENV, 0, there), DEFAULT_HOST);
  assert.equal(defaultClientHost(ENV, 1000, absent), DEFAULT_HOST);
  assert.equal(defaultClientHost({}, 1000, () => true), DEFAULT_HOST);
  assert.equal(defaultClientHost({ XDG_RUNTIME_DIR: 'run/user/1000' }, 1000, () => true), DEFAULT_HOST);
});

test("a non-root user's rootless socket is the default when it exists", () => {
  assert.equal(defaultClientHost(ENV, 1000, there), `unix://${SOCK}`);
  assert.equal(hostAddress(undefined, ENV, { uid: 1000, isSocket: there }), `unix://${SOCK}`);
  assert.equal(hostAddress(undefined, ENV, { uid: 0, isSocket: there }), DEFAULT_HOST);
});

test('-H, BERTH_HOST, DOCKER_HOST and a named context win over the rootless socket', () => {
  const u = { uid: 1000, isSocket: there };
  assert.equal(hostAddress('tcp://127.0.0.1:2399', ENV, u), 'tcp://127.0.0.1:2399');
  assert.equal(hostAddress(undefined, { ...ENV, BERTH_HOST: 'unix:///b.sock', DOCKER_HOST: 'unix:///d.sock' }, u), 'unix:///b.sock');
  assert.equal(hostAddress(undefined, { ...ENV, DOCKER_HOST: 'unix:///d.sock' }, u), 'unix:///d.sock');
  assert.equal(hostAddress(undefined, ENV, { ...u, context: 'default' }), DEFAULT_HOST);
});

test('the real check wants a socket: a stray file at the path is not a daemon', async () => {
  const dir = mkdtempSync('/tmp/berth-rl-host-');
  const server = createServer();
  try {
    mkdirSync(join(dir, 'berth'));
    const sock = join(dir, 'berth', 'berth.sock');
    const env = { XDG_RUNTIME_DIR: dir };
    assert.equal(hostAddress(undefined, env, { uid: 1000 }), DEFAULT_HOST);
    writeFileSync(sock, '');
    assert.equal(hostAddress(undefined, env, { uid: 1000 }), DEFAULT_HOST);
    rmSync(sock);
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    assert.equal(hostAddress(undefined, env, { uid: 1000 }), `unix://${sock}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
});
