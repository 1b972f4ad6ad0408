import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rebaseDocument } from '../../../../src/compose/model/load/paths.ts';

test('relative paths of another directory become absolute; the rest stays', () => {
  const doc = rebaseDocument({
    services: {
      a: {
        build: { context: 'ctx', dockerfile: 'Dockerfile.dev', additional_contexts: { x: '../other', y: 'docker-image://alpine', z: 'service:base' } },
        env_file: ['a.env', { path: './b.env', required: false }, '/abs.env'],
        volumes: ['./d:/d:ro', 'named:/n', '/host:/h', '/anon', '~/x:/x', { type: 'bind', source: 'rel', target: '/r' }, { type: 'volume', source: 'v', target: '/v' }],
        extends: { file: 'base.yml', service: 's' },
        develop: { watch: [{ action: 'sync', path: './src', target: '/app' }] },
      },
      b: { build: 'https://github.com/x/y.git', env_file: 'one.env' },
      c: { build: '.' },
      d: { build: { dockerfile: 'D' } },
    },
    secrets: { s: { file: './s.txt' }, e: { environment: 'X' } },
    configs: { c: { file: 'c.txt' } },
  }, '/p/sub') as Record<string, any>;
  assert.deepEqual(doc.services.a, {
    build: { context: '/p/sub/ctx', dockerfile: 'Dockerfile.dev', additional_contexts: { x: '/p/other', y: 'docker-image://alpine', z: 'service:base' } },
    env_file: ['/p/sub/a.env', { path: '/p/sub/b.env', required: false }, '/abs.env'],
    volumes: ['/p/sub/d:/d:ro', 'named:/n', '/host:/h', '/anon', '~/x:/x', { type: 'bind', source: '/p/sub/rel', target: '/r' }, { type: 'volume', source: 'v', target: '/v' }],
    extends: { file: '/p/sub/base.yml', service: 's' },
    develop: { watch: [{ action: 'sync', path: '/p/sub/src', target: '/app' }] },
  });
  assert.deepEqual(doc.services.b, { build: 'https://github.com/x/y.git', env_file: '/p/sub/one.env' });
  assert.deepEqual(doc.services.c, { build: '/p/sub' });
  assert.deepEqual(doc.services.d, { build: { context: '/p/sub', dockerfile: 'D' } });
  assert.deepEqual(doc.secrets, { s: { file: '/p/sub/s.txt' }, e: { environment: 'X' } });
  assert.deepEqual(doc.configs, { c: { file: '/p/sub/c.txt' } });
});
