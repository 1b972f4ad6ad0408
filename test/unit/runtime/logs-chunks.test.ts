// The log reader at its edges: lines that straddle its 1 MiB reads, a last line still being
// written (not sent until it is whole), and a follower that goes on across a rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, appendFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readLogBatches } from '../../../src/runtime/logs.ts';
import { encodeLines, FrameDecoder, EncodeBuffers } from '../../../src/api/stdcopy.ts';

const entry = (text: string, o: { stream?: string; flag?: string } = {}): string =>
  `2026-01-01T00:00:01.123456789+00:00 ${o.stream ?? 'stdout'} ${o.flag ?? 'F'} ${text}\n`;

/** What the CLI would print: the payloads of the frames encodeLines makes of every batch. */
async function payloads(path: string, o: { follow?: boolean; signal?: AbortSignal; onBatch?: (text: string) => void; coalesce?: number } = {}): Promise<string> {
  const pool = new EncodeBuffers();
  const dec = new FrameDecoder();
  let out = '';
  for await (const b of readLogBatches(path, { follow: o.follow ?? false, stdout: true, stderr: true, signal: o.signal ?? new AbortController().signal })) {
    const into = pool.take();
    const framed = encodeLines(b, { raw: false, timestamps: false, coalesce: o.coalesce ?? 0 }, into);
    let text = '';
    for (const f of dec.push(Buffer.from(framed))) text += f.data.toString('latin1');
    pool.give(into);
    out += text;
    o.onBatch?.(text);
  }
  return out;
}

test('lines that straddle the reader\'s 1 MiB reads arrive whole, in order, none twice', async () => {
  const dir = mkdtempSync('/tmp/berth-logs-');
  const f = join(dir, 'container.log');
  try {
    // 3 MiB of entries of varied lengths (so the read boundaries fall mid-entry), one of 1.5 MiB
    // (longer than a read), and stderr lines between.
    const want: string[] = [];
    let file = '';
    for (let i = 0; file.length < 3 << 20; i++) {
      const text = i === 5000 ? 'L'.repeat(1.5 * (1 << 20)) : `${i} ${'y'.repeat(i % 173)}`;
      const stream = i % 7 === 0 ? 'stderr' : 'stdout';
      file += entry(text, { stream });
      want.push(`${text}\n`);
    }
    writeFileSync(f, file);
    assert.equal(await payloads(f), want.join(''));
    assert.equal(await payloads(f, { coalesce: 1 << 20 }), want.join(''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a last line still being written is not sent; a follower sends it once it is whole, then the next file after a rotation', { timeout: 20_000 }, async () => {
  const dir = mkdtempSync('/tmp/berth-logs-');
  const f = join(dir, 'container.log');
  try {
    writeFileSync(f, entry('one') + entry('two') + '2026-01-01T00:00:01.123456789+00:00 stdout F thr');
    assert.equal(await payloads(f), 'one\ntwo\n');

    const ac = new AbortController();
    let got = '';
    let waiting: { s: string; resolve: () => void } | undefined;
    const until = (s: string): Promise<void> => new Promise((resolve) => { if (got.endsWith(s)) resolve(); else waiting = { s, resolve }; });
    const done = payloads(f, { follow: true, signal: ac.signal, onBatch: (t) => { got += t; if (waiting && got.endsWith(waiting.s)) { waiting.resolve(); waiting = undefined; } } });
    await until('two\n');
    appendFileSync(f, 'ee\n');
    await until('three\n');
    // conmon's cut as berthd makes it: the full file becomes `.1` (same inode), a new current file.
    appendFileSync(f, entry('four', { flag: 'P' }));
    renameSync(f, `${f}.1`);
    appendFileSync(`${f}.1`, entry('-five'));
    writeFileSync(f, entry('six', { stream: 'stderr' }));
    await until('six\n');
    appendFileSync(f, entry('seven'));
    await until('seven\n');
    ac.abort();
    assert.equal(await done, 'one\ntwo\nthree\nfour-five\nsix\nseven\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FrameDecoder: frames split anywhere across chunks come out whole', () => {
  const frames = [Buffer.from('hello\n'), Buffer.alloc(40_000, 0x61), Buffer.from('x')];
  const wire = Buffer.concat(frames.map((p, i) => { const h = Buffer.alloc(8); h[0] = i % 2 ? 2 : 1; h.writeUInt32BE(p.length, 4); return Buffer.concat([h, p]); }));
  for (const step of [5, 7, 8, 9, 4096, wire.length]) {
    const dec = new FrameDecoder();
    const got: string[] = [];
    for (let i = 0; i < wire.length; i += step) for (const fr of dec.push(wire.subarray(i, i + step))) got.push(`${fr.stream}:${fr.data.length}`);
    assert.deepEqual(got, ['1:6', '2:40000', '1:1'], `step ${step}`);
  }
});

test('encodeLines into a pooled buffer: the same bytes as a fresh one; a batch larger than the buffer gets its own', async () => {
  const dir = mkdtempSync('/tmp/berth-logs-');
  const f = join(dir, 'container.log');
  try {
    writeFileSync(f, entry('a') + entry('b', { stream: 'stderr' }) + entry('c'));
    for await (const b of readLogBatches(f, { follow: false, stdout: true, stderr: true, timestamps: true, signal: new AbortController().signal })) {
      for (const o of [{ raw: false, timestamps: true, coalesce: 0 }, { raw: false, timestamps: false, coalesce: 1 << 20 }, { raw: true, timestamps: true }]) {
        const fresh = encodeLines(b, o);
        const into = Buffer.alloc(1 << 16, 0xff);
        const pooled = encodeLines(b, o, into);
        assert.equal(pooled.buffer, into.buffer);
        assert.deepEqual(pooled, fresh);
        const small = Buffer.alloc(4);
        assert.notEqual(encodeLines(b, o, small).buffer, small.buffer);
        assert.deepEqual(encodeLines(b, o, small), fresh);
      }
    }
    const pool = new EncodeBuffers(1024, 1);
    const x = pool.take();
    pool.give(x);
    pool.give(x);
    assert.equal(pool.take(), x);
    assert.notEqual(pool.take(), x, 'a buffer given back twice is handed out once');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
