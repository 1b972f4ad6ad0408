import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substitute, interpolateDocument } from '../../../../src/compose/model/load/interpolate.ts';

const env: Record<string, string> = { FOO: 'foo', EMPTY: '', B: 'bee' };
const look = (n: string): string | undefined => env[n];

test('interpolation.md forms, table', () => {
  const cases: [string, string][] = [
    ['$FOO', 'foo'],
    ['${FOO}', 'foo'],
    ['a-$FOO-b', 'a-foo-b'],
    ['$FOO.bar', 'foo.bar'],
    ['${UNSET:-def}', 'def'],
    ['${EMPTY:-def}', 'def'],
    ['${EMPTY-def}', ''],
    ['${UNSET-def}', 'def'],
    ['${FOO:-def}', 'foo'],
    ['${FOO:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET+alt}', ''],
    ['${UNSET:-${B}}', 'bee'],
    ['${UNSET:-${ALSO:-deep}}', 'deep'],
    ['${UNSET:-x${B}y}z', 'xbeeyz'],
    ['$$FOO', '$FOO'],
    ['$${FOO}', '${FOO}'],
    ['$1 $ x', '$1 $ x'],
    ['${UNSET:-a:b/c}', 'a:b/c'],
    ['no dollars', 'no dollars'],
    ['${FOO:?must}', 'foo'],
    ['${UNSET:-}', ''],
  ];
  for (const [tpl, want] of cases) assert.equal(substitute(tpl, look), want, tpl);
});

test('unset plain references are reported and become empty', () => {
  const unset: string[] = [];
  assert.equal(substitute('a${NOPE}b$NOPE2', look, (n) => unset.push(n)), 'ab');
  assert.deepEqual(unset, ['NOPE', 'NOPE2']);
  // a default is not a warning
  substitute('${NOPE:-x}', look, (n) => unset.push(n));
  assert.equal(unset.length, 2);
});

test('required variables fail with the reason', () => {
  assert.throws(() => substitute('${UNSET:?need it}', look), /^Error: required variable UNSET is missing a value: need it$/);
  assert.throws(() => substitute('${EMPTY:?x}', look), /required variable EMPTY is missing a value: x/);
  assert.equal(substitute('${EMPTY?x}', look), '');
  assert.throws(() => substitute('${UNSET?}', look), /required variable UNSET is missing a value$/);
});

test('document: values only, with paths in errors and one warning per variable', () => {
  const warnings: string[] = [];
  const out = interpolateDocument({ services: { web: { image: '${IMG:-busybox}', environment: { $KEY: '$NOPE', X: '$NOPE' }, ports: [8080, '${FOO}'] } } }, env, warnings);
  assert.deepEqual(out, { services: { web: { image: 'busybox', environment: { $KEY: '', X: '' }, ports: [8080, 'foo'] } } });
  assert.deepEqual(warnings, ['The "NOPE" variable is not set. Defaulting to a blank string.']);
  assert.throws(() => interpolateDocument({ services: { web: { image: '${' } } }, env, []),
    { message: 'invalid interpolation format for services.web.image: "${". You may need to escape any $ with another $.' });
  assert.throws(() => interpolateDocument({ services: { web: { command: ['${X:?set X}'] } } }, env, []),
    { message: 'error while interpolating services.web.command.[]: required variable X is missing a value: set X' });
  for (const bad of ['${}', '${1}', '${FOO:x}', '${FOO', '${FOO:-${B}']) {
    assert.throws(() => interpolateDocument({ k: bad }, env, []), /invalid interpolation format for k/, bad);
  }
});
