import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerLabels, dependsOnLabel, networkLabels, volumeLabels, COMPOSE_VERSION } from '../../../../src/compose/engine/labels.ts';
import { serviceHash, canonicalJson } from '../../../../src/compose/engine/hash.ts';
import { durationNs } from '../../../../src/compose/engine/duration.ts';
import { project } from './fixtures.ts';

describe('compose engine: labels', () => {
  it('container labels as Compose v2 sets them', () => {
    const p = project({ web: { labels: { own: 'x' }, depends_on: { db: { condition: 'service_healthy', required: true }, cache: { condition: 'service_started', restart: true, required: true } } } });
    assert.deepEqual(containerLabels(p, p.services.web!, 2, false, 'abc', ['/src/shop/.env.prod']), {
      own: 'x',
      'com.docker.compose.project': 'shop',
      'com.docker.compose.service': 'web',
      'com.docker.compose.version': COMPOSE_VERSION,
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.config-hash': 'abc',
      'com.docker.compose.project.working_dir': '/src/shop',
      'com.docker.compose.project.config_files': '/src/shop/compose.yaml',
      'com.docker.compose.depends_on': 'cache:service_started:true,db:service_healthy:false',
      'com.docker.compose.container-number': '2',
      'com.docker.compose.project.environment_file': '/src/shop/.env.prod',
    });
    const oneoff = containerLabels(p, p.services.web!, 0, true, 'abc');
    assert.equal(oneoff['com.docker.compose.oneoff'], 'True');
    assert.equal(oneoff['com.docker.compose.container-number'], undefined);
    assert.equal(dependsOnLabel(p.services.web!), 'cache:service_started:true,db:service_healthy:false');
  });

  it('network and volume labels', () => {
    const p = project({});
    assert.deepEqual(networkLabels(p, 'default'), { 'com.docker.compose.network': 'default', 'com.docker.compose.project': 'shop', 'com.docker.compose.version': COMPOSE_VERSION });
    assert.deepEqual(volumeLabels(p, 'data', { a: 'b' }), { a: 'b', 'com.docker.compose.volume': 'data', 'com.docker.compose.project': 'shop', 'com.docker.compose.version': COMPOSE_VERSION });
  });
});

describe('compose engine: config hash', () => {
  it('is stable across key order and runs', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }], u: undefined }), '{"a":[{"c":2,"d":1}],"b":1}');
    const a = project({ web: { image: 'x', environment: { A: '1', B: '2' } } }).services.web!;
    const b = project({ web: { environment: { B: '2', A: '1' }, image: 'x' } }).services.web!;
    assert.equal(serviceHash(a), serviceHash(b));
    assert.match(serviceHash(a), /^[0-9a-f]{64}$/);
  });

  it('leaves out what must not recreate: replicas, scale, build, pull_policy, depends_on, profiles', () => {
    const base = project({ web: { image: 'x' } }).services.web!;
    const h = serviceHash(base);
    assert.equal(serviceHash({ ...base, scale: 3 }), h);
    assert.equal(serviceHash({ ...base, deploy: { replicas: 3 } }), serviceHash({ ...base, deploy: {} }));
    assert.equal(serviceHash({ ...base, build: { context: '/x' }, pull_policy: 'always', profiles: ['p'], depends_on: { db: { condition: 'service_started', required: true } } }), h);
    assert.notEqual(serviceHash({ ...base, command: ['x'] }), h);
    assert.notEqual(serviceHash({ ...base, deploy: { resources: { limits: { memory: 1 } } } }), h);
  });
});

describe('compose engine: Go durations', () => {
  it('parses Go forms', () => {
    assert.equal(durationNs('1m30s'), 90e9);
    assert.equal(durationNs('500ms'), 5e8);
    assert.equal(durationNs('1.5h'), 1.5 * 3600e9);
    assert.equal(durationNs('10us'), 10e3);
    assert.equal(durationNs('0'), 0);
    assert.throws(() => durationNs('10'), /invalid duration "10"/);
    assert.throws(() => durationNs('1x'), /invalid duration/);
  });
});
