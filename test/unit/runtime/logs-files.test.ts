// The log reader over rotated files (plain and gzip'd), tail counting lines rather than conmon's
// P entries, the frame encoder, and dockerd's answers to log options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { readLogs, readLogBatches } from '../../../src/runtime/logs.ts';
import { encodeLines, FrameDecoder } from '../../../src/api/stdcopy.ts';
import { resolveLogConfig, rotationPolicy } from '../../../src/runtime/log-rotation.ts';

const line = (i: number, text: string, o: { stream?: string; flag?: string } = {}): string =>
  `2026-01-01T00:00:${String(i).padStart(2, '0')}.000000000+00:00 ${o.stream ?? 'stdout'} ${o.flag ?? 'F'} ${text}\n`;

test('readLogs: oldest rotated file first (.gz read through), tail across files, P entries are not lines', async () => {
  const dir = mkdtempSync('/tmp/berth-logs-');
  const f = join(dir, 'container.log');
  try {
    writeFileSync(`${f}.2.gz`, gzipSync(line(1, 'a') + line(2, 'b')));
    writeFileSync(`${f}.1`, line(3, 'c') + line(4, 'd1', { flag: 'P' }) + line(5, 'd2'));
    writeFileSync(f, line(6, 'e', { stream: 'stderr' }) + line(7, 'f') + '2026-01-01T00:00:08.0+00:00 stdout F still being writ');
    const collect = async (o: Partial<Parameters<typeof readLogs>[1]> = {}): Promise<string> => {
      let s = '';
      for await (const e of readLogs(f, { follow: false, stdout: true, stderr: true, signal: new AbortController().signal, ...o })) s += e.data;
      return s;
    };
    assert.equal(await collect(), 'a\nb\nc\nd1d2\ne\nf\n');
    assert.equal(await collect({ tail: 3 }), 'd1d2\ne\nf\n');
    assert.equal(await collect({ tail: 2, stderr: false }), 'd1d2\nf\n');
    assert.equal(await collect({ tail: 5 }), 'b\nc\nd1d2\ne\nf\n');
    assert.equal(await collect({ tail: 0 }), '');
    assert.equal(await collect({ since: Date.parse('2026-01-01T00:00:05Z') / 1000 }), 'd2\ne\nf\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encodeLines: a frame per line, or per run of one stream when coalescing; timestamps; raw', async () => {
  const dir = mkdtempSync('/tmp/berth-logs-');
  const f = join(dir, 'container.log');
  try {
    writeFileSync(f, line(1, 'a') + line(2, 'b') + line(3, 'c', { stream: 'stderr' }) + line(4, 'd'));
    const batches = async (timestamps: boolean): Promise<Parameters<typeof encodeLines>[0][]> => {
      const out: Buffer[] = [];
      for await (const b of readLogBatches(f, { follow: false, stdout: true, stderr: true, timestamps, signal: new AbortController().signal })) {
        out.push(encodeLines(b, { raw: false, timestamps, coalesce: 0 }), encodeLines(b, { raw: false, timestamps, coalesce: 1024 }), encodeLines(b, { raw: true, timestamps }));
      }
      return out as never;
    };
    const [perLine, joined, raw] = (await batches(false)) as unknown as Buffer[];
    const frames = (b: Buffer): string[] => new FrameDecoder().push(b).map((x) => `${x.stream}:${x.data}`);
    assert.deepEqual(frames(perLine!), ['1:a\n', '1:b\n', '2:c\n', '1:d\n']);
    assert.deepEqual(frames(joined!), ['1:a\nb\n', '2:c\n', '1:d\n']);
    assert.equal(raw!.toString(), 'a\nb\nc\nd\n');
    const [stamped] = (await batches(true)) as unknown as Buffer[];
    assert.equal(frames(stamped!)[0], '1:2026-01-01T00:00:01.000000000Z a\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log options: defaults, dockerd\'s messages, daemon opts only for the daemon\'s driver', () => {
  assert.deepEqual(rotationPolicy({ Type: 'json-file', Config: {} }), { maxSize: 10_000_000, maxFile: 5, compress: false });
  assert.deepEqual(rotationPolicy({ Type: 'local', Config: {} }), { maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true });
  assert.deepEqual(rotationPolicy({ Type: 'json-file', Config: { 'max-size': '-1' } }), { maxSize: 0, maxFile: 5, compress: false });
  assert.equal(rotationPolicy({ Type: 'none', Config: {} }), undefined);
  assert.equal(rotationPolicy({ Type: 'json-file', Config: { 'max-size': '1m' } })?.maxSize, 1_000_000);
  assert.equal(rotationPolicy({ Type: 'local', Config: { 'max-size': '1.5k' } })?.maxSize, 1536);
  assert.throws(() => resolveLogConfig({ Type: 'json-file', Config: { foo: 'x' } }), /^InvalidParameter: unknown log opt 'foo' for json-file log driver$|unknown log opt 'foo' for json-file log driver/);
  assert.throws(() => resolveLogConfig({ Config: { 'max-size': '10q' } }), /invalid size: '10q'/);
  assert.throws(() => resolveLogConfig({ Config: { 'max-file': '0' } }), /max-file cannot be less than 1/);
  assert.throws(() => resolveLogConfig({ Type: 'syslog' }), /logger: no log driver named 'syslog' is registered/);
  assert.deepEqual(resolveLogConfig(undefined, { driver: 'local', opts: { 'max-file': '2' } }), { Type: 'local', Config: { 'max-file': '2' } });
  assert.deepEqual(resolveLogConfig({ Type: 'json-file' }, { driver: 'local', opts: { 'max-file': '2' } }), { Type: 'json-file', Config: {} });
  assert.deepEqual(resolveLogConfig({ Type: 'none', Config: {} }), { Type: 'none', Config: {} });
});
