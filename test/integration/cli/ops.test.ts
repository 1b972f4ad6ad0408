// Operations through the real Docker CLI: docker events (since/until/filters, kept across a
// daemon restart), health checks, and restart policies (on-failure:N, always after berthd is
// killed while its container dies).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox, ok, until, sleep } from '../../helpers/daemon.ts';

const ts = (): string => (Date.now() / 1000).toFixed(3);

describe('events, health checks and restart policies', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  const inspect = async (name: string, fmt: string): Promise<string> => (await ok(d.docker(['inspect', '-f', fmt, name]))).trim();

  it('docker events --since/--until --filter show a run/stop/rm in order, also after a daemon restart', async () => {
    const t0 = ts();
    await sleep(20);
    await ok(d.docker(['run', '-d', '--name', 'ev', '--label', 'team=ops', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; sleep 30 & wait']));
    await sleep(300);
    await ok(d.docker(['stop', '-t', '5', 'ev']));
    await ok(d.docker(['rm', 'ev']));
    await sleep(20);
    const t1 = ts();
    const q = ['events', '--since', t0, '--until', t1, '--filter', 'container=ev', '--format', '{{.Type}} {{.Action}}'];
    const seq = (await ok(d.docker(q))).trim().split('\n');
    assert.deepEqual(seq, ['container create', 'container start', 'container kill', 'container die', 'container stop', 'container destroy']);
    const only = (await ok(d.docker(['events', '--since', t0, '--until', t1, '--filter', 'event=die', '--filter', 'event=start', '--format', '{{.Action}} {{.Actor.Attributes.name}}']))).trim();
    assert.equal(only, 'start ev\ndie ev');
    const byLabel = (await ok(d.docker(['events', '--since', t0, '--until', t1, '--filter', 'label=team=ops', '--format', '{{json .}}']))).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(byLabel.length, 6);
    const die = byLabel.find((e) => e.Action === 'die');
    assert.equal(die.Actor.Attributes.exitCode, '0');
    assert.equal(die.Actor.Attributes.image, 'busybox');
    assert.equal(die.Type, 'container');
    assert.ok(die.timeNano > Number(t0) * 1e9);
    // Kept across a restart of berthd.
    await d.stop();
    await d.start();
    assert.deepEqual((await ok(d.docker(q))).trim().split('\n'), seq);
    // Image and volume events too.
    const t2 = ts();
    await ok(d.docker(['tag', 'busybox', 'busybox:evtag']));
    await ok(d.docker(['rmi', 'busybox:evtag']));
    await ok(d.docker(['volume', 'create', 'evvol']));
    await ok(d.docker(['volume', 'rm', 'evvol']));
    await sleep(20);
    const other = (await ok(d.docker(['events', '--since', t2, '--until', ts(), '--format', '{{.Type}} {{.Action}}']))).trim().split('\n');
    assert.deepEqual(other, ['image tag', 'image untag', 'volume create', 'volume destroy']);
  });

  it('live events stream to a waiting client', async () => {
    const ev = d.docker(['events', '--filter', 'container=live', '--filter', 'event=start', '--format', '{{.Action}} {{.Actor.Attributes.name}}', '--until', String(Math.ceil(Date.now() / 1000) + 4)], { timeoutMs: 20_000 });
    await sleep(500);
    await ok(d.docker(['run', '--rm', '--name', 'live', 'busybox', 'true']));
    const r = await ev;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'start live');
  });

  it('health checks: a passing check becomes healthy, a failing one unhealthy, with events and docker ps status', async () => {
    const t0 = ts();
    await ok(d.docker(['run', '-d', '--name', 'hok', '--health-cmd', 'test -d /', '--health-interval', '500ms', '--health-retries', '2', 'busybox', 'sleep', '60']));
    await ok(d.docker(['run', '-d', '--name', 'hbad', '--health-cmd', 'echo nope; exit 1', '--health-interval', '500ms', '--health-retries', '2', 'busybox', 'sleep', '60']));
    assert.equal(await inspect('hbad', '{{.State.Health.Status}}'), 'starting');
    await until(async () => (await inspect('hok', '{{.State.Health.Status}}')) === 'healthy', 15_000, 'hok healthy');
    await until(async () => (await inspect('hbad', '{{.State.Health.Status}}')) === 'unhealthy', 15_000, 'hbad unhealthy');
    const [bad] = JSON.parse(await ok(d.docker(['inspect', 'hbad'])));
    assert.ok(bad.State.Health.FailingStreak >= 2);
    assert.equal(bad.State.Health.Log.at(-1).ExitCode, 1);
    assert.equal(bad.State.Health.Log.at(-1).Output, 'nope\n');
    const ps = await ok(d.docker(['ps', '--format', '{{.Names}} {{.Status}}']));
    assert.match(ps, /hok Up .* \(healthy\)/);
    assert.match(ps, /hbad Up .* \(unhealthy\)/);
    const events = (await ok(d.docker(['events', '--since', t0, '--until', ts(), '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}']))).trim().split('\n');
    assert.ok(events.includes('health_status: healthy hok'), events.join('\n'));
    assert.ok(events.includes('health_status: unhealthy hbad'), events.join('\n'));
    // --no-healthcheck turns an image's check off.
    await ok(d.docker(['rm', '-f', 'hok', 'hbad']));
  });

  it('--restart on-failure:2 gives up after two restarts; a stopped container is not restarted', async () => {
    await ok(d.docker(['run', '-d', '--name', 'rf', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']));
    await until(async () => (await inspect('rf', '{{.RestartCount}} {{.State.Status}}')) === '2 exited', 20_000, 'two restarts');
    await sleep(1500);
    assert.equal(await inspect('rf', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}'), '2 exited 3');
    await ok(d.docker(['run', '-d', '--name', 'us', '--restart', 'unless-stopped', 'busybox', 'sleep', '60']));
    await ok(d.docker(['stop', '-t', '1', 'us']));
    await sleep(1000);
    assert.equal(await inspect('us', '{{.State.Status}}'), 'exited');
    await ok(d.docker(['rm', '-f', 'rf', 'us']));
  });

  it('--restart always brings a container back when it died while berthd was down', async () => {
    await ok(d.docker(['run', '-d', '--name', 'ra', '--restart', 'always', 'busybox', 'sleep', '300']));
    const pid = Number(await inspect('ra', '{{.State.Pid}}'));
    await d.kill9();
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    await d.start();
    await until(async () => (await inspect('ra', '{{.State.Running}}')) === 'true' && Number(await inspect('ra', '{{.State.Pid}}')) !== pid, 15_000, 'ra restarted');
    assert.equal(await inspect('ra', '{{.RestartCount}}'), '1');
    await ok(d.docker(['rm', '-f', 'ra']));
  });
});
