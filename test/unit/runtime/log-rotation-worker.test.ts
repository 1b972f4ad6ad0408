// The rotation worker's idle stop (log-rotation.ts): it goes when no log is watched, and a call
// that lands at that moment (or while it exits) must be answered by a worker, never refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogRotator } from '../../../src/runtime/log-rotation.ts';
import type { Logger } from '../../../src/util/log.ts';

const quiet = { error() {}, warn() {}, info() {}, debug() {}, child() { return quiet; } } as unknown as Logger;
const cfg = { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } };

test('LogRotator: prepare/unwatch racing the worker\'s idle stop never fails (24 rounds, bounded)', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync('/tmp/berth-rot-');
  const r = new LogRotator(quiet);
  const deadline = Date.now() + 15_000;
  const failures: string[] = [];
  try {
    for (let i = 0; i < 24 && Date.now() < deadline; i++) {
      const a = join(dir, `a${i}`, 'container.log');
      const b = join(dir, `b${i}`, 'container.log');
      mkdirSync(join(dir, `a${i}`));
      mkdirSync(join(dir, `b${i}`));
      await r.prepare(a, cfg).catch((e) => failures.push(`prepare a${i}: ${e}`));
      // The last unwatch stops the worker; the next prepare lands right then: before the stop
      // (same tick), right after the unwatch's answer, or after a turn of the loop.
      const mode = i % 3;
      if (mode === 0) {
        await Promise.all([r.unwatch(a), r.prepare(b, cfg)]).catch((e) => failures.push(`same tick ${i}: ${e}`));
      } else if (mode === 1) {
        await r.unwatch(a);
        await r.prepare(b, cfg).catch((e) => failures.push(`after stop ${i}: ${e}`));
      } else {
        await r.unwatch(a);
        await new Promise((res) => setImmediate(res));
        await r.prepare(b, cfg).catch((e) => failures.push(`a turn later ${i}: ${e}`));
      }
      await r.unwatch(b);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(failures, []);
});
