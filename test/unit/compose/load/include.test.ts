import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyInclude, parseInclude } from '../../../../src/compose/model/load/include.ts';

test('include.md: short and long forms', () => {
  assert.deepEqual(parseInclude(['a.yml', { path: ['b.yml', 'b.override.yml'], project_directory: 'b', env_file: 'b.env' }, { path: 'c.yml' }]), [
    { path: ['a.yml'] },
    { path: ['b.yml', 'b.override.yml'], project_directory: 'b', env_file: ['b.env'] },
    { path: ['c.yml'] },
  ]);
  assert.throws(() => parseInclude({ path: 'x' }), /include must be a list/);
});

test('imported resources join the document; identical definitions are not a conflict', async () => {
  const seen: { files: string[]; dir: string; env: Record<string, string> }[] = [];
  const out = await applyInclude({ include: [{ path: ['sub/c.yml', 'sub/o.yml'], env_file: '/dev/null' }], services: { db: { image: 'pg' } }, networks: { n: {} } }, {
    baseDir: '/p',
    env: { A: '1' },
    chain: ['/p/compose.yaml'],
    loadProject: async (files, dir, env) => {
      seen.push({ files, dir, env });
      return { services: { db: { image: 'pg' }, api: { build: '.' } }, networks: { m: {} } };
    },
  });
  assert.deepEqual(seen, [{ files: ['/p/sub/c.yml', '/p/sub/o.yml'], dir: '/p/sub', env: { A: '1' } }]);
  assert.deepEqual(out, { services: { db: { image: 'pg' }, api: { build: '/p/sub' } }, networks: { n: {}, m: {} } });
});
