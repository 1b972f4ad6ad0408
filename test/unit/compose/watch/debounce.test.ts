// Compose's BatchDebounceEvents: distinct paths, one batch after the quiet period, the timer
// restarted by each event (driven here by a fake clock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer, type Timers } from '../../../../src/compose/watch/debounce.ts';

function fakeClock(): Timers & { advance(ms: number): void } {
  let now = 0;
  let next = 1;
  const pending = new Map<number, { at: number; fn: () => void }>();
  return {
    set(fn, ms) { const id = next++; pending.set(id, { at: now + ms, fn }); return id; },
    clear(h) { pending.delete(h as number); },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...pending].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now && pending.has(id)) { pending.delete(id); t.fn(); }
      }
    },
  };
}

test('events within the quiet period make one batch of distinct paths, in first-seen order', () => {
  const clock = fakeClock();
  const batches: string[][] = [];
  const d = new Debouncer((b) => batches.push(b), 500, clock);
  d.add('/p/a'); clock.advance(200);
  d.add('/p/b'); clock.advance(200);
  d.add('/p/a'); clock.advance(499);
  assert.deepEqual(batches, []);
  clock.advance(1);
  assert.deepEqual(batches, [['/p/a', '/p/b']]);
});

test('a pause longer than the quiet period separates batches', () => {
  const clock = fakeClock();
  const batches: string[][] = [];
  const d = new Debouncer((b) => batches.push(b), 500, clock);
  d.add('/p/a'); clock.advance(600);
  d.add('/p/a'); clock.advance(600);
  assert.deepEqual(batches, [['/p/a'], ['/p/a']]);
});

test('cancel drops what is pending; flush sends it now; nothing pending sends nothing', () => {
  const clock = fakeClock();
  const batches: string[][] = [];
  const d = new Debouncer((b) => batches.push(b), 500, clock);
  d.add('/p/a'); d.cancel(); clock.advance(1000);
  d.flush();
  assert.deepEqual(batches, []);
  d.add('/p/b'); d.flush(); clock.advance(1000);
  assert.deepEqual(batches, [['/p/b']]);
});

test('with real timers a burst becomes one batch', async () => {
  const batches: string[][] = [];
  const d = new Debouncer((b) => batches.push(b), 50);
  for (let i = 0; i < 20; i++) d.add(`/p/${i % 5}`);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0], ['/p/0', '/p/1', '/p/2', '/p/3', '/p/4']);
});
