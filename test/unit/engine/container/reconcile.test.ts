// Live restore: berthd dies at some point of a container's life and the next berthd, on the same
// data root and host, reconciles its records with what runc, conmon and the mount table say.
// Whatever the point, a container ends either running (its process still runs) or stopped with
// nothing of it left on the host, and every verb works on it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeEngine, until, type FakeEngine } from '../../../fakes/engine.ts';

function assertNothingLeft(e: FakeEngine, id: string, what = ''): void {
  assert.deepEqual(e.host.leftovers(id, e.dirOf(id)), { runc: undefined, conmon: false, exitFile: false, mounts: [] }, what);
}

test('a crash at any host step of a start leaves the container stopped and clean after reconcile, and it starts again', async (t) => {
  const probe = await fakeEngine(t);
  const pid = await probe.create({ HostConfig: { IpcMode: 'shareable' } });
  await probe.containers.start(pid);
  const steps = probe.host.calls.map((c) => c.op);
  for (const [i, op] of steps.entries()) {
    await t.test(`crash in step ${i + 1}: ${op}`, async (t) => {
      let e = await fakeEngine(t);
      const id = await e.create({ HostConfig: { IpcMode: 'shareable' } });
      e.host.holdCall(i + 1);
      void e.containers.start(id).catch(() => {});
      await until(() => e.host.calls[i]?.held === true, 'the daemon stuck in the step');
      e = await e.restart();
      const st = e.state(id);
      assert.equal(st.Running, false, op);
      assert.equal(st.Status, 'created', op);
      assertNothingLeft(e, id, op);
      await e.containers.start(id);
      assert.equal(e.state(id).Status, 'running');
    });
  }
});

test('a crash after runc started the process but before the record said so kills the stray process', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create();
  // `runc start` is the last host step of a start; the crash comes before the record is written.
  // So the start goes through on the host, and the record on disk is put back as it was.
  await e.containers.start(id);
  const rec = e.containers.get(id).rec;
  writeFileSync(join(e.dirOf(id), 'config.v2.json'), JSON.stringify({ ...rec, State: { ...rec.State, Status: 'created', Running: false, Pid: 0 } }));
  e = await e.restart();
  assert.equal(e.state(id).Status, 'created');
  assertNothingLeft(e, id);
  assert.ok(e.host.callsOf('runtime.killConmon', id).length >= 1);
});

test('a container still running is found running with its pid, and its later exit is handled by the new daemon', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  const pid = e.state(id).Pid;
  e = await e.restart();
  assert.equal(e.state(id).Status, 'running');
  assert.equal(e.state(id).Pid, pid);
  assert.ok(e.networks.attached.has(id), 'network claimed again');
  assert.equal(e.host.callsOf('runtime.create').length, 1, 'not started again');
  const code = e.containers.wait(id, null);
  e.host.exit(id, 9);
  assert.equal(await code, 9);
  await until(() => !e.host.containers.has(id) && e.host.mounted.size === 0, 'cleanup');
  assertNothingLeft(e, id);
});

test('a paused container is found paused', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  await e.containers.pause(id);
  e = await e.restart();
  assert.equal(e.state(id).Status, 'paused');
  assert.equal(e.state(id).Paused, true);
  await e.containers.unpause(id);
  assert.equal(e.host.containers.get(id)!.status, 'running');
});

test('a process that exited while berthd was down: its exit code from conmon\'s file, the host cleaned', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  e.host.crash();
  e.host.exit(id, 42);
  e = await e.restart();
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(e.state(id).ExitCode, 42);
  assertNothingLeft(e, id);
  assert.deepEqual(e.actions(id).slice(-1), ['die']);
});

test('a process whose conmon died with berthd and left no exit file is recorded as exit 255', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  e.host.crash();
  e.host.killConmonOf(id);
  e = await e.restart();
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(e.state(id).ExitCode, 255);
  assertNothingLeft(e, id);
});

test('an always container that exited while berthd was down is restarted at boot', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create({ HostConfig: { RestartPolicy: { Name: 'always' } } });
  await e.containers.start(id);
  e.host.crash();
  e.host.exit(id, 1);
  e = await e.restart();
  await until(() => e.state(id).Running, 'restarted at boot');
  assert.equal(e.host.containers.get(id)!.status, 'running');
});

test('a crash in the middle of an exit\'s cleanup: the exit is kept, the cleanup finished', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  e.host.holdOn('runtime.delete');
  e.host.exit(id, 5);
  await until(() => e.host.callsOf('runtime.delete').some((c) => c.held), 'stuck in runc delete');
  e = await e.restart();
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(e.state(id).ExitCode, 5);
  assertNothingLeft(e, id);
});

test('a crash in the middle of a remove: the next daemon finishes it', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create({}, 'half');
  await e.containers.start(id);
  e.host.exit(id, 0);
  await until(() => !e.host.containers.has(id), 'exit cleanup');
  e.host.holdOn('mounts.unmount');
  void e.containers.remove(id, {}).catch(() => {});
  await until(() => e.host.callsOf('mounts.unmount').some((c) => c.held), 'stuck in the remove');
  e = await e.restart();
  assert.throws(() => e.containers.get('half'), { message: 'No such container: half' });
  assert.equal(existsSync(e.dirOf(id)), false);
  await e.create({}, 'half');
});

test('a remove replies while the exit\'s runc delete still runs; the name is free at once; a crash then is finished by the next daemon', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create({}, 'quick');
  await e.containers.start(id);
  e.host.holdOn('runtime.delete');
  e.host.exit(id, 0);
  await until(() => e.host.callsOf('runtime.delete').some((c) => c.held), 'exit cleanup parked in runc delete');
  assert.equal(e.state(id).Status, 'exited');
  await e.containers.remove('quick', {});
  assert.throws(() => e.containers.get('quick'), { message: 'No such container: quick' });
  assert.ok(!e.containers.all().some((c) => c.rec.Id === id), 'gone from the list');
  const again = await e.create({}, 'quick');
  await e.containers.start(again);
  assert.equal(e.state(again).Status, 'running');
  assert.ok(existsSync(e.dirOf(id)), 'the teardown waits for the exit\'s cleanup');
  e = await e.restart();
  assertNothingLeft(e, id);
  assert.equal(existsSync(e.dirOf(id)), false);
  assert.equal(e.containers.get('quick').rec.Id, again);
});

test('rm then create of the same name at once, many times: every create works and nothing is left', async (t) => {
  const e = await fakeEngine(t);
  let id = await e.create({}, 'again');
  const ids = [id];
  for (let i = 0; i < 5; i++) {
    await e.containers.start(id);
    await e.containers.remove('again', { force: true });
    id = await e.create({}, 'again');
    ids.push(id);
  }
  await e.containers.drainTeardowns();
  for (const old of ids.slice(0, -1)) {
    assertNothingLeft(e, old);
    assert.equal(existsSync(e.dirOf(old)), false);
  }
  assert.equal(e.containers.get('again').rec.Id, id);
});

test('a container dir without a readable record (a create cut short) is swept at start-up', async (t) => {
  let e = await fakeEngine(t);
  const id = 'f'.repeat(64);
  const dir = e.dirOf(id);
  mkdirSync(join(dir, 'merged'), { recursive: true });
  e.host.mounted.add(join(dir, 'merged'));
  e = await e.restart();
  assert.equal(existsSync(dir), false);
  assert.equal(e.host.mounted.size, 0);
  assert.throws(() => e.containers.get(id), { message: `No such container: ${id}` });
});
