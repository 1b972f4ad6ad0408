// Hostile layer tars fed to applyLayer. Every case checks two things: the outcome (refused with
// a clear InvalidParameter, or applied with the entry landing inside the layer) and that
// nothing outside the layer directory changed (files, symlinks, modes, link counts, xattrs,
// and absolute paths an escape would have created).
//
// Each case gets a fresh sandbox:  <tmp>/berth-hostile-sb-XXXX/{layer/, outside/canary, sibling}
// Normal entries are written with tar-stream; what tar-stream cannot express (PAX and GNU
// long-name records with hostile values, huge or truncated headers) is written as raw ustar
// headers with a correct checksum.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { applyLayer } from '../../../src/image/archive/extract.ts';
import type { ApplyResult } from '../../../src/image/archive/extract.ts';
import { decompress } from '../../../src/image/archive/compression.ts';
import { InvalidParameter } from '../../../src/errors.ts';

const MiB = 1024 * 1024;
const T = { timeout: 60_000 };
const CANARY = 'canary: must never change\n';
const SIBLING = 'sibling of the layer dir: must survive\n';

// ---------------------------------------------------------------------------------------------
// Sandbox and the "nothing outside" snapshot

interface Sandbox {
  root: string;
  layer: string;
  outside: string;
  canary: string;
  sibling: string;
}

async function sandbox(t: TestContext): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'berth-hostile-sb-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const sb = {
    root,
    layer: join(root, 'layer'),
    outside: join(root, 'outside'),
    canary: join(root, 'outside', 'canary'),
    sibling: join(root, 'sibling'),
  };
  await mkdir(sb.layer);
  await mkdir(sb.outside);
  await writeFile(sb.canary, CANARY);
  await writeFile(sb.sibling, SIBLING);
  return sb;
}

/** A unique absolute path an escape would create; removed after the test in case it did. */
function absTarget(t: TestContext, parent = '/tmp'): string {
  const p = join(parent, `berth-hostile-${randomBytes(6).toString('hex')}`);
  t.after(() => rm(p, { recursive: true, force: true }));
  return p;
}

async function describePath(p: string): Promise<string> {
  const st = await lstat(p).catch(() => undefined);
  if (!st) return 'absent';
  const meta = `mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} nlink=${st.nlink} ino=${st.ino}`;
  if (st.isSymbolicLink()) return `symlink -> ${await readlink(p)} ${meta}`;
  if (st.isFile()) return `file ${JSON.stringify((await readFile(p)).toString('latin1'))} ${meta}`;
  if (st.isDirectory()) return `dir ${meta}`;
  return `special rdev=${st.rdev} ${meta}`;
}

function xattrDump(paths: string[]): string {
  if (paths.length === 0) return '';
  const r = spawnSync('getfattr', ['-h', '-d', '-m', '-', '--absolute-names', '--', ...paths], { encoding: 'utf8' });
  return r.stdout;
}

/**
 * Everything in the sandbox except the layer dir's contents (the layer dir itself is recorded:
 * it must stay a directory), plus the given absolute paths.
 */
