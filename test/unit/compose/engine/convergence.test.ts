import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expectedReplicas, freeNumbers, mustRecreate, scaleDownOrder, containerName, oneOffName } from '../../../../src/compose/engine/convergence.ts';
import { parsePublish, parseVolume, oneOffService } from '../../../../src/compose/engine/oneoff.ts';
import { judge, goSeconds } from '../../../../src/compose/engine/start.ts';
import { splitReference } from '../../../../src/compose/engine/images.ts';
import type { Summary } from '../../../../src/compose/engine/containers.ts';
import { project } from './fixtures.ts';

const c = (n: number, hash = 'h', image?: string): Summary => ({
  Id: `id${n}`, Names: [`/shop-web-${n}`], Labels: { 'com.docker.compose.container-number': String(n), 'com.docker.compose.config-hash': hash, ...(image ? { 'com.docker.compose.image': image } : {}) },
});

describe('compose engine: convergence rules', () => {
  it('replicas: --scale > deploy.replicas > scale > 1', () => {
    const s = project({ web: { scale: 2, deploy: { replicas: 3 } } }).services.web!;
    assert.equal(expectedReplicas(s, { web: 5 }), 5);
    assert.equal(expectedReplicas(s), 3);
    assert.equal(expectedReplicas({ ...s, deploy: {} }), 2);
    assert.equal(expectedReplicas({ name: 'x' }), 1);
  });

  it('recreate: hash or image differs (diverged), always (force), never (never)', () => {
    assert.equal(mustRecreate(c(1), 'h', undefined, 'diverged'), false);
    assert.equal(mustRecreate(c(1, 'old'), 'h', undefined, 'diverged'), true);
    assert.equal(mustRecreate(c(1, 'h', 'sha256:a'), 'h', 'sha256:b', 'diverged'), true);
    assert.equal(mustRecreate(c(1), 'h', undefined, 'force'), true);
    assert.equal(mustRecreate(c(1, 'old'), 'h', undefined, 'never'), false);
  });

  it('numbers: the lowest free ones; scaling down removes obsolete first, then the highest', () => {
    assert.deepEqual(freeNumbers([1, 3], 2), [2, 4]);
    assert.deepEqual(freeNumbers([], 3), [1, 2, 3]);
    const order = scaleDownOrder([c(1), c(2, 'old'), c(3)], (x) => x.Labels!['com.docker.compose.config-hash'] !== 'h');
    assert.deepEqual(order.map((x) => x.Id), ['id2', 'id3', 'id1']);
  });

  it('names: <project>-<service>-<n>, container_name as given, one-offs <project>-<service>-run-<12 hex>', () => {
    const p = project({ web: {}, db: { container_name: 'the-db' } });
    assert.equal(containerName(p, p.services.web!, 2), 'shop-web-2');
    assert.equal(containerName(p, p.services.db!, 1), 'the-db');
    const { name, slug } = oneOffName(p, p.services.web!);
    assert.match(name, /^shop-web-run-[0-9a-f]{12}$/);
    assert.equal(name.slice(-12), slug.slice(0, 12));
  });
});

describe('compose engine: run overrides', () => {
  it('publish and volume specs', () => {
    assert.deepEqual(parsePublish('8080:80'), { mode: 'ingress', target: 80, protocol: 'tcp', published: '8080' });
    assert.deepEqual(parsePublish('127.0.0.1:53:53/udp'), { mode: 'ingress', target: 53, protocol: 'udp', published: '53', host_ip: '127.0.0.1' });
    assert.deepEqual(parsePublish('80'), { mode: 'ingress', target: 80, protocol: 'tcp' });
    assert.throws(() => parsePublish('x:y'), /invalid port specification/);
    const p = project({});
    assert.deepEqual(parseVolume(p, './src:/app:ro'), { type: 'bind', source: '/src/shop/src', target: '/app', read_only: true, bind: { create_host_path: true } });
    assert.deepEqual(parseVolume(p, 'data:/data'), { type: 'volume', source: 'data', target: '/data' });
    assert.deepEqual(parseVolume(p, '/tmp/x'), { type: 'volume', target: '/tmp/x' });
  });

  it('the one-off service: command, env, ports dropped unless --service-ports, no restart policy', () => {
    const p = project({ web: { command: ['a'], environment: { A: '1' }, ports: [{ mode: 'ingress', target: 80, protocol: 'tcp' }], restart: 'always', container_name: 'x' } });
    const s = oneOffService(p, p.services.web!, { command: ['b'], env: ['B=2', 'C'], tty: true, interactive: false });
    assert.deepEqual(s.command, ['b']);
    assert.deepEqual(s.environment, { A: '1', B: '2', C: null });
    assert.equal(s.ports, undefined);
    assert.equal(s.restart, undefined);
    assert.equal(s.container_name, undefined);
    assert.equal(s.tty, true);
    assert.deepEqual(p.services.web!.command, ['a'], 'the model is left as it was');
  });
});

describe('compose engine: waiting', () => {
  const info = (state: object, check = true) => ({ Name: '/shop-db-1', State: state, Config: check ? { Healthcheck: { Test: ['CMD', 'true'] } } : {} });
  it('healthy, unhealthy, no healthcheck, exited, completed', () => {
    assert.deepEqual(judge(info({ Status: 'running', Health: { Status: 'healthy' } }), 'healthy'), { done: true });
    assert.deepEqual(judge(info({ Status: 'running', Health: { Status: 'starting' } }), 'healthy'), { done: false });
    assert.deepEqual(judge(info({ Status: 'running', Health: { Status: 'unhealthy' } }), 'healthy'), { error: 'container shop-db-1 is unhealthy' });
    assert.deepEqual(judge(info({ Status: 'running' }, false), 'healthy'), { error: 'container shop-db-1 has no healthcheck configured' });
    assert.deepEqual(judge(info({ Status: 'exited', ExitCode: 3 }), 'healthy'), { error: 'container shop-db-1 exited (3)' });
    assert.deepEqual(judge(info({ Status: 'exited', ExitCode: 0 }), 'completed'), { done: true });
    assert.deepEqual(judge(info({ Status: 'exited', ExitCode: 1 }), 'completed'), { error: 'exit 1' });
    assert.deepEqual(judge(info({ Status: 'running' }), 'completed'), { done: false });
    assert.deepEqual(judge(info({ Status: 'exited', ExitCode: 0 }, false), 'running'), { done: true });
    assert.deepEqual(judge(info({ Status: 'running' }, false), 'running'), { done: true });
  });
  it("Go's duration text for the --wait timeout", () => {
    assert.equal(goSeconds(30), '30s');
    assert.equal(goSeconds(90), '1m30s');
    assert.equal(goSeconds(3600), '1h0m0s');
  });
  it('image references split for /images/create', () => {
    assert.deepEqual(splitReference('busybox'), { repo: 'busybox', tag: 'latest' });
    assert.deepEqual(splitReference('localhost:5000/app:1.2'), { repo: 'localhost:5000/app', tag: '1.2' });
    assert.deepEqual(splitReference('localhost:5000/app'), { repo: 'localhost:5000/app', tag: 'latest' });
    assert.deepEqual(splitReference('app@sha256:ab'), { repo: 'app', tag: 'sha256:ab' });
  });
});
