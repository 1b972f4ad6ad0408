// docker rm replies once the container is marked removing and forgotten; its runc state (with
// the cgroup), mounts and directory go in the background (src/engine/container/remove.ts).
// (a) berthd killed after the reply, before that teardown (the `container-remove-replied`
//     failpoint): the next berthd finishes it — no mount, no runc state, no cgroup, no dir — and
//     the name is free.
// (b) rm then create of the same name at once works, again and again, and nothing is left.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, runCmd, until, ok } from '../../helpers/daemon.ts';
import { census } from '../../helpers/faults.ts';

const alive = (pid: number | undefined): boolean => {
  if (!pid) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
};

async function runcKnows(d: TestDaemon, id: string): Promise<boolean> {
  const r = await runCmd('runc', ['--root', join(d.execRoot, 'runc'), 'list', '-q']);
  return r.stdout.split('\n').includes(id);
}

/** What the host still holds of one container. */
async function leftOf(d: TestDaemon, id: string): Promise<{ mounts: string[]; cgroups: string[]; runc: boolean; dir: boolean; conmon: boolean }> {
  const c = await census(d);
  return {
    mounts: c.mounts.filter((m) => m.includes(id)),
    cgroups: c.cgroups.filter((g) => g.endsWith(id)),
    runc: await runcKnows(d, id),
    dir: existsSync(join(d.dataRoot, 'containers', id)),
    conmon: c.conmons.some((x) => x.cid === id),
  };
}
const nothing = { mounts: [], cgroups: [], runc: false, dir: false, conmon: false };

describe('remove: the teardown after the reply', () => {
  const d = new TestDaemon();

  before(async () => {
    await d.start();
    await makeBusybox(d);
  });

  after(async () => {
    delete process.env.BERTH_FAILPOINT;
    await d.cleanup();
  });

  it('(a) berthd killed after rm replied, before the teardown: the next start finishes it and the name is free', { timeout: 120_000 }, async () => {
    for (const force of [false, true]) {
      const name = `half-${force ? 'running' : 'exited'}`;
      await d.stop();
      process.env.BERTH_FAILPOINT = 'container-remove-replied';
      try { await d.start(); } finally { delete process.env.BERTH_FAILPOINT; }
      const pid = d.pid;
      const id = (await ok(d.docker(['create', '--name', name, 'busybox', 'sleep', '60']))).trim();
      await ok(d.docker(['start', id]));
      if (!force) {
        await ok(d.docker(['kill', id]));
        await ok(d.docker(['wait', id]));
      }
      const held = await leftOf(d, id);
      assert.ok(held.dir, 'the container has a directory before the rm');
      // The reply comes first; the failpoint kills berthd in the next turn, before the teardown.
      const rm = await d.api('DELETE', `/containers/${id}${force ? '?force=1' : ''}`);
      assert.equal(rm.status, 204, `rm: ${rm.status} ${rm.body}`);
      await until(async () => !alive(pid), 10_000, 'berthd to die at the failpoint');
      assert.match(d.logTail(200), /failpoint container-remove-replied reached/);
      assert.ok(existsSync(join(d.dataRoot, 'containers', id)), 'the kill came before the directory went');
      await d.start();
      assert.deepEqual(await leftOf(d, id), nothing, `nothing of ${name} is left after the restart`);
      assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404);
      assert.equal((await d.docker(['run', '--name', name, '--rm', 'busybox', 'true'])).code, 0, 'the name is free');
    }
  });

  it('(b) rm then create of the same name at once works, and nothing is left', { timeout: 120_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = (await ok(d.docker(['run', '-d', '--name', 'again', 'busybox', 'sleep', '60']))).trim();
      ids.push(id);
      assert.equal((await d.api('DELETE', '/containers/again?force=1')).status, 204);
      // At once: the name is free the moment the reply is sent.
      const c = await d.api('POST', '/containers/create?name=again', { Image: 'busybox', Cmd: ['true'] });
      assert.equal(c.status, 201, `create right after rm: ${c.status} ${c.body}`);
      const again = (c.json() as { Id: string }).Id;
      assert.equal((await d.api('POST', `/containers/${again}/start`)).status, 204);
      assert.equal((await d.api('POST', `/containers/${again}/wait`)).status, 200);
      assert.equal((await d.api('DELETE', `/containers/${again}`)).status, 204);
      ids.push(again);
    }
    // The background teardowns finish within moments.
    for (const id of ids) {
      await until(async () => JSON.stringify(await leftOf(d, id)) === JSON.stringify(nothing), 10_000, `teardown of ${id.slice(0, 12)}`);
    }
    assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), []);
  });
});