async function snapshot(sb: Sandbox, watch: string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const paths: string[] = [];
  const walk = async (p: string): Promise<void> => {
    paths.push(p);
    out[p] = await describePath(p);
    if (p === sb.layer) {
      out[p] = out[p].startsWith('dir ') ? 'dir' : out[p]; // its mtime/nlink may change; its kind may not
      return;
    }
    if (out[p].startsWith('dir ')) for (const n of (await readdir(p)).sort()) await walk(join(p, n));
  };
  await walk(sb.root);
  out['<xattrs outside layer>'] = xattrDump(paths.filter((p) => p !== sb.layer));
  for (const w of watch) out[w] = await describePath(w);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Archive builders

type EntryType = tar.Header['type'];
interface Entry {
  name: string;
  type: EntryType;
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
  devmajor?: number;
  devminor?: number;
}

const E = {
  file: (name: string, body: string | Buffer = ''): Entry => ({ name, type: 'file', body }),
  dir: (name: string): Entry => ({ name, type: 'directory', mode: 0o755 }),
  symlink: (name: string, target: string): Entry => ({ name, type: 'symlink', linkname: target, mode: 0o777 }),
  hardlink: (name: string, target: string): Entry => ({ name, type: 'link', linkname: target }),
  chardev: (name: string, major: number, minor: number): Entry => ({ name, type: 'character-device', devmajor: major, devminor: minor, mode: 0o666 }),
};

/** A complete tar (with its end-of-archive blocks) built by tar-stream. */
async function pack(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of p) chunks.push(Buffer.from(c as Uint8Array)); })();
  for (const e of entries) {
    const header = {
      name: e.name,
      type: e.type,
      mode: e.mode ?? 0o644,
      uid: 0,
      gid: 0,
      mtime: new Date(1_700_000_000_000),
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
    };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      p.entry(header, e.type === 'file' ? e.body ?? '' : Buffer.alloc(0), cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Typeflags by their tar byte: '0' file, '5' dir, 'x' PAX, 'L' GNU long name, 'K' GNU long link. */
interface RawHeader { name: string; typeflag: string; size: number; linkname?: string; mode?: number }

/** One raw 512-byte ustar header with a valid checksum. */
function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  const oct = (v: number, width: number): string => v.toString(8).padStart(width - 1, '0') + '\0';
  b.write(h.name, 0, 100, 'utf8');
  b.write(oct(h.mode ?? 0o644, 8), 100, 'ascii');
  b.write(oct(0, 8), 108, 'ascii');
  b.write(oct(0, 8), 116, 'ascii');
  b.write(oct(h.size, 12), 124, 'ascii');
  b.write(oct(1_700_000_000, 12), 136, 'ascii');
  b.write(h.typeflag, 156, 1, 'ascii');
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  b.write('root', 265, 'ascii');
  b.write('root', 297, 'ascii');
  b.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return b;
}

/** A raw header followed by its body padded to a 512-byte boundary. */
function rawEntry(h: Omit<RawHeader, 'size'>, body: Buffer): Buffer {
  const pad = (512 - (body.length % 512)) % 512;
  return Buffer.concat([rawHeader({ ...h, size: body.length }), body, Buffer.alloc(pad)]);
}

/** A PAX extended header body: `<len> key=value\n` records. */
function paxBody(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(rest) + 1;
    while (String(len).length + Buffer.byteLength(rest) !== len) len = String(len).length + Buffer.byteLength(rest);
    parts.push(Buffer.from(`${len}${rest}`));
  }
  return Buffer.concat(parts);
}

const END = Buffer.alloc(1024);

function input(buf: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 64 * 1024) chunks.push(buf.subarray(i, i + 64 * 1024));
  return Readable.from(chunks, { objectMode: false });
}

// ---------------------------------------------------------------------------------------------
// Outcomes

type Outcome = { ok: true; result: ApplyResult } | { ok: false; error: unknown };

async function attempt(p: Promise<ApplyResult>): Promise<Outcome> {
  try {
    return { ok: true, result: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

function assertRefused(o: Outcome, re: RegExp, label = ''): void {
  if (o.ok) assert.fail(`${label}extraction succeeded (${JSON.stringify(o.result)}) but must be refused`);
  const err = o.error as Error;
  assert.ok(err instanceof InvalidParameter, `${label}expected InvalidParameter, got ${err?.name}: ${err?.message}`);
  assert.match(err.message, re, `${label}error message`);
}

function assertApplied(o: Outcome, label = ''): ApplyResult {
  if (!o.ok) {
    const err = o.error as Error;
    assert.fail(`${label}extraction must succeed, got ${err?.name}: ${err?.message}`);
  }
  return o.result;
}

/**
 * The common shape: snapshot, apply `archive` to the layer, check that nothing outside changed,
 * and hand back the outcome for the case's own assertions.
 */
async function applyHostile(sb: Sandbox, archive: Buffer | Readable, opts: { maxBytes?: number; watch?: string[]; gunzip?: boolean } = {}): Promise<Outcome> {
  const watch = opts.watch ?? [];
  const before = await snapshot(sb, watch);
  let stream = Buffer.isBuffer(archive) ? input(archive) : archive;
  if (opts.gunzip) stream = await decompress(stream);
  const o = await attempt(applyLayer(stream, sb.layer, opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }));
  assert.deepEqual(await snapshot(sb, watch), before, 'nothing outside the layer may change');
  assert.equal(await readFile(sb.canary, 'utf8'), CANARY);
  assert.equal((await stat(sb.canary)).nlink, 1, 'the canary must not gain a hard link');
  assert.equal(await readFile(sb.sibling, 'utf8'), SIBLING);
  assert.ok((await lstat(sb.layer)).isDirectory(), 'the layer dir must remain a directory');
  return o;
}

const inLayer = (sb: Sandbox, rel: string): string => join(sb.layer, rel);

function hasXattr(path: string, name: string): boolean {
  const r = spawnSync('getfattr', ['-h', '--absolute-names', '-n', name, '--', path], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(name);
}

// ---------------------------------------------------------------------------------------------
// Path traversal by name

test('01 ../escape is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.file('../escape', 'pwned')]));
  assertRefused(o, /escapes/);
});

test('02 a/../../escape is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.dir('a/'), E.file('a/../../escape', 'pwned')]));
  assertRefused(o, /escapes/);
});

test('03 absolute path /tmp/berth-hostile-X/f lands inside the layer, never at the absolute path', T, async (t) => {
  const sb = await sandbox(t);
  const abs = absTarget(t);
  const o = await applyHostile(sb, await pack([E.file(`${abs}/f`, 'abs')]), { watch: [abs] });
  if (o.ok) assert.equal(await readFile(inLayer(sb, `${abs.slice(1)}/f`), 'utf8'), 'abs');
  else assertRefused(o, /absolute|escapes/);
});

// ---------------------------------------------------------------------------------------------
// Writing through symlinks

test('04 symlink to an absolute outside dir, then link/pwned, is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('link', sb.outside), E.file('link/pwned', 'pwned')]));
  assertRefused(o, /symlink/);
});

