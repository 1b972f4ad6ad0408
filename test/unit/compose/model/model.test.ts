// The model's error paths and rules, each with the text Compose v2 prints: validation (unknown
// fields, wrong types, `version:`), the dependency graph (undefined service, cycle), profiles,
// and the parsers behind the normal form (ports, shell words, durations), plus config's other
// output forms (JSON, --services and the other lists).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { projectFromRaw } from '../../../../src/compose/model/load-project.ts';
import { validateDict, VERSION_OBSOLETE_WARNING } from '../../../../src/compose/model/validate.ts';
import { normalizePort } from '../../../../src/compose/model/normalize.ts';
import { splitShellWords } from '../../../../src/compose/model/shellwords.ts';
import { normalizeDuration } from '../../../../src/compose/model/go-duration.ts';
import { renderConfig, renderConfigList } from '../../../../src/compose/model/render.ts';
import { ComposeError } from '../../../../src/compose/model/types.ts';

const FILE = '/p/compose.yaml';

function load(yaml: string, profiles: string[] = [], services: string[] = []) {
  const dict = parse(yaml) as Record<string, unknown>;
  return projectFromRaw({ name: 'p', workingDir: '/p', configFiles: [FILE], environment: {}, dict }, profiles, services);
}

function fails(yaml: string, message: string, profiles: string[] = [], services: string[] = []) {
  assert.throws(() => load(yaml, profiles, services), (e: unknown) => {
    assert.ok(e instanceof ComposeError, `not a ComposeError: ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

test('an unknown service field is refused with its path, as Compose words it', () => {
  fails('services:\n  web:\n    image: a\n    foo: 1\n', `validating ${FILE}: services.web Additional property foo is not allowed`);
});

test('an unknown top-level key is refused at (root); x- keys are accepted anywhere', () => {
  fails('services: {}\nfoo: 1\n', `validating ${FILE}: (root) Additional property foo is not allowed`);
  const { project } = load('x-top: 1\nservices:\n  web:\n    image: a\n    x-mine: {a: 1}\n');
  assert.deepEqual(project.extensions, { 'x-top': 1 });
  assert.deepEqual(project.services.web!.extensions, { 'x-mine': { a: 1 } });
});

test('a wrong type names the field and what was expected', () => {
  fails('services:\n  web:\n    image: a\n    ports:\n      - true\n', `validating ${FILE}: services.web.ports.0 must be a number, string or mapping`);
  fails('services:\n  web:\n    image: [a]\n', `validating ${FILE}: services.web.image must be a string`);
  fails('services:\n  web:\n    image: a\n    cap_add: ALL\n', `validating ${FILE}: services.web.cap_add must be a list`);
  fails('services:\n  web:\n    image: a\n    deploy:\n      resources:\n        limits:\n          cpu: 1\n',
    `validating ${FILE}: services.web.deploy.resources.limits Additional property cpu is not allowed`);
  fails('services:\n  web:\n    image: a\n    depends_on:\n      db:\n        condition: started\n',
    `validating ${FILE}: services.web.depends_on.db.condition must be one of the following: "service_started", "service_healthy", "service_completed_successfully"`);
  fails('services:\n  web: 3\n', `validating ${FILE}: services.web must be a mapping`);
});

test('version: is accepted and ignored, with Compose\'s warning', () => {
  assert.deepEqual(validateDict({ version: '3.8', services: {} }, FILE), [VERSION_OBSOLETE_WARNING]);
  const { warnings } = load('version: "3"\nservices:\n  a:\n    image: x\n');
  assert.deepEqual(warnings, ['the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion']);
});

test('depends_on naming an unknown service is an invalid project', () => {
  fails('services:\n  web:\n    image: a\n    depends_on: [db]\n', 'service "web" depends on undefined service "db": invalid compose project');
  // required: false tolerates it, and the dependency is dropped.
  const { project } = load('services:\n  web:\n    image: a\n    depends_on:\n      db:\n        condition: service_started\n        required: false\n');
  assert.deepEqual(project.services.web!.depends_on, {});
});

test('a depends_on cycle is detected', () => {
  fails('services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n', 'dependency cycle detected: a -> b -> a');
  fails('services:\n  a:\n    image: x\n    depends_on: [a]\n', 'dependency cycle detected: a -> a');
});

test('profiles: a dependency on a disabled service is an error; named services and their dependencies are enabled', () => {
  const yaml = 'services:\n  web:\n    image: a\n    depends_on: [db]\n  db:\n    image: b\n    profiles: [data]\n';
  fails(yaml, 'service "db" is required by "web" but is disabled. Can be enabled by profiles [data]');
  assert.deepEqual(Object.keys(load(yaml, ['data']).project.services).sort(), ['db', 'web']);
  assert.deepEqual(Object.keys(load(yaml, ['*']).project.services).sort(), ['db', 'web']);
  const tools = 'services:\n  web:\n    image: a\n  tool:\n    image: t\n    profiles: [tools]\n    depends_on: [helper]\n  helper:\n    image: h\n    profiles: [other]\n';
  const { project } = load(tools, [], ['tool']);
  assert.deepEqual(Object.keys(project.services).sort(), ['helper', 'tool', 'web']);
  assert.deepEqual(Object.keys(load(tools).project.disabledServices).sort(), ['helper', 'tool']);
  fails(tools, 'no such service: nope', [], ['nope']);
  assert.equal(renderConfigList(load(tools).project, 'profiles'), 'other\ntools\n');
});

test('ports: short syntax, ranges, IPv6, and bad specs', () => {
  assert.deepEqual(normalizePort('127.0.0.1:8080-8081:80-81/udp', 'p'), [
    { mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'udp' },
    { mode: 'ingress', host_ip: '127.0.0.1', target: 81, published: '8081', protocol: 'udp' },
  ]);
  assert.deepEqual(normalizePort(80, 'p'), [{ mode: 'ingress', target: 80, protocol: 'tcp' }]);
  assert.deepEqual(normalizePort('[::1]:53:53/udp', 'p'), [{ mode: 'ingress', host_ip: '::1', target: 53, published: '53', protocol: 'udp' }]);
  assert.throws(() => normalizePort('8080-8082:80-81', 'services.web.ports.0'), /services\.web\.ports\.0: invalid port "8080-8082:80-81": port ranges don't match/);
  assert.throws(() => normalizePort('abc', 'p'), /invalid container port/);
});

test('command strings split like mattn/go-shellwords', () => {
  assert.deepEqual(splitShellWords(`sh -c 'echo "a b"'`), ['sh', '-c', 'echo "a b"']);
  assert.deepEqual(splitShellWords('echo "x \\"y\\"" a\\ b'), ['echo', 'x "y"', 'a b']);
  assert.deepEqual(splitShellWords('  '), []);
  assert.throws(() => splitShellWords('echo "open'), ComposeError);
});

test('durations print as Go prints time.Duration', () => {
  assert.equal(normalizeDuration('90s', 'f'), '1m30s');
  assert.equal(normalizeDuration('1h', 'f'), '1h0m0s');
  assert.equal(normalizeDuration('1.5s', 'f'), '1.5s');
  assert.equal(normalizeDuration('500ms', 'f'), '500ms');
  assert.throws(() => normalizeDuration('10', 'services.web.healthcheck.interval'), /services\.web\.healthcheck\.interval: time: invalid duration "10"/);
});

test('sizes: mem_limit and shm_size become bytes; a bad size is a clear error', () => {
  const { project } = load('services:\n  web:\n    image: a\n    mem_limit: 64m\n    shm_size: 1g\n');
  assert.equal(project.services.web!.mem_limit, 64 * 1024 * 1024);
  assert.equal(project.services.web!.shm_size, 1024 ** 3);
  fails('services:\n  web:\n    image: a\n    mem_limit: lots\n', "services.web.mem_limit: invalid size: 'lots'");
});

test('config --services lists the enabled services, dependencies first', () => {
  const { project } = load('services:\n  web:\n    image: a\n    depends_on: [db, cache]\n  db:\n    image: b\n  cache:\n    image: c\n    depends_on: [db]\n  off:\n    image: d\n    profiles: [x]\n');
  assert.equal(renderConfigList(project, 'services'), 'db\ncache\nweb\n');
  assert.equal(renderConfigList(project, 'images'), 'c\nb\na\n');
  assert.equal(renderConfigList(project, 'networks'), 'default\n');
});

test('config --format json: the same document, top-level keys sorted as Go marshals a map', () => {
  const { project } = load('services:\n  web:\n    image: a\n    ports: ["80:80"]\n    mem_limit: 1k\n');
  const json = renderConfig(project, { format: 'json' });
  assert.deepEqual(Object.keys(JSON.parse(json)), ['name', 'networks', 'services']);
  assert.deepEqual(JSON.parse(json).services.web.ports, [{ mode: 'ingress', target: 80, published: '80', protocol: 'tcp' }]);
  assert.equal(JSON.parse(json).services.web.mem_limit, '1024');
});

test('unused networks, volumes, secrets and configs are left out', () => {
  const { project } = load('services:\n  web:\n    image: a\n    network_mode: host\nnetworks:\n  n: {}\nvolumes:\n  v: {}\nsecrets:\n  s:\n    file: ./s\n');
  assert.deepEqual([project.networks, project.volumes, project.secrets], [{}, {}, {}]);
});

test('a service naming an undeclared network, volume, secret or config is an invalid project', () => {
  fails('services:\n  web:\n    image: a\n    networks: [front]\n', 'service "web" refers to undefined network front: invalid compose project');
  fails('services:\n  web:\n    image: a\n    volumes: ["data:/data"]\n', 'service "web" refers to undefined volume data: invalid compose project');
  fails('services:\n  web:\n    image: a\n    secrets: [token]\n', 'service "web" refers to undefined secret token: invalid compose project');
  fails('services:\n  web:\n    image: a\n    configs: [conf]\n', 'service "web" refers to undefined config conf: invalid compose project');
  // A bind mount or an anonymous volume needs no declaration.
  load('services:\n  web:\n    image: a\n    volumes: ["./d:/d", "/anon"]\n');
});
