import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadRawProject } from '../../../../src/compose/model/load/load-raw.ts';
import type { LoadOptions } from '../../../../src/compose/model/types.ts';

const FIX = resolve(import.meta.dirname, '../../../fixtures/compose/load');
const opts = (o: Partial<LoadOptions>): LoadOptions => ({ files: [], envFiles: [], profiles: [], env: {}, cwd: '/', ...o });
type Dict = Record<string, any>;

function tmp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-load-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('no -f: default names in cwd then parents, with the override; the project dir is the files dir', async () => {
  const dir = tmp({ 'app/compose.yaml': 'services:\n  web: {image: a}\n', 'app/compose.override.yaml': 'services:\n  web: {image: b}\n', 'app/sub/deeper/x': '' });
  try {
    const p = await loadRawProject(opts({ cwd: join(dir, 'app/sub/deeper') }));
    assert.deepEqual(p.configFiles, [join(dir, 'app/compose.yaml'), join(dir, 'app/compose.override.yaml')]);
    assert.equal(p.workingDir, join(dir, 'app'));
    assert.equal(p.name, 'app');
    assert.deepEqual((p.dict as Dict).services, { web: { image: 'b' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('both compose.yaml and docker-compose.yml: a warning, compose.yaml wins', async () => {
  const dir = tmp({ 'compose.yaml': 'services:\n  a: {image: a}\n', 'docker-compose.yml': 'services:\n  b: {image: b}\n' });
  try {
    const p = await loadRawProject(opts({ cwd: dir }));
    assert.deepEqual(p.configFiles, [join(dir, 'compose.yaml')]);
    assert.deepEqual(p.warnings, [`Found multiple config files with supported names: ${join(dir, 'compose.yaml')}, ${join(dir, 'docker-compose.yml')}`, `Using ${join(dir, 'compose.yaml')}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing files: Compose texts', async () => {
  const dir = tmp({});
  try {
    await assert.rejects(loadRawProject(opts({ cwd: dir })), { message: 'no configuration file provided: not found' });
    await assert.rejects(loadRawProject(opts({ cwd: dir, files: ['nope.yml'] })), { message: `open ${join(dir, 'nope.yml')}: no such file or directory` });
    await assert.rejects(loadRawProject(opts({ cwd: dir, projectName: 'A B' })), /^Error: invalid project name "A B"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('COMPOSE_FILE (from .env too) with COMPOSE_PATH_SEPARATOR; -f and stdin', async () => {
  const dir = tmp({ 'a.yml': 'services:\n  s: {image: a, environment: [A=1]}\n', 'b.yml': 'services:\n  s: {environment: [B=2]}\n', '.env': 'COMPOSE_FILE=a.yml;b.yml\nCOMPOSE_PATH_SEPARATOR=;\n' });
  try {
    const p = await loadRawProject(opts({ cwd: dir }));
    assert.deepEqual(p.configFiles, [join(dir, 'a.yml'), join(dir, 'b.yml')]);
    assert.deepEqual((p.dict as Dict).services, { s: { image: 'a', environment: { A: '1', B: '2' } } });
    const s = await loadRawProject(opts({ cwd: dir, files: ['-'], stdin: async () => 'name: fromstdin\nservices:\n  x: {image: "${IMG:-i}"}\n' }));
    assert.equal(s.name, 'fromstdin');
    assert.equal(s.workingDir, dir);
    assert.deepEqual(s.dict.services, { x: { image: 'i' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('.env and --env-file: the process environment wins; --env-file replaces .env', async () => {
  const dir = tmp({ 'compose.yaml': 'services:\n  s:\n    image: "${IMG}:${TAG}"\n    labels: [x=$UNSET_ONE]\n', '.env': 'IMG=fromdotenv\nTAG=dot\n', 'other.env': 'IMG=fromother\n' });
  try {
    const p = await loadRawProject(opts({ cwd: dir, env: { TAG: 'proc' } }));
    assert.equal((p.dict as Dict).services.s.image, 'fromdotenv:proc');
    assert.equal(p.environment.IMG, 'fromdotenv');
    assert.deepEqual(p.warnings, ['The "UNSET_ONE" variable is not set. Defaulting to a blank string.']);
    const q = await loadRawProject(opts({ cwd: dir, envFiles: ['other.env'] }));
    assert.equal((q.dict as Dict).services.s.image, 'fromother:');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('project name precedence and normalization', async () => {
  const dir = tmp({ 'My.Proj/compose.yaml': 'name: "${N:-}"\nservices: {}\n' });
  const cwd = join(dir, 'My.Proj');
  try {
    assert.equal((await loadRawProject(opts({ cwd }))).name, 'myproj');
    assert.equal((await loadRawProject(opts({ cwd, env: { N: 'From_File' } }))).name, 'from_file');
    assert.equal((await loadRawProject(opts({ cwd, env: { N: 'x', COMPOSE_PROJECT_NAME: 'envname' } }))).name, 'envname');
    assert.equal((await loadRawProject(opts({ cwd, projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'envname' } }))).name, 'flag');
    await assert.rejects(loadRawProject(opts({ cwd, projectName: 'Bad' })), {
      message: 'invalid project name "Bad": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number',
    });
    const other = await loadRawProject(opts({ cwd, projectDirectory: dir, files: ['compose.yaml'] }));
    assert.equal(other.workingDir, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('include.md: an included project with its own .env, paths rebased to its directory', async () => {
  const p = await loadRawProject(opts({ cwd: join(FIX, 'include') }));
  const sub = join(FIX, 'include/sub');
  assert.deepEqual(Object.keys((p.dict as Dict).services).sort(), ['db', 'web']);
  assert.equal((p.dict as Dict).services.web.image, 'web:main');
  // the including project's environment wins over the included .env
  assert.equal((p.dict as Dict).services.db.image, 'pg:15-main');
  assert.equal((p.dict as Dict).services.db.build, sub);
  assert.equal((p.dict as Dict).services.db.env_file, join(sub, 'db.env'));
  assert.deepEqual((p.dict as Dict).services.db.volumes, [`${sub}/data:/data`, 'named:/x', { type: 'bind', source: join(sub, 'conf'), target: '/conf' }]);
  assert.deepEqual(p.dict.secrets, { s: { file: join(sub, 's.txt') } });
  assert.deepEqual(p.dict.volumes, { named: {} });
  assert.equal(p.dict.include, undefined);
});

test('include: conflicts and cycles are errors', async () => {
  await assert.rejects(loadRawProject(opts({ cwd: join(FIX, 'include-conflict') })), { message: 'services.db conflicts with imported resource' });
  const a = join(FIX, 'include-cycle/a.yaml');
  const b = join(FIX, 'include-cycle/b.yaml');
  await assert.rejects(loadRawProject(opts({ cwd: '/', files: [a] })), { message: `include cycle detected:\n${a}\n include ${b}\n include ${a}` });
});

test('extend.md: from another file (paths rebased) and the same file, recursively', async () => {
  const p = await loadRawProject(opts({ cwd: join(FIX, 'extends'), env: { TAG: '1' } }));
  const common = join(FIX, 'extends/common');
  assert.deepEqual((p.dict as Dict).services.web, {
    image: 'base:1',
    environment: { A: '1', B: '2' },
    build: common,
    volumes: [`${common}/src:/src`],
    env_file: [join(common, 'app.env')],
    command: ['web'],
  });
  assert.deepEqual((p.dict as Dict).services.worker.command, ['work']);
  assert.equal((p.dict as Dict).services.worker.image, 'base:1');
  assert.equal((p.dict as Dict).services.worker.extends, undefined);
  assert.deepEqual((p.dict as Dict).services.plain, { image: 'p' });
});

test('extends: a cycle is Compose\'s Circular reference', async () => {
  const f = join(FIX, 'extends/cycle.yaml');
  await assert.rejects(loadRawProject(opts({ cwd: '/', files: [f] })), { message: `Circular reference:\n  a in ${f}\n  extends b in ${f}\n  extends c in ${f}\n  extends a in ${f}` });
});

test('several -f: merged in order, x-* kept, !reset across files', async () => {
  const dir = tmp({
    'a.yml': 'x-common: &c {restart: always}\nservices:\n  web:\n    <<: *c\n    image: a\n    ports: ["80:80"]\n    x-note: keep\n',
    'b.yml': 'services:\n  web:\n    ports: !reset []\n    image: b\n',
  });
  try {
    const p = await loadRawProject(opts({ cwd: dir, files: ['a.yml', 'b.yml'] }));
    assert.deepEqual(p.dict, { 'x-common': { restart: 'always' }, services: { web: { restart: 'always', image: 'b', 'x-note': 'keep' } } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a service may extend an included one; several documents merge; version is dropped with a warning', async () => {
  const dir = tmp({
    'compose.yaml': 'version: "3.8"\ninclude: [lib/lib.yaml]\nservices:\n  app:\n    extends: base\n    command: [run]\n---\nservices:\n  app:\n    environment: [X=1]\n',
    'lib/lib.yaml': 'services:\n  base:\n    image: base\n    build: .\n',
  });
  try {
    const p = await loadRawProject(opts({ cwd: dir }));
    assert.deepEqual((p.dict as Dict).services.app, { image: 'base', build: join(dir, 'lib'), command: ['run'], environment: ['X=1'] });
    assert.equal((p.dict as Dict).version, undefined);
    assert.deepEqual(p.warnings, [`${join(dir, 'compose.yaml')}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