test('05 symlink link -> ../../.., then link/<name>, is refused', T, async (t) => {
  const sb = await sandbox(t);
  const abs = absTarget(t, '/'); // layer/link resolves to /, so link/<name> would be /<name>
  const name = abs.slice(1);
  const o = await applyHostile(sb, await pack([E.symlink('link', '../../..'), E.file(`link/${name}`, 'pwned')]), { watch: [abs] });
  assertRefused(o, /symlink/);
});

test('06 nested: d/, d/l -> /, then d/l/tmp/<name>, is refused', T, async (t) => {
  const sb = await sandbox(t);
  const abs = absTarget(t);
  const o = await applyHostile(sb, await pack([E.dir('d/'), E.symlink('d/l', '/'), E.file(`d/l${abs}`, 'pwned')]), { watch: [abs] });
  assertRefused(o, /symlink/);
});

test('26 symlink chain a -> b -> outside, then a/pwned, is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('a', 'b'), E.symlink('b', sb.outside), E.file('a/pwned', 'pwned')]));
  assertRefused(o, /symlink/);
});

// ---------------------------------------------------------------------------------------------
// Hard links

test('07 hard link to ../outside/canary is refused and the canary is not linked', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.hardlink('h', '../outside/canary')]));
  assertRefused(o, /escapes|hard link/);
  assert.equal(await describePath(inLayer(sb, 'h')), 'absent');
});

test('08a hard link to the canary\'s absolute path (nothing there in the layer) is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.hardlink('h', sb.canary)]));
  assertRefused(o, /hard link|absolute|escapes/);
});

test('08b hard link with an absolute linkname resolves inside the layer, never to the host file', T, async (t) => {
  const sb = await sandbox(t);
  // A decoy at the same path relative to the layer: a correct extractor links to this one.
  const o = await applyHostile(sb, await pack([E.file(sb.canary.slice(1), 'decoy'), E.hardlink('h', sb.canary)]));
  if (!o.ok) return assertRefused(o, /hard link|absolute|escapes/);
  const h = await stat(inLayer(sb, 'h'));
  assert.equal(h.ino, (await stat(inLayer(sb, sb.canary.slice(1)))).ino, 'h must be the in-layer decoy');
  assert.notEqual(h.ino, (await stat(sb.canary)).ino);
  assert.equal(await readFile(inLayer(sb, 'h'), 'utf8'), 'decoy');
});

test('09 symlink s -> outside, hard link h -> s, then h/pwned (write through a hard-linked symlink) is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('s', sb.outside), E.hardlink('h', 's'), E.file('h/pwned', 'pwned')]));
  assertRefused(o, /symlink|hard link/);
});

test('20 hard link to a directory is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.dir('d/'), E.file('d/f', 'x'), E.hardlink('h', 'd')]));
  assertRefused(o, /hard link to a directory|directory/);
});

test('23 hard link whose linkname goes through a symlink (s -> outside, h -> s/canary) is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('s', sb.outside), E.hardlink('h', 's/canary')]));
  assertRefused(o, /symlink/);
  assert.equal(await describePath(inLayer(sb, 'h')), 'absent');
});

// ---------------------------------------------------------------------------------------------
// Whiteouts

test('10 whiteouts of "..", "." or "" (.wh..., a/.wh..., .wh.., .wh.) are refused and delete nothing', T, async (t) => {
  for (const name of ['.wh...', 'a/.wh...', '.wh..', 'a/.wh..', '.wh.']) {
    const sb = await sandbox(t);
    await writeFile(join(sb.root, 'next-to-layer'), 'keep');
    const entries = name.startsWith('a/') ? [E.dir('a/'), E.file('a/keep', 'k'), E.file(name)] : [E.file(name)];
    const o = await applyHostile(sb, await pack(entries));
    assertRefused(o, /whiteout/, `${name}: `);
    assert.equal(await readFile(join(sb.root, 'next-to-layer'), 'utf8'), 'keep', name);
  }
});

