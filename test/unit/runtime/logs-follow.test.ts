// `logs -f` when the writer is quiet: the back-off is bounded (it once wrapped after 30 idle
// looks, `2 << 31`, and then polled at 0–1 ms for ever), and an idle follower costs ~no CPU
// while a line written later still arrives at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { followDelay, readLogs } from '../../../src/runtime/logs.ts';

const line = (text: string): string => `2026-01-01T00:00:00.000000000+00:00 stdout F ${text}\n`;

test('followDelay: 2, 4, 8, … up to the cap, and never below 2 ms or above the cap however long idle', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => followDelay(i)), [2, 4, 8, 16, 32, 50, 50, 50]);
  assert.deepEqual([0, 6, 7, 8].map((i) => followDelay(i, 250)), [2, 128, 250, 250]);
  for (let i = 0; i < 10_000; i++) {
    const d = followDelay(i);
    assert.ok(d >= 2 && d <= 50, `idle ${i}: ${d} ms`);
    const w = followDelay(i, 250);
    assert.ok(w >= 2 && w <= 250, `idle ${i} (watched): ${w} ms`);
  }
});

/** Records when each file handle reads (a follower's look is one read of its current file). */
async function spyReads(path: string): Promise<{ looks: Map<number, number[]>; restore: () => void }> {
  const fh = await open(path, 'r');
  const proto = Object.getPrototypeOf(fh) as { read: (...a: unknown[]) => Promise<unknown> };
  await fh.close();
  const orig = proto.read;
  const looks = new Map<number, number[]>();
  proto.read = function (this: { fd: number }, ...a: unknown[]) {
    const l = looks.get(this.fd) ?? [];
    l.push(performance.now());
    looks.set(this.fd, l);
    return orig.apply(this, a);
  };
  return { looks, restore: () => { proto.read = orig; } };
}

test('idle followers look at most every 250 ms and never in bursts (past the old wrap at 30 looks), cost ~no CPU, and a new line still comes within 100 ms', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync('/tmp/berth-follow-');
  const f = join(dir, 'container.log');
  const ac = new AbortController();
  writeFileSync(f, line('first'));
  const spy = await spyReads(f);
  const got: string[][] = [];
  const readers: Promise<void>[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const mine: string[] = [];
      got.push(mine);
      readers.push((async () => {
        for await (const e of readLogs(f, { follow: true, stdout: true, stderr: true, signal: ac.signal })) mine.push(e.data.toString());
      })());
    }
    // Let them pass the 30 idle looks where `2 << idle` wrapped (≈1.3 s of back-off).
    await new Promise((r) => setTimeout(r, 2000));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    const used = process.cpuUsage(cpu0);
    const t3 = performance.now();
    let most = 0;
    let minGap = Infinity;
    for (const times of spy.looks.values()) {
      const idle = times.filter((t) => t >= t0 && t <= t3);
      most = Math.max(most, idle.length);
      for (let i = 1; i < idle.length; i++) minGap = Math.min(minGap, idle[i]! - idle[i - 1]!);
    }
    // 3 s at one look per 250 ms: 12 (a loaded machine only makes it fewer).
    assert.ok(most <= 14, `an idle follower looked ${most} times in 3 s`);
    assert.ok(minGap >= 100, `two idle looks ${minGap.toFixed(1)} ms apart`);
    const share = (used.user + used.system) / 1000 / (performance.now() - t0);
    assert.ok(share < 0.05, `20 idle followers used ${(share * 100).toFixed(1)}% of a CPU`);
    const t1 = performance.now();
    appendFileSync(f, line('second'));
    const deadline = Date.now() + 2000;
    while (got.some((g) => g.length < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const latency = performance.now() - t1;
    for (const g of got) assert.deepEqual(g, ['first\n', 'second\n']);
    assert.ok(latency < 100, `the new line came after ${latency.toFixed(0)} ms`);
  } finally {
    spy.restore();
    ac.abort();
    await Promise.race([Promise.all(readers), new Promise((r) => setTimeout(r, 2000))]);
    rmSync(dir, { recursive: true, force: true });
  }
});
