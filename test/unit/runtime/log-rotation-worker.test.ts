// The rotation worker's idle stop (log-rotation.ts): it goes when no log is watched, and a call
// that lands at that moment (or while it exits) must be answered by a worker, never refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LogRotator, conmonLimit, CONMON_LIMIT_FLOOR } from '../../../src/runtime/log-rotation.ts';
import type { Logger } from '../../../src/util/log.ts';

const quiet = { error() {}, warn() {}, info() {}, debug() {}, child() { return quiet; } } as unknown as Logger;
const cfg = { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } };

test('LogRotator: prepare/unwatch racing the worker\'s idle stop never fails (24 rounds, bounded)', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync('/tmp/berth-rot-');
  const r = new LogRotator(quiet, { idleMs: 0 }); // stopped the moment it is idle: the race under test
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

test('retention is counted in bytes: short files keep one more, full ones max-file − 1; conmon\'s limit is the safety net', async () => {
  const dir = mkdtempSync('/tmp/berth-rot-');
  const r = new LogRotator(quiet);
  const f = join(dir, 'container.log');
  const small = { Type: 'json-file', Config: { 'max-size': '1k', 'max-file': '3' } };
  const files = (): string => readdirSync(dir).filter((n) => /^container\.log\.\d+$/.test(n)).sort()
    .map((n) => `${n.slice(14)}:${statSync(join(dir, n)).size}`).join(' ');
  try {
    // Each prepare (a start) shifts the previous run's output in as `.1`; the budget is 2 × 1000.
    for (const [size, want] of [[1500, '1:1500'], [300, '1:300 2:1500'], [400, '1:400 2:300 3:1500'], [2000, '1:2000'], [1000, '1:1000 2:2000'], [1000, '1:1000 2:1000']] as const) {
      writeFileSync(f, 'x'.repeat(size));
      await r.prepare(f, small);
      await r.unwatch(f);
      assert.equal(files(), want, `after a run of ${size} bytes`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const policy = { maxSize: 10_000_000, maxFile: 5, compress: false };
  assert.equal(conmonLimit(policy, undefined), 10_000_000, 'no ctl FIFO: conmon cuts at max-size itself');
  assert.equal(conmonLimit(policy, '/run/x/ctl'), CONMON_LIMIT_FLOOR);
  assert.equal(conmonLimit({ maxSize: 100_000_000, maxFile: 3, compress: false }, '/run/x/ctl'), 300_000_000);
});
