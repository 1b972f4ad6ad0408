import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDocuments, mergeService, stripMarkers, enforceUnique } from '../../../../src/compose/model/load/merge.ts';
import { parseComposeYaml } from '../../../../src/compose/model/load/yaml-file.ts';

const merge = (...texts: string[]): Record<string, unknown> => {
  let acc: Record<string, unknown> = {};
  for (const t of texts) acc = enforceUnique(mergeDocuments(acc, parseComposeYaml(t, 'f.yml'))) as Record<string, unknown>;
  return stripMarkers(acc) as Record<string, unknown>;
};
const web = (d: Record<string, unknown>): Record<string, unknown> => (d.services as Record<string, Record<string, unknown>>).web;

test('mappings merge recursively, scalars are overridden, null keeps the earlier value', () => {
  const d = merge('services:\n  web:\n    image: a\n    healthcheck: {interval: 1s, retries: 3}\n    hostname: h\n',
    'services:\n  web:\n    image: b\n    healthcheck: {retries: 5}\n    hostname: null\n  db:\n    image: pg\n');
  assert.deepEqual(web(d), { image: 'b', healthcheck: { interval: '1s', retries: 5 }, hostname: 'h' });
  assert.deepEqual(Object.keys(d.services as object), ['web', 'db']);
});

test('merge.md: command, entrypoint and healthcheck.test are replaced', () => {
  const d = merge('services:\n  web:\n    command: [a, b]\n    entrypoint: [x]\n    healthcheck: {test: [CMD, a]}\n',
    'services:\n  web:\n    command: [c]\n    entrypoint: sh\n    healthcheck: {test: [CMD, b]}\n');
  assert.deepEqual(web(d), { command: ['c'], entrypoint: 'sh', healthcheck: { test: ['CMD', 'b'] } });
});

test('merge.md: environment, labels, sysctls, build.args by key, list and map forms', () => {
  const d = merge('services:\n  web:\n    environment: [A=1, B=2, C]\n    labels: {x: "1"}\n    build: {context: ., args: [V=1]}\n    sysctls: [a=1]\n',
    'services:\n  web:\n    environment: {B: "3", D: "4"}\n    labels: [y=2]\n    build: {args: {V: "2"}}\n    sysctls: {a: "2"}\n');
  assert.deepEqual(web(d), {
    environment: { A: '1', B: '3', C: null, D: '4' },
    labels: { x: '1', y: '2' },
    build: { context: '.', args: { V: '2' } },
    sysctls: { a: '2' },
  });
});

test('merge.md: ports and expose appended, exact duplicates removed; dns string joins a list', () => {
  const d = merge('services:\n  web:\n    ports: ["8080:80", "9090:90"]\n    expose: ["1"]\n    dns: 8.8.8.8\n',
    'services:\n  web:\n    ports: ["8080:80", "7070:70"]\n    expose: [1, "2"]\n    dns: [1.1.1.1, 8.8.8.8]\n');
  assert.deepEqual(web(d), { ports: ['8080:80', '9090:90', '7070:70'], expose: [1, '2'], dns: ['8.8.8.8', '1.1.1.1'] });
});

test('merge.md: volumes by target, short and long syntax, the later one in the first place', () => {
  const d = merge('services:\n  web:\n    volumes: ["./a:/data", "logs:/logs", "/anon"]\n',
    'services:\n  web:\n    volumes: [{type: bind, source: ./b, target: /data}, "/anon", "c:/c:ro"]\n');
  assert.deepEqual(web(d).volumes, [{ type: 'bind', source: './b', target: '/data' }, 'logs:/logs', '/anon', 'c:/c:ro']);
});

test('secrets and configs by target; depends_on and networks list or map', () => {
  const d = merge('services:\n  web:\n    secrets: [s1, {source: s2, target: /t}]\n    depends_on: [db]\n    networks: [front]\n',
    'services:\n  web:\n    secrets: [{source: s1, mode: 0400}, {source: s3, target: /t}]\n    depends_on: {cache: {condition: service_healthy}}\n    networks: {front: {aliases: [w]}, back: null}\n');
  assert.deepEqual(web(d), {
    secrets: [{ source: 's1', mode: 0o400 }, { source: 's3', target: '/t' }],
    depends_on: { db: { condition: 'service_started', required: true }, cache: { condition: 'service_healthy' } },
    networks: { front: { aliases: ['w'] }, back: null },
  });
});

test('extra_hosts appended as Compose does (a host may have several addresses), duplicates dropped', () => {
  const d = merge('services:\n  web:\n    extra_hosts: ["a=1.1.1.1", "b=2.2.2.2"]\n', 'services:\n  web:\n    extra_hosts: {a: 3.3.3.3, b: 2.2.2.2}\n');
  assert.deepEqual(web(d).extra_hosts, ['a=1.1.1.1', 'b=2.2.2.2', 'a=3.3.3.3']);
});

test('networks ipam.config merged by subnet', () => {
  const d = merge('networks:\n  n:\n    ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.1}]}\n',
    'networks:\n  n:\n    ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.254}, {subnet: 10.1.0.0/24}]}\n');
  assert.deepEqual(d.networks, { n: { ipam: { config: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.254' }, { subnet: '10.1.0.0/24' }] } } });
});

test('build string form merges with a mapping; logging with another driver replaces', () => {
  const d = merge('services:\n  web:\n    build: ./dir\n    logging: {driver: json-file, options: {max-size: 1m}}\n',
    'services:\n  web:\n    build: {target: prod}\n    logging: {driver: syslog}\n');
  assert.deepEqual(web(d), { build: { context: './dir', target: 'prod' }, logging: { driver: 'syslog' } });
  const same = merge('services:\n  web:\n    logging: {driver: json-file, options: {a: "1"}}\n', 'services:\n  web:\n    logging: {options: {b: "2"}}\n');
  assert.deepEqual(web(same).logging, { driver: 'json-file', options: { a: '1', b: '2' } });
});

test('merge.md: !reset removes, !override replaces', () => {
  const d = merge('services:\n  web:\n    image: a\n    ports: ["1:1"]\n    environment: {A: "1", B: "2"}\n    build: .\n',
    'services:\n  web:\n    ports: !reset []\n    environment: !override {C: "3"}\n    build: !reset null\n');
  assert.deepEqual(web(d), { image: 'a', environment: { C: '3' } });
  // a !reset with nothing before it simply disappears
  assert.deepEqual(web(merge('services:\n  web:\n    image: !reset a\n    x: 1\n')), { x: 1 });
});

test('extends merge: the base under the extending service', () => {
  assert.deepEqual(mergeService({ image: 'a', environment: ['A=1'], command: ['x'] }, { environment: ['B=2'], command: ['y'] }), {
    image: 'a',
    environment: { A: '1', B: '2' },
    command: ['y'],
  });
});
