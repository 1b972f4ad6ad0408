import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseComposeYaml, parseComposeYamlDocuments, RESET, Override } from '../../../../src/compose/model/load/yaml-file.ts';

test('anchors, aliases and merge keys resolve', () => {
  const d = parseComposeYaml('x-base: &b {image: a, ports: ["1"]}\nservices:\n  web:\n    <<: *b\n    image: c\n', 'f.yml');
  assert.deepEqual(d.services, { web: { image: 'c', ports: ['1'] } });
  assert.deepEqual(d['x-base'], { image: 'a', ports: ['1'] });
});

test('!reset and !override become markers', () => {
  const d = parseComposeYaml('services:\n  web:\n    ports: !reset []\n    environment: !override {A: "1"}\n    image: !reset null\n', 'f.yml');
  const web = (d.services as Record<string, Record<string, unknown>>).web;
  assert.equal(web.ports, RESET);
  assert.equal(web.image, RESET);
  assert.ok(web.environment instanceof Override);
  assert.deepEqual((web.environment as Override).value, { A: '1' });
});

test('leading-zero integers are octal as in yaml.v3', () => {
  assert.equal(parseComposeYaml('mode: 0440\n', 'f').mode, 0o440);
  assert.equal(parseComposeYaml('n: 10\n', 'f').n, 10);
});

test('a syntax error names the file and line, one line', () => {
  assert.throws(() => parseComposeYaml('services:\n  web:\n image: a\n  b: c\n', '/p/compose.yaml'), (e: Error) => {
    assert.match(e.message, /^failed to parse \/p\/compose.yaml: yaml: line \d+: /);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
});

test('empty file is an empty mapping; a list is not', () => {
  assert.deepEqual(parseComposeYaml('', 'f'), {});
  assert.throws(() => parseComposeYaml('- a\n', 'f'), /top-level object must be a mapping/);
});

test('several documents in one file come back in order', () => {
  assert.deepEqual(parseComposeYamlDocuments('services:\n  a: {image: a}\n---\nservices:\n  a: {image: b}\n', 'f'), [
    { services: { a: { image: 'a' } } },
    { services: { a: { image: 'b' } } },
  ]);
  assert.deepEqual(parseComposeYamlDocuments('', 'f'), [{}]);
});
