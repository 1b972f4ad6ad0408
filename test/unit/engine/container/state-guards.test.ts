// What each verb refuses in each state, with dockerd's status class and text (moby
// daemon/start.go, pause.go, delete.go, kill.go; the CLI prints these and scripts match them),
// and that a refused verb changes nothing on the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeEngine, settle, until, type FakeEngine } from '../../../fakes/engine.ts';
import { Conflict, InvalidParameter, NotModified, NotFound } from '../../../../src/errors.ts';

async function running(t: Parameters<typeof fakeEngine>[0]): Promise<{ e: FakeEngine; id: string }> {
  const e = await fakeEngine(t);
  const id = await e.create({ Tty: true });
  await e.containers.start(id);
  return { e, id };
}

const is = (cls: new (m: string) => Error, message: string) => (err: Error) => err instanceof cls && err.message === message;

test('start of a running container is 304 and asks runc nothing', async (t) => {
  const { e, id } = await running(t);
  const before = e.host.calls.length;
  await assert.rejects(e.containers.start(id), is(NotModified, 'container already started'));
  assert.equal(e.host.calls.length, before);
});

test('start of a paused container is refused; unpause, then it runs again', async (t) => {
  const { e, id } = await running(t);
  await e.containers.pause(id);
  assert.equal(e.state(id).Status, 'paused');
  assert.equal(e.host.containers.get(id)!.status, 'paused');
  await assert.rejects(e.containers.start(id), is(Conflict, 'cannot start a paused container, try unpause instead'));
  await assert.rejects(e.containers.pause(id), is(Conflict, `Container ${id} is already paused`));
  await e.containers.unpause(id);
  assert.equal(e.state(id).Status, 'running');
  assert.equal(e.host.containers.get(id)!.status, 'running');
  assert.deepEqual(e.actions(id), ['create', 'start', 'pause', 'unpause']);
});

test('pause, unpause, kill, resize and top of a stopped container are 409s', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({}, 'idle');
  await assert.rejects(e.containers.pause(id), is(Conflict, `Container ${id} is not running`));
  await assert.rejects(e.containers.unpause(id), is(Conflict, `Container ${id} is not paused`));
  await assert.rejects(e.containers.kill('idle'), is(Conflict, `Cannot kill container: idle: Container ${id} is not running`));
  await assert.rejects(e.containers.resize(id, 10, 10), is(Conflict, `Container ${id} is not running`));
  await assert.rejects(e.containers.pids(id), is(Conflict, `Container ${id} is not running`));
  await assert.rejects(e.containers.kill('ghost'), is(NotFound, 'Cannot kill container: ghost: No such container: ghost'));
  assert.deepEqual(e.host.calls, []);
});

test('stop of a stopped container is 304', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  await assert.rejects(e.containers.stop(id, {}), is(NotModified, 'container already stopped'));
  assert.deepEqual(e.host.callsOf('runtime.kill'), []);
});

test('rm of a paused container without force gives dockerd\'s paused text', async (t) => {
  const { e, id } = await running(t);
  await e.containers.pause(id);
  await assert.rejects(e.containers.remove(id, {}), is(Conflict,
    `You cannot remove a paused container ${id}. Unpause and then stop the container before attempting removal or force remove`));
  assert.equal(e.host.containers.get(id)!.status, 'paused');
});

test('attach to a paused container is refused', async (t) => {
  const { e, id } = await running(t);
  await e.containers.pause(id);
  assert.throws(() => e.containers.attach(id, { stdin: false }), is(Conflict, `container ${id} is paused, unpause the container before attach`));
});

