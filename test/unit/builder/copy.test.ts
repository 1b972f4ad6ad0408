// COPY into a root filesystem: Docker's directory rules, symlinks of the image followed inside
// the root, and the last source of a name winning even though files are copied in parallel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readFileSync, lstatSync, readlinkSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { copyInto } from '../../../src/builder/copy.ts';

const shift = { uid: 0, gid: 0 };

function dirs(): { src: string; dest: string; done: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'berth-copy-'));
  const src = join(base, 'src');
  const dest = join(base, 'dest');
  mkdirSync(src);
  mkdirSync(dest);
  return { src, dest, done: () => rmSync(base, { recursive: true, force: true }) };
}

test('a directory source copies its contents; parents resolve inside the root; a link where a directory comes is replaced, as Docker\'s untar does', async () => {
  const { src, dest, done } = dirs();
  try {
    mkdirSync(join(src, 'tree/lib/deep'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(src, 'tree/lib/deep', `f${i}`), `file ${i}\n`);
    writeFileSync(join(src, 'tree/top'), 'top\n');
    mkdirSync(join(dest, 'real'));
    mkdirSync(join(dest, 'lib2'));
    symlinkSync('/real', join(dest, 'usr')); // absolute: resolved inside the root, not on the host
    symlinkSync('/lib2', join(dest, 'real/lib'));
    await copyInto({ srcRoot: src, sources: ['tree'], destRoot: dest, dest: '/usr/', unpackArchives: false, shift, instruction: 'COPY' });
    assert.equal(readFileSync(join(dest, 'real/top'), 'utf8'), 'top\n');
    assert.ok(lstatSync(join(dest, 'real/lib')).isDirectory(), 'the link became a directory');
    assert.equal(readFileSync(join(dest, 'real/lib/deep/f49'), 'utf8'), 'file 49\n');
    assert.equal(existsSync(join(dest, 'lib2/deep')), false);
  } finally { done(); }
});

test('the last source of a name wins; a link is never written through', async () => {
  const { src, dest, done } = dirs();
  const outside = join(tmpdir(), `berth-copy-outside-${process.pid}`);
  try {
    mkdirSync(join(src, 'a'));
    mkdirSync(join(src, 'b'));
    writeFileSync(join(src, 'a/x'), 'from a\n');
    symlinkSync(outside, join(src, 'b/x'));
    await copyInto({ srcRoot: src, sources: ['a', 'b'], destRoot: dest, dest: '/out/', unpackArchives: false, shift, instruction: 'COPY' });
    assert.equal(readlinkSync(join(dest, 'out/x')), outside);
    assert.equal(existsSync(outside), false);
    await copyInto({ srcRoot: src, sources: ['b', 'a'], destRoot: dest, dest: '/out2/', unpackArchives: false, shift, instruction: 'COPY' });
    assert.equal(readFileSync(join(dest, 'out2/x'), 'utf8'), 'from a\n');
  } finally { done(); rmSync(outside, { force: true }); }
});

test('several sources need a destination ending with /', async () => {
  const { src, dest, done } = dirs();
  try {
    writeFileSync(join(src, 'a'), 'a');
    writeFileSync(join(src, 'b'), 'b');
    await assert.rejects(copyInto({ srcRoot: src, sources: ['a', 'b'], destRoot: dest, dest: '/x', unpackArchives: false, shift, instruction: 'COPY' }), /must be a directory and end with a \//);
  } finally { done(); }
});
