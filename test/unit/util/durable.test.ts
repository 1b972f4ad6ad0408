// The durable-write helpers in the order a power cut needs: data fsynced before the rename that
// publishes it, the directory fsynced after; new directories fsynced into their parents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicWrite } from '../../../src/util/atomic-write.ts';
import { mkdirDurable } from '../../../src/util/durable.ts';
import { PowerCutModel } from '../../helpers/power-cut.ts';

test('atomicWrite: the temp file is written and fsynced, then renamed, then its directory fsynced', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-durable-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const m = new PowerCutModel(root);
  const target = join(root, 'meta.json');
  await atomicWrite(target, '{"a":1}', 0o600, m.io());
  assert.deepEqual(m.ops.map((o) => `${o.op}${o.sync ? '+sync' : ''}`), ['write+sync', 'rename', 'fsyncDir']);
  assert.equal(m.ops[1]!.to, target);
  assert.equal(m.ops[2]!.path, root);
  assert.ok(m.durable(target), m.why(target));
  assert.equal(readFileSync(target, 'utf8'), '{"a":1}');
});

test('the power-cut model flags a rename of data that was never fsynced (the check itself works)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-durable-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const m = new PowerCutModel(root);
  const io = m.io();
  // The bug this finding is about: config written without fsync, renamed, imagedb entry written.
  await io.writeFile(join(root, 'cfg.tmp'), 'config', 0o600, false);
  await io.rename(join(root, 'cfg.tmp'), join(root, 'cfg'));
  assert.equal(m.durable(join(root, 'cfg')), false);
  assert.match(m.why(join(root, 'cfg')), /data not fsynced/);
  await io.fsyncFile(join(root, 'cfg'));
  assert.match(m.why(join(root, 'cfg')), /directory entry cfg not fsynced/);
  await io.fsyncDir(root);
  assert.ok(m.durable(join(root, 'cfg')));
});

test('mkdirDurable fsyncs the parent of every directory it makes, top down', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-durable-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const m = new PowerCutModel(root);
  await mkdirDurable(join(root, 'a/b/c'), 0o755, m.io());
  assert.deepEqual(m.ops.map((o) => `${o.op} ${m.rel(o.path) || '.'}`), ['fsyncDir .', 'fsyncDir a', 'fsyncDir a/b']);
  m.ops.length = 0;
  await mkdirDurable(join(root, 'a/b/c'), 0o755, m.io());
  assert.deepEqual(m.ops, [], 'nothing made, nothing to fsync');
});
