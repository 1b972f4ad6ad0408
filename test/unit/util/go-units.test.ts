// util/go-units.ts against github.com/docker/go-units (duration.go; size.go as dockerd 20.10
// vendors it, v0.4) and Go's time.Time.String().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHumanSize, goTimeString, goTimeStringOfRfc3339, humanDuration, ramInBytes } from '../../../src/util/go-units.ts';
import { hexOf } from '../../../src/util/ids.ts';

test('humanDuration: go-units HumanDuration, boundaries included', () => {
  const cases: [number, string][] = [
    [-5, 'Less than a second'], [0.999, 'Less than a second'], [1, '1 second'], [59.9, '59 seconds'], [60, 'About a minute'],
    [119, 'About a minute'], [120, '2 minutes'], [3599, '59 minutes'], [3600, 'About an hour'], [5399, 'About an hour'],
    [5400, '2 hours'], [47 * 3600, '47 hours'], [48 * 3600, '2 days'], [14 * 86400, '2 weeks'], [60 * 86400, '2 months'],
    [730 * 86400, '2 years'],
    // int(d.Hours())/24/365 truncates the hours, where the months above round them
    [3 * 365 * 86400 - 1, '2 years'],
  ];
  for (const [s, text] of cases) assert.equal(humanDuration(s), text, String(s));
});

test('goTimeString: Go\'s time.Time.String() in UTC and in a zone with an abbreviation', () => {
  assert.equal(goTimeString(1_700_000_000, 'UTC'), '2023-11-14 22:13:20 +0000 UTC');
  assert.equal(goTimeString(1_700_000_000.25, 'UTC'), '2023-11-14 22:13:20.25 +0000 UTC');
  assert.equal(goTimeStringOfRfc3339('2023-11-14T22:13:20.500Z'), '2023-11-14 22:13:20.5 +0000 UTC');
  assert.equal(goTimeStringOfRfc3339('2023-11-14T23:13:20+01:00'), '2023-11-14 23:13:20 +0100 +0100');
  assert.equal(goTimeStringOfRfc3339('yesterday'), 'yesterday');
});

test('hexOf: a digest\'s hex', () => {
  assert.equal(hexOf('sha256:abc'), 'abc');
  assert.equal(hexOf('abc'), 'abc');
});

test('sizes: FromHumanSize decimal, RAMInBytes binary, go-units v0.4\'s refusals', () => {
  assert.equal(fromHumanSize('1m'), 1_000_000);
  assert.equal(fromHumanSize('10 KB'), 10_000);
  assert.equal(ramInBytes('1.5k'), 1536);
  assert.equal(ramInBytes('10MiB'), 10 * 1024 * 1024);
  assert.equal(ramInBytes('512'), 512);
  assert.equal(ramInBytes('1.5kb'), 1536);
  for (const s of ['10q', 'big', '-1', ' 10m', '10  m', '.5k', '']) assert.throws(() => ramInBytes(s), { message: `invalid size: '${s}'` }, JSON.stringify(s));
  assert.throws(() => fromHumanSize('1.2.3m'), { message: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
});