test('11 opaque whiteout through a symlink (link -> outside, link/.wh..wh..opq) is refused; no xattr outside', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('link', sb.outside), E.file('link/.wh..wh..opq')]));
  assertRefused(o, /symlink/);
  assert.equal(hasXattr(sb.outside, 'trusted.overlay.opaque'), false, 'outside dir must not become opaque');
  // The probe can see the attribute on this filesystem (so the check above is not vacuous).
  const probe = join(sb.layer, 'probe');
  await mkdir(probe);
  spawnSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', probe]);
  assert.equal(hasXattr(probe, 'trusted.overlay.opaque'), true, 'getfattr probe sanity check');
});

test('12 whiteout through a symlink (link -> outside, link/.wh.canary) is refused; the canary survives', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('link', sb.outside), E.file('link/.wh.canary')]));
  assertRefused(o, /symlink/);
});

// ---------------------------------------------------------------------------------------------
// Replacing entries

test('13 duplicate entries: the later one wins (file/file, dir then file, file then dir)', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([
    E.file('f', 'A'), E.file('f', 'B'),
    E.dir('x/'), E.file('x', 'file now'),
    E.file('y', 'file first'), E.dir('y/'),
  ]));
  assertApplied(o);
  assert.equal(await readFile(inLayer(sb, 'f'), 'utf8'), 'B');
  assert.ok((await lstat(inLayer(sb, 'x'))).isFile(), 'x is a file');
  assert.equal(await readFile(inLayer(sb, 'x'), 'utf8'), 'file now');
  assert.ok((await lstat(inLayer(sb, 'y'))).isDirectory(), 'y is a directory');
});

test('14 symlink f -> outside/canary, then regular file f: the file replaces the symlink', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('f', sb.canary), E.file('f', 'replaced')]));
  assertApplied(o);
  const st = await lstat(inLayer(sb, 'f'));
  assert.ok(st.isFile() && !st.isSymbolicLink(), 'f is a regular file');
  assert.equal(await readFile(inLayer(sb, 'f'), 'utf8'), 'replaced');
});

test('25 symlink d -> outside, then directory d/ and d/f: d becomes a real dir inside the layer', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('d', sb.outside), E.dir('d/'), E.file('d/f', 'inside')]));
  if (!o.ok) return assertRefused(o, /symlink/);
  assert.ok((await lstat(inLayer(sb, 'd'))).isDirectory(), 'd is a real directory');
  assert.equal(await readFile(inLayer(sb, 'd/f'), 'utf8'), 'inside');
});

// ---------------------------------------------------------------------------------------------
// Long-name records

test('15 PAX path=../../escape on an innocently named entry is refused', T, async (t) => {
  const variants: [string, Buffer][] = [
    ['pax path', Buffer.concat([
      rawEntry({ name: 'PaxHeader/innocent', typeflag: 'x' }, paxBody({ path: '../../escape' })),
      await pack([E.file('innocent', 'pwned')]),
    ])],
    ['pax linkpath', Buffer.concat([
      rawEntry({ name: 'PaxHeader/innocent', typeflag: 'x' }, paxBody({ linkpath: '../outside/canary' })),
      await pack([E.hardlink('innocent', 'innocent-target')]),
    ])],
  ];
  for (const [label, archive] of variants) {
    const sb = await sandbox(t);
    const o = await applyHostile(sb, archive);
    assertRefused(o, /escapes/, `${label}: `);
    assert.equal(await describePath(inLayer(sb, 'innocent')), 'absent', label);
  }
});

test('16 GNU long name (L) resolving to ../x is refused', T, async (t) => {
  const variants: [string, Buffer][] = [
    ['L ../x', Buffer.concat([
      rawEntry({ name: '././@LongLink', typeflag: 'L' }, Buffer.from('../x\0')),
      await pack([E.file('innocent', 'pwned')]),
    ])],
    ['L a/b/../../../x', Buffer.concat([
      rawEntry({ name: '././@LongLink', typeflag: 'L' }, Buffer.from(`a/b/../../../x${'/.'.repeat(60)}\0`)),
      await pack([E.file('innocent', 'pwned')]),
    ])],
    ['K ../outside/canary', Buffer.concat([
      rawEntry({ name: '././@LongLink', typeflag: 'K' }, Buffer.from('../outside/canary\0')),
      await pack([E.hardlink('innocent', 'innocent-target')]),
    ])],
  ];
  for (const [label, archive] of variants) {
    const sb = await sandbox(t);
    const o = await applyHostile(sb, archive);
    assertRefused(o, /escapes/, `${label}: `);
    assert.equal(await describePath(inLayer(sb, 'innocent')), 'absent', label);
  }
});

