// util/signals.ts against moby/sys/signal's ParseSignal (signal.go, signal_linux.go at moby
// v27.4.0's vendor tree); the StopSignal cases were each run against Debian's dockerd 20.10
// (`docker create --stop-signal X`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal, parseStopSignal, validSignalForPlatform } from '../../../src/util/signals.ts';
import { InvalidParameter } from '../../../src/errors.ts';

test('parseSignal: names with or without SIG in any case, as moby\'s map spells them', () => {
  const cases: [string, number][] = [
    ['SIGTERM', 15], ['TERM', 15], ['term', 15], ['sigterm', 15], ['SigKill', 9], ['USR1', 10], ['HUP', 1],
    ['CLD', 17], ['CHLD', 17], ['IOT', 6], ['POLL', 29], ['STKFLT', 16], ['PWR', 30], ['SYS', 31],
    ['RTMIN', 34], ['SIGRTMIN+3', 37], ['rtmin+3', 37], ['RTMIN+15', 49], ['RTMAX-14', 50], ['sigrtmax-2', 62], ['RTMAX', 64],
  ];
  for (const [raw, n] of cases) assert.equal(parseSignal(raw), n, raw);
});

test('parseSignal: any Go int but 0 is taken as it is (strconv.Atoi: a sign, leading zeros)', () => {
  const cases: [string, number][] = [['9', 9], ['015', 15], ['+5', 5], ['-1', -1], ['100', 100], ['9223372036854775807', 2 ** 63 - 1]];
  for (const [raw, n] of cases) assert.equal(parseSignal(raw), n, raw);
});

test('parseSignal: refusals with dockerd\'s text', () => {
  for (const raw of ['0', '-0', 'NOPE', 'SIGSIGTERM', 'RTMIN+0', 'RTMIN+16', 'RTMAX-0', 'RTMAX-15', 'RTMIN+03', 'RTMIN-1',
    ' 9', '9 ', '', '1e3', '0x10', '9223372036854775808', 'SIG']) {
    assert.throws(() => parseSignal(raw), (e: unknown) => e instanceof InvalidParameter && e.message === `Invalid signal: ${raw}`, JSON.stringify(raw));
  }
});

test('validSignalForPlatform: 1-31 and 34-64, as the Linux map holds', () => {
  for (const n of [1, 31, 34, 64]) assert.equal(validSignalForPlatform(n), true, String(n));
  for (const n of [-1, 0, 32, 33, 65, 100]) assert.equal(validSignalForPlatform(n), false, String(n));
});

test('parseStopSignal: STOPSIGNAL SIGRTMIN+3 builds and runs; numbers must be 1-64', () => {
  assert.equal(parseStopSignal('SIGRTMIN+3'), 37);
  assert.equal(parseStopSignal('64'), 64);
  assert.equal(parseStopSignal('32'), 32);
  for (const raw of ['65', '100', '-1', '0', 'bogus']) assert.throws(() => parseStopSignal(raw), { message: `Invalid signal: ${raw}` });
});
