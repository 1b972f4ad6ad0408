// Live restore: containers outlive berthd (SIGTERM or SIGKILL); a restarted berthd finds them
// with the right state, and those that exited meanwhile show their real exit code. Two
// daemons run side by side without seeing each other's containers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { TestDaemon, makeBusybox, until, runCmd, repo } from '../../helpers/daemon.ts';

describe('berthd restart keeps containers (live restore)', () => {
  const d = new TestDaemon();
  const beside = new TestDaemon();
  before(async () => {
    await d.start();
    await beside.start();
    await makeBusybox(d);
    await makeBusybox(beside);
  });
  after(async () => {
    await d.cleanup();
    await beside.cleanup();
  });

  it('kill -9 of berthd leaves containers running and manageable after the restart', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'keep', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'quits', 'busybox', 'sh', '-c', 'sleep 2; exit 7'])).code, 0);
    assert.equal((await d.docker(['run', '-d', '--name', 'waiter', 'busybox', 'sleep', '300'])).code, 0);
    await d.docker(['run', '-d', '-it', '--name', 'ttyc', 'busybox', 'sh']);
    const pid = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'keep'])).stdout.trim();
    // The daemon beside has its own containers and sees none of these.
    await beside.docker(['run', '-d', '--name', 'other', 'busybox', 'sleep', '300']);
    assert.equal((await beside.docker(['ps', '--format', '{{.Names}}'])).stdout, 'other\n');

    await d.kill9();
    // While berthd is down, `quits` exits: conmon records it.
    await new Promise((r) => setTimeout(r, 2500));
    await d.start();

    const ps = (await d.docker(['ps', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(ps, ['keep', 'ttyc', 'waiter']);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Pid}}', 'keep'])).stdout.trim(), pid);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'quits'])).stdout, 'exited 7\n');
    assert.match((await d.docker(['ps', '-a', '--filter', 'name=quits', '--format', '{{.Status}}'])).stdout, /^Exited \(7\)/);

    // Logs written before, during and after the restart are all there, and keep coming.
    const before = (await d.docker(['logs', 'keep'])).stdout.split('\n').filter(Boolean).length;
    assert.ok(before >= 10, `logs across the restart: ${before} lines`);
    await until(async () => (await d.docker(['logs', 'keep'])).stdout.split('\n').filter(Boolean).length > before, 5000, 'new log lines');

    // exec, attach-free wait, and stop work on the adopted containers.
    assert.equal((await d.docker(['exec', 'waiter', 'echo', 'still here'])).stdout, 'still here\n');
    const waiting = d.docker(['wait', 'waiter'], { timeoutMs: 20_000 });
    assert.equal((await d.docker(['stop', '-t', '1', 'waiter'])).code, 0);
    assert.equal((await waiting).stdout, '137\n');
    assert.equal((await d.docker(['stop', '-t', '1', 'keep'])).code, 0);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', 'keep'])).stdout, 'false\n');
    assert.equal((await d.docker(['kill', 'ttyc'])).code, 0);

    assert.equal((await beside.docker(['ps', '--format', '{{.Names}}'])).stdout, 'other\n');
  });

  it('a second berthd on the same data root refuses to start', async () => {
    const r = await runCmd(join(repo, 'bin/berthd'), ['--data-root', d.dataRoot, '--exec-root', '/run/bt-dup', '-H', 'unix:///run/bt-dup/d.sock'], { timeoutMs: 15_000 });
    await rm('/run/bt-dup', { recursive: true, force: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /data root lock found, ensure berthd is not running/);
    assert.equal((await d.docker(['version', '--format', '{{.Server.Version}}'])).code, 0);
  });

  it('a graceful stop (SIGTERM) keeps containers too, and logs -f follows one across it', async () => {
    await d.docker(['run', '-d', '--name', 'calm', 'busybox', 'sh', '-c', 'sleep 1; echo one; sleep 3; echo two; exit 2']);
    await d.stop();
    await d.start();
    const f = await d.docker(['logs', '-f', 'calm'], { timeoutMs: 20_000 });
    assert.equal(f.stdout, 'one\ntwo\n');
    assert.equal((await d.docker(['wait', 'calm'])).stdout, '2\n');
  });
});
