import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/daemon/config.ts';
import { takePidfile } from '../../../src/daemon/pidfile.ts';


test('defaults are dockerd-like under Berth\'s own names', async () => {
  // An explicit missing file is an error, so use a real empty config for the defaults.
  const dir = mkdtempSync('/tmp/berth-cfg-');
  try {
    writeFileSync(join(dir, 'd.json'), '{}');
    const c = await parseDaemonConfig(['--config-file', join(dir, 'd.json')]);
    assert.deepEqual(c.hosts, ['unix:///run/berth/berth.sock']);
    assert.equal(c.dataRoot, '/var/lib/berth');
    assert.equal(c.execRoot, '/run/berth');
    assert.equal(c.pidfile, '/run/berth/berthd.pid');
    assert.equal(c.runtime, 'runc');
    assert.equal(c.logLevel, 'info');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flags: repeatable -H, roots, debug wins over log level', async () => {
  const dir = mkdtempSync('/tmp/berth-cfg-');
  try {
    writeFileSync(join(dir, 'd.json'), '{}');
    const c = await parseDaemonConfig(['-H', 'unix:///tmp/a.sock', '--host', 'tcp://127.0.0.1:2399', '--data-root', '/d', '--exec-root', '/e',
      '-D', '--runtime', '/usr/bin/runc', '--config-file', join(dir, 'd.json')]);
    assert.deepEqual(c.hosts, ['unix:///tmp/a.sock', 'tcp://127.0.0.1:2399']);
    assert.equal(c.dataRoot, '/d');
    assert.equal(c.pidfile, '/e/berthd.pid');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.runtime, '/usr/bin/runc');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('daemon.json: same keys as dockerd; conflicts, unknown keys and bad JSON are errors', async () => {
  const dir = mkdtempSync('/tmp/berth-cfg-');
  const f = join(dir, 'daemon.json');
  try {
    writeFileSync(f, JSON.stringify({ hosts: ['unix:///tmp/x.sock'], 'data-root': '/srv/berth', 'log-level': 'warn' }));
    const c = await parseDaemonConfig(['--config-file', f]);
    assert.deepEqual(c.hosts, ['unix:///tmp/x.sock']);
    assert.equal(c.dataRoot, '/srv/berth');
    assert.equal(c.logLevel, 'warn');
    await assert.rejects(parseDaemonConfig(['--config-file', f, '--data-root', '/other']),
      /the following directives are specified both as a flag and in the configuration file: data-root/);
    writeFileSync(f, '{"bogus": 1}');
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /invalid configuration/);
    writeFileSync(f, '{nope');
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /invalid JSON/);
    await assert.rejects(parseDaemonConfig(['--config-file', join(dir, 'missing.json')]), /unable to read config file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pidfile: a live owner refuses, a stale one is replaced', async () => {
  const dir = mkdtempSync('/tmp/berth-pid-');
  const p = join(dir, 'x.pid');
  try {
    const release = await takePidfile(p);
    await assert.rejects(takePidfile(join(dir, 'x.pid')).then(async (r) => {
      // Our own pid counts as ours: simulate another live owner with pid 1.
      await r();
      writeFileSync(p, '1');
      return takePidfile(p);
    }), /pid file found, ensure berthd is not running or delete/);
    writeFileSync(p, '999999999');
    const again = await takePidfile(p);
    await again();
    await release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
