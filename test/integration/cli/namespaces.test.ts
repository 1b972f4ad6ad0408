// Namespaces and --init through the real Docker CLI against berthd: what dockerd 20.10 does
// (checked side by side with test/conformance/scenarios/namespaces.scn and init.scn). Each case
// has its control: the same thing without the option behaves the other way, so a test that
// passes without the feature is not possible.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { TestDaemon, makeBusybox, sleep, until } from '../../helpers/daemon.ts';

describe('namespaces and --init against berthd', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  const ok = async (args: string[]): Promise<string> => {
    const r = await d.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const zombies = async (name: string): Promise<number> =>
    (await ok(['exec', name, 'ps', '-o', 'stat,comm'])).split('\n').filter((l) => l.startsWith('Z')).length;

  it('--init reaps orphans that PID 1 would leave as zombies', async () => {
    // The orphan `sleep 0.3` is reparented to PID 1 when its subshell exits. As PID 1, `sleep 300`
    // never waits for it; docker-init (tini) does.
    const script = '(sleep 0.3 &); exec sleep 300';
    await ok(['run', '-d', '--name', 'ns-reap-init', '--init', 'busybox', 'sh', '-c', script]);
    await ok(['run', '-d', '--name', 'ns-reap-none', 'busybox', 'sh', '-c', script]);
    await sleep(1200);
    assert.equal(await zombies('ns-reap-init'), 0, 'docker-init reaped the orphan');
    assert.equal(await zombies('ns-reap-none'), 1, 'control: without an init the orphan stays a zombie');
    assert.equal((await ok(['exec', 'ns-reap-init', 'readlink', '/proc/1/exe'])).trim(), '/sbin/docker-init');
    assert.equal((await ok(['exec', 'ns-reap-init', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline'])).trim(), '/sbin/docker-init -- sh -c ' + script);
    await ok(['rm', '-f', 'ns-reap-init', 'ns-reap-none']);
  });

  it('--init forwards signals: stop ends at once with 143, kill -s USR1 gives 138; without it stop waits for the timeout', async () => {
    await ok(['run', '-d', '--name', 'ns-sig-init', '--init', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'ns-sig-none', 'busybox', 'sleep', '300']);
    let t0 = Date.now();
    await ok(['stop', '-t', '10', 'ns-sig-init']);
    assert.ok(Date.now() - t0 < 5000, `stop with an init took ${Date.now() - t0} ms`);
    assert.equal((await ok(['inspect', '-f', '{{.State.ExitCode}}', 'ns-sig-init'])).trim(), '143');
    // Control: sleep as PID 1 has no TERM handler, so the kernel drops the signal; SIGKILL after -t.
    t0 = Date.now();
    await ok(['stop', '-t', '2', 'ns-sig-none']);
    assert.ok(Date.now() - t0 >= 1900, `stop without an init took only ${Date.now() - t0} ms`);
    assert.equal((await ok(['inspect', '-f', '{{.State.ExitCode}}', 'ns-sig-none'])).trim(), '137');
    await ok(['start', 'ns-sig-init']);
    await ok(['kill', '-s', 'USR1', 'ns-sig-init']);
    assert.equal((await ok(['wait', 'ns-sig-init'])).trim(), '138');
    await ok(['rm', '-f', 'ns-sig-init', 'ns-sig-none']);
  });

  it('--pid container:X shares X\'s PID namespace both ways, with no init of its own; X gone ends the joiner', async () => {
    await ok(['run', '-d', '--name', 'ns-pid-donor', 'busybox', 'sleep', '300']);
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'ns-pid-donor'])).trim();
    await ok(['run', '-d', '--name', 'ns-pid-join', '--init', '--pid', 'container:ns-pid-donor', 'busybox', 'sleep', '301']);
    assert.equal((await ok(['inspect', '-f', '{{.HostConfig.PidMode}}', 'ns-pid-join'])).trim(), `container:${id}`);
    const seenByDonor = await ok(['exec', 'ns-pid-donor', 'ps', '-o', 'pid,args']);
    assert.match(seenByDonor, /^\s*1 sleep 300$/m);
    assert.match(seenByDonor, /sleep 301/);
    assert.doesNotMatch(seenByDonor, /docker-init/, 'no init in another container\'s PID namespace');
    assert.match(await ok(['exec', 'ns-pid-join', 'ps', '-o', 'pid,args']), /^\s*1 sleep 300$/m);
    // Control: a container of its own sees only itself.
    assert.doesNotMatch(await ok(['run', '--rm', 'busybox', 'ps', '-o', 'args']), /sleep 30/);
    // The kernel kills a PID namespace's members when its init dies.
    await ok(['rm', '-f', 'ns-pid-donor']);
    await until(async () => (await ok(['inspect', '-f', '{{.State.Running}}', 'ns-pid-join'])).trim() === 'false', 10_000);
    await ok(['rm', '-f', 'ns-pid-join']);
  });

  it('--ipc container:X shares a shareable X\'s IPC namespace and /dev/shm; a private X is refused; the host tmpfs goes with X', async () => {
    await ok(['run', '-d', '--name', 'ns-ipc-donor', '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo from-donor > /dev/shm/n; exec sleep 300']);
    await sleep(300);
    const donorNs = (await ok(['exec', 'ns-ipc-donor', 'readlink', '/proc/1/ns/ipc'])).trim();
    const out = await ok(['run', '--rm', '--ipc', 'container:ns-ipc-donor', 'busybox', 'sh', '-c', 'readlink /proc/1/ns/ipc; cat /dev/shm/n; echo from-joiner > /dev/shm/r']);
    assert.equal(out, `${donorNs}\nfrom-donor\n`);
    assert.equal(await ok(['exec', 'ns-ipc-donor', 'cat', '/dev/shm/r']), 'from-joiner\n');
    // Control: a container of its own has another IPC namespace and an empty /dev/shm.
    assert.notEqual((await ok(['run', '--rm', 'busybox', 'readlink', '/proc/1/ns/ipc'])).trim(), donorNs);
    await ok(['run', '-d', '--name', 'ns-ipc-private', 'busybox', 'sleep', '300']);
    const refused = await d.docker(['run', '--rm', '--ipc', 'container:ns-ipc-private', 'busybox', 'true']);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /can't join IPC of container [0-9a-f]{64}: non-shareable IPC \(hint: use IpcMode:shareable for the donor container\)/);
    const donorId = (await ok(['inspect', '-f', '{{.Id}}', 'ns-ipc-donor'])).trim();
    const mounted = async (): Promise<boolean> => (await readFile('/proc/self/mounts', 'utf8')).includes(`/${donorId}/shm `);
    assert.ok(await mounted(), 'a shareable container\'s /dev/shm is a tmpfs on the host');
    await ok(['stop', '-t', '1', 'ns-ipc-donor']);
    // The exit's cleanup runs right after stop's waiters learn the exit code.
    await until(async () => !(await mounted()), 5000, 'the shm tmpfs unmounted after the stop');
    await ok(['rm', '-f', 'ns-ipc-donor', 'ns-ipc-private']);
  });
});
