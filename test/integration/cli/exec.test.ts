// docker exec without a TTY, which berthd runs as `runc exec` on pipes of its own (runtime/exec.ts):
// output of a process that exits at once is never lost, stdout and stderr stay apart (and runc's
// own complaint never mixes with the process's stderr), the process sees pipes as under dockerd
// (/dev/stdout opens), big outputs arrive whole, exit codes and signals come through, Pid and
// Running in inspect, and a detached exec's exit is recorded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon, makeBusybox, until } from '../../helpers/daemon.ts';

describe('docker exec without a TTY', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
    await d.docker(['run', '-d', '--name', 'xe', 'busybox', 'sleep', '300']);
  });
  after(async () => { await d.cleanup(); });

  it('a process that exits at once: its output arrives every time, streams apart', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await d.docker(['exec', 'xe', 'sh', '-c', `echo out${i}; echo err${i} >&2; exit ${i}`]);
      assert.deepEqual([r.code, r.stdout, r.stderr], [i, `out${i}\n`, `err${i}\n`]);
    }
  });

  it('the process writes to pipes (/dev/stdout and /dev/stderr open, as under dockerd)', async () => {
    const r = await d.docker(['exec', 'xe', 'sh', '-c', 'echo o > /dev/stdout; echo e > /dev/stderr; readlink /proc/self/fd/1']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^o\npipe:\[\d+\]\n$/);
    assert.equal(r.stderr, 'e\n');
  });

  it('large outputs on both streams arrive whole', async () => {
    const r = await d.docker(['exec', 'xe', 'sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" a; head -c 1000000 /dev/zero | tr "\\0" b >&2']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.length, 3_000_000);
    assert.match(r.stdout, /^a+$/);
    assert.equal(r.stderr.length, 1_000_000);
  });

  it('a command that cannot start: 126 and the runtime\'s message on stdout, nothing else', async () => {
    const r = await d.docker(['exec', 'xe', 'nosuchcmd']);
    assert.equal(r.code, 126);
    assert.equal(r.stdout, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown\r\n');
    assert.equal(r.stderr, '');
    const cwd = await d.docker(['exec', '-w', '/nosuchdir', 'xe', 'true']);
    assert.equal(cwd.code, 126);
    assert.match(cwd.stdout, /^OCI runtime exec failed: .*nosuchdir.*: unknown\r\n$/);
  });

  it('a signal: 128+N; stdin with -i reaches the process and its end closes it', async () => {
    assert.equal((await d.docker(['exec', 'xe', 'sh', '-c', 'kill -9 $$'])).code, 137);
    const r = await d.docker(['exec', '-i', 'xe', 'sh', '-c', 'wc -l; echo done'], { input: 'a\nb\nc\n' });
    assert.deepEqual([r.code, r.stdout.replace(/ +/g, '')], [0, '3\ndone\n']);
  });

  it('inspect: Running and the host Pid while it runs, ExitCode after; a detached exec too', async () => {
    const c = await d.api('POST', '/v1.41/containers/xe/exec', { Cmd: ['sh', '-c', 'sleep 1; exit 4'] });
    const id = (c.json() as { Id: string }).Id;
    const s = await d.api('POST', `/v1.41/exec/${id}/start`, { Detach: true });
    assert.equal(s.status, 200);
    const running = (await d.api('GET', `/v1.41/exec/${id}/json`)).json() as { Running: boolean; Pid: number; ExitCode: number | null };
    assert.equal(running.Running, true);
    assert.equal(running.ExitCode, null);
    const cmdline = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${running.Pid}/cmdline`, 'utf8'));
    assert.match(cmdline, /^sh\0-c\0sleep 1; exit 4\0$/);
    await until(async () => !((await d.api('GET', `/v1.41/exec/${id}/json`)).json() as { Running: boolean }).Running, 10_000, 'the exec to end');
    assert.equal(((await d.api('GET', `/v1.41/exec/${id}/json`)).json() as { ExitCode: number }).ExitCode, 4);
  });
});
