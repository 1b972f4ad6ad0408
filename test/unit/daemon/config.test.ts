import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig, parseLogSize, configChanges, UsageError, daemonUsage } from '../../../src/daemon/config.ts';
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

/** Parses with a daemon.json of the given content (or an empty one). */
async function withFile<T>(content: unknown, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync('/tmp/berth-cfg-');
  try {
    const f = join(dir, 'daemon.json');
    writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content ?? {}));
    return await fn(f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('TLS: --tlsverify implies --tls and requires client certificates; defaults under /etc/berth; daemon.json keys', async () => {
  await withFile({}, async (f) => {
    const off = await parseDaemonConfig(['--config-file', f]);
    assert.deepEqual(off.tls, { enabled: false, verify: false, caCert: '/etc/berth/ca.pem', cert: '/etc/berth/cert.pem', key: '/etc/berth/key.pem' });
    const v = await parseDaemonConfig(['--config-file', f, '-H', 'tcp://0.0.0.0:2376', '--tlsverify', '--tlscacert', '/c/ca.pem', '--tlscert', '/c/s.pem', '--tlskey', '/c/k.pem']);
    assert.deepEqual(v.tls, { enabled: true, verify: true, caCert: '/c/ca.pem', cert: '/c/s.pem', key: '/c/k.pem' });
    const t = await parseDaemonConfig(['--config-file', f, '--tls']);
    assert.equal(t.tls.enabled, true);
    assert.equal(t.tls.verify, false);
    // dockerd: --tlsverify given at all turns TLS on, even =false.
    const vf = await parseDaemonConfig(['--config-file', f, '--tlsverify=false']);
    assert.deepEqual([vf.tls.enabled, vf.tls.verify], [true, false]);
    await assert.rejects(parseDaemonConfig(['--config-file', f, '--tls=maybe']), /invalid argument "maybe" for "--tls" flag: strconv.ParseBool/);
  });
  await withFile({ tlsverify: true, tlscacert: '/x/ca.pem', hosts: ['tcp://0.0.0.0:2376'] }, async (f) => {
    const c = await parseDaemonConfig(['--config-file', f]);
    assert.deepEqual([c.tls.enabled, c.tls.verify, c.tls.caCert], [true, true, '/x/ca.pem']);
    await assert.rejects(parseDaemonConfig(['--config-file', f, '--tlsverify']), /specified both as a flag and in the configuration file: tlsverify/);
  });
  await withFile({ tls: 'yes' }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /invalid configuration .*tls: /);
  });
});

test('plain TCP: refused on a non-loopback address unless --tls=false or --tlsverify=false says so; loopback allowed', async () => {
  await withFile({}, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f, '-H', 'tcp://0.0.0.0:2375']),
      /refusing to listen on tcp:\/\/0\.0\.0\.0:2375 without --tlsverify: .*--tls=false/);
    await assert.rejects(parseDaemonConfig(['--config-file', f, '-H', '10.0.0.5:2375']), /refusing to listen on tcp:\/\/10\.0\.0\.5:2375/);
    await assert.rejects(parseDaemonConfig(['--config-file', f, '-H', 'tcp://example.com:2375']), /refusing/);
    const explicit = await parseDaemonConfig(['--config-file', f, '-H', 'tcp://0.0.0.0:2375', '--tls=false']);
    assert.deepEqual(explicit.hosts, ['tcp://0.0.0.0:2375']);
    assert.equal(explicit.tls.enabled, false);
    for (const h of ['tcp://127.0.0.1:2375', 'tcp://localhost:2375', 'tcp://[::1]:2375', 'tcp://', 'tcp://127.3.4.5:1']) {
      assert.deepEqual((await parseDaemonConfig(['--config-file', f, '-H', h])).hosts, [h]);
    }
    // With client verification any address is fine.
    assert.deepEqual((await parseDaemonConfig(['--config-file', f, '-H', 'tcp://0.0.0.0:2376', '--tlsverify'])).hosts, ['tcp://0.0.0.0:2376']);
    await assert.rejects(parseDaemonConfig(['--config-file', f, '-H', 'udp://x']), /invalid host address/);
    await assert.rejects(parseDaemonConfig(['--config-file', f, '-H', 'fd://x']), /failed to parse systemd fd address/);
  });
});

