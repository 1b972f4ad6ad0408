import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeProjectName, projectName } from '../../../../src/compose/model/load/project-name.ts';

test('normalization as compose-go: lowercase, [a-z0-9_-] only, no leading - or _', () => {
  const cases: [string, string][] = [
    ['MyApp', 'myapp'],
    ['my.app v2', 'myappv2'],
    ['__x-y', 'x-y'],
    ['-_-', ''],
    ['Ünïcode9', 'ncode9'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeProjectName(input), want, input);
});

test('precedence: -p, COMPOSE_PROJECT_NAME, name:, directory', () => {
  assert.equal(projectName({ flag: 'p', env: { COMPOSE_PROJECT_NAME: 'e' }, fromFile: 'f', workingDir: '/x/d' }), 'p');
  assert.equal(projectName({ env: { COMPOSE_PROJECT_NAME: 'e' }, fromFile: 'f', workingDir: '/x/d' }), 'e');
  assert.equal(projectName({ env: {}, fromFile: 'F.f', workingDir: '/x/d' }), 'ff');
  assert.equal(projectName({ env: {}, fromFile: '', workingDir: '/x/D_ir' }), 'd_ir');
  assert.throws(() => projectName({ env: { COMPOSE_PROJECT_NAME: 'Not Valid' }, fromFile: undefined, workingDir: '/x' }), /^Error: invalid project name "Not Valid": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number$/);
  assert.throws(() => projectName({ flag: '_x', env: {}, fromFile: undefined, workingDir: '/x' }), /invalid project name "_x"/);
  assert.throws(() => projectName({ env: {}, fromFile: undefined, workingDir: '/' }), /project name must not be empty/);
  assert.throws(() => projectName({ env: {}, fromFile: 3, workingDir: '/x' }), /project name must be a string/);
});
