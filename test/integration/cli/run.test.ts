// `docker run` and friends through the real Docker CLI 28.2 against berthd: what a user sees.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox } from '../../helpers/daemon.ts';

describe('docker run against berthd', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('docker version and docker info describe the Berth engine', async () => {
    const v = await d.docker(['version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /Server: Berth Engine\n Engine:\n  Version:\s+0\.1\.0\n  API version:\s+1\.47 \(minimum version 1\.12\)/);
    assert.match(v.stdout, / runc:\n  Version:\s+1\./);
    const i = await d.docker(['info']);
    assert.equal(i.code, 0, i.stderr);
    for (const re of [/Server Version: 0\.1\.0/, /Storage Driver: overlay2/, /Cgroup Driver: cgroupfs/, /Images: 1/,
      /Containers: 0/, new RegExp(`Docker Root Dir: ${d.dataRoot}`), /Live Restore Enabled: true/]) assert.match(i.stdout, re);
    assert.doesNotMatch(i.stderr, /error/i);
  });

  it('runs a command, prints its output and removes the container with --rm', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'echo', 'hello from berth']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from berth\n');
    const ps = await d.docker(['ps', '-aq']);
    assert.equal(ps.stdout, '');
  });

  it('propagates exit codes exactly; a container killed by a signal reports 128+signal', async () => {
    assert.equal((await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const id = (await d.docker(['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim();
    assert.equal((await d.docker(['kill', id])).code, 0);
    assert.equal((await d.docker(['wait', id])).stdout, '137\n');
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', id])).stdout, '137 exited\n');
    const id2 = (await d.docker(['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim();
    assert.equal((await d.docker(['kill', '-s', 'TERM', id2])).code, 0);
    // PID 1 without a handler ignores TERM, as with Docker; KILL ends it.
    assert.equal((await d.docker(['inspect', '-f', '{{.State.Running}}', id2])).stdout, 'true\n');
    await d.docker(['rm', '-f', id, id2]);
  });

  it('a missing command exits 127 with the runtime\'s reason, and --rm still removes it', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /executable file not found/);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  it('passes -e, --env-file, -w, -u, --hostname, --entrypoint', async () => {
    const dir = mkdtempSync('/tmp/berth-env-');
    try {
      writeFileSync(join(dir, 'env'), 'FROM_FILE=yes\n# comment\n');
      const r = await d.docker(['run', '--rm', '-e', 'A=1', '--env-file', join(dir, 'env'), '-w', '/tmp/work', '-u', '65534:65534',
        '--hostname', 'berthbox', 'busybox', 'sh', '-c', 'echo $A $FROM_FILE $(pwd) $(id -u):$(id -g) $(hostname)']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '1 yes /tmp/work 65534:65534 berthbox\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const e = await d.docker(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']);
    assert.equal(e.stdout, 'via entrypoint\n');
    const u = await d.docker(['run', '--rm', '-u', 'nobody', 'busybox', 'id', '-un']);
    assert.equal(u.stdout, 'nobody\n');
    const bad = await d.docker(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unable to find user nosuchuser/);
  });

  it('forwards piped stdin with -i', async () => {
    const r = await d.docker(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'hi\nthere\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\nthere\n');
  });

  it('-d prints the ID; --name and --label are kept; ps filters and formats them', async () => {
    const r = await d.docker(['run', '-d', '--name', 'web', '--label', 'tier=front', 'busybox', 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    await d.docker(['run', '--name', 'done3', 'busybox', 'sh', '-c', 'exit 3']);
    assert.equal((await d.docker(['ps', '-q'])).stdout.trim(), id.slice(0, 12));
    assert.equal((await d.docker(['ps', '-q', '--no-trunc'])).stdout.trim(), id);
    const names = (await d.docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout.trim().split('\n');
    assert.equal(names.length, 2);
    assert.match(names.find((n) => n.startsWith('web '))!, /^web Up /);
    assert.match(names.find((n) => n.startsWith('done3 '))!, /^done3 Exited \(3\) /);
    assert.equal((await d.docker(['ps', '-a', '--filter', 'label=tier=front', '--format', '{{.Names}}'])).stdout, 'web\n');
    assert.equal((await d.docker(['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}'])).stdout, 'done3\n');
    assert.equal((await d.docker(['ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}'])).stdout, 'done3\n');
    assert.equal((await d.docker(['ps', '-a', '--filter', 'name=we', '--format', '{{.Names}}'])).stdout, 'web\n');
    assert.equal((await d.docker(['ps', '-a', '--filter', 'ancestor=busybox', '-q'])).stdout.trim().split('\n').length, 2);
    const table = (await d.docker(['ps'])).stdout.split('\n');
    assert.match(table[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    assert.match(table[1]!, /busybox\s+"sleep 300"/);
    await d.docker(['rm', '-f', 'web', 'done3']);
  });

  it('refuses a name in use, and says what is missing', async () => {
    await d.docker(['create', '--name', 'taken', 'busybox', 'true']);
    const r = await d.docker(['run', '--name', 'taken', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Conflict\. The container name "\/taken" is already in use by container "[0-9a-f]{64}"/);
    const missing = await d.docker(['inspect', 'nosuchthing']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such object: nosuchthing/);
    const img = await d.docker(['run', '--rm', 'nosuchimage:1']);
    assert.equal(img.code, 125);
    assert.match(img.stderr, /Unable to find image 'nosuchimage:1' locally/);
    await d.docker(['rm', 'taken']);
  });

  it('inspect shows state, config and the overlay driver', async () => {
    await d.docker(['run', '--name', 'insp', '-e', 'X=y', 'busybox', 'sh', '-c', 'exit 5']);
    const r = await d.docker(['inspect', 'insp']);
    assert.equal(r.code, 0, r.stderr);
    const [c] = JSON.parse(r.stdout);
    assert.equal(c.Name, '/insp');
    assert.equal(c.State.Status, 'exited');
    assert.equal(c.State.ExitCode, 5);
    assert.equal(c.State.Running, false);
    assert.notEqual(c.State.FinishedAt, '0001-01-01T00:00:00Z');
    assert.ok(c.Config.Env.includes('X=y'));
    assert.deepEqual(c.Config.Cmd, ['sh', '-c', 'exit 5']);
    assert.equal(c.GraphDriver.Name, 'overlay2');
    assert.equal(c.HostConfig.NetworkMode, 'default'); // as dockerd records it (runconfig SetDefaultNetModeIfBlank)
    assert.deepEqual(c.Mounts, []);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'insp'])).stdout, '5\n');
    await d.docker(['rm', 'insp']);
  });

  it('create then start -a attaches and returns the exit code', async () => {
    const c = await d.docker(['create', '--name', 'later', 'busybox', 'sh', '-c', 'echo started; exit 2']);
    assert.equal(c.code, 0, c.stderr);
    const s = await d.docker(['start', '-a', 'later']);
    assert.equal(s.stdout, 'started\n');
    assert.equal(s.code, 2);
    await d.docker(['rm', 'later']);
  });
});
