// The registry's blob uploads go through the image content store's writer (image/content.ts):
// chunked appends are hashed as they arrive, commit verifies before anything is visible, and a
// blob becomes linked in its repository only once committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RegistryStorage } from '../../../src/registry/storage.ts';
import { ContentWriter } from '../../../src/image/content.ts';

const sha = (b: string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function storage(t: { after: (fn: () => Promise<void>) => void }): Promise<RegistryStorage> {
  const root = mkdtempSync(join(tmpdir(), 'berth-registry-storage-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const st = new RegistryStorage(root);
  await st.init();
  return st;
}

test('a chunked upload is one ContentWriter: appended, verified, committed into blobs/ and linked', async (t) => {
  const st = await storage(t);
  const s = await st.startUpload('a/b');
  assert.ok(s.writer instanceof ContentWriter);
  await st.appendUpload(s, Readable.from([Buffer.from('part one, ')]), 0);
  assert.equal(s.size, 10);
  await assert.rejects(st.appendUpload(s, Readable.from([Buffer.from('x')]), 3), { code: 'RANGE_INVALID' });
  assert.equal(await st.commitUpload(s, sha('part one, part two'), Readable.from([Buffer.from('part two')])), 18);
  assert.equal(readFileSync(st.blobPath(sha('part one, part two')), 'utf8'), 'part one, part two');
  assert.equal(await st.statBlob('a/b', sha('part one, part two')), 18);
  assert.deepEqual(readdirSync(join(st.root, 'uploads')), [], 'the upload dir is gone');
});

test('a digest mismatch is DIGEST_INVALID, with nothing in blobs/ and no link', async (t) => {
  const st = await storage(t);
  const s = await st.startUpload('a/b');
  await assert.rejects(st.commitUpload(s, sha('other'), Readable.from([Buffer.from('bytes')])), (e: { code?: string; detail?: unknown }) => {
    assert.equal(e.code, 'DIGEST_INVALID');
    assert.deepEqual(e.detail, { expected: sha('other'), actual: sha('bytes') });
    return true;
  });
  assert.equal(existsSync(st.blobPath(sha('other'))), false);
  assert.equal(existsSync(st.blobPath(sha('bytes'))), false);
  assert.equal(await st.hasBlob('a/b', sha('other')), false);
  assert.deepEqual(readdirSync(join(st.root, 'uploads')), []);
  assert.throws(() => st.session('a/b', s.uuid), { code: 'BLOB_UPLOAD_UNKNOWN' });
});
