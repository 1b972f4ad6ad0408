// Restart policies after an exit (moby restartmanager): which exits restart, the back-off (100 ms
// doubling to a minute, reset by a run of 10 s), the count inspect shows during the back-off, and
// what a stop, rm or start by hand does to a pending restart. Timers are node:test's mock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeEngine, settle, until, type FakeEngine } from '../../../fakes/engine.ts';
import { Conflict } from '../../../../src/errors.ts';

type Ctx = Parameters<typeof fakeEngine>[0] & { mock: { timers: { enable(o: { apis: string[] }): void; tick(ms: number): void } } };

async function withPolicy(t: Ctx, policy: { Name: string; MaximumRetryCount?: number }): Promise<{ e: FakeEngine; id: string }> {
  const e = await fakeEngine(t);
  const id = await e.create({ HostConfig: { RestartPolicy: policy } });
  t.mock.timers.enable({ apis: ['setTimeout'] });
  await e.containers.start(id);
  return { e, id };
}

const creates = (e: FakeEngine): number => e.host.callsOf('runtime.create').length;

/** Ends the process and waits until the engine has decided (restarting or exited, cleanup done). */
async function exitWith(e: FakeEngine, id: string, code: number, finishedAt?: Date): Promise<void> {
  e.host.exit(id, code, { finishedAt });
  await until(() => !e.state(id).Running && !e.host.containers.has(id), 'exit handled');
  await settle();
}

/** Advances mocked time and lets the start it triggers finish. */
async function advance(t: Ctx, e: FakeEngine, ms: number): Promise<void> {
  t.mock.timers.tick(ms);
  await settle();
}

test('always: an exit restarts after 100 ms, showing restarting and the new count meanwhile', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'always' });
  await exitWith(e, id, 0);
  assert.equal(e.state(id).Status, 'restarting');
  assert.equal(e.state(id).Restarting, true);
  assert.equal(e.containers.get(id).rec.RestartCount, 1);
  await advance(t as Ctx, e, 99);
  assert.equal(creates(e), 1, 'not before 100 ms');
  await advance(t as Ctx, e, 1);
  await until(() => e.actions(id).length === 4, 'restarted');
  assert.equal(creates(e), 2);
  assert.equal(e.state(id).Status, 'running');
  assert.equal(e.state(id).Restarting, false);
  assert.deepEqual(e.actions(id), ['create', 'start', 'die', 'start']);
});

test('the back-off doubles at each quick exit (100, 200, 400, 800 ms) and stops at a minute', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'always' });
  let expected = 100;
  for (let round = 0; round < 12; round++) {
    await exitWith(e, id, 1);
    const before = creates(e);
    await advance(t as Ctx, e, expected - 1);
    assert.equal(creates(e), before, `round ${round}: restarted before ${expected} ms`);
    await advance(t as Ctx, e, 1);
    await until(() => e.state(id).Running, `round ${round}: restart after ${expected} ms`);
    expected = Math.min(expected * 2, 60_000);
  }
  assert.equal(expected, 60_000, 'reached the cap');
  assert.equal(e.containers.get(id).rec.RestartCount, 12);
});

test('a run of 10 s or more resets the back-off to 100 ms', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'always' });
  for (const delay of [100, 200]) {
    await exitWith(e, id, 1);
    await advance(t as Ctx, e, delay);
    await until(() => e.state(id).Running, 'restarted');
  }
  const long = new Date(Date.parse(e.state(id).StartedAt) + 10_000);
  await exitWith(e, id, 1, long);
  const before = creates(e);
  await advance(t as Ctx, e, 100);
  await until(() => creates(e) === before + 1, 'restart after 100 ms again');
});

test('on-failure: exit 0 stays exited; failures restart up to MaximumRetryCount, then it stays exited', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'on-failure', MaximumRetryCount: 2 });
  await exitWith(e, id, 0);
  assert.equal(e.state(id).Status, 'exited');
  await advance(t as Ctx, e, 60_000);
  assert.equal(creates(e), 1);
  await e.containers.start(id);
  let delay = 100;
  for (let i = 1; i <= 2; i++) {
    await exitWith(e, id, 3);
    assert.equal(e.state(id).Status, 'restarting');
    assert.equal(e.containers.get(id).rec.RestartCount, i);
    await advance(t as Ctx, e, delay);
    await until(() => e.state(id).Running, 'restarted');
    delay *= 2;
  }
  await exitWith(e, id, 3);
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(e.state(id).ExitCode, 3);
  assert.equal(e.containers.get(id).rec.RestartCount, 2);
  await advance(t as Ctx, e, 60_000);
  assert.equal(e.state(id).Running, false);
});

