import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyExtends } from '../../../../src/compose/model/load/extends.ts';
import { parseComposeYaml } from '../../../../src/compose/model/load/yaml-file.ts';

const docs: Record<string, string> = {
  '/p/lib/base.yml': 'services:\n  b:\n    image: lib\n    build: ./ctx\n    ports: ["1:1"]\n',
};
const ctx = { file: '/p/compose.yaml', baseDir: '/p', readDocument: async (f: string) => parseComposeYaml(docs[f] ?? '', f) };

test('extend.md: string form, chains, own keys win, lists appended', async () => {
  const doc = parseComposeYaml('services:\n  a: {image: a, ports: ["2:2"], environment: [X=1]}\n  b: {extends: a, environment: {Y: "2"}}\n  c: {extends: {service: b}, image: c, ports: ["3:3"]}\n', 'f');
  const out = (await applyExtends(doc, ctx)).services as Record<string, unknown>;
  assert.deepEqual(out.c, { image: 'c', ports: ['2:2', '3:3'], environment: { X: '1', Y: '2' } });
  assert.deepEqual(out.b, { image: 'a', ports: ['2:2'], environment: { X: '1', Y: '2' } });
});

test('extends a file: base paths relative to that file; !reset in the extending service', async () => {
  const doc = parseComposeYaml('services:\n  s:\n    extends: {file: lib/base.yml, service: b}\n    ports: !reset []\n', 'f');
  const out = (await applyExtends(doc, ctx)).services as Record<string, Record<string, unknown>>;
  assert.deepEqual(out.s, { image: 'lib', build: '/p/lib/ctx' });
});

test('a missing base is an error naming both services', async () => {
  await assert.rejects(applyExtends(parseComposeYaml('services:\n  s: {extends: nope}\n', 'f'), ctx), { message: 'cannot extend service "s" in /p/compose.yaml: service "nope" not found' });
  await assert.rejects(applyExtends(parseComposeYaml('services:\n  s: {extends: {file: lib/base.yml, service: x}}\n', 'f'), ctx), {
    message: 'cannot extend service "s" in /p/compose.yaml: service "x" not found in lib/base.yml',
  });
});
