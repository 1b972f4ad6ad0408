import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../../src/api/router.ts';
import { splitVersion, compareVersions, requestedVersion, jsonErrors } from '../../../src/api/version.ts';
import { parseFilters } from '../../../src/api/filters.ts';
import { frame, FrameDecoder } from '../../../src/api/stdcopy.ts';
import { InvalidParameter } from '../../../src/errors.ts';

test('version prefixes: stripped, defaulted, and refused outside 1.12–1.47 with Docker\'s words', () => {
  assert.deepEqual(splitVersion('/v1.41/containers/json'), { version: '1.41', path: '/containers/json' });
  assert.deepEqual(splitVersion('/containers/json'), { version: '1.47', path: '/containers/json' });
  assert.throws(() => splitVersion('/v1.99/version'), { message: 'client version 1.99 is too new. Maximum supported API version is 1.47' });
  assert.deepEqual(splitVersion('/v1.12/version'), { version: '1.12', path: '/version' });
  assert.throws(() => splitVersion('/v1.11/version'), { message: 'client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version' });
  // errors before API 1.24 were plain text (moby's apiVersionSupportsJSONErrors)
  assert.equal(jsonErrors(requestedVersion('/v1.23/containers/x/json')), false);
  assert.equal(jsonErrors(requestedVersion('/v1.24/containers/x/json')), true);
  assert.equal(jsonErrors(requestedVersion('/_ping')), true);
  assert.equal(compareVersions('1.9', '1.10'), -1);
  assert.equal(compareVersions('1.47', '1.47'), 0);
});

test('router: greedy names across slashes, methods, HEAD falls back to GET', () => {
  const r = new Router();
  const h = (): void => {};
  r.add('GET', '/images/{name:.*}/json', h);
  r.add('GET', '/containers/{id}/json', h);
  r.add('DELETE', '/images/{name:.*}', h);
  const m = r.match('GET', '/images/127.0.0.1:5000/app/x:1/json');
  assert.ok(m && m !== 'method-not-allowed');
  assert.equal(m.params.name, '127.0.0.1:5000/app/x:1');
  const c = r.match('HEAD', '/containers/abc/json');
  assert.ok(c && c !== 'method-not-allowed');
  assert.equal(c.params.id, 'abc');
  assert.equal(r.match('POST', '/containers/abc/json'), 'method-not-allowed');
  assert.equal(r.match('GET', '/nope'), undefined);
  const del = r.match('DELETE', '/images/busybox%3Alatest');
  assert.ok(del && del !== 'method-not-allowed');
  assert.equal(del.params.name, 'busybox:latest');
});

test('filters: map of maps and legacy lists', () => {
  assert.deepEqual([...parseFilters('{"label":{"a=b":true,"c":true},"status":{"exited":true}}')], [['label', ['a=b', 'c']], ['status', ['exited']]]);
  // moby's filters.Args keeps every key of the inner map, whatever its boolean
  assert.deepEqual([...parseFilters('{"label":{"a=b":false}}')], [['label', ['a=b']]]);
  assert.deepEqual([...parseFilters('{"name":["web"]}')], [['name', ['web']]]);
  assert.equal(parseFilters(null).size, 0);
  assert.throws(() => parseFilters('{bad'), InvalidParameter);
  assert.throws(() => parseFilters('"x"'), InvalidParameter);
});

test('stdcopy frames: header layout and decoding across chunk boundaries', () => {
  const f = frame(1, Buffer.from('hello\n'));
  assert.deepEqual([...f.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 6]);
  const both = Buffer.concat([f, frame(2, Buffer.from('err\n'))]);
  const dec = new FrameDecoder();
  const out = [...dec.push(both.subarray(0, 5)), ...dec.push(both.subarray(5, 17)), ...dec.push(both.subarray(17))];
  assert.deepEqual(out.map((o) => [o.stream, o.data.toString()]), [[1, 'hello\n'], [2, 'err\n']]);
});