test('live-restore: default on; false from the flag or the file', async () => {
  await withFile({}, async (f) => {
    assert.equal((await parseDaemonConfig(['--config-file', f])).liveRestore, true);
    assert.equal((await parseDaemonConfig(['--config-file', f, '--live-restore=false'])).liveRestore, false);
  });
  await withFile({ 'live-restore': false }, async (f) => {
    assert.equal((await parseDaemonConfig(['--config-file', f])).liveRestore, false);
  });
  await withFile({ 'live-restore': 'no' }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /live-restore/);
  });
});

test('default-address-pools: dockerd\'s list maps to Berth\'s one /24 pool; other sizes and several pools are refused', async () => {
  await withFile({ 'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }] }, async (f) => {
    assert.equal((await parseDaemonConfig(['--config-file', f])).addressPool, '10.10.0.0/16');
    await assert.rejects(parseDaemonConfig(['--config-file', f, '--default-address-pool', '10.9.0.0/16']), /both as a flag and in the configuration file: default-address-pools/);
  });
  await withFile({ 'default-address-pools': [{ base: '10.10.0.0/16', size: 26 }] }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /size 26 is not supported: Berth gives user networks \/24 subnets/);
  });
  await withFile({ 'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }, { base: '10.20.0.0/16', size: 24 }] }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /exactly one pool, 2 given/);
  });
  await withFile({ 'default-address-pools': [{ base: 'ten', size: 24 }] }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /invalid base ten/);
  });
  await withFile({}, async (f) => {
    assert.equal((await parseDaemonConfig(['--config-file', f, '--default-address-pool', 'base=10.30.0.0/16,size=24'])).addressPool, '10.30.0.0/16');
    assert.equal((await parseDaemonConfig(['--config-file', f, '--default-address-pool', '10.31.0.0/16'])).addressPool, '10.31.0.0/16');
  });
});

test('default-ulimits: dockerd\'s form, validated with go-units\' words', async () => {
  await withFile({ 'default-ulimits': { nofile: { Name: 'nofile', Hard: 64000, Soft: 64000 }, nproc: { soft: 100, hard: 200 } } }, async (f) => {
    assert.deepEqual((await parseDaemonConfig(['--config-file', f])).defaultUlimits,
      [{ Name: 'nofile', Soft: 64000, Hard: 64000 }, { Name: 'nproc', Soft: 100, Hard: 200 }]);
  });
  await withFile({ 'default-ulimits': { nofile: { Name: 'nofile', Hard: 10, Soft: 20 } } }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /ulimit soft limit must be less than or equal to hard limit: 20 > 10/);
  });
  await withFile({ 'default-ulimits': { bogus: { Name: 'bogus', Hard: 1, Soft: 1 } } }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /invalid ulimit type: bogus/);
  });
  await withFile({ 'default-ulimits': { nofile: { Name: 'nofile', Hard: '1', Soft: 1 } } }, async (f) => {
    await assert.rejects(parseDaemonConfig(['--config-file', f]), /nofile: Hard must be a number/);
  });
  await withFile({}, async (f) => {
    assert.deepEqual((await parseDaemonConfig(['--config-file', f, '--default-ulimit', 'nofile=1024:2048', '--default-ulimit', 'core=0'])).defaultUlimits,
      [{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'core', Soft: 0, Hard: 0 }]);
  });
});

