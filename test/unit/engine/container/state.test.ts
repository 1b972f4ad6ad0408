// The state guards each verb asks before it acts: which status allows which verb, and the
// error class and dockerd's words for a refusal (daemon/start.go, delete.go, pause.go, kill.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conflict, NotModified } from '../../../../src/errors.ts';
import {
  initialState, setRunning, setStopped, setPaused,
  canStart, canStop, canKill, canPause, canUnpause, canReachProcess, canAttach, canRemove,
} from '../../../../src/engine/container/state.ts';
import type { Container } from '../../../../src/engine/container/store.ts';
import type { ContainerRecord } from '../../../../src/engine/container/record.ts';

const ID = 'c0ffee';

function container(status: 'created' | 'running' | 'paused' | 'exited', extra: Partial<Container> = {}): Container {
  const State = initialState();
  if (status !== 'created') setRunning(State, 42);
  if (status === 'paused') setPaused(State, true);
  if (status === 'exited') setStopped(State, 1, false);
  return {
    rec: { Id: ID, Name: '/x', State } as ContainerRecord, dir: '/nowhere', exitWaiters: new Set(), removeWaiters: new Set(),
    pendingAttach: [], execIds: new Set(), removed: false, removing: false, restartDelay: 0, runtimeClean: false, ...extra,
  };
}

function refusal(e: Error | undefined): [string, string] | undefined {
  return e && [e.constructor.name, e.message];
}

test('start: created and exited start; running is 304, paused and removing 409', () => {
  assert.equal(canStart(container('created')), undefined);
  assert.equal(canStart(container('exited')), undefined);
  assert.deepEqual(refusal(canStart(container('running'))), ['NotModified', 'container already started']);
  assert.deepEqual(refusal(canStart(container('paused'))), ['Conflict', 'cannot start a paused container, try unpause instead']);
  const removing = container('exited');
  removing.rec.State.Status = 'removing';
  assert.deepEqual(refusal(canStart(removing)), ['Conflict', `container ${ID} is marked for removal and cannot be started`]);
  assert.ok(canStart(container('running', { removed: true })) instanceof Conflict, 'removed wins over running');
});

test('stop, kill, pause, unpause, resize/top, attach', () => {
  assert.ok(canStop(container('exited')) instanceof NotModified);
  assert.equal(canStop(container('paused')), undefined);
  assert.deepEqual(refusal(canKill(container('created'), 'web')), ['Conflict', `Cannot kill container: web: Container ${ID} is not running`]);
  assert.equal(canKill(container('paused'), 'web'), undefined);
  assert.equal(canPause(container('running')), undefined);
  assert.deepEqual(refusal(canPause(container('exited'))), ['Conflict', `Container ${ID} is not running`]);
  assert.deepEqual(refusal(canPause(container('paused'))), ['Conflict', `Container ${ID} is already paused`]);
  assert.equal(canUnpause(container('paused')), undefined);
  assert.deepEqual(refusal(canUnpause(container('running'))), ['Conflict', `Container ${ID} is not paused`]);
  assert.deepEqual(refusal(canReachProcess(container('created'))), ['Conflict', `Container ${ID} is not running`]);
  assert.equal(canReachProcess(container('paused')), undefined);
  assert.deepEqual(refusal(canAttach(container('paused'))), ['Conflict', `container ${ID} is paused, unpause the container before attach`]);
  assert.equal(canAttach(container('exited')), undefined);
});

test('remove: -f removes anything not already being removed; without it, the restarting, running and paused are refused in that order', () => {
  const timer = setTimeout(() => {}, 0);
  clearTimeout(timer);
  assert.equal(canRemove(container('exited'), 'x', false), undefined);
  for (const s of ['running', 'paused', 'created'] as const) assert.equal(canRemove(container(s, { restartTimer: timer }), 'x', true), undefined);
  assert.deepEqual(refusal(canRemove(container('exited', { removing: true }), 'web', true)), ['Conflict', 'removal of container web is already in progress']);
  assert.match(canRemove(container('running', { restartTimer: timer }), 'x', false)!.message, /^You cannot remove a restarting container c0ffee\./);
  assert.match(canRemove(container('running'), 'x', false)!.message, /^You cannot remove a running container c0ffee\./);
  assert.match(canRemove(container('paused'), 'x', false)!.message, /^You cannot remove a paused container c0ffee\. Unpause and then stop/);
});
