// Concurrent rewrites of one metadata file end with the newest state on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { serialJsonWriter } from '../../../src/util/atomic-write.ts';

test('serialJsonWriter: 50 concurrent writes leave the last state, each write reading the state when it starts', async () => {
  const dir = mkdtempSync('/tmp/berth-serial-');
  try {
    const write = serialJsonWriter();
    const file = join(dir, 'tags.json');
    const state: number[] = [];
    const seen: number[] = [];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      state.push(i);
      writes.push(write(file, () => { seen.push(state.length); return { tags: [...state] }; }));
    }
    await Promise.all(writes);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { tags: [...Array(50).keys()] });
    // one write at a time: the first starts after all 50 calls, and so sees the whole state
    assert.equal(seen.length, 50);
    assert.ok(seen.every((n) => n === 50));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
