// The record store: lookup by ID, name, link name and unique prefix (Docker's 404 and
// "ambiguous" answers), the name index, and records on disk (an unreadable one is swept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerStore } from '../../../../src/engine/container/store.ts';
import { LinkIndex } from '../../../../src/engine/container/legacy-links.ts';
import { initialState } from '../../../../src/engine/container/state.ts';
import type { ContainerRecord } from '../../../../src/engine/container/record.ts';
import type { Logger } from '../../../../src/util/log.ts';

const quiet = { warn() {}, error() {}, info() {}, debug() {} } as unknown as Logger;
const rec = (Id: string, Name: string): ContainerRecord => ({ Id, Name, State: initialState() }) as ContainerRecord;

test('get: full ID, name with or without /, link name, unique prefix; ambiguous prefix 400, unknown 404', () => {
  const links = new LinkIndex();
  const s = new ContainerStore('/nowhere', links, quiet);
  s.track(rec('abc111', '/web'));
  s.track(rec('abc222', '/db'));
  links.link('abc111', '/web', 'abc222', 'database');
  assert.equal(s.get('abc111').rec.Name, '/web');
  assert.equal(s.get('web').rec.Id, 'abc111');
  assert.equal(s.get('/db').rec.Id, 'abc222');
  assert.equal(s.get('web/database').rec.Id, 'abc222');
  assert.equal(s.get('abc2').rec.Id, 'abc222');
  assert.throws(() => s.get('abc'), { name: 'InvalidParameter', message: 'multiple IDs found with provided prefix: abc' });
  assert.throws(() => s.get('nope'), { message: 'No such container: nope' });
});

test('names: reserve refuses a taken name with Docker\'s text; release and forget give back only what the ID holds', () => {
  const s = new ContainerStore('/nowhere', new LinkIndex(), quiet);
  const web = s.track(rec('aaa', '/web'));
  assert.throws(() => s.reserveName('web', 'bbb'), { name: 'Conflict', message: /^Conflict\. The container name "\/web" is already in use by container "aaa"\./ });
  s.reserveName('api', 'bbb');
  s.releaseName('api', 'ccc');
  assert.equal(s.nameOwner('api'), 'bbb');
  s.releaseName('/api', 'bbb');
  assert.equal(s.nameOwner('api'), undefined);
  s.forget(web);
  assert.equal(s.nameOwner('web'), undefined);
  assert.deepEqual(s.all(), []);
});

test('load reads each record, sweeps a dir without one; persist skips a removed container', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-store-'));
  try {
    await mkdir(join(root, 'good'));
    await writeFile(join(root, 'good', 'config.v2.json'), JSON.stringify(rec('good', '/g')));
    await mkdir(join(root, 'bare'));
    const swept: string[] = [];
    const s = new ContainerStore(root, new LinkIndex(), quiet);
    await s.load(false, async (id) => { swept.push(id); });
    assert.deepEqual(swept, ['bare']);
    const c = s.get('g');
    assert.equal(c.dir, join(root, 'good'));
    c.rec.RestartCount = 3;
    await s.persist(c);
    assert.equal(JSON.parse(await readFile(join(root, 'good', 'config.v2.json'), 'utf8')).RestartCount, 3);
    c.removed = true;
    c.rec.RestartCount = 4;
    await s.persist(c);
    assert.equal(JSON.parse(await readFile(join(root, 'good', 'config.v2.json'), 'utf8')).RestartCount, 3);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
