// Table tests for moby's filters.Args semantics and the list-filter parsers built on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { match, exactMatch, matchKVList, validateFilters, type Filters } from '../../../src/engine/filter-args.ts';
import { globToRegExp } from '../../../src/engine/filters.ts';
import { InvalidParameter } from '../../../src/errors.ts';

const f = (o: Record<string, string[]>): Filters => new Map(Object.entries(o));

test('match: a value equals the source or matches it as a regular expression; a bad one matches nothing', () => {
  assert.equal(match(f({}), 'name', '/web'), true);
  assert.equal(match(f({ name: ['^/web$'] }), 'name', '/web'), true);
  assert.equal(match(f({ name: ['^web$'] }), 'name', '/web'), false);
  assert.equal(match(f({ name: ['eb'] }), 'name', '/web'), true);
  assert.equal(match(f({ name: ['nope', 'w[ae]b'] }), 'name', '/web'), true);
  assert.equal(match(f({ name: ['['] }), 'name', '/web'), false);
  assert.equal(match(f({ name: ['['] }), 'name', '['), true);
});

test('exactMatch and label lists: k present, k=v equal, all of them', () => {
  assert.equal(exactMatch(f({ health: ['none'] }), 'health', 'none'), true);
  assert.equal(exactMatch(f({ health: ['non'] }), 'health', 'none'), false);
  const labels = { app: 'web', tier: '' };
  assert.equal(matchKVList(f({ label: ['app', 'tier='] }), 'label', labels), true);
  assert.equal(matchKVList(f({ label: ['app=db'] }), 'label', labels), false);
  assert.equal(matchKVList(f({ label: ['toString'] }), 'label', labels), false);
  assert.equal(matchKVList(f({ label: ['app'] }), 'label', null), false);
});

test('validate: the first unknown key, in moby 23\'s words', () => {
  assert.throws(() => validateFilters(f({ name: ['x'], colour: ['red'] }), ['name']), (e: unknown) => e instanceof InvalidParameter && e.message === "invalid filter 'colour'");
});

test('reference globs are Go\'s path.Match: * and ? stop at /, classes, escapes, bad patterns refused', () => {
  const cases: [string, string, boolean][] = [
    ['busybox', 'busybox', true], ['busy*', 'busybox', true], ['*', 'library/busybox', false], ['*/bb', 'other/bb', true],
    ['fimg/*:1', 'fimg/base:1', true], ['fimg/*:1', 'fimg/base:2', false], ['b?sybox', 'busybox', true], ['b[a-z]sybox', 'busybox', true],
    ['b[^u]sybox', 'busybox', false], ['a.b', 'axb', false], ['a\\*', 'a*', true], ['a\\*', 'ab', false],
  ];
  for (const [pattern, s, want] of cases) assert.equal(globToRegExp(pattern).test(s), want, `${pattern} ~ ${s}`);
  for (const bad of ['[', '[]', 'a\\', '[z-a]', '[a-']) assert.throws(() => globToRegExp(bad), { message: 'syntax error in pattern' }, bad);
});
