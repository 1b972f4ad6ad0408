// The fuse-overlayfs storage driver (issue 20): where the kernel cannot mount overlayfs in a user
// namespace (before 5.11) rootless berthd mounts root filesystems with Debian's fuse-overlayfs.
// This kernel can, so the driver is asked for by name (--storage-driver fuse-overlayfs, as with
// dockerd) to run the same path for real: a container's root, a build step and a commit on it, and
// no fuse-overlayfs process left once the containers are gone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, chownSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RootlessUser, RootlessDaemon, rootlessSkip, ensureFuseUsable } from '../../helpers/rootless.ts';
import { existsSync } from 'node:fs';

const skip = rootlessSkip() || (!existsSync('/usr/bin/fuse-overlayfs') ? 'needs fuse-overlayfs (scripts/install.sh installs it)' : false);

describe('rootless berthd with --storage-driver fuse-overlayfs', { skip }, () => {
  let user: RootlessUser;
  let d: RootlessDaemon;

  before(async () => {
    ensureFuseUsable();
    user = await RootlessUser.make();
    d = new RootlessDaemon(user);
    await d.start({ args: ['--storage-driver', 'fuse-overlayfs'] });
    await d.importBusybox();
  });

  after(async () => {
    await d?.destroy();
    await user?.remove();
    if (user) assert.deepEqual(user.processes(), [], 'no process of the user is left');
  });

  /** The user's live fuse-overlayfs processes (an exited one may stay a zombie a moment, until init reaps it). */
  const fuseProcesses = async (): Promise<string> => {
    const pids = (await user.run('pgrep', ['-u', String(user.uid), '-x', 'fuse-overlayfs'])).stdout.split('\n').filter(Boolean);
    return pids.filter((p) => {
      try { return !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8')); } catch { return false; }
    }).join(' ');
  };

  it('docker info names the driver; a container\'s root is a fuse-overlayfs mount it can write', async () => {
    const info = await d.docker(['info', '--format', '{{.Driver}}']);
    assert.equal(info.stdout.trim(), 'fuse-overlayfs', info.stderr);
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'grep " / " /proc/self/mounts | cut -d" " -f3; echo hi > /new; cat /new; rm /etc/group; cat /etc/group 2>/dev/null || echo gone']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'fuse.fuse-overlayfs\nhi\ngone\n');
    // the image is untouched by the container's delete (a whiteout in the upper dir)
    const again = await d.docker(['run', '--rm', 'busybox', 'ls', '/etc/group']);
    assert.equal(again.stdout, '/etc/group\n', again.stderr);
  });

  it('build and commit work on it, and no fuse-overlayfs is left once the containers are gone', async () => {
    const ctx = join(user.home, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built && rm /bin/vi\n');
    chownSync(ctx, user.uid, user.gid);
    chownSync(join(ctx, 'Dockerfile'), user.uid, user.gid);
    const b = await user.run('/usr/local/bin/docker', ['build', '-q', '-t', 'fo:1', ctx], { env: { ...d.dockerEnv(), DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 });
    assert.equal(b.code, 0, b.stderr);
    const r = await d.docker(['run', '--rm', 'fo:1', 'sh', '-c', 'cat /built; ls /bin/vi 2>/dev/null || echo no-vi']);
    assert.equal(r.stdout, 'built\nno-vi\n', r.stderr);
    const c = await d.docker(['run', '-d', '--name', 'fo-commit', 'busybox', 'sh', '-c', 'echo kept > /kept; sleep 300']);
    assert.equal(c.code, 0, c.stderr);
    let committed = '';
    for (let i = 0; i < 50 && committed !== 'kept\n'; i++) {
      await d.docker(['commit', 'fo-commit', 'fo:2']);
      committed = (await d.docker(['run', '--rm', 'fo:2', 'cat', '/kept'])).stdout;
    }
    assert.equal(committed, 'kept\n');
    assert.notEqual(await fuseProcesses(), '', 'the running container\'s root is served by fuse-overlayfs');
    await d.docker(['rm', '-f', 'fo-commit']);
    let left = await fuseProcesses();
    for (let i = 0; i < 50 && left; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = await fuseProcesses();
    }
    assert.equal(left, '', 'every fuse-overlayfs ended with its mount');
  });
});
