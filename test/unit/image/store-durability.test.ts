// The image store against a power cut (issue 16 finding 7). A recording DurableIo feeds a model
// of what survives one (test/helpers/power-cut.ts); before each rename that publishes metadata —
// a layer's meta.json, an imagedb entry, a blob record, the tags — everything that file names
// must already be durable. A SIGKILL cannot show this (the page cache survives it): the crash
// tests in test/integration/faults/crash-points.test.ts cover the crash half.
// Then start-up: an imagedb entry whose config came back empty is quarantined with its layer,
// reported, and not deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, truncateSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { ImageStore } from '../../../src/image/store.ts';
import { chainIds } from '../../../src/image/layers.ts';
import { parseReference } from '../../../src/image/reference.ts';
import { silentLogger } from '../../../src/util/log.ts';
import { PowerCutModel } from '../../helpers/power-cut.ts';
import type { ImageConfigFile } from '../../../src/types/oci-image.ts';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const hex = (d: string): string => d.slice(7);

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  for (const [name, body] of Object.entries(files)) {
    await new Promise<void>((res, rej) => pack.entry({ name, mode: 0o644, uid, gid, mtime: new Date(0) }, body, (e) => (e ? rej(e) : res())));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Checks, at each publishing rename, that what the new file names is durable. */
function installChecks(m: PowerCutModel, imageRoot: string): void {
  const p = (...parts: string[]): string => join(imageRoot, ...parts);
  const need = (path: string, by: string, out: string[]): void => { if (!m.durable(path)) out.push(`${by} published while ${m.why(path)}`); };
  m.onPublish = async (to, from) => {
    const out: string[] = [];
    const rel = m.rel(to);
    let match: RegExpExecArray | null;
    if ((match = /^image\/layers\/([0-9a-f]{64})\/meta\.json$/.exec(rel))) {
      const meta = JSON.parse(await readFile(from, 'utf8')) as { diffId: string };
      need(p('layers', match[1]!, 'diff'), rel, out);
      if (existsSync(p('content/sha256', hex(meta.diffId)))) need(p('content/sha256', hex(meta.diffId)), rel, out);
    } else if ((match = /^image\/imagedb\/([0-9a-f]{64})\.json$/.exec(rel))) {
      const entry = JSON.parse(await readFile(from, 'utf8')) as { manifest?: string };
      need(p('content/sha256', match[1]!), rel, out);
      const cfg = JSON.parse(await readFile(p('content/sha256', match[1]!), 'utf8')) as ImageConfigFile;
      for (const c of chainIds(cfg.rootfs?.diff_ids ?? [])) need(p('layers', hex(c), 'meta.json'), rel, out);
      if (entry.manifest) need(p('content/sha256', hex(entry.manifest)), rel, out);
    } else if (/^image\/distribution\/[0-9a-f]{64}\.json$/.test(rel)) {
      const rec = JSON.parse(await readFile(from, 'utf8')) as { blobs: { digest: string }[] };
      for (const b of rec.blobs) need(p('content/sha256', hex(b.digest)), rel, out);
    } else if (rel === 'image/repositories.json') {
      const { tags } = JSON.parse(await readFile(from, 'utf8')) as { tags: Record<string, string> };
      for (const id of Object.values(tags)) need(p('imagedb', `${hex(id)}.json`), rel, out);
    }
    return out;
  };
}

async function openRecorded(t: { after: (fn: () => Promise<void>) => void }): Promise<{ store: ImageStore; m: PowerCutModel; dataRoot: string }> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'berth-durability-'));
  t.after(() => rm(dataRoot, { recursive: true, force: true }));
  const m = new PowerCutModel(dataRoot);
  installChecks(m, join(dataRoot, 'image'));
  const store = await ImageStore.open(dataRoot, silentLogger, undefined, m.io());
  return { store, m, dataRoot };
}

function assertAllDurable(m: PowerCutModel, dataRoot: string, id: string): void {
  for (const f of [`image/imagedb/${hex(id)}.json`, `image/content/sha256/${hex(id)}`, 'image/repositories.json']) {
    assert.ok(m.durable(join(dataRoot, f)), m.why(join(dataRoot, f)));
  }
}

test('import (docker import): blob, extracted layer and config are durable before the metadata naming them', async (t) => {
  const { store, m, dataRoot } = await openRecorded(t);
  const layer = await tarOf({ 'etc/hello': 'hello\n', 'bin/tool': 'x'.repeat(5000) });
  const img = await store.importRootfs(Readable.from([layer]), { config: {}, comment: 'test', tag: parseReference('durable:one') });
  assert.deepEqual(m.violations, []);
  assertAllDurable(m, dataRoot, img.id);
  // The order, spelled out: syncfs of the layer before its meta.json, config before imagedb, imagedb before tags.
  const order = m.ops.map((o) => (o.op === 'rename' ? `rename→${m.rel(o.to!).replace(/[0-9a-f]{64}/g, 'H').replace(/\.[^/]*\.tmp$/, '')}` : o.op));
  const at = (s: string): number => order.findIndex((o) => o === s);
  assert.ok(at('syncfs') >= 0 && at('syncfs') < at('rename→image/layers/H/meta.json'), order.join(' '));
  assert.ok(at('rename→image/content/sha256/H') < at('rename→image/imagedb/H.json'), order.join(' '));
  assert.ok(at('rename→image/imagedb/H.json') < at('rename→image/repositories.json'), order.join(' '));
});

