import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findComposeFiles } from '../../../../src/compose/model/load/find-files.ts';

test('default names in Compose v2 order, override beside the winner, warnings for several', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-find-'));
  try {
    for (const n of ['docker-compose.yaml', 'compose.yml', 'docker-compose.override.yml', 'compose.override.yaml']) writeFileSync(join(dir, n), '');
    const found = await findComposeFiles({ files: [], env: {}, cwd: dir, startDir: dir });
    assert.deepEqual(found.files, [join(dir, 'compose.yml'), join(dir, 'compose.override.yaml')]);
    assert.deepEqual(found.warnings, [
      `Found multiple config files with supported names: ${join(dir, 'compose.yml')}, ${join(dir, 'docker-compose.yaml')}`,
      `Using ${join(dir, 'compose.yml')}`,
      `Found multiple override files with supported names: ${join(dir, 'compose.override.yaml')}, ${join(dir, 'docker-compose.override.yml')}`,
      `Using ${join(dir, 'compose.override.yaml')}`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-f wins over COMPOSE_FILE; relative to cwd; - stays', async () => {
  const f = await findComposeFiles({ files: ['a.yml', '-', '/abs.yml'], env: { COMPOSE_FILE: 'x.yml' }, cwd: '/w', startDir: '/w' });
  assert.deepEqual(f.files, ['/w/a.yml', '-', '/abs.yml']);
  const e = await findComposeFiles({ files: [], env: { COMPOSE_FILE: 'x.yml:../y.yml' }, cwd: '/w/d', startDir: '/w' });
  assert.deepEqual(e.files, ['/w/d/x.yml', '/w/y.yml']);
});
