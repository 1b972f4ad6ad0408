// The freezer that holds containers still during `docker cp` (issue 16 finding 1): a copy never
// runs while a container it freezes is unfrozen, overlapping copies thaw once, at the end, and a
// container that exits or was paused by its user is left alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withFrozen, type Freezer } from '../../../../src/engine/container/copy-freeze.ts';
import { silentLogger } from '../../../../src/util/log.ts';
import { Unavailable } from '../../../../src/errors.ts';
import type { Container } from '../../../../src/engine/containers.ts';

function ctr(id: string, state: { Running: boolean; Paused?: boolean }): Container {
  return { rec: { Id: id, State: { Paused: false, ...state } } } as unknown as Container;
}

/** A runtime whose freezer state is recorded; `failPauses` pauses fail first ("unable to freeze"). */
function fakeRuntime(o: { failPauses?: number; stopped?: Set<string> } = {}) {
  const frozen = new Set<string>();
  const calls: string[] = [];
  let fails = o.failPauses ?? 0;
  const runtime: Freezer['runtime'] = {
    async freeze(id) {
      calls.push(`pause ${id}`);
      if (o.stopped?.has(id)) throw new Error('container not running');
      if (fails-- > 0) throw new Error('unable to freeze');
      assert.ok(!frozen.has(id), `${id} paused twice`);
      frozen.add(id);
    },
    async thaw(id) {
      calls.push(`resume ${id}`);
      assert.ok(frozen.delete(id), `${id} resumed while not frozen`);
    },
    async state(id) { return { status: o.stopped?.has(id) ? 'stopped' : frozen.has(id) ? 'paused' : 'running', pid: 1 }; },
  };
  return { f: { runtime, log: silentLogger } satisfies Freezer, frozen, calls };
}

describe('copy freezer', () => {
  it('runs the copy with every running container frozen and thaws them after, even when the copy fails', async () => {
    const { f, frozen } = fakeRuntime();
    const a = ctr('a', { Running: true });
    const b = ctr('b', { Running: true });
    await withFrozen(f, [a, b], async () => { assert.deepEqual([...frozen].sort(), ['a', 'b']); });
    assert.equal(frozen.size, 0);
    await assert.rejects(withFrozen(f, [a], async () => {
      assert.ok(frozen.has('a'));
      throw new Error('copy failed');
    }), /copy failed/);
    assert.equal(frozen.size, 0);
  });

  it('never runs the copy unfrozen: a freeze that keeps failing fails the copy with 503', async () => {
    const { f, frozen } = fakeRuntime({ failPauses: 100 });
    let ran = false;
    await assert.rejects(withFrozen(f, [ctr('a', { Running: true })], async () => { ran = true; }), (e: unknown) => e instanceof Unavailable);
    assert.equal(ran, false);
    assert.equal(frozen.size, 0);
  });

  it('retries a freeze the cgroup freezer gave up on', async () => {
    const { f, calls } = fakeRuntime({ failPauses: 2 });
    let ran = false;
    await withFrozen(f, [ctr('a', { Running: true })], async () => { ran = true; });
    assert.equal(ran, true);
    assert.deepEqual(calls, ['pause a', 'pause a', 'pause a', 'resume a']);
  });

  it('leaves stopped, user-paused and just-exited containers alone', async () => {
    const { f, calls } = fakeRuntime({ stopped: new Set(['gone']) });
    await withFrozen(f, [ctr('off', { Running: false }), ctr('paused', { Running: true, Paused: true }), ctr('gone', { Running: true })], async () => {});
    assert.deepEqual(calls, ['pause gone']);
  });

  it('overlapping copies on one container (a shared volume) freeze it once and thaw it when the last ends', async () => {
    const { f, frozen, calls } = fakeRuntime();
    const shared = ctr('shared', { Running: true });
    let releaseFirst!: () => void;
    const first = withFrozen(f, [ctr('x', { Running: true }), shared], () => new Promise<void>((r) => { releaseFirst = r; }));
    await new Promise((r) => setTimeout(r, 10));
    await withFrozen(f, [ctr('y', { Running: true }), shared], async () => { assert.ok(frozen.has('shared')); });
    assert.ok(frozen.has('shared'), 'still frozen: the first copy runs on');
    releaseFirst();
    await first;
    assert.equal(frozen.size, 0);
    assert.equal(calls.filter((c) => c === 'pause shared').length, 1);
    assert.equal(calls.filter((c) => c === 'resume shared').length, 1);
  });
});