test('load (docker load) of a two-layer docker-archive: every publish finds what it names durable', async (t) => {
  const { store, m, dataRoot } = await openRecorded(t);
  const l1 = await tarOf({ 'a/one': '1' });
  const l2 = await tarOf({ 'a/two': '2' });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(l1), sha(l2)] } }));
  const archive = await tarOf({
    [`blobs/sha256/${hex(sha(config))}`]: config, [`blobs/sha256/${hex(sha(l1))}`]: l1, [`blobs/sha256/${hex(sha(l2))}`]: l2,
    'manifest.json': JSON.stringify([{ Config: `blobs/sha256/${hex(sha(config))}`, RepoTags: ['durable:load'], Layers: [`blobs/sha256/${hex(sha(l1))}`, `blobs/sha256/${hex(sha(l2))}`] }]),
  });
  await store.load(Readable.from([archive]));
  assert.deepEqual(m.violations, []);
  assertAllDurable(m, dataRoot, sha(config));
  assert.equal(m.ops.filter((o) => o.op === 'syncfs').length, 2, 'one syncfs per layer');
});

test('pull: the compressed blob and the manifest are durable before the blob record and the imagedb entry', async (t) => {
  const { store, m, dataRoot } = await openRecorded(t);
  const plain = await tarOf({ 'pulled/file': 'p'.repeat(3000) });
  const gz = gzipSync(plain);
  await store.pullLayer(async () => Readable.from([gz]), {
    desc: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(gz), size: gz.length }, diffId: sha(plain), repo: 'example.test/x',
  });
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(plain)] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: sha(config), size: config.length }, layers: [{ digest: sha(gz), size: gz.length }] }));
  const img = await store.commitPulledImage(config, { bytes: manifest, digest: sha(manifest) }, parseReference('example.test/x'), parseReference('example.test/x:1'));
  assert.deepEqual(m.violations, []);
  assertAllDurable(m, dataRoot, img.id);
  assert.ok(m.durable(join(dataRoot, 'image/content/sha256', hex(sha(gz)))));
  assert.ok(m.durable(join(dataRoot, 'image/distribution', `${hex(sha(plain))}.json`)));
});

test('start-up: an imagedb entry whose config came back empty is quarantined with its layer and reported, not deleted', async (t) => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'berth-quarantine-'));
  t.after(() => rm(dataRoot, { recursive: true, force: true }));
  const store = await ImageStore.open(dataRoot, silentLogger);
  const layer = await tarOf({ 'keep/me': 'precious' });
  const img = await store.importRootfs(Readable.from([layer]), { config: {}, comment: '', tag: parseReference('torn:latest') });
  const other = await store.importRootfs(Readable.from([await tarOf({ 'other/file': 'o' })]), { config: {}, comment: '', tag: parseReference('fine:latest') });
  // What a power cut did to the unfixed store: the config blob's name survived, its data did not.
  truncateSync(join(dataRoot, 'image/content/sha256', hex(img.id)), 0);
  const again = await ImageStore.open(dataRoot, silentLogger);
  assert.throws(() => again.resolve('torn:latest'), /No such image/);
  assert.equal(again.resolve('fine:latest').id, other.id, 'the healthy image is untouched');
  const qroot = join(dataRoot, 'quarantine');
  const [stamp] = readdirSync(qroot);
  assert.ok(stamp, 'a quarantine directory');
  const q = join(qroot, stamp!);
  assert.ok(existsSync(join(q, 'image/imagedb', `${hex(img.id)}.json`)), 'the imagedb entry is kept');
  assert.ok(existsSync(join(q, 'image/content/sha256', hex(img.id))), 'the (empty) config is kept');
  assert.equal(readFileSync(join(q, 'image/layers', hex(sha(layer)), 'diff/keep/me'), 'utf8'), 'precious', 'the layer is kept, not deleted');
  const report = JSON.parse(readFileSync(join(q, 'report.json'), 'utf8')) as { path: string; reason: string }[];
  assert.ok(report.some((e) => e.path === `image/imagedb/${hex(img.id)}.json` && /config blob does not match its digest/.test(e.reason)), JSON.stringify(report));
  assert.ok(report.some((e) => e.path === 'tag torn:latest'), JSON.stringify(report));
  const warnings = await again.warnings();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^WARNING: berthd found \d+ inconsistent item\(s\).*quarantine/);
  // A third start finds nothing new: no second quarantine directory, the same one warning.
  const third = await ImageStore.open(dataRoot, silentLogger);
  assert.equal(readdirSync(qroot).length, 1);
  assert.equal((await third.warnings()).length, 1);
  // And the image can be imported again.
  const retried = await third.importRootfs(Readable.from([layer]), { config: {}, comment: '', tag: parseReference('torn:latest') });
  assert.equal(third.resolve('torn:latest').id, retried.id);
});

test('start-up: unparseable tags (repositories.json) are quarantined, not dropped silently', async (t) => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'berth-quarantine-'));
  t.after(() => rm(dataRoot, { recursive: true, force: true }));
  const store = await ImageStore.open(dataRoot, silentLogger);
  await store.importRootfs(Readable.from([await tarOf({ f: 'x' })]), { config: {}, comment: '', tag: parseReference('t:1') });
  writeFileSync(join(dataRoot, 'image/repositories.json'), '');
  const again = await ImageStore.open(dataRoot, silentLogger);
  assert.equal(again.list().length, 1, 'the image stays, untagged');
  const [stamp] = readdirSync(join(dataRoot, 'quarantine'));
  assert.ok(existsSync(join(dataRoot, 'quarantine', stamp!, 'image/repositories.json')));
  assert.equal((await again.warnings()).length, 1);
});
