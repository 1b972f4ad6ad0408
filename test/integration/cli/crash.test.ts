// Crash safety: berthd killed with SIGKILL in the middle of imports, creates, starts and
// removes always starts again from what it left, and every object it lists is usable.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, runBuffer, repo, sleep, until } from '../../helpers/daemon.ts';

describe('berthd killed at any point', () => {
  const d = new TestDaemon();
  let rootfs: Buffer;
  before(async () => {
    await d.start();
    await makeBusybox(d);
    rootfs = await runBuffer('bash', [join(repo, 'scripts/busybox-image.sh')]);
  });
  after(async () => { await d.cleanup(); });

  it('restarts cleanly after kill -9 during imports, creates, starts and removes (5 rounds)', { timeout: 180_000 }, async () => {
    for (let round = 0; round < 5; round++) {
      const work = [
        d.docker(['import', '-', `crash:r${round}`], { input: rootfs, timeoutMs: 15_000 }),
        d.docker(['run', '-d', '--name', `c${round}`, 'busybox', 'sleep', '30'], { timeoutMs: 15_000 }),
        d.docker(['run', '--rm', 'busybox', 'true'], { timeoutMs: 15_000 }),
        d.docker(['create', '--name', `k${round}`, 'busybox', 'true'], { timeoutMs: 15_000 }),
        ...(round > 0 ? [d.docker(['rm', '-f', `c${round - 1}`], { timeoutMs: 15_000 })] : []),
      ];
      await sleep(20 + Math.floor(Math.random() * 180));
      await d.kill9();
      await Promise.all(work);
      await d.start();
      const ps = await d.docker(['ps', '-a', '--format', '{{.ID}} {{.Names}} {{.Status}}']);
      assert.equal(ps.code, 0, ps.stderr);
      const images = await d.docker(['images', '-q']);
      assert.equal(images.code, 0, images.stderr);
    }
    assert.deepEqual(readdirSync(join(d.dataRoot, 'image/tmp')), []);
    for (const img of (await d.docker(['images', '-q'])).stdout.split('\n').filter(Boolean)) {
      assert.equal((await d.docker(['image', 'inspect', img])).code, 0, img);
    }
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'echo', 'alive'])).stdout, 'alive\n');
    const all = (await d.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    for (const id of all) {
      const r = await d.docker(['rm', '-f', id]);
      assert.equal(r.code, 0, `${id}: ${r.stderr}`);
    }
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
    // rm replies once the container is forgotten; the directories go in the background, shortly.
    await until(async () => readdirSync(join(d.dataRoot, 'containers')).length === 0, 10_000, 'the removed containers\' dirs gone');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'containers')), []);
  });
});
