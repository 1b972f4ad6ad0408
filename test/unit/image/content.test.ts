// The content store's one path (image/content.ts): ingest → verify → commit, shared by the image
// store and the registry. Content is verified before it becomes visible; a commit is durable
// (data fsynced, renamed, directory fsynced) before it returns; an intact copy is kept and a torn
// one replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore, ContentWriter } from '../../../src/image/content.ts';
import { PowerCutModel } from '../../helpers/power-cut.ts';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function setup(t: { after: (fn: () => Promise<void>) => void }): { root: string; store: ContentStore; m: PowerCutModel; work: string } {
  const root = mkdtempSync(join(tmpdir(), 'berth-content-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'sha256'));
  mkdirSync(join(root, 'tmp'));
  const m = new PowerCutModel(root);
  return { root, store: new ContentStore(join(root, 'sha256'), m.io()), m, work: join(root, 'tmp') };
}

const mismatch = (got: { digest: string; size: number }): Error => new Error(`got ${got.digest} (${got.size} bytes)`);

test('append in pieces, then commit: verified, durable before commit returns, readable under its digest', async (t) => {
  const { store, m, work } = setup(t);
  const w = new ContentWriter(join(work, 'data'));
  await w.append(Readable.from([Buffer.from('hello ')]));
  await w.append(Readable.from([Buffer.from('world')]));
  assert.equal(w.size, 11);
  assert.equal(w.written().digest, sha('hello world'));
  assert.equal(await w.commit(store, { digest: sha('hello world'), size: 11 }, mismatch), true);
  assert.equal((await store.read(sha('hello world'))).toString(), 'hello world');
  assert.ok(m.durable(store.path(sha('hello world'))), m.why(store.path(sha('hello world'))));
  assert.deepEqual(m.ops.map((o) => o.op), ['fsync', 'rename', 'fsyncDir'], 'data fsynced before the rename, directory after');
});

test('a digest or size mismatch throws the caller\'s error and commits nothing', async (t) => {
  const { store, work } = setup(t);
  const w = new ContentWriter(join(work, 'data'));
  await w.append(Readable.from([Buffer.from('abc')]));
  await assert.rejects(w.commit(store, { digest: sha('abd') }, mismatch), new RegExp(`got ${sha('abc')} \\(3 bytes\\)`));
  await assert.rejects(w.commit(store, { digest: sha('abc'), size: 4 }, mismatch), /3 bytes/);
  assert.equal(await store.has(sha('abc')), false);
  assert.equal(await store.has(sha('abd')), false);
  assert.ok(existsSync(join(work, 'data')), 'the ingest file stays for its owner to remove');
});

test('chunk writes with backpressure (a pull beside its extraction), close, then verify and commit', async (t) => {
  const { store, work } = setup(t);
  const w = new ContentWriter(join(work, 'raw'), { highWaterMark: 4 });
  const parts = ['aaaa', 'bbbbbbbb', 'c'].map((s) => Buffer.from(s));
  for (const p of parts) await new Promise<void>((res) => w.write(p, res));
  await w.close();
  w.verify({ digest: sha('aaaabbbbbbbbc'), size: 13 }, mismatch);
  assert.throws(() => w.verify({ digest: sha('aaaabbbbbbbbc'), size: 12 }, mismatch), /13 bytes/);
  await w.commit(store, { digest: sha('aaaabbbbbbbbc') }, mismatch);
  assert.equal(readFileSync(store.path(sha('aaaabbbbbbbbc')), 'utf8'), 'aaaabbbbbbbbc');
});

test('an intact copy already there is kept; a torn one (wrong size) is replaced', async (t) => {
  const { store, m, work } = setup(t);
  const d = sha('content');
  writeFileSync(store.path(d), 'content');
  writeFileSync(join(work, 'a'), 'content');
  assert.equal(await store.commitFile(join(work, 'a'), d, 7), false);
  assert.deepEqual(m.ops, [], 'nothing written for an intact copy');
  writeFileSync(store.path(d), 'cont'); // what a crash before durability could leave
  assert.equal(await store.commitFile(join(work, 'a'), d, 7), true);
  assert.equal(readFileSync(store.path(d), 'utf8'), 'content');
});

test('put: small content durable through a temp file outside the store; the same bytes are not written again', async (t) => {
  const { store, m, work } = setup(t);
  const bytes = Buffer.from('{"config":true}');
  assert.equal(await store.put(bytes, sha(bytes), join(work, 'cfg')), true);
  assert.ok(m.durable(store.path(sha(bytes))), m.why(store.path(sha(bytes))));
  const n = m.ops.length;
  assert.equal(await store.put(bytes, sha(bytes), join(work, 'cfg2')), false);
  assert.equal(m.ops.length, n);
});
