// The restart manager (moby restartmanager): which policy restarts after which exit, the
// back-off (100 ms doubling to a minute, reset by a run of 10 s), and stops and starts by hand.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { RestartManager } from '../../../../src/engine/container/restart-manager.ts';
import { KeyedMutex } from '../../../../src/util/keyed-mutex.ts';
import { initialState, setStopped } from '../../../../src/engine/container/state.ts';
import type { Container } from '../../../../src/engine/container/store.ts';
import type { ContainerRecord } from '../../../../src/engine/container-record.ts';
import type { Logger } from '../../../../src/util/log.ts';

const quiet = { warn() {}, error() {}, info() {}, debug() {} } as unknown as Logger;

function exited(policy: string, exitCode: number, max = 0): Container {
  const State = initialState();
  setStopped(State, exitCode, false);
  return {
    rec: { Id: 'c1', Name: '/x', State, RestartCount: 0, HostConfig: { RestartPolicy: { Name: policy, MaximumRetryCount: max } } } as unknown as ContainerRecord,
    dir: '/nowhere', exitWaiters: new Set(), removeWaiters: new Set(), pendingAttach: [], execIds: new Set(),
    removed: false, removing: false, restartDelay: 0, runtimeClean: false,
  };
}

function manager(o: { shuttingDown?: boolean; fail?: boolean } = {}): { m: RestartManager; starts: string[] } {
  const starts: string[] = [];
  const m = new RestartManager({
    lock: new KeyedMutex(), log: quiet, persist: async () => {}, shuttingDown: () => o.shuttingDown ?? false,
    startLocked: async (c) => { starts.push(c.rec.Id); if (o.fail) throw new Error('no'); },
  });
  return { m, starts };
}

test('policies: which exit restarts, counted when decided; none while shutting down', () => {
  const cases: [string, number, number, boolean][] = [
    ['no', 1, 0, false], ['', 1, 0, false], ['always', 0, 0, true], ['unless-stopped', 0, 0, true],
    ['on-failure', 0, 0, false], ['on-failure', 3, 0, true], ['on-failure', 3, 1, true],
  ];
  for (const [policy, code, max, restarts] of cases) {
    const c = exited(policy, code, max);
    manager().m.schedule(c, false);
    assert.equal(c.restartTimer !== undefined, restarts, `${policy} exit ${code}`);
    if (restarts) assert.deepEqual([c.rec.State.Status, c.rec.State.Restarting, c.rec.RestartCount, c.restartDelay], ['restarting', true, 1, 100]);
    clearTimeout(c.restartTimer);
  }
  const spent = exited('on-failure', 3, 2);
  spent.rec.RestartCount = 2;
  manager().m.schedule(spent, false);
  assert.equal(spent.restartTimer, undefined, 'on-failure:2 after two restarts');
  const c = exited('always', 0);
  manager({ shuttingDown: true }).m.schedule(c, false);
  assert.equal(c.restartTimer, undefined);
});

test('stopped by hand: only always at boot restarts it, without back-off; a start by hand counts from zero', () => {
  const { m } = manager();
  for (const policy of ['always', 'unless-stopped', 'on-failure']) {
    const c = exited(policy, 1);
    c.restartTimer = setTimeout(() => {}, 60_000);
    c.rec.State.Status = 'restarting';
    c.rec.State.Restarting = true;
    m.manualStop(c);
    assert.deepEqual([c.restartTimer, c.rec.HasBeenManuallyStopped, c.rec.State.Status, c.rec.State.Restarting], [undefined, true, 'exited', false]);
    m.schedule(c, false);
    assert.equal(c.restartTimer, undefined, policy);
    m.schedule(c, true);
    assert.equal(c.restartTimer !== undefined, policy === 'always', `${policy} at boot`);
    if (c.restartTimer) assert.deepEqual([c.restartDelay, c.rec.State.Restarting, c.rec.RestartCount], [0, false, 0]);
    m.reset(c);
    assert.deepEqual([c.restartTimer, c.rec.HasBeenManuallyStopped, c.rec.RestartCount, c.restartDelay], [undefined, false, 0, 0]);
  }
});

test('back-off doubles up to a minute, a 10 s run resets it; a failed restart schedules the next', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { m, starts } = manager({ fail: true });
    const c = exited('always', 1);
    m.schedule(c, false);
    assert.equal(c.restartDelay, 100);
    mock.timers.tick(100);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    assert.deepEqual(starts, ['c1']);
    assert.equal(c.restartDelay, 200, 'the failed start scheduled the next, twice as late');
    assert.equal(c.rec.RestartCount, 2);
    clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
    c.restartDelay = 40_000;
    m.schedule(c, false);
    assert.equal(c.restartDelay, 60_000);
    clearTimeout(c.restartTimer);
    m.exited(c, 9_999);
    assert.equal(c.restartDelay, 60_000);
    m.exited(c, 10_000);
    assert.equal(c.restartDelay, 0);
  } finally {
    mock.timers.reset();
  }
});
