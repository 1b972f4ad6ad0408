// The layer codec both ways: overlay whiteouts and opaque dirs become OCI entries and back,
// zstd and gzip layers apply, and the filter times prune takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, lstatSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, createZstdCompress } from 'node:zlib';
import tar from 'tar-stream';
import { packDirectory, applyLayer, decompress } from '../../../src/image/archive/index.ts';
import { run } from '../../../src/sys/exec.ts';
import { parseFilterTime } from '../../../src/engine/filters.ts';

async function entries(stream: Readable): Promise<string[]> {
  const ex = tar.extract();
  const names: string[] = [];
  const done = (async () => { for await (const e of ex) { names.push(`${e.header.type}:${e.header.name}`); e.resume(); } })();
  stream.pipe(ex);
  await done;
  return names;
}

test('an overlay upper dir packs to OCI whiteouts and applies back to overlay whiteouts', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-codec-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const upper = join(root, 'upper');
  mkdirSync(join(upper, 'etc'), { recursive: true });
  mkdirSync(join(upper, 'opaque'));
  writeFileSync(join(upper, 'opaque', 'new'), 'n');
  await run('mknod', [join(upper, 'etc', 'gone'), 'c', '0', '0']);
  await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(upper, 'opaque')]);
  await run('setfattr', ['-n', 'user.keep', '-v', 'me', join(upper, 'opaque', 'new')]);
  const names = await entries(packDirectory(upper, { layer: true }));
  assert.deepEqual(names, ['directory:etc', 'file:etc/.wh.gone', 'directory:opaque', 'file:opaque/.wh..wh..opq', 'file:opaque/new']);

  const out = join(root, 'applied');
  mkdirSync(out);
  await applyLayer(packDirectory(upper, { layer: true }), out);
  const wh = lstatSync(join(out, 'etc', 'gone'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0:0 char device');
  assert.match((await run('getfattr', ['-n', 'trusted.overlay.opaque', join(out, 'opaque')])).stdout, /="y"/);
  assert.match((await run('getfattr', ['-n', 'user.keep', join(out, 'opaque', 'new')])).stdout, /="me"/);
  assert.equal(readFileSync(join(out, 'opaque', 'new'), 'utf8'), 'n');
});

test('gzip and zstd layers apply (detected by magic, not by name)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-codec-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [name, codec] of [['gzip', createGzip], ['zstd', createZstdCompress]] as const) {
    const p = tar.pack();
    p.entry({ name: 'dir/file', mode: 0o640, mtime: new Date(1_000_000_000_000) }, `hello ${name}`);
    p.finalize();
    const dir = join(root, name);
    mkdirSync(dir);
    await applyLayer(await decompress((p as unknown as Readable).pipe(codec())), dir);
    assert.equal(readFileSync(join(dir, 'dir', 'file'), 'utf8'), `hello ${name}`);
    const st = lstatSync(join(dir, 'dir', 'file'));
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(st.mtimeMs, 1_000_000_000_000);
  }
});

test('filter times: Unix seconds, RFC 3339, and Go durations back from now', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  assert.equal(parseFilterTime('1700000000', now), 1_700_000_000_000);
  assert.equal(parseFilterTime('2026-01-01T00:00:00Z', now), Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(parseFilterTime('24h', now), Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(parseFilterTime('1h30m', now), now - 90 * 60_000);
  assert.throws(() => parseFilterTime('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
});

test('rootless (overlay with userxattr): user.overlay.opaque packs to an opaque whiteout and is what extraction writes; union xattrs in a layer are dropped', async (t) => {
  const { setOverlayDriver } = await import('../../../src/sys/mount.ts');
  const root = mkdtempSync(join(tmpdir(), 'berth-codec-'));
  t.after(async () => { setOverlayDriver('overlay'); await rm(root, { recursive: true, force: true }); });
  const upper = join(root, 'upper');
  mkdirSync(join(upper, 'op'), { recursive: true });
  mkdirSync(join(upper, 'fo'));
  writeFileSync(join(upper, 'op', 'kept'), 'k');
  // what the kernel writes with userxattr, and what fuse-overlayfs writes unprivileged
  await run('setfattr', ['-n', 'user.overlay.opaque', '-v', 'y', join(upper, 'op')]);
  await run('setfattr', ['-n', 'user.fuseoverlayfs.opaque', '-v', 'y', join(upper, 'fo')]);
  await run('setfattr', ['-n', 'user.overlay.origin', '-v', 'x', join(upper, 'op', 'kept')]);
  const names = await entries(packDirectory(upper, { layer: true }));
  assert.deepEqual(names, ['directory:fo', 'file:fo/.wh..wh..opq', 'directory:op', 'file:op/.wh..wh..opq', 'file:op/kept']);

  setOverlayDriver('overlay-userxattr');
  // A hostile layer: an opaque marker plus overlay's own xattrs in PAX records, which would redirect or hide lower dirs.
  const pack = tar.pack();
  pack.entry({ name: 'a/', type: 'directory', mode: 0o755 });
  pack.entry({ name: 'a/.wh..wh..opq', type: 'file', size: 0 }, '');
  pack.entry({ name: 'b/', type: 'directory', mode: 0o755, pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc', 'SCHILY.xattr.user.overlay.opaque': 'y', 'SCHILY.xattr.user.fine': 'ok' } });
  pack.finalize();
  const out = join(root, 'applied');
  mkdirSync(out);
  await applyLayer(pack as unknown as Readable, out);
  assert.match((await run('getfattr', ['-n', 'user.overlay.opaque', join(out, 'a')])).stdout, /="y"/);
  const bAttrs = (await run('getfattr', ['-d', '-m', '-', join(out, 'b')])).stdout;
  assert.match(bAttrs, /user\.fine="ok"/);
  assert.doesNotMatch(bAttrs, /overlay/, 'no union xattr taken from the layer');
});
