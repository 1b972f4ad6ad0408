// The Compose Specification's own examples (test/fixtures/compose/spec/<name>/compose.yaml, taken
// from the spec's markdown, some completed with a service that uses what they declare) printed
// by `config` must be the normal form Compose v2 prints (expected.yaml). The project directory
// is written `$DIR` in the expected output, the home `/home/user`; options.json may give the
// active profiles, the services named on the command line, and the environment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadProject } from '../../../../src/compose/model/load-project.ts';
import { renderConfig } from '../../../../src/compose/model/render.ts';

const ROOT = resolve(import.meta.dirname, '../../../fixtures/compose/spec');

interface Options {
  profiles?: string[];
  services?: string[];
  env?: Record<string, string>;
}

/** `config`'s YAML for one fixture directory, loaded as `compose config` loads it there. */
export async function renderFixture(name: string): Promise<string> {
  const dir = join(ROOT, name);
  const optsFile = join(dir, 'options.json');
  const opts: Options = existsSync(optsFile) ? JSON.parse(readFileSync(optsFile, 'utf8')) : {};
  const { project } = await loadProject(
    { files: [], envFiles: [], profiles: opts.profiles ?? [], env: { HOME: '/home/user', ...opts.env }, cwd: dir },
    { services: opts.services ?? [] },
  );
  return renderConfig(project, { format: 'yaml' }).replaceAll(dir, '$DIR');
}

const names = readdirSync(ROOT).filter((n) => existsSync(join(ROOT, n, 'compose.yaml'))).sort();

test('there are at least 25 examples from the spec', () => {
  assert.ok(names.length >= 25, `${names.length} fixtures`);
});

for (const name of names) {
  test(`spec example ${name}: config prints Compose's normal form`, async () => {
    const expected = readFileSync(join(ROOT, name, 'expected.yaml'), 'utf8');
    assert.equal(await renderFixture(name), expected);
  });
}
