// Create → start → exit → remove on the fake host, and the undo of a start that fails at each of
// its host steps: whatever step fails, the container is left created with Docker's exit code for
// the cause, and nothing of it is left on the host (no runc state, no mount, no network endpoint,
// no volume in use).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fakeEngine, until, type FakeEngine } from '../../../fakes/engine.ts';
import { Conflict, NotFound } from '../../../../src/errors.ts';

/** Asserts the host holds nothing for the container: runc, conmon, exit file, mounts. */
function assertNothingLeft(e: FakeEngine, id: string, what = ''): void {
  assert.deepEqual(e.host.leftovers(id, e.dirOf(id)), { runc: undefined, conmon: false, exitFile: false, mounts: [] }, what);
}

function recordOnDisk(e: FakeEngine, id: string): { State: { Status: string; ExitCode: number; Error: string } } {
  return JSON.parse(readFileSync(join(e.dirOf(id), 'config.v2.json'), 'utf8'));
}

test('create writes the record and the dirs, and touches nothing on the host', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({}, 'web');
  assert.match(id, /^[0-9a-f]{64}$/);
  const st = e.state('web');
  assert.equal(st.Status, 'created');
  assert.equal(st.Running, false);
  assert.equal(recordOnDisk(e, id).State.Status, 'created');
  for (const d of ['upper', 'work', 'merged']) assert.ok(existsSync(join(e.dirOf(id), d)), d);
  assert.deepEqual(e.host.calls, [], 'create makes no mount and asks nothing of runc');
  assert.deepEqual(e.actions(id), ['create']);
});

test('start mounts the rootfs, lets runc create then start, and records the pid', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  const st = e.state(id);
  assert.equal(st.Status, 'running');
  assert.equal(st.Pid, e.host.containers.get(id)!.pid);
  assert.deepEqual(e.host.calls.map((c) => c.op), ['mounts.isMounted', 'mounts.mountOverlay', 'runtime.create', 'runtime.start']);
  assert.deepEqual(e.host.leftovers(id, e.dirOf(id)).mounts, [join(e.dirOf(id), 'merged')]);
  // The overlay's lower dir is the image's one (empty) layer.
  const overlay = e.host.callsOf('mounts.mountOverlay')[0]!.args[0] as { lowerdirs: string[]; upperdir: string };
  assert.equal(overlay.lowerdirs.length, 1);
  assert.match(overlay.lowerdirs[0]!, /\/image\/layers\/[0-9a-f]{64}\/diff$/);
  assert.equal(overlay.upperdir, join(e.dirOf(id), 'upper'));
  assert.equal(e.host.containers.get(id)!.spec.process?.args.join(' '), 'sleep 1000');
  assert.ok(e.networks.attached.has(id));
  assert.deepEqual(e.actions(id), ['create', 'start']);
});

test('an exit is recorded with its code and everything the run held on the host is released', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({ HostConfig: { Binds: [], IpcMode: 'shareable' }, Volumes: { '/data': {} } });
  await e.containers.start(id);
  const vol = e.state(id) && e.containers.get(id).rec.Mounts![0]!.Name!;
  assert.equal(e.host.mounted.size, 2, 'overlay and the shareable /dev/shm');
  const code = e.containers.wait(id, 'not-running');
  e.host.exit(id, 3);
  assert.equal(await code, 3);
  await until(() => e.host.mounted.size === 0 && !e.host.containers.has(id), 'exit cleanup');
  const st = e.state(id);
  assert.equal(st.Status, 'exited');
  assert.equal(st.ExitCode, 3);
  assert.equal(st.Pid, 0);
  assertNothingLeft(e, id);
  assert.equal(e.volumes.inUse(vol).length, 1, 'the stopped container still refers to its volume');
  assert.deepEqual(e.actions(id), ['create', 'start', 'die']);
  assert.equal(e.events.query().find((x) => x.Action === 'die')!.Actor.Attributes.exitCode, '3');
});

