// Rootless defaults (util/rootless-paths.ts) and how daemon/config.ts applies them: the user's
// environment, uid and home are parameters, so root and non-root are both tested as root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig, ConfigError } from '../../../src/daemon/config.ts';
import { daemonDefaults, isRootless, ROOTFUL_DEFAULTS, RootlessPathError, type UserContext } from '../../../src/util/rootless-paths.ts';

const USER: UserContext = { env: { XDG_RUNTIME_DIR: '/run/user/1000' }, uid: 1000, home: '/home/u' };

function tmp(): string {
  return mkdtempSync('/tmp/berth-rootless-');
}

test('rootless: a non-root user, or --rootless; --rootless=false refuses it', () => {
  assert.equal(isRootless(undefined, 0), false);
  assert.equal(isRootless(undefined, 1000), true);
  assert.equal(isRootless(true, 0), true);
  assert.equal(isRootless(false, 1000), false);
});

test('rootful defaults are the system paths, whatever the environment says', () => {
  const d = daemonDefaults(false, { env: { XDG_RUNTIME_DIR: '/run/user/0', XDG_DATA_HOME: '/x' }, uid: 0, home: '/root' });
  assert.equal(d.host(), 'unix:///run/berth/berth.sock');
  assert.equal(d.dataRoot(), '/var/lib/berth');
  assert.equal(d.execRoot(), '/run/berth');
  assert.equal(d.configFile(), '/etc/berth/daemon.json');
  assert.equal(d.host(), ROOTFUL_DEFAULTS.host);
});

test('rootless defaults follow XDG, with ~/.local/share and ~/.config as fallbacks', () => {
  const d = daemonDefaults(true, USER);
  assert.equal(d.host(), 'unix:///run/user/1000/berth/berth.sock');
  assert.equal(d.execRoot(), '/run/user/1000/berth');
  assert.equal(d.dataRoot(), '/home/u/.local/share/berth');
  assert.equal(d.configFile(), '/home/u/.config/berth/daemon.json');
  assert.equal(d.configDir(), '/home/u/.config/berth');
  const x = daemonDefaults(true, { ...USER, env: { XDG_RUNTIME_DIR: '/r', XDG_DATA_HOME: '/data', XDG_CONFIG_HOME: '/conf' } });
  assert.equal(x.dataRoot(), '/data/berth');
  assert.equal(x.configFile(), '/conf/berth/daemon.json');
  // The XDG spec: a relative value is invalid and ignored.
  const rel = daemonDefaults(true, { ...USER, env: { XDG_RUNTIME_DIR: '/r', XDG_DATA_HOME: 'data' } });
  assert.equal(rel.dataRoot(), '/home/u/.local/share/berth');
});

test('rootless without XDG_RUNTIME_DIR: a clear error, only for the defaults that need it', () => {
  const d = daemonDefaults(true, { ...USER, env: {} });
  assert.throws(() => d.host(), (e: Error) => e instanceof RootlessPathError &&
    e.message === 'XDG_RUNTIME_DIR is not set: rootless berthd needs it (systemd --user sets it; or export XDG_RUNTIME_DIR=/run/user/$(id -u))');
  assert.throws(() => d.execRoot(), /XDG_RUNTIME_DIR is not set/);
  assert.equal(d.dataRoot(), '/home/u/.local/share/berth');
  assert.throws(() => daemonDefaults(true, { ...USER, env: { XDG_RUNTIME_DIR: 'run' } }).execRoot(), /XDG_RUNTIME_DIR=run is not an absolute path/);
  assert.throws(() => daemonDefaults(true, { ...USER, env: {}, home: '' }).dataRoot(), /neither XDG_DATA_HOME nor HOME is set/);
});

