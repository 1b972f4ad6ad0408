// berth run/create/start/attach/exec without a terminal: output, exit statuses and error messages
// compared with the real Docker CLI against the same berthd.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { TestDaemon, makeBusybox, repo, until, type Result } from '../../helpers/daemon.ts';
import { berthCli } from '../../helpers/berth-cli.ts';

describe('berth run, create, start, attach, exec (no terminal)', () => {
  const d = new TestDaemon();
  /** What a user sees, with the program's name and IDs made comparable. */
  const norm = (r: Result): Result => {
    const f = (s: string): string => s.replaceAll('docker', 'berth').replace(/[0-9a-f]{64}/g, '<id>');
    return { code: r.code, stdout: f(r.stdout), stderr: f(r.stderr) };
  };
  /** Runs the same arguments with both CLIs (berth first); the results must match; returns berth's, normalised. */
  const { berth, same } = berthCli(d, { env: d.env, timeoutMs: 60_000, normalise: norm, returns: norm, berthFirst: true });
  const running = async (name: string): Promise<boolean> =>
    (await d.api('GET', `/containers/${name}/json`)).json().State?.Running === true;

  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('run: output split to stdout and stderr, the container\'s exit status, --rm removes it', async () => {
    const r = await same(['run', '--rm', 'busybox', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    assert.deepEqual(r, { code: 3, stdout: 'hi\n', stderr: 'oops\n' });
    assert.equal((await d.api('GET', '/containers/json?all=1')).json().length, 0, '--rm removed both');
    const kept = await berth(['run', '--name', 'kept', 'busybox', 'true']);
    assert.equal(kept.code, 0);
    assert.equal((await d.api('GET', '/containers/kept/json')).json().State.Status, 'exited');
    // --entrypoint= (sent as [""]) resets the image's entrypoint, as with dockerd
    assert.deepEqual(await same(['run', '--rm', '--entrypoint=', 'busybox', 'echo', 'no entrypoint']), { code: 0, stdout: 'no entrypoint\n', stderr: '' });
  });

  it('run -d prints the full ID and leaves it running', async () => {
    const r = await berth(['run', '-d', '--name', 'bg', 'busybox', 'sleep', '60']);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.ok(await running('bg'));
    assert.equal((await d.api('GET', '/containers/bg/json')).json().Id, r.stdout.trim());
  });

  it('run -i passes piped stdin and the container sees its end; -a picks the streams', async () => {
    assert.deepEqual(await same(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'hello\nworld\n' }),
      { code: 0, stdout: 'hello\nworld\ndone\n', stderr: '' });
    assert.deepEqual(await same(['run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 2']),
      { code: 2, stdout: 'out\n', stderr: '' });
    assert.deepEqual(await same(['run', '--rm', '-a', 'stderr', 'busybox', 'sh', '-c', 'echo out; echo err >&2']),
      { code: 0, stdout: '', stderr: 'err\n' });
    assert.deepEqual(await same(['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', 'busybox', 'sh', '-c', 'cat; echo e >&2'], { input: 'in\n' }),
      { code: 0, stdout: 'in\n', stderr: '' });
    // Without -i the container's stdin is empty: cat ends at once.
    assert.deepEqual(await same(['run', '--rm', 'busybox', 'cat'], { input: 'ignored\n' }), { code: 0, stdout: '', stderr: '' });
  });

  it('run -t without a terminal: CRLF output; -it without one is refused as docker does', async () => {
    const t = await same(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'echo hi; echo err >&2']);
    assert.equal(t.stdout, 'hi\r\nerr\r\n');
    assert.deepEqual(await same(['run', '--rm', '-it', 'busybox', 'true'], { input: '' }), { code: 1, stdout: '', stderr: 'the input device is not a TTY\n' });
  });

  it('run errors: 125 from the daemon, 126 not executable, 127 not found, with docker\'s text', async () => {
    const notFound = await same(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(notFound.code, 127);
    assert.match(notFound.stderr, /^berth: Error response from daemon: .*executable file not found in \$PATH.*\n\nRun 'berth run --help' for more information\n$/);
    const notExec = await same(['run', '--rm', 'busybox', '/etc']);
    assert.equal(notExec.code, 126);
    assert.match(notExec.stderr, /permission denied/);
    const noImage = await same(['run', '--pull', 'never', 'nosuch']);
    assert.deepEqual(noImage, { code: 125, stdout: '', stderr: 'berth: Error response from daemon: No such image: nosuch:latest\n\nRun \'berth run --help\' for more information\n' });
    await same(['run', '--pull', 'bogus', 'busybox']);
    await same(['run', '-d', '-a', 'stdout', 'busybox']);
    await berth(['create', '--name', 'taken', 'busybox']);
    const conflict = await same(['run', '--name', 'taken', 'busybox', 'true']);
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /^berth: Error response from daemon: Conflict\. The container name "\/taken" is already in use/);
  });

  it('a missing image is looked up with a pull whose failure is reported like docker\'s', async () => {
    // No registry answers for this name: the message and the pull's error must match docker's.
    const r = await same(['run', '--rm', 'localhost:1/nothing-here']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Unable to find image 'localhost:1\/nothing-here:latest' locally\n/);
    const q = await same(['create', '-q', 'localhost:1/nothing-here']);
    assert.doesNotMatch(q.stderr, /Unable to find image/);
  });

  it('create prints the ID; start prints names, -a gives the output and status', async () => {
    const c = await berth(['create', '--name', 'later', 'busybox', 'sh', '-c', 'echo started; echo e >&2; exit 6']);
    assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
    assert.equal((await d.api('GET', '/containers/later/json')).json().State.Status, 'created');
    assert.deepEqual(await berth(['start', '-a', 'later']), { code: 6, stdout: 'started\n', stderr: 'e\n' });
    await berth(['create', '--name', 'later2', 'busybox', 'sleep', '60']);
    assert.deepEqual(norm(await berth(['start', 'later2', 'nosuch'])), norm(await d.docker(['start', 'later2', 'nosuch'])));
    assert.ok(await running('later2'));
    await same(['start', '-a', 'later', 'later2']);
    assert.deepEqual(await same(['create', '--pull', 'never', 'nosuch']), { code: 1, stdout: '', stderr: 'Error response from daemon: No such image: nosuch:latest\n' });
    // start -ai: stdin reaches a container created with -i.
    await berth(['create', '-i', '--name', 'cat', 'busybox', 'cat']);
    assert.deepEqual(await berth(['start', '-ai', 'cat'], { input: 'via start\n' }), { code: 0, stdout: 'via start\n', stderr: '' });
  });

  it('attach follows a running container to its end and exits with its status', async () => {
    await berth(['run', '-d', '--name', 'att', 'busybox', 'sh', '-c', 'sleep 2; echo bye; echo err >&2; exit 9']);
    assert.deepEqual(await berth(['attach', 'att']), { code: 9, stdout: 'bye\n', stderr: 'err\n' });
    await same(['attach', 'att']);
    await same(['attach', 'nosuch']);
    // stdin of a container started with -i: attach sends it, --no-stdin does not.
    await berth(['run', '-d', '-i', '--name', 'attin', 'busybox', 'sh', '-c', 'read l; echo got $l']);
    assert.deepEqual(await berth(['attach', 'attin'], { input: 'line\n' }), { code: 0, stdout: 'got line\n', stderr: '' });
  });

  it('exec: streams, status, -e/--env-file/-w/-u, -i stdin, -d, missing commands 126/127', async () => {
    await berth(['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']);
    assert.deepEqual(await same(['exec', 'ex', 'sh', '-c', 'echo a; echo b >&2; exit 4']), { code: 4, stdout: 'a\n', stderr: 'b\n' });
    const dir = mkdtempSync('/tmp/berth-exec-env-');
    try {
      writeFileSync(join(dir, 'env'), '# comment\nFROM_FILE=1\n\nBOTH=file\n');
      const env = ['exec', '--env-file', join(dir, 'env'), '-e', 'BOTH=flag', '-w', '/tmp', '-u', '1000:1000', 'ex', 'sh', '-c', 'echo $FROM_FILE $BOTH; pwd; id -u; id -g'];
      assert.deepEqual(await same(env), { code: 0, stdout: '1 flag\n/tmp\n1000\n1000\n', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(await same(['exec', '-i', 'ex', 'sh', '-c', 'cat; echo end'], { input: 'piped\n' }), { code: 0, stdout: 'piped\nend\n', stderr: '' });
    assert.deepEqual(await same(['exec', '-d', 'ex', 'sh', '-c', 'echo detached > /tmp/d']), { code: 0, stdout: '', stderr: '' });
    await until(async () => (await berth(['exec', 'ex', 'cat', '/tmp/d'])).stdout === 'detached\n', 10_000, 'the detached exec');
    assert.equal((await same(['exec', 'ex', 'nosuch'])).code, 126); // dockerd 20.10: the exec never started
    assert.equal((await same(['exec', 'ex', '/etc'])).code, 126);
    await same(['exec', 'nosuch', 'true']);
    await same(['exec', '-it', 'ex', 'true'], { input: '' });
    assert.deepEqual(await same(['exec', '-t', 'ex', 'echo', 'tty']), { code: 0, stdout: 'tty\r\n', stderr: '' });
  });

  it('sig-proxy: SIGTERM to the client reaches the container, which exits 7; --sig-proxy=false does not forward', async () => {
    const script = 'trap "exit 7" TERM; echo ready; sleep 30 & wait';
    const client = (extra: string[]) => {
      const child = spawn(join(repo, 'bin/berth'), ['-H', `unix://${d.socket}`, 'run', '--rm', ...extra, 'busybox', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      return { child, exited: exited.finally(() => clearTimeout(timer)), out: () => out };
    };
    const c = client(['--name', 'sig']);
    await until(async () => c.out() === 'ready\n', 30_000, 'the container to be ready');
    c.child.kill('SIGTERM');
    assert.equal(await c.exited, 7);

    const n = client(['--name', 'nosig', '--sig-proxy=false']);
    await until(async () => n.out() === 'ready\n', 30_000, 'the container to be ready');
    n.child.kill('SIGTERM');
    assert.equal(await n.exited, null, 'berth itself was terminated');
    assert.ok(await running('nosig'), 'the container was not signalled');
  });
});
