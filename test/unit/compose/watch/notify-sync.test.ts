// The host side of watch without a daemon: fs.watch followers report changed paths (a file rule
// through its parent directory, nested roots once), and the sync archive holds what still exists
// (a changed directory whole, ignored files left out) while removed paths become deletions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, symlink, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { followPaths } from '../../../../src/compose/watch/notify.ts';
import { archive, collectEntries, withoutImpliedDirectories } from '../../../../src/compose/watch/tar-sync.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-watch-notify-'));
  await mkdir(join(dir, 'src/sub'), { recursive: true });
  await writeFile(join(dir, 'src/a.txt'), 'a');
  await writeFile(join(dir, 'src/sub/b.txt'), 'bb');
  await writeFile(join(dir, 'src/sub/skip.tmp'), 'x');
  await symlink('a.txt', join(dir, 'src/link'));
  await writeFile(join(dir, 'conf.ini'), 'c');
  await writeFile(join(dir, 'other.ini'), 'o');
});
after(async () => { await rm(dir, { recursive: true, force: true }); });

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('followers report changes under a directory (recursively) and to a single file saved by rename', async () => {
  const seen = new Set<string>();
  const n = await followPaths([join(dir, 'src'), join(dir, 'src/sub'), join(dir, 'conf.ini')], (p) => seen.add(p), (e) => { throw e; });
  try {
    await writeFile(join(dir, 'src/sub/b.txt'), 'changed');
    await until(() => seen.has(join(dir, 'src/sub/b.txt')));
    // an editor's save: write a temp file, rename it over the original
    await writeFile(join(dir, 'conf.ini.new'), 'c2');
    await rename(join(dir, 'conf.ini.new'), join(dir, 'conf.ini'));
    await until(() => seen.has(join(dir, 'conf.ini')));
    await writeFile(join(dir, 'other.ini'), 'o2');
    await writeFile(join(dir, 'src/a.txt'), 'a2');
    await until(() => seen.has(join(dir, 'src/a.txt')));
    assert.equal(seen.has(join(dir, 'other.ini')), false, 'a sibling of a watched file is not reported');
    assert.equal(seen.has(join(dir, 'conf.ini.new')), false);
  } finally {
    n.close();
  }
});

test('the sync archive: files, a directory whole without skipped files, symlinks as links; gone paths are deletions', async () => {
  const { entries, deletions } = await collectEntries([
    { hostPath: join(dir, 'src'), containerPath: '/app/src' },
    { hostPath: join(dir, 'conf.ini'), containerPath: '/etc/conf.ini' },
    { hostPath: join(dir, 'gone.txt'), containerPath: '/app/gone.txt' },
    { hostPath: join(dir, 'conf.ini'), containerPath: '/etc/conf.ini' },
    { hostPath: join(dir, 'conf.ini') },
  ], (p) => p.endsWith('.tmp'));
  assert.deepEqual(deletions, ['/app/gone.txt']);
  assert.deepEqual(entries.map((e) => e.name), ['app/src', 'app/src/a.txt', 'app/src/link', 'app/src/sub', 'app/src/sub/b.txt', 'etc/conf.ini']);
  const got: Record<string, { type: string; body: string; linkname?: string | null }> = {};
  const ex = tar.extract();
  const reading = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      got[entry.header.name] = { type: entry.header.type, body: Buffer.concat(chunks).toString(), ...(entry.header.linkname ? { linkname: entry.header.linkname } : {}) };
    }
  })();
  for await (const c of archive(entries)) ex.write(c);
  ex.end(undefined);
  await reading;
  assert.deepEqual(Object.keys(got).sort(), ['app/src/', 'app/src/a.txt', 'app/src/link', 'app/src/sub/', 'app/src/sub/b.txt', 'etc/conf.ini']);
  assert.equal(got['app/src/sub/b.txt']!.body, 'changed'); // as the test above left it
  assert.deepEqual(got['app/src/link'], { type: 'symlink', body: '', linkname: 'a.txt' });
  assert.equal(got['app/src/']!.type, 'directory');
  // the retry without implied directories keeps only files and links here
  assert.deepEqual(withoutImpliedDirectories(entries).map((e) => e.name), ['app/src/a.txt', 'app/src/link', 'app/src/sub/b.txt', 'etc/conf.ini']);
});
