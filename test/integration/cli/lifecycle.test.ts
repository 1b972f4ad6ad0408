// Container lifecycle commands through the real Docker CLI: logs, wait, stop, kill, restart,
// pause, rename, rm, exec, top, diff, export, attach and -it under a pseudo-terminal.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { TestDaemon, makeBusybox, runCmd, until, sleep, DOCKER } from '../../helpers/daemon.ts';
import { FrameDecoder } from '../../../src/api/stdcopy.ts';

describe('container lifecycle against berthd', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  const running = async (name: string): Promise<string> => (await d.docker(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim();

  it('logs: all, --tail, -t timestamps, stderr apart, -f until exit, after exit', async () => {
    await d.docker(['run', '--name', 'lg', 'busybox', 'sh', '-c', 'for i in 1 2 3 4; do echo line$i; done; echo oops >&2']);
    const all = await d.docker(['logs', 'lg']);
    assert.equal(all.stdout, 'line1\nline2\nline3\nline4\n');
    assert.equal(all.stderr, 'oops\n');
    assert.equal((await d.docker(['logs', '--tail', '2', 'lg'])).stdout, 'line4\n');
    const ts = (await d.docker(['logs', '-t', 'lg'])).stdout.split('\n').filter(Boolean);
    assert.equal(ts.length, 4);
    for (const l of ts) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line\d$/);
    const id = (await d.docker(['run', '-d', '--name', 'lf', 'busybox', 'sh', '-c', 'echo a; sleep 1; echo b'])).stdout;
    void id;
    const f = await d.docker(['logs', '-f', 'lf'], { timeoutMs: 15_000 });
    assert.equal(f.stdout, 'a\nb\n');
    await d.docker(['rm', '-f', 'lg', 'lf']);
  });

  it('wait prints the exit code; stop sends SIGTERM then SIGKILL after -t', async () => {
    await d.docker(['run', '-d', '--name', 'w1', 'busybox', 'sh', '-c', 'sleep 1; exit 4']);
    assert.equal((await d.docker(['wait', 'w1'])).stdout, '4\n');
    await d.docker(['run', '-d', '--name', 'graceful', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
    await sleep(300);
    const t0 = Date.now();
    assert.equal((await d.docker(['stop', 'graceful'])).stdout, 'graceful\n');
    assert.ok(Date.now() - t0 < 5000, 'a TERM handler ends it at once');
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'graceful'])).stdout, '0\n');
    await d.docker(['run', '-d', '--name', 'stubborn', 'busybox', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']);
    await sleep(300);
    const t1 = Date.now();
    await d.docker(['stop', '-t', '1', 'stubborn']);
    const took = Date.now() - t1;
    assert.ok(took >= 900 && took < 6000, `stop -t 1 took ${took} ms`);
    assert.equal((await d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn'])).stdout, '137\n');
    await d.docker(['rm', 'w1', 'graceful', 'stubborn']);
  });

  it('kill -s delivers the signal to the process', async () => {
    await d.docker(['run', '-d', '--name', 'sig', 'busybox', 'sh', '-c', 'trap "echo got-usr1; exit 9" USR1; while true; do sleep 0.1; done']);
    await sleep(300);
    assert.equal((await d.docker(['kill', '-s', 'USR1', 'sig'])).code, 0);
    assert.equal((await d.docker(['wait', 'sig'])).stdout, '9\n');
    assert.equal((await d.docker(['logs', 'sig'])).stdout, 'got-usr1\n');
    const notRunning = await d.docker(['kill', 'sig']);
    assert.notEqual(notRunning.code, 0);
    assert.match(notRunning.stderr, /is not running/);
    await d.docker(['rm', 'sig']);
  });

  it('restart, pause/unpause and rename', async () => {
    await d.docker(['run', '-d', '--name', 'r1', 'busybox', 'sleep', '300']);
    const pid1 = (await d.docker(['inspect', '-f', '{{.State.Pid}}', 'r1'])).stdout;
    assert.equal((await d.docker(['restart', '-t', '0', 'r1'])).code, 0);
    assert.equal(await running('r1'), 'running');
    assert.notEqual((await d.docker(['inspect', '-f', '{{.State.Pid}}', 'r1'])).stdout, pid1);
    assert.equal((await d.docker(['pause', 'r1'])).code, 0);
    assert.equal(await running('r1'), 'paused');
    assert.match((await d.docker(['ps', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
    const again = await d.docker(['pause', 'r1']);
    assert.match(again.stderr, /is already paused/);
    assert.equal((await d.docker(['unpause', 'r1'])).code, 0);
    assert.equal(await running('r1'), 'running');
    assert.equal((await d.docker(['rename', 'r1', 'r2'])).code, 0);
    assert.equal((await d.docker(['ps', '--format', '{{.Names}}'])).stdout, 'r2\n');
    const rm = await d.docker(['rm', 'r2']);
    assert.notEqual(rm.code, 0);
    assert.match(rm.stderr, /You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/);
    assert.equal((await d.docker(['rm', '-f', 'r2'])).stdout, 'r2\n');
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '');
  });

  it('exec: output, exit code, -e, -w, -u, -d', async () => {
    await d.docker(['run', '-d', '--name', 'ex', '-e', 'BASE=1', 'busybox', 'sleep', '300']);
    const r = await d.docker(['exec', '-e', 'E=2', '-w', '/tmp', '-u', 'nobody', 'ex', 'sh', '-c', 'echo $BASE $E $(pwd) $(id -un); exit 6']);
    assert.equal(r.stdout, '1 2 /tmp nobody\n');
    assert.equal(r.code, 6);
    const err = await d.docker(['exec', 'ex', 'sh', '-c', 'echo to-err >&2']);
    assert.equal(err.stderr, 'to-err\n');
    assert.equal((await d.docker(['exec', '-i', 'ex', 'cat'], { input: 'piped\n' })).stdout, 'piped\n');
    assert.equal((await d.docker(['exec', '-d', 'ex', 'sh', '-c', 'echo detached > /tmp/flag'])).code, 0);
    await until(async () => (await d.docker(['exec', 'ex', 'cat', '/tmp/flag'])).stdout === 'detached\n', 5000, 'detached exec');
    const missing = await d.docker(['exec', 'ex', 'nosuchcmd']);
    assert.equal(missing.code, 126); // as under dockerd 20.10: the exec never started (OCI runtime exec failed)
    await d.docker(['stop', '-t', '0', 'ex']);
    const stopped = await d.docker(['exec', 'ex', 'true']);
    assert.notEqual(stopped.code, 0);
    assert.match(stopped.stderr, /is not running/);
    await d.docker(['rm', 'ex']);
  });

  it('top lists the container\'s processes; diff shows its changes; export writes its filesystem', async () => {
    await d.docker(['run', '-d', '--name', 'fs', 'busybox', 'sh', '-c', 'touch /newfile; mkdir -p /etc/extra; rm /bin/vi; sleep 300']);
    await until(async () => (await d.docker(['diff', 'fs'])).stdout.includes('/newfile'), 5000, 'the changes');
    const top = await d.docker(['top', 'fs']);
    assert.match(top.stdout.split('\n')[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD/);
    assert.match(top.stdout, /sleep 300/);
    const diff = (await d.docker(['diff', 'fs'])).stdout.split('\n').filter(Boolean);
    assert.ok(diff.includes('A /newfile'), diff.join(','));
    assert.ok(diff.includes('C /etc'), diff.join(','));
    assert.ok(diff.includes('A /etc/extra'), diff.join(','));
    assert.ok(diff.includes('D /bin/vi'), diff.join(','));
    assert.ok(!diff.some((l) => l.includes('hostname') || l.includes('resolv.conf')), diff.join(','));
    assert.match((await d.docker(['ps', '-s', '--filter', 'name=fs', '--format', '{{.Size}}'])).stdout, /^0B \(virtual \d+(\.\d+)?MB\)\n$/);
    const tar = await runCmd('sh', ['-c', `${DOCKER} export fs | tar -t`], { env: d.env });
    const names = tar.stdout.split('\n');
    assert.ok(names.includes('bin/busybox'));
    assert.ok(names.includes('newfile'));
    assert.ok(!names.includes('bin/vi'));
    await d.docker(['rm', '-f', 'fs']);
  });

  it('attach shows the output of a running container', async () => {
    await d.docker(['run', '-d', '--name', 'att', 'busybox', 'sh', '-c', 'sleep 1; echo after-attach; exit 3']);
    const a = await d.docker(['attach', 'att'], { timeoutMs: 15_000 });
    assert.equal(a.stdout, 'after-attach\n');
    assert.equal(a.code, 3);
    const stopped = await d.docker(['attach', 'att']);
    assert.match(stopped.stderr, /You cannot attach to a stopped container/);
    await d.docker(['rm', 'att']);
  });

  it('attach with logs=1&stream=0 replays the output as multiplexed frames (docker-py attach(logs=True))', async () => {
    await d.docker(['run', '--name', 'replay', 'busybox', 'sh', '-c', 'echo o1; echo e1 >&2']);
    const raw = await new Promise<Buffer>((resolveP, reject) => {
      const req = http.request({
        socketPath: d.socket, method: 'POST', path: '/v1.47/containers/replay/attach?logs=1&stream=0&stdout=1&stderr=1',
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Length': '0' },
      });
      req.on('upgrade', (res, sock, head) => {
        assert.equal(res.statusCode, 101);
        assert.equal(res.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
        const chunks: Buffer[] = [Buffer.from(head)];
        sock.on('data', (c: Buffer) => chunks.push(c));
        sock.on('end', () => resolveP(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end();
    });
    const frames = new FrameDecoder().push(raw).map((f) => `${f.stream}:${f.data}`);
    assert.deepEqual(frames, ['1:o1\n', '2:e1\n']);
    await d.docker(['rm', 'replay']);
  });

  it('run -it gives a terminal, takes typed input and resizes', async () => {
    const cmd = `(sleep 1; printf 'tty; echo typed-$((6+1)); exit 7\\r'; sleep 2) | script -qfec "${DOCKER} run -it --rm busybox sh" /dev/null`;
    const r = await runCmd('sh', ['-c', cmd], { env: d.env, timeoutMs: 20_000 });
    assert.match(r.stdout, /\/dev\/pts\/0/);
    assert.match(r.stdout, /typed-7/);
    // script's terminal has no size here: give it one, which the CLI then sends as a resize.
    const exec = `(sleep 1; printf 'stty size; exit 5\\r'; sleep 2) | script -qfec "stty cols 100 rows 30; ${DOCKER} exec -it tt sh" /dev/null`;
    await d.docker(['run', '-d', '-it', '--name', 'tt', 'busybox', 'sh']);
    const e = await runCmd('sh', ['-c', exec], { env: d.env, timeoutMs: 20_000 });
    assert.match(e.stdout, /30 100/);
    await d.docker(['rm', '-f', 'tt']);
  });
});
