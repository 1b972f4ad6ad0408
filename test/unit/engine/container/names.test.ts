// Container names and references: Docker's conflict texts (scripts match on them), a name taken
// by a concurrent create, names freed by remove and rename, names that outlive a daemon restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fakeEngine } from '../../../fakes/engine.ts';
import { Conflict, InvalidParameter, NotFound } from '../../../../src/errors.ts';

const inUse = (name: string, id: string): string =>
  `Conflict. The container name "/${name}" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`;

test('create with a name in use is a 409 with dockerd\'s text, and makes nothing', async (t) => {
  const e = await fakeEngine(t);
  const id = await e.create({}, 'web');
  await assert.rejects(e.create({}, '/web'), (err: Error) => err instanceof Conflict && err.message === inUse('web', id));
  assert.deepEqual(readdirSync(join(e.dataRoot, 'containers')), [id]);
  assert.deepEqual(e.volumes.store.list(), []);
});

test('two concurrent creates of one name: exactly one wins', async (t) => {
  const e = await fakeEngine(t);
  const results = await Promise.allSettled([e.create({ Volumes: { '/a': {} } }, 'dup'), e.create({ Volumes: { '/a': {} } }, 'dup')]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  const id = (won[0] as PromiseFulfilledResult<string>).value;
  assert.equal(lost[0]!.reason.message, inUse('dup', id));
  assert.deepEqual(readdirSync(join(e.dataRoot, 'containers')), [id]);
  assert.equal(e.volumes.store.list().length, 1, 'the loser made no volume');
});

test('an invalid name is a 400 with Docker\'s rule in the text', async (t) => {
  const e = await fakeEngine(t);
  await assert.rejects(e.create({}, 'a'), (err: Error) => err instanceof InvalidParameter &&
    err.message === 'Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
  await assert.rejects(e.create({}, '-x y'), InvalidParameter);
  assert.deepEqual(readdirSync(join(e.dataRoot, 'containers')), []);
});

test('a removed container\'s name can be taken again; a generated name is unique', async (t) => {
  const e = await fakeEngine(t);
  const a = await e.create({}, 'again');
  await e.containers.remove('again', {});
  const b = await e.create({}, 'again');
  assert.notEqual(a, b);
  assert.equal(e.containers.get('again').rec.Id, b);
  const names = new Set<string>();
  for (let i = 0; i < 10; i++) names.add(e.containers.get(await e.create()).rec.Name);
  assert.equal(names.size, 10);
  for (const n of names) assert.match(n, /^\/[a-z]+_[a-z]+\d*$/);
});

test('references: full ID, unique prefix, name with or without slash; an ambiguous prefix and a miss are Docker\'s errors', async (t) => {
  const e = await fakeEngine(t);
  const ids = [await e.create({}, 'one'), await e.create({}, 'two')];
  const id = ids[0]!;
  assert.equal(e.containers.get(id).rec.Id, id);
  assert.equal(e.containers.get(id.slice(0, 12)).rec.Id, id);
  assert.equal(e.containers.get('/one').rec.Id, id);
  assert.throws(() => e.containers.get('nope'), (err: Error) => err instanceof NotFound && err.message === 'No such container: nope');
  // Enough containers that two share a first hex digit.
  while (new Set(e.containers.all().map((c) => c.rec.Id[0])).size === e.containers.all().length) await e.create();
  const shared = e.containers.all().map((c) => c.rec.Id[0]!).find((ch, i, all) => all.indexOf(ch) !== i)!;
  assert.throws(() => e.containers.get(shared), (err: Error) => err instanceof InvalidParameter && err.message === `multiple IDs found with provided prefix: ${shared}`);
});

test('rename: the new name is taken and the old one freed; taken, same and empty names are refused as dockerd does', async (t) => {
  const e = await fakeEngine(t);
  const a = await e.create({}, 'a1');
  const b = await e.create({}, 'b1');
  await assert.rejects(e.containers.rename('a1', 'b1'), (err: Error) => err instanceof Conflict && err.message === `Error when allocating new name: ${inUse('b1', b)}`);
  await assert.rejects(e.containers.rename('a1', 'a1'), { message: 'Renaming a container with the same name as its current name' });
  await assert.rejects(e.containers.rename('a1', ''), { message: 'Neither old nor new names may be empty' });
  await e.containers.rename('a1', 'c1');
  assert.equal(e.containers.get('c1').rec.Id, a);
  assert.equal(e.containers.get(a).rec.Name, '/c1');
  assert.throws(() => e.containers.get('a1'), NotFound);
  await e.create({}, 'a1');
  const ev = e.events.query().find((x) => x.Action === 'rename')!;
  assert.equal(ev.Actor.Attributes.oldName, '/a1');
  assert.equal(ev.Actor.Attributes.name, 'c1');
});

test('names and renames survive a daemon restart', async (t) => {
  let e = await fakeEngine(t);
  const id = await e.create({}, 'kept');
  await e.containers.rename('kept', 'renamed');
  e = await e.restart();
  assert.equal(e.containers.get('renamed').rec.Id, id);
  await assert.rejects(e.create({}, 'renamed'), { message: inUse('renamed', id) });
  await e.create({}, 'kept');
});