test('no (the default) never restarts', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: '' });
  await exitWith(e, id, 1);
  await advance(t as Ctx, e, 60_000);
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(creates(e), 1);
});

test('a stop during the back-off cancels the restart', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'always' });
  await exitWith(e, id, 1);
  await assert.rejects(e.containers.stop(id, {}), { message: 'container already stopped' });
  assert.equal(e.state(id).Status, 'exited');
  assert.equal(e.state(id).Restarting, false);
  await advance(t as Ctx, e, 60_000);
  assert.equal(creates(e), 1);
});

test('rm during the back-off is refused without force; rm -f removes it and nothing restarts', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'always' });
  await exitWith(e, id, 1);
  await assert.rejects(e.containers.remove(id, {}), (err: Error) => err instanceof Conflict &&
    err.message === `You cannot remove a restarting container ${id}. Stop the container before attempting removal or force remove`);
  await e.containers.remove(id, { force: true });
  await advance(t as Ctx, e, 60_000);
  assert.equal(creates(e), 1);
  assert.equal(e.host.containers.size, 0);
  assert.throws(() => e.containers.get(id), { message: `No such container: ${id}` });
});

test('a start by hand during the back-off starts now, once, and counts from zero again', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'always' });
  await exitWith(e, id, 1);
  await e.containers.start(id);
  assert.equal(e.containers.get(id).rec.RestartCount, 0);
  await advance(t as Ctx, e, 60_000);
  assert.equal(creates(e), 2, 'the pending restart did not run too');
  await exitWith(e, id, 1);
  const before = creates(e);
  await advance(t as Ctx, e, 100);
  await until(() => creates(e) === before + 1, 'back-off back at 100 ms');
});

test('a restart whose start fails is tried again with a longer back-off', async (t) => {
  const { e, id } = await withPolicy(t as Ctx, { Name: 'always' });
  await exitWith(e, id, 1);
  e.host.failOn('runtime.create', { error: new Error('runc create failed') });
  await advance(t as Ctx, e, 100);
  await until(() => e.host.callsOf('runtime.create').some((c) => c.failed) && e.containers.get(id).restartTimer !== undefined, 'failed restart rescheduled');
  assert.equal(e.state(id).Status, 'restarting', 'the policy tries again');
  assert.equal(e.host.mounted.size, 0, 'the failed start was undone');
  await advance(t as Ctx, e, 199);
  assert.equal(e.state(id).Running, false);
  await advance(t as Ctx, e, 1);
  await until(() => e.state(id).Running, 'second restart after 200 ms');
});

test('an AutoRemove container is removed at its exit, never restarted; nothing restarts while berthd shuts down', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({ HostConfig: { AutoRemove: true } });
  await e.containers.start(id);
  e.host.exit(id, 1);
  await until(() => !e.containers.all().some((c) => c.rec.Id === id), 'auto-removed');
  assert.deepEqual(e.host.leftovers(id, e.dirOf(id)), { runc: undefined, conmon: false, exitFile: false, mounts: [] });
  const b = await e.create({ HostConfig: { RestartPolicy: { Name: 'always' } } });
  await e.containers.start(b);
  e.containers.shuttingDown = true;
  await exitWith(e, b, 1);
  assert.equal(e.state(b).Status, 'exited');
  assert.equal(e.containers.get(b).restartTimer, undefined);
});

test('at boot: always restarts even after a stop by hand, unless-stopped does not', async (t) => {
  let e = await fakeEngine(t);
  const always = await e.create({ HostConfig: { RestartPolicy: { Name: 'always' } } });
  const unless = await e.create({ HostConfig: { RestartPolicy: { Name: 'unless-stopped' } } });
  for (const id of [always, unless]) { await e.containers.start(id); await e.containers.stop(id, {}); }
  e = await e.restart();
  await until(() => e.state(always).Running, 'always restarted at boot');
  await settle();
  assert.equal(e.state(unless).Status, 'exited');
  assert.equal(e.containers.get(always).rec.RestartCount, 0, 'a boot start is no restart count');
});
