// The pure parts of the registry's hardening (issue 16 finding 6): which listen hosts are
// exposed, the key a client's connections and failures count against, and the failed-login back-off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposureWarnings, isLoopbackHost } from '../../../src/registry/exposure.ts';
import { clientKey } from '../../../src/registry/connection-guard.ts';
import { FailureLimiter } from '../../../src/registry/failure-limiter.ts';

test('loopback hosts are not exposed; every other host is', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '192.168.1.5', 'registry.example', '::ffff:10.0.0.1', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
});

test('exposure warnings: one per missing protection, none on loopback', () => {
  assert.deepEqual(exposureWarnings({ host: '127.0.0.1', tls: false, auth: false }), []);
  assert.equal(exposureWarnings({ host: '0.0.0.0', tls: true, auth: true }).length, 0);
  const both = exposureWarnings({ host: '0.0.0.0', tls: false, auth: false });
  assert.equal(both.length, 2);
  assert.match(both[0]!, /every interface without TLS/);
  assert.match(both[1]!, /every interface without authentication/);
  assert.deepEqual(exposureWarnings({ host: '10.1.2.3', tls: true, auth: false }).map((l) => /10\.1\.2\.3 without authentication/.test(l)), [true]);
  assert.deepEqual(exposureWarnings({ host: '10.1.2.3', tls: false, auth: true }).map((l) => /without TLS/.test(l)), [true]);
});

test('clientKey: IPv4 as is (also IPv4-mapped), IPv6 by its /64', () => {
  assert.equal(clientKey('10.0.0.7'), '10.0.0.7');
  assert.equal(clientKey('::ffff:10.0.0.7'), '10.0.0.7');
  assert.equal(clientKey('2001:db8:1:2::5'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002::'), '2001:db8:1:2::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1'), 'fe80:0:0:0::/64');
  assert.equal(clientKey(undefined), 'unknown');
});

test('failure back-off: free attempts, then doubling blocks up to the maximum; success resets the user; keys are forgotten', () => {
  let now = 1_000_000;
  const l = new FailureLimiter({ free: 2, baseMs: 1000, maxMs: 4000, forgetMs: 60_000, maxKeys: 3 }, () => now);
  const keys = ['user:a', 'addr:1.2.3.4'];
  l.attempt(keys);
  l.attempt(keys);
  assert.equal(l.retryAfter(keys), 0, 'two free failures');
  l.attempt(keys);
  assert.equal(l.retryAfter(keys), 1000);
  assert.equal(l.retryAfter(['user:b']), 0, 'another user is not blocked');
  assert.equal(l.retryAfter(['user:b', 'addr:1.2.3.4']), 1000, 'but the same address is');
  now += 1000;
  l.attempt(keys);
  assert.equal(l.retryAfter(keys), 2000);
  now += 2000;
  l.attempt(keys);
  l.attempt(keys);
  assert.equal(l.retryAfter(keys), 4000, 'capped at maxMs');
  // A right password: the user starts over, the address only loses that attempt.
  l.succeeded(['user:a'], ['addr:1.2.3.4']);
  assert.equal(l.retryAfter(['user:a']), 0);
  assert.equal(l.retryAfter(['addr:1.2.3.4']), 4000);
  // Forgotten after forgetMs without a failure, once the block is over.
  now += 61_000;
  assert.equal(l.retryAfter(['addr:1.2.3.4']), 0);
  l.attempt(['addr:1.2.3.4']);
  assert.equal(l.retryAfter(['addr:1.2.3.4']), 0, 'counting starts over');
  // The table is bounded: the oldest key goes.
  for (const k of ['k1', 'k2', 'k3', 'k4']) { l.attempt([k]); l.attempt([k]); l.attempt([k]); }
  assert.equal(l.retryAfter(['addr:1.2.3.4']), 0);
  assert.equal(l.retryAfter(['k1']), 0, 'k1 was dropped');
  assert.equal(l.retryAfter(['k4']), 1000);
});