test('parseDaemonConfig as root without --rootless: the old defaults, XDG ignored', async () => {
  const dir = tmp();
  try {
    // An explicit empty daemon.json: the machine's /etc/berth/daemon.json may say anything.
    const c = await parseDaemonConfig(['--config-file', writeEmpty(dir)], { env: { XDG_RUNTIME_DIR: join(dir, 'run'), XDG_CONFIG_HOME: dir }, uid: 0, home: dir });
    assert.equal(c.rootless, false);
    assert.deepEqual(c.hosts, ['unix:///run/berth/berth.sock']);
    assert.equal(c.execRoot, '/run/berth');
    assert.equal(c.pidfile, '/run/berth/berthd.pid');
    assert.equal(c.dataRoot, '/var/lib/berth');
    assert.deepEqual([c.tls.caCert, c.tls.cert, c.tls.key], ['/etc/berth/ca.pem', '/etc/berth/cert.pem', '/etc/berth/key.pem']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseDaemonConfig as a non-root user: rootless paths, pidfile under the exec root', async () => {
  const dir = tmp();
  try {
    const c = await parseDaemonConfig([], { env: { XDG_RUNTIME_DIR: join(dir, 'run') }, uid: 1000, home: dir });
    assert.equal(c.rootless, true);
    assert.deepEqual(c.hosts, [`unix://${dir}/run/berth/berth.sock`]);
    assert.equal(c.execRoot, `${dir}/run/berth`);
    assert.equal(c.pidfile, `${dir}/run/berth/berthd.pid`);
    assert.equal(c.dataRoot, `${dir}/.local/share/berth`);
    assert.equal(c.configFile, `${dir}/.config/berth/daemon.json`);
    assert.deepEqual([c.tls.caCert, c.tls.cert, c.tls.key], ['ca', 'cert', 'key'].map((f) => `${dir}/.config/berth/${f}.pem`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--rootless as root takes the rootless defaults', async () => {
  const dir = tmp();
  try {
    const c = await parseDaemonConfig(['--rootless'], { env: { XDG_RUNTIME_DIR: '/run/user/0', XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: dir }, uid: 0, home: '/root' });
    assert.equal(c.rootless, true);
    assert.deepEqual(c.hosts, ['unix:///run/user/0/berth/berth.sock']);
    assert.equal(c.dataRoot, `${dir}/data/berth`);
    const off = await parseDaemonConfig(['--rootless=false', '--config-file', writeEmpty(dir)], { env: {}, uid: 1000, home: dir });
    assert.equal(off.rootless, false);
    assert.equal(off.dataRoot, '/var/lib/berth');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function writeEmpty(dir: string): string {
  writeFileSync(join(dir, 'empty.json'), '{}');
  return join(dir, 'empty.json');
}

test('rootless reads $XDG_CONFIG_HOME/berth/daemon.json; its keys and flags win over the defaults', async () => {
  const dir = tmp();
  try {
    mkdirSync(join(dir, 'berth'));
    writeFileSync(join(dir, 'berth', 'daemon.json'), JSON.stringify({ 'data-root': '/srv/mine', 'exec-root': '/tmp/x-exec' }));
    const user = { env: { XDG_RUNTIME_DIR: '/run/user/1000', XDG_CONFIG_HOME: dir }, uid: 1000, home: '/home/u' };
    const c = await parseDaemonConfig([], user);
    assert.equal(c.configFile, `${dir}/berth/daemon.json`);
    assert.equal(c.dataRoot, '/srv/mine');
    assert.equal(c.execRoot, '/tmp/x-exec');
    assert.equal(c.pidfile, '/tmp/x-exec/berthd.pid');
    assert.deepEqual(c.hosts, ['unix:///run/user/1000/berth/berth.sock']);
    // A flag and the file both setting a key is still dockerd's error.
    await assert.rejects(parseDaemonConfig(['--data-root', '/d'], user), /specified both as a flag and in the configuration file: data-root/);
    // An explicit --config-file replaces the rootless default file.
    const f = await parseDaemonConfig(['--config-file', writeEmpty(dir), '--data-root', '/d', '-H', 'unix:///tmp/s.sock', '-p', '/tmp/p.pid'], user);
    assert.equal(f.dataRoot, '/d');
    assert.deepEqual(f.hosts, ['unix:///tmp/s.sock']);
    assert.equal(f.pidfile, '/tmp/p.pid');
    assert.equal(f.execRoot, '/run/user/1000/berth');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rootless without XDG_RUNTIME_DIR fails as a ConfigError unless -H and --exec-root are given', async () => {
  const dir = tmp();
  try {
    const user = { env: {}, uid: 1000, home: dir };
    await assert.rejects(parseDaemonConfig([], user), (e: Error) => e instanceof ConfigError && /^XDG_RUNTIME_DIR is not set: rootless berthd needs it/.test(e.message));
    await assert.rejects(parseDaemonConfig(['--exec-root', '/tmp/e'], user), /XDG_RUNTIME_DIR is not set/);
    const c = await parseDaemonConfig(['--exec-root', '/tmp/e', '-H', 'unix:///tmp/e/s.sock'], user);
    assert.equal(c.execRoot, '/tmp/e');
    assert.equal(c.dataRoot, `${dir}/.local/share/berth`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listenAll: a rootless unix socket is 0600 in a 0700 directory; a rootful one keeps 0660', async () => {
  const { listenAll } = await import('../../../src/daemon/listen.ts');
  const { silentLogger } = await import('../../../src/util/log.ts');
  const { createServer } = await import('node:http');
  const { statSync } = await import('node:fs');
  const dir = tmp();
  const make = { plain: () => createServer() };
  try {
    const rl = await listenAll(make, [`unix://${dir}/rl/berth.sock`], silentLogger, {}, process.pid, true);
    const rf = await listenAll(make, [`unix://${dir}/rf/berth.sock`], silentLogger, {}, process.pid, false);
    try {
      assert.equal(statSync(`${dir}/rl/berth.sock`).mode & 0o777, 0o600);
      assert.equal(statSync(`${dir}/rl`).mode & 0o777, 0o700);
      assert.equal(statSync(`${dir}/rl/berth.sock`).uid, process.geteuid!());
      assert.equal(statSync(`${dir}/rf/berth.sock`).mode & 0o777, 0o660);
    } finally {
      for (const l of [...rl.listeners, ...rf.listeners]) l.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