test('log-driver and log-opts: known drivers and options only, values checked', async () => {
  await withFile({}, async (f) => {
    const c = await parseDaemonConfig(['--config-file', f]);
    assert.equal(c.logDriver, 'json-file');
    assert.deepEqual(c.logOpts, {});
    const o = await parseDaemonConfig(['--config-file', f, '--log-driver', 'local', '--log-opt', 'max-size=10m', '--log-opt', 'max-file=3']);
    assert.equal(o.logDriver, 'local');
    assert.deepEqual(o.logOpts, { 'max-size': '10m', 'max-file': '3' });
  });
  await withFile({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '1g', 'max-file': '5', compress: 'true' } }, async (f) => {
    assert.deepEqual((await parseDaemonConfig(['--config-file', f])).logOpts, { 'max-size': '1g', 'max-file': '5', compress: 'true' });
  });
  const bad: Array<[unknown, RegExp]> = [
    [{ 'log-driver': 'syslog' }, /no log driver named 'syslog' is registered/],
    [{ 'log-opts': { 'max-size': 'big' } }, /invalid size: 'big'/],
    [{ 'log-opts': { 'max-file': '0' } }, /max-file cannot be less than 1/],
    [{ 'log-opts': { 'max-file': 'x' } }, /strconv.Atoi: parsing "x": invalid syntax/],
    [{ 'log-opts': { 'max-file': 3 } }, /max-file: the value must be a string/],
    [{ 'log-opts': { compress: 'maybe' } }, /compress/],
    [{ 'log-opts': { labels: 'a' } }, /unknown log opt 'labels' for json-file log driver/],
    [{ 'log-driver': 'none', 'log-opts': { 'max-size': '1m' } }, /unknown log opt 'max-size' for none log driver/],
  ];
  for (const [content, re] of bad) await withFile(content, (f) => assert.rejects(parseDaemonConfig(['--config-file', f]), re));
  assert.equal(parseLogSize('10m'), 10 * 1024 * 1024);
  assert.equal(parseLogSize('1g'), 1024 ** 3);
  assert.equal(parseLogSize('512'), 512);
  assert.equal(parseLogSize('1.5kb'), 1536);
});

test('reload: what SIGHUP applies and what waits for a restart', async () => {
  await withFile({ 'log-level': 'info', mtu: 1500 }, async (f) => {
    const a = await parseDaemonConfig(['--config-file', f]);
    writeFileSync(f, JSON.stringify({ 'log-level': 'warn', mtu: 1400, 'registry-mirrors': ['https://m.test'], 'live-restore': false }));
    const b = await parseDaemonConfig(['--config-file', f]);
    assert.deepEqual(configChanges(a, b), { reload: ['log-level', 'registry-mirrors', 'live-restore'], restart: ['mtu'] });
    assert.deepEqual(configChanges(a, a), { reload: [], restart: [] });
  });
});

