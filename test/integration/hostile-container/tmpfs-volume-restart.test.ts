// A tmpfs volume is shared by every container that uses it, across a berthd restart (issue 16,
// finding 8). With live restore a container keeps running while berthd restarts; the tmpfs
// mounted on the volume's _data is the volume's data, so the restarted berthd must adopt that
// mount, not unmount it and mount an empty tmpfs (the running container would keep the old one,
// the next container would get the new one, and they would no longer share anything).
// A mount whose containers all exited while berthd was down still goes after the restart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isMounted } from '../../../src/sys/mount.ts';
import { TestDaemon, makeBusybox, sleep, until } from '../../helpers/daemon.ts';

describe('a tmpfs volume across a berthd restart (live restore)', () => {
  const d = new TestDaemon();
  const mountpoint = (name: string): string => join(d.dataRoot, 'volumes', name, '_data');
  const ok = async (args: string[]): Promise<string> => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  // cleanup removes the containers, stops berthd and unmounts whatever is left under its roots.
  after(async () => { await d.cleanup(); });

  it('a container started after the restart shares the volume with the one that kept running', async () => {
    await ok(['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=10m', 'tv']);
    await ok(['run', '-d', '--name', 'tva', '-v', 'tv:/data', 'busybox', 'sh', '-c', 'echo fromA > /data/a; exec sleep 300']);
    assert.equal(await ok(['exec', 'tva', 'cat', '/data/a']), 'fromA\n');

    await d.stop();
    await d.start();

    assert.equal((await ok(['inspect', '-f', '{{.State.Running}}', 'tva'])), 'true\n');
    // B sees what A wrote before the restart ...
    assert.equal(await ok(['run', '--rm', '-v', 'tv:/data', 'busybox', 'cat', '/data/a']), 'fromA\n');
    // ... and A sees what B writes after it.
    await ok(['run', '--rm', '-v', 'tv:/data', 'busybox', 'sh', '-c', 'echo fromB > /data/b']);
    assert.equal(await ok(['exec', 'tva', 'cat', '/data/b']), 'fromB\n');
    // B's exit left A's mount alone; A's stop, the last user's, unmounts it.
    assert.equal(await isMounted(mountpoint('tv')), true);
    await ok(['stop', '-t', '0', 'tva']);
    // (released after the waiters learn the exit, so a moment after `stop` answers)
    await until(async () => !(await isMounted(mountpoint('tv'))), 5000, 'the tmpfs unmounted once its last user is gone');
  });

  it('a tmpfs volume whose only container exited while berthd was down is unmounted after the restart', async () => {
    await ok(['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'tw']);
    await ok(['run', '-d', '--name', 'twa', '-v', 'tw:/data', 'busybox', 'sh', '-c', 'sleep 2']);
    assert.equal(await isMounted(mountpoint('tw')), true);
    await d.stop();
    await sleep(2500);
    await d.start();
    assert.equal(await ok(['inspect', '-f', '{{.State.Status}}', 'twa']), 'exited\n');
    assert.equal(await isMounted(mountpoint('tw')), false, 'no container uses it: no mount left behind');
  });
});
