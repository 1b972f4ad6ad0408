import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCycles, dependenciesOf, visitInOrder, withDependencies, withDependents } from '../../../../src/compose/engine/graph.ts';
import { project } from './fixtures.ts';

const dep = { condition: 'service_started' as const, required: true };

describe('compose engine: dependency graph', () => {
  const p = project({
    db: {},
    cache: {},
    api: { depends_on: { db: dep, cache: dep } },
    web: { depends_on: { api: dep } },
    side: { network_mode: 'service:web', volumes_from: ['db', 'container:x'], links: ['cache:c'] },
  });

  it('edges from depends_on, network_mode service:, volumes_from and links', () => {
    assert.deepEqual(dependenciesOf(p, p.services.side!), ['cache', 'db', 'web']);
    assert.deepEqual(withDependencies(p, ['web']), ['api', 'cache', 'db', 'web']);
    assert.deepEqual(withDependents(p, ['db']), ['api', 'db', 'side', 'web']);
  });

  it('an optional dependency that is missing is skipped; a required one is an error', () => {
    const q = project({ web: { depends_on: { gone: { condition: 'service_started', required: false } } } });
    assert.deepEqual(dependenciesOf(q, q.services.web!), []);
    const r = project({ web: { depends_on: { gone: dep } } });
    assert.throws(() => dependenciesOf(r, r.services.web!), /depends on undefined service "gone"/);
  });

  it('cycles are reported with their path', () => {
    const c = project({ a: { depends_on: { b: dep } }, b: { depends_on: { c: dep } }, c: { depends_on: { a: dep } } });
    assert.throws(() => checkCycles(c), /dependency cycle detected: a -> b -> c -> a/);
  });

  it('visits dependencies first (independent ones together), and dependents first in reverse', async () => {
    const order: string[] = [];
    const running = new Set<string>();
    let overlap = false;
    await visitInOrder(p, ['db', 'cache', 'api', 'web'], async (n) => {
      running.add(n);
      if (running.has('db') && running.has('cache')) overlap = true;
      await new Promise((r) => setTimeout(r, 5));
      running.delete(n);
      order.push(n);
    });
    assert.ok(order.indexOf('api') > order.indexOf('db') && order.indexOf('api') > order.indexOf('cache'));
    assert.equal(order.at(-1), 'web');
    assert.ok(overlap, 'db and cache ran concurrently');
    const rev: string[] = [];
    await visitInOrder(p, ['db', 'cache', 'api', 'web'], async (n) => { rev.push(n); }, true);
    assert.equal(rev[0], 'web');
    assert.ok(rev.indexOf('db') > rev.indexOf('api'));
  });

  it('a failure stops the services that depend on it and is thrown', async () => {
    const seen: string[] = [];
    await assert.rejects(visitInOrder(p, ['db', 'api', 'web'], async (n) => {
      seen.push(n);
      if (n === 'db') throw new Error('boom');
    }), /boom/);
    assert.deepEqual(seen, ['db']);
  });
});