test('a start that fails at any host step leaves the container created, its exit code 128, and nothing on the host', async (t) => {
  // The steps of a good start, as the fake host saw them.
  const probe = await fakeEngine(t);
  const pid = await probe.create({ HostConfig: { IpcMode: 'shareable' }, Volumes: { '/data': {} } });
  await probe.containers.start(pid);
  const steps = probe.host.calls.map((c) => c.op);
  assert.ok(steps.length >= 5, steps.join(' '));
  for (const [i, op] of steps.entries()) {
    await t.test(`step ${i + 1}: ${op}`, async (t) => {
      const e = await fakeEngine(t);
      const id = await e.create({ HostConfig: { IpcMode: 'shareable' }, Volumes: { '/data': {} } });
      const vol = e.containers.get(id).rec.Mounts![0]!.Name!;
      e.host.failCall(i + 1, new Error(`${op} went wrong`));
      await assert.rejects(e.containers.start(id), { message: `${op} went wrong` });
      assert.equal(e.host.calls[i]!.failed, true, 'the planned step failed');
      const st = e.state(id);
      assert.equal(st.Status, 'created');
      assert.equal(st.Running, false);
      assert.equal(st.ExitCode, 128);
      assert.equal(st.Error, `${op} went wrong`);
      assert.equal(recordOnDisk(e, id).State.Error, `${op} went wrong`, 'the failure is on disk');
      assertNothingLeft(e, id, op);
      assert.equal(e.volumes.store.list().length, 1, 'the container keeps its volume');
      // The volume was released: a tmpfs one would be unmounted, so its count is back to zero.
      await e.volumes.remove(vol, true).catch((err: Error) => assert.match(err.message, /volume is in use/));
      assert.deepEqual(e.actions(id), ['create']);
      // And it starts fine afterwards.
      await e.containers.start(id);
      assert.equal(e.state(id).Status, 'running');
    });
  }
});

test('a start whose network setup fails undoes the mount and the volumes', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  e.networks.failAttach = new Error('failed to set up the sandbox');
  await assert.rejects(e.containers.start(id), { message: 'failed to set up the sandbox' });
  assert.equal(e.state(id).Status, 'created');
  assertNothingLeft(e, id);
  assert.deepEqual(e.host.callsOf('runtime.create'), [], 'runc was never asked');
});

test('runc failing to find the command gives exit code 127; a container that ran before shows exited', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  e.host.failOn('runtime.create', { error: new Error('runc create failed: unable to start container process: exec: "sleep": executable file not found in $PATH') });
  await assert.rejects(e.containers.start(id), /executable file not found/);
  assert.equal(e.state(id).ExitCode, 127);
  assert.equal(e.state(id).Status, 'created');
  // A second run, then a failing start: it has run, so it shows exited (moby SetError after a run).
  await e.containers.start(id);
  e.host.exit(id, 0);
  await until(() => !e.host.containers.has(id), 'cleanup');
  e.host.failOn('runtime.start', { error: new Error('runc start failed: permission denied') });
  await assert.rejects(e.containers.start(id), /permission denied/);
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(e.state(id).ExitCode, 126);
  assertNothingLeft(e, id);
});

test('an attach waiting for the start hears its failure; an AutoRemove container whose start fails is removed', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({ HostConfig: { AutoRemove: true } }, 'rm-me');
  const a = e.containers.attach(id, { stdin: false });
  const heard = a.stream.then(() => 'connected', (err: Error) => err.message);
  e.host.failOn('runtime.create', { error: new Error('boom') });
  await assert.rejects(e.containers.start(id), { message: 'boom' });
  assert.equal(await heard, 'boom');
  assert.throws(() => e.containers.get(id), { message: `No such container: ${id}` });
  await e.containers.drainTeardowns();
  assert.equal(existsSync(e.dirOf(id)), false);
  assertNothingLeft(e, id);
  assert.deepEqual(e.actions(id), ['create', 'attach', 'destroy']);
});

test('an attach made before the start is connected before runc starts the process', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({ OpenStdin: true, AttachStdin: true });
  const a = e.containers.attach(id, { stdin: true });
  await e.containers.start(id);
  await a.stream;
  const ops = e.host.calls.map((c) => c.op);
  assert.ok(ops.indexOf('runtime.attach') < ops.indexOf('runtime.start'), ops.join(' '));
  assert.deepEqual(e.host.callsOf('runtime.attach')[0]!.args, [{ stdin: true }]);
});

