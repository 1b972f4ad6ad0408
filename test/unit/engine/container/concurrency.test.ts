// Verbs that meet on one container: the per-container lock orders them, so each sees the state
// the previous one left, and the host never sees a step twice or out of order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fakeEngine, settle, until } from '../../../fakes/engine.ts';
import { Conflict, NotModified, NotFound } from '../../../../src/errors.ts';

test('two starts at once: one starts it, the other is a 304; runc is asked once', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  const r = await Promise.allSettled([e.containers.start(id), e.containers.start(id)]);
  assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
  const lost = r.find((x): x is PromiseRejectedResult => x.status === 'rejected')!;
  assert.ok(lost.reason instanceof NotModified);
  assert.equal(lost.reason.message, 'container already started');
  assert.equal(e.host.callsOf('runtime.create').length, 1);
  assert.equal(e.host.callsOf('mounts.mountOverlay').length, 1);
});

test('a start right after an exit waits for the exit\'s cleanup (runc would refuse an id it still has)', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  const code = e.containers.wait(id, null);
  e.host.exit(id, 0);
  await code; // waiters hear the exit before the cleanup is over
  await e.containers.start(id);
  assert.equal(e.state(id).Status, 'running');
  assert.equal(e.host.containers.get(id)!.status, 'running');
  const ops = e.host.calls.map((c) => `${c.op}`);
  assert.ok(ops.lastIndexOf('runtime.delete') < ops.lastIndexOf('runtime.create'), ops.join(' '));
});

test('two stops at once both return once it exited; one die, one stop per call', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  await Promise.all([e.containers.stop(id, {}), e.containers.stop(id, {})]);
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(e.state(id).ExitCode, 143);
  const acts = e.actions(id);
  assert.equal(acts.filter((a) => a === 'die').length, 1);
  assert.equal(acts.filter((a) => a === 'stop').length, 2);
});

test('two rm -f at once: one removes, the other is told a removal is in progress or the container is gone', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({}, 'twice');
  await e.containers.start(id);
  const r = await Promise.allSettled([e.containers.remove('twice', { force: true }), e.containers.remove('twice', { force: true })]);
  assert.ok(r.some((x) => x.status === 'fulfilled'));
  for (const x of r) {
    if (x.status === 'rejected') {
      assert.ok((x.reason instanceof Conflict && x.reason.message === 'removal of container twice is already in progress') || x.reason instanceof NotFound, String(x.reason));
    }
  }
  await e.containers.drainTeardowns();
  assert.equal(existsSync(e.dirOf(id)), false);
  assert.equal(e.host.containers.size, 0);
  assert.equal(e.host.mounted.size, 0);
});

test('two rm -f at once emit one destroy event, and the second call is refused', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({}, 'twice');
  await e.containers.start(id);
  const r = await Promise.allSettled([e.containers.remove('twice', { force: true }), e.containers.remove('twice', { force: true })]);
  assert.equal(r.filter((x) => x.status === 'fulfilled').length, 1);
  assert.equal(e.actions(id).filter((a) => a === 'destroy').length, 1);
});

test('pause and stop at once: the stop thaws what the pause froze, and the container ends exited', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  const r = await Promise.allSettled([e.containers.pause(id), e.containers.stop(id, { timeout: 5 })]);
  assert.equal(r[1]!.status, 'fulfilled');
  await until(() => e.state(id).Status === 'exited', 'exited');
  assert.equal(e.state(id).Paused, false);
  assert.equal(e.host.containers.has(id), false);
});

test('many waiters all hear the one exit code; a removed-waiter hears it at the remove', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  const waits = Array.from({ length: 5 }, () => e.containers.wait(id, 'next-exit'));
  const removed = e.containers.wait(id, 'removed');
  let removedHeard = false;
  void removed.then(() => { removedHeard = true; });
  e.host.exit(id, 12);
  assert.deepEqual(await Promise.all(waits), [12, 12, 12, 12, 12]);
  await settle();
  assert.equal(removedHeard, false, 'not removed yet');
  await until(() => !e.host.containers.has(id), 'cleanup');
  await e.containers.remove(id, {});
  assert.equal(await removed, 12);
});

test('a copy into the rootfs after a remove got the lock is a 404, and mounts nothing', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  const c = e.containers.get(id);
  const gone = e.containers.remove(id, {});
  await assert.rejects(e.containers.withRootfs(c, async () => 'copied'), { message: `No such container: ${id}` });
  await gone;
  assert.equal(e.host.callsOf('mounts.mountOverlay').length, 0);
});

test('a copy of a stopped container mounts its rootfs for the call only, under the lock a start waits for', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  const c = e.containers.get(id);
  let release!: () => void;
  const inside = new Promise<void>((r) => { release = r; });
  const copy = e.containers.withRootfs(c, async () => { await inside; return e.host.mounted.size; });
  await until(() => e.host.mounted.size === 1, 'mounted for the copy');
  const start = e.containers.start(id);
  await settle();
  assert.equal(e.host.callsOf('runtime.create').length, 0, 'the start waits for the copy');
  release();
  assert.equal(await copy, 1);
  await start;
  assert.equal(e.state(id).Status, 'running');
  assert.equal(e.host.mounted.size, 1, 'one overlay: the start mounted it again after the copy let go');
});
