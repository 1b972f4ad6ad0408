// util/host-lock.ts: holders of the same lock file run one at a time, a lock left by a process
// that is gone is taken over, and the file is gone after the holder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { withHostLock } from '../../../src/util/host-lock.ts';

test('holders run one at a time, in turn; the file goes with the last', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  try {
    const lock = join(dir, 'x.lock');
    let inside = 0;
    let most = 0;
    const held = (ms: number) => withHostLock(lock, async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, ms));
      inside--;
      return ms;
    });
    assert.deepEqual(await Promise.all([held(30), held(10), held(20)]), [30, 10, 20]);
    assert.equal(most, 1);
    assert.equal(existsSync(lock), false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a lock whose holder is gone is taken over; a live holder past the timeout is an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
  try {
    const lock = join(dir, 'x.lock');
    const gone = spawnSync('true').pid!;
    writeFileSync(lock, String(gone));
    assert.equal(await withHostLock(lock, async () => 'taken', 1000), 'taken');
    writeFileSync(lock, String(process.ppid));
    await assert.rejects(withHostLock(lock, async () => 'no', 100), /timed out waiting for .*x\.lock \(held by pid \d+\)/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