test('a create that fails after its volumes were made removes them, its dir, and frees its name', async (t) => {
  const e = await fakeEngine(t);
  // The containers dir turned into a file: mkdir of the container's dir fails (as root too).
  const root = join(e.dataRoot, 'containers');
  await rm(root, { recursive: true });
  await writeFile(root, '');
  await assert.rejects(e.create({ Volumes: { '/data': {} } }, 'app'), (err: NodeJS.ErrnoException) => ['ENOTDIR', 'ENOENT'].includes(err.code!));
  assert.deepEqual(e.volumes.store.list(), [], 'the anonymous volume went');
  await rm(root);
  await mkdir(root);
  await e.create({}, 'app');
  assert.equal(e.state('app').Status, 'created', 'the name was free again');
});

test('rm -f of a running container kills it, then removes it and all it held', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({ Volumes: { '/data': {} } }, 'gone');
  await e.containers.start(id);
  const removed = e.containers.wait(id, 'removed');
  await e.containers.remove('gone', { force: true, volumes: true });
  assert.equal(await removed, 137);
  assert.deepEqual(e.host.callsOf('runtime.kill')[0]!.args, [9, true]);
  assert.throws(() => e.containers.get('gone'), NotFound);
  await e.containers.drainTeardowns(); // the host side goes after the reply
  assert.equal(existsSync(e.dirOf(id)), false);
  assertNothingLeft(e, id);
  assert.deepEqual(e.volumes.store.list(), [], 'rm -v took the anonymous volume');
  assert.deepEqual(e.actions(id), ['create', 'start', 'kill', 'die', 'destroy']);
});

test('rm of a running container without force is refused with dockerd\'s text and changes nothing', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  await assert.rejects(e.containers.remove(id, {}), (err: Error) => err instanceof Conflict &&
    err.message === `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
  assert.equal(e.state(id).Status, 'running');
  assert.equal(e.host.containers.get(id)!.status, 'running');
});

test('a teardown that fails on the host after the reply: the container is gone and its name free; the next daemon finishes it', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create({}, 'busy');
  await e.containers.start(id);
  e.host.exit(id, 0);
  await until(() => !e.host.containers.has(id), 'cleanup');
  e.host.failOn('mounts.unmount', { error: new Error('umount: target is busy') });
  await e.containers.remove(id, {});
  assert.throws(() => e.containers.get(id), { message: `No such container: ${id}` });
  await e.containers.drainTeardowns();
  assert.ok(existsSync(join(e.dirOf(id), 'removing')), 'the durable mark stays for the next start');
  const again = await e.create({}, 'busy');
  assert.notEqual(again, id);
  e = await e.restart();
  assert.equal(existsSync(e.dirOf(id)), false);
  assert.equal(e.containers.get('busy').rec.Id, again, 'the old record does not take the name back');
});

test('an exit report for a container whose process still runs is ignored', async (t) => {
  const e = await fakeEngine(t);
  // The fake gives the container this test's own pid: /proc says it runs, and runc agrees.
  e.host.pidsToGive.push(process.pid);
  const id = await e.create();
  await e.containers.start(id);
  await e.containers.handleExit(id, { exitCode: 1, oomKilled: false, finishedAt: new Date() });
  assert.equal(e.state(id).Status, 'running');
  assert.deepEqual(e.host.callsOf('runtime.delete'), [], 'the running process was not deleted');
  assert.deepEqual(e.actions(id), ['create', 'start']);
});

test('an OOM kill shows OOMKilled and an oom event before die', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await e.containers.start(id);
  e.host.exit(id, 137, { oomKilled: true });
  await until(() => e.state(id).Status === 'exited', 'exit');
  assert.equal(e.state(id).OOMKilled, true);
  assert.deepEqual(e.actions(id), ['create', 'start', 'oom', 'die']);
});

test('a failed start leaves no endpoint recorded for a host or none network', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  e.host.failOn('runtime.create');
  await assert.rejects(e.containers.start(id));
  const net = e.containers.get(id).rec.NetworkSettings!;
  assert.equal(net.Networks.none!.EndpointID, '');
  assert.equal(net.SandboxID, undefined);
});
