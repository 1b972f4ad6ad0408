// Runtime.start without a `runc start` spawn (runtime/runtime.ts startThroughFifo): the reader
// takes the init's byte from exec.fifo and removes the fifo, whenever the writer comes; an init
// that died before writing is an error, not a hang; no fifo is left to `runc start`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startThroughFifo } from '../../../src/runtime/runtime.ts';

function fifoIn(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync('/tmp/berth-fifo-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'exec.fifo');
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

test('the byte of a writer that is already waiting is taken, the writer goes on, and the fifo is removed', async (t) => {
  const fifo = fifoIn(t);
  const w = spawn('sh', ['-c', `printf 0 > ${fifo}; echo done`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  w.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  const exited = new Promise((r) => w.on('exit', r));
  await new Promise((r) => setTimeout(r, 100)); // the writer blocks in its open
  assert.equal(await startThroughFifo(fifo, w.pid), true);
  await exited;
  assert.equal(out.trim(), 'done');
  assert.equal(existsSync(fifo), false);
});

test('a writer that comes later is waited for', async (t) => {
  const fifo = fifoIn(t);
  const w = spawn('sh', ['-c', `sleep 0.2; printf 0 > ${fifo}`], { stdio: 'ignore' });
  const t0 = Date.now();
  assert.equal(await startThroughFifo(fifo, w.pid), true);
  assert.ok(Date.now() - t0 >= 150, 'returned only once the byte came');
  assert.equal(existsSync(fifo), false);
});

test('an init that dies without writing is an error, not a hang; the fifo stays for runc to judge', async (t) => {
  const fifo = fifoIn(t);
  const w = spawn('sh', ['-c', 'exit 0'], { stdio: 'ignore' });
  await new Promise((r) => w.on('exit', r));
  await assert.rejects(startThroughFifo(fifo, w.pid, 5_000), /container process is already dead/);
  assert.equal(existsSync(fifo), true);
});

test('no fifo (not created, or started already): false, for `runc start` to say why', async () => {
  assert.equal(await startThroughFifo('/tmp/berth-no-such-dir/exec.fifo', 1), false);
});

test('a writer that writes, runs and ends between two reads is started, not called dead', async (t) => {
  // The init's open returns as soon as ours does, so `true` may be gone before our next read;
  // its byte is still in the fifo. A writer that writes and exits at once, many times over.
  for (let i = 0; i < 20; i++) {
    const fifo = fifoIn(t);
    const w = spawn('sh', ['-c', `printf 0 > ${fifo}`], { stdio: 'ignore' });
    const exited = new Promise((r) => w.on('exit', r));
    await new Promise((r) => setTimeout(r, 30));
    const started = startThroughFifo(fifo, w.pid);
    await exited;
    assert.equal(await started, true);
  }
});
