import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateName, generateName } from '../../../../src/engine/container/names.ts';
import { statusString, zeroTime } from '../../../../src/engine/container/status.ts';
import { humanDuration } from '../../../../src/util/go-units.ts';
import { parseSignal } from '../../../../src/engine/container/signals.ts';
import { containerResolvConf } from '../../../../src/engine/container/etc-files.ts';
import { createBodySchema } from '../../../../src/api/decode/containers.ts';
import { decode } from '../../../../src/api/decode/zod.ts';
import { InvalidParameter } from '../../../../src/errors.ts';

test('container names follow Docker\'s rule', () => {
  assert.equal(validateName('/web'), 'web');
  assert.equal(validateName('a.b-c_d'), 'a.b-c_d');
  assert.throws(() => validateName('x'), /Invalid container name \(x\)/);
  assert.throws(() => validateName('-bad'), InvalidParameter);
  assert.throws(() => validateName('has space'), InvalidParameter);
  const taken = new Set<string>();
  for (let i = 0; i < 30; i++) {
    const n = generateName((x) => taken.has(x));
    assert.ok(!taken.has(n));
    assert.match(n, /^[a-z]+_[a-z]+\d*$/);
    taken.add(n);
  }
});

test('human durations match go-units HumanDuration', () => {
  // status.ts passes milliseconds / 1000: fractions of a second count as go-units counts them.
  assert.equal(humanDuration(0.5), 'Less than a second');
  assert.equal(humanDuration(1), '1 second');
  assert.equal(humanDuration(45.999), '45 seconds');
  assert.equal(humanDuration(90), 'About a minute');
  assert.equal(humanDuration(10 * 60), '10 minutes');
  assert.equal(humanDuration(65 * 60), 'About an hour');
  assert.equal(humanDuration(5 * 3600), '5 hours');
});

test('status strings as docker ps prints them', () => {
  const now = Date.parse('2026-01-01T00:01:00Z');
  const base = { Status: 'running', Running: true, Paused: false, Restarting: false, Dead: false, ExitCode: 0,
    StartedAt: '2026-01-01T00:00:50Z', FinishedAt: zeroTime };
  assert.equal(statusString(base, now), 'Up 10 seconds');
  assert.equal(statusString({ ...base, Paused: true }, now), 'Up 10 seconds (Paused)');
  assert.equal(statusString({ ...base, Running: false, StartedAt: zeroTime, Status: 'created' }, now), 'Created');
  assert.equal(statusString({ ...base, Running: false, Status: 'exited', ExitCode: 3, FinishedAt: '2026-01-01T00:00:57Z' }, now), 'Exited (3) 3 seconds ago');
});

test('signals by name, short name and number', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('USR1'), 10);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal(undefined), 9);
  assert.throws(() => parseSignal('NOPE'), /Invalid signal: NOPE/);
  assert.throws(() => parseSignal('0'), InvalidParameter);
});

test('resolv.conf drops loopback resolvers and falls back like Docker', () => {
  // libnetwork FilterResolvDNS: the host's text less loopback resolvers, defaults appended after a newline.
  assert.equal(containerResolvConf('nameserver 127.0.0.53\nsearch example\n', {}), 'search example\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4');
  assert.equal(containerResolvConf('nameserver 10.0.0.2\noptions ndots:2\n', {}), 'nameserver 10.0.0.2\noptions ndots:2\n');
  // resolvconf.Build's order: search, nameservers, options.
  assert.equal(containerResolvConf('nameserver 10.0.0.2\n', { dns: ['1.1.1.1'], search: ['a.b'] }), 'search a.b\nnameserver 1.1.1.1\n');
  // A user network: the embedded server only (IPv6 resolvers kept), ndots:0 unless the user set ndots.
  assert.equal(containerResolvConf('nameserver 10.0.0.2\nnameserver 2001:db8::1\n', { embeddedDns: '127.0.0.11' }), 'nameserver 127.0.0.11\nnameserver 2001:db8::1\noptions ndots:0\n');
  assert.equal(containerResolvConf('nameserver 10.0.0.2\n', { dns: ['9.9.9.9'], search: ['x.y'], options: ['ndots:2'], embeddedDns: '127.0.0.11' }), 'search x.y\nnameserver 127.0.0.11\noptions ndots:2\n');
});

test('create body decoding is Go-lenient but rejects wrong types', () => {
  const ok = decode(createBodySchema, { Image: 'busybox', Cmd: 'true', Env: null, Unknown: { x: 1 }, HostConfig: null }, 'cfg');
  assert.deepEqual(ok.Cmd, ['true']);
  assert.equal(ok.Env, null);
  assert.throws(() => decode(createBodySchema, { Image: 'busybox', Cmd: 5 }, 'cfg'), (e: Error) => e instanceof InvalidParameter && /Cmd/.test(e.message));
  assert.throws(() => decode(createBodySchema, { Image: 'busybox', HostConfig: { AutoRemove: 'yes' } }, 'cfg'), /HostConfig\.AutoRemove/);
});