test('stop sends the stop signal, and SIGKILL after the timeout when the process ignores it', async (t) => {
  const { e, id } = await running(t);
  await e.containers.stop(id, { timeout: 5 });
  assert.equal(e.state(id).ExitCode, 143);
  assert.deepEqual(e.host.callsOf('runtime.kill').map((c) => c.args), [[15, false]]);
  await e.containers.start(id);
  e.host.ignoredSignals.add(15);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const stopped = e.containers.stop(id, { timeout: 2 });
  await until(() => e.host.callsOf('runtime.kill').length === 2, 'SIGTERM sent');
  await settle(); // the timeout's timer is set once the signal call has returned
  t.mock.timers.tick(1999);
  await new Promise((r) => setImmediate(r));
  assert.equal(e.host.callsOf('runtime.kill').length, 2, 'no SIGKILL before the timeout');
  t.mock.timers.tick(1);
  await until(() => e.host.callsOf('runtime.kill').length === 3, 'a signal at the timeout');
  assert.deepEqual(e.host.callsOf('runtime.kill').slice(1).map((c) => c.args), [[15, false], [9, true]]);
  await stopped;
  assert.equal(e.state(id).ExitCode, 137);
  assert.equal(e.state(id).Status, 'exited');
});

test('a signal that does not end the process leaves it running; StopSignal is used by stop', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({ StopSignal: 'SIGINT' });
  await e.containers.start(id);
  await e.containers.kill(id, 'USR1');
  assert.equal(e.state(id).Status, 'running');
  assert.deepEqual(e.host.callsOf('runtime.kill')[0]!.args, [10, false]);
  await e.containers.stop(id, {});
  assert.deepEqual(e.host.callsOf('runtime.kill')[1]!.args, [2, false]);
  assert.equal(e.state(id).ExitCode, 130);
});

test('stop and SIGKILL of a paused container thaw it so that it can die', async (t) => {
  const { e, id } = await running(t);
  await e.containers.pause(id);
  // kill -9 returns once the exit is seen (or after a minute): the wait is bounded here instead.
  const killed = e.containers.kill(id, 'KILL');
  await until(() => e.state(id).Status === 'exited', 'exit after the thaw');
  await killed;
  assert.equal(e.state(id).ExitCode, 137);
  assert.equal(e.state(id).Paused, false);
  assert.ok(e.host.callsOf('runtime.resume').length === 1);
  await e.containers.start(id);
  await e.containers.pause(id);
  await e.containers.stop(id, { timeout: 5 });
  assert.equal(e.state(id).ExitCode, 143);
});

test('pause of a container whose exit is not handled yet says it is not running', async (t) => {
  const { e, id } = await running(t);
  // The process ended; conmon's report has not reached berthd yet.
  e.host.exit(id, 0, { report: false });
  await assert.rejects(e.containers.pause(id), is(Conflict, `Container ${id} is not running`));
});

test('wait: an unknown condition is a 400 (a 1.41 client waits for not-running); a stopped container answers at once', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create();
  assert.throws(() => e.containers.wait(id, 'bogus'), is(InvalidParameter, 'invalid condition: "bogus"'));
  assert.equal(await e.containers.wait(id, 'bogus', true), 0);
  assert.throws(() => e.containers.wait('nope', null), is(NotFound, 'No such container: nope'));
  await e.containers.start(id);
  const next = e.containers.wait(id, 'next-exit');
  const notRunning = e.containers.wait(id, 'not-running');
  e.host.exit(id, 7);
  assert.deepEqual(await Promise.all([next, notRunning]), [7, 7]);
});

test('update of a running container goes to runc; a runc refusal is a 400 naming the container', async (t) => {
  const { e, id } = await running(t);
  await e.containers.update(id, { CpuShares: 512 });
  assert.equal(e.containers.get(id).rec.HostConfig.CpuShares, 512);
  assert.equal(e.host.callsOf('runtime.update').length, 1);
  e.host.failOn('runtime.update', { error: new Error('cgroup: invalid argument') });
  await assert.rejects(e.containers.update(id, { CpuShares: 1024 }), is(InvalidParameter, `Cannot update container ${id}: cgroup: invalid argument`));
  assert.equal(e.containers.get(id).rec.HostConfig.CpuShares, 512, 'the refused value is not recorded');
});