// ---------------------------------------------------------------------------------------------
// Malformed and oversized input

test('17 a 100 MB PAX header is refused quickly without buffering it', T, async (t) => {
  const sb = await sandbox(t);
  const declared = 100 * MiB;
  const chunk = Buffer.alloc(64 * 1024);
  let pulled = 0;
  const source = Readable.from((function* () {
    pulled += 512;
    yield rawHeader({ name: 'PaxHeader/huge', typeflag: 'x', size: declared });
    for (let sent = 0; sent < declared; sent += chunk.length) {
      pulled += chunk.length;
      yield chunk;
    }
  })(), { objectMode: false });
  const start = Date.now();
  const o = await applyHostile(sb, source);
  const ms = Date.now() - start;
  assertRefused(o, /(header|pax).*(exceeds|too large|too big|limit|max)/i);
  assert.ok(pulled < 16 * MiB, `read ${pulled} bytes of the header before refusing (must stop early)`);
  assert.ok(ms < 10_000, `took ${ms} ms`);
});

test('18 a truncated archive is refused cleanly', T, async (t) => {
  const header = rawHeader({ name: 'f', typeflag: '0', size: 10_000 });
  const variants: [string, Buffer][] = [
    ['body cut at 100 of 10000 bytes', Buffer.concat([header, Buffer.alloc(100, 0x41)])],
    ['header cut at 300 bytes', Buffer.concat([await pack([E.file('ok', 'fine')]).then((b) => b.subarray(0, 1024)), header.subarray(0, 300)])],
  ];
  for (const [label, archive] of variants) {
    const sb = await sandbox(t);
    const o = await applyHostile(sb, archive);
    assertRefused(o, /invalid tar|unexpected end|truncated/i, `${label}: `);
  }
});

test('19 decompression bombs are stopped by maxBytes', T, async (t) => {
  const zeros = Buffer.alloc(64 * MiB);
  const oneBig = Buffer.concat([rawHeader({ name: 'zeros', typeflag: '0', size: zeros.length }), zeros, END]);
  const manySmall = Buffer.concat([
    ...Array.from({ length: 64 }, (_, i) => rawEntry({ name: `z${i}`, typeflag: '0' }, zeros.subarray(0, MiB))),
    END,
  ]);
  const variants: [string, Buffer][] = [
    ['gzip, one 64 MiB file', gzipSync(oneBig, { level: 9 })],
    ['gzip, 64 files of 1 MiB', gzipSync(manySmall, { level: 9 })],
    ['zstd, one 64 MiB file', zstdCompressSync(oneBig)],
  ];
  for (const [label, compressed] of variants) {
    assert.ok(compressed.length < MiB, `${label}: the bomb is small (${compressed.length} bytes)`);
    const sb = await sandbox(t);
    const o = await applyHostile(sb, compressed, { gunzip: true, maxBytes: 8 * MiB });
    assertRefused(o, /exceeds/, `${label}: `);
  }
});

// ---------------------------------------------------------------------------------------------
// Devices and symlinks that must be kept, not followed

test('21 character device dev/null (1:3) is created inside the layer', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.dir('dev/'), E.chardev('dev/null', 1, 3)]));
  assertApplied(o);
  const st = await lstat(inLayer(sb, 'dev/null'));
  assert.ok(st.isCharacterDevice(), 'dev/null is a character device');
  const major = (st.rdev >> 8) & 0xfff;
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  assert.deepEqual([major, minor], [1, 3]);
});

test('24 device node under a symlinked parent (s -> outside, s/null) is refused', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.symlink('s', sb.outside), E.chardev('s/null', 1, 3)]));
  assertRefused(o, /symlink/);
});

test('22 symlink with an absolute target (etc/alt -> /etc/passwd) is kept as a symlink, not followed', T, async (t) => {
  const sb = await sandbox(t);
  const o = await applyHostile(sb, await pack([E.dir('etc/'), E.symlink('etc/alt', '/etc/passwd')]), { watch: ['/etc/passwd'] });
  assertApplied(o);
  assert.ok((await lstat(inLayer(sb, 'etc/alt'))).isSymbolicLink(), 'etc/alt is a symlink');
  assert.equal(await readlink(inLayer(sb, 'etc/alt')), '/etc/passwd');
});