// berthd's command line is read by util/pflag.ts with pflag's rules and texts, as dockerd's is
// (cobra + pflag; dockerd prints the error, then "See 'dockerd --help'.", and exits 1).
test('flags: pflag forms (--flag=value, -Hvalue, repeated lists) and typed values', async () => {
  const dir = mkdtempSync('/tmp/berth-cfg-');
  try {
    writeFileSync(join(dir, 'd.json'), '{}');
    const c = await parseDaemonConfig([`--config-file=${join(dir, 'd.json')}`, '--data-root=/d', '-Hunix:///tmp/a.sock', '-H=unix:///tmp/b.sock',
      '--insecure-registry', 'r1:5000', '--insecure-registry=r2:5000', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2',
      '--default-ulimit', 'nofile=10:20', '--default-ulimit=nproc=5', '--mtu=1400', '--tls=false', '--live-restore=0', '--userland-proxy', '-Dl', 'warn']);
    assert.deepEqual(c.hosts, ['unix:///tmp/a.sock', 'unix:///tmp/b.sock']);
    assert.equal(c.dataRoot, '/d');
    assert.deepEqual(c.insecureRegistries, ['r1:5000', 'r2:5000']);
    assert.deepEqual(c.logOpts, { 'max-size': '1m', 'max-file': '2' });
    assert.deepEqual(c.defaultUlimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }, { Name: 'nproc', Soft: 5, Hard: 5 }]);
    assert.equal(c.mtu, 1400);
    assert.equal(c.tls.enabled, false);
    assert.equal(c.liveRestore, false);
    assert.equal(c.userlandProxy, true);
    assert.equal(c.debug, true);
    assert.equal(c.logLevel, 'debug');
    // A flag not given is not "given": daemon.json may set it without a conflict.
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ 'live-restore': false, tls: false }));
    const f = await parseDaemonConfig(['--config-file', join(dir, 'd.json'), '--debug']);
    assert.equal(f.liveRestore, false);
    await assert.rejects(parseDaemonConfig(['--config-file', join(dir, 'd.json'), '--live-restore']),
      /specified both as a flag and in the configuration file: live-restore/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flags: an unknown flag, a missing value, a bad value or an argument is a UsageError with pflag\'s text', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /^unknown flag: --bogus\nSee 'berthd --help'\.$/],
    [['-Z'], /^unknown shorthand flag: 'Z' in -Z\n/],
    [['--data-root'], /^flag needs an argument: --data-root\n/],
    [['-H'], /^flag needs an argument: 'H' in -H\n/],
    [['--mtu', 'big'], /^invalid argument "big" for "--mtu" flag: strconv\.ParseInt: parsing "big": invalid syntax\n/],
    [['--tls=maybe'], /^invalid argument "maybe" for "--tls" flag: strconv\.ParseBool: parsing "maybe": invalid syntax\n/],
    [['--log-level', 'loud'], /^invalid argument "loud" for "-l, --log-level" flag/],
    // A boolean takes its value only after '=': `--tls false` leaves "false" as an argument.
    [['--tls', 'false'], /^"berthd" accepts no arguments\.\nSee 'berthd --help'\.$/],
  ];
  for (const [argv, re] of cases) {
    await assert.rejects(parseDaemonConfig(argv), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${argv.join(' ')}: ${String(err)}`);
      assert.equal(err.exitCode, 1);
      assert.equal(err.help, false);
      assert.match(err.message, re);
      return true;
    });
  }
});

test('flags: --help and -h give the usage, every visible flag listed, status 0', async () => {
  for (const h of ['--help', '-h']) {
    await assert.rejects(parseDaemonConfig([h, '--bogus-after-help-is-still-unknown']), (err: unknown) => err instanceof UsageError && err.exitCode === 1);
    await assert.rejects(parseDaemonConfig([h]), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.help, true);
      assert.equal(err.exitCode, 0);
      assert.equal(err.message, daemonUsage());
      return true;
    });
  }
  const usage = daemonUsage();
  assert.match(usage, /^Usage:\tberthd \[OPTIONS\]\n/);
  for (const f of ['-H, --host list', '--data-root string', '-p, --pidfile string', '-l, --log-level string', '-D, --debug', '--tlsverify',
    '--default-ulimit ulimit', '--log-opt list', '--config-file string', '-h, --help']) {
    assert.ok(usage.includes(f), `${f} in the usage`);
  }
  assert.match(usage, /\(default\s+"\/etc\/berth\/daemon\.json"\)/);
});

test('storage-driver: overlay2 or fuse-overlayfs, by flag or daemon.json; anything else stops berthd with dockerd\'s text; absent when not given', async () => {
  const dir = mkdtempSync('/tmp/berth-cfg-');
  try {
    const none = join(dir, 'none.json');
    writeFileSync(none, '{}');
    assert.equal((await parseDaemonConfig(['--config-file', none])).storageDriver, undefined);
    assert.equal((await parseDaemonConfig(['--config-file', none, '--storage-driver', 'fuse-overlayfs'])).storageDriver, 'fuse-overlayfs');
    assert.equal((await parseDaemonConfig(['--config-file', none, '-s', 'overlay2'])).storageDriver, 'overlay2');
    const f = join(dir, 'd.json');
    writeFileSync(f, '{"storage-driver": "fuse-overlayfs"}');
    assert.equal((await parseDaemonConfig(['--config-file', f])).storageDriver, 'fuse-overlayfs');
    await assert.rejects(parseDaemonConfig(['--config-file', none, '--storage-driver', 'btrfs']),
      { message: 'error initializing graphdriver: driver not supported: btrfs (Berth has overlay2 and fuse-overlayfs)' });
    // a storage driver cannot change on SIGHUP: it needs a restart
    const a = await parseDaemonConfig(['--config-file', none]);
    const b = await parseDaemonConfig(['--config-file', none, '--storage-driver', 'fuse-overlayfs']);
    assert.deepEqual(configChanges(a, b).restart, ['storage-driver']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
