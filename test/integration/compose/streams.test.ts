// berth compose's stream and inspection commands against a private berthd: ps (table, json, -q,
// --services, --status), logs (prefixes, --no-log-prefix, --index, -f following a start to its exit
// line), exec (status, -T), port, top, images, cp both ways, events --json, wait. The project's
// containers are made with the Compose labels directly (docker create --label), so these tests do
// not depend on the engine's up; `run` needs the engine's createOneOff and is left to the
// end-to-end tests.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, until } from '../../helpers/daemon.ts';
import { berthCli, BERTH } from '../../helpers/berth-cli.ts';

const P = 'h5st';

describe('compose stream commands against berthd', () => {
  const d = new TestDaemon();
  const { berth } = berthCli(d, { timeoutMs: 20_000 });
  let dir = '';
  const compose = (args: string[], input?: string) => berth(['compose', '-p', P, ...args], { cwd: dir, input });

  /** docker create with the labels Compose puts on a service's container. */
  const create = async (service: string, n: number, cmd: string, extra: string[] = []): Promise<string> => {
    const r = await d.docker(['create', '--name', `${P}-${service}-${n}`,
      '--label', `com.docker.compose.project=${P}`, '--label', `com.docker.compose.service=${service}`,
      '--label', `com.docker.compose.container-number=${n}`, '--label', 'com.docker.compose.oneoff=False',
      '--label', 'com.docker.compose.config-hash=test', ...extra, 'busybox', 'sh', '-c', cmd]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h5-streams-'));
    await d.start();
    await makeBusybox(d);
    const loop = 'echo hello from $(hostname); echo an error >&2; trap "exit 0" TERM; while true; do sleep 1; done';
    await create('web', 1, loop, ['-p', '127.0.0.1::80', '--hostname', 'w1']);
    await create('web', 2, loop, ['--hostname', 'w2']);
    await create('db', 1, 'echo db says bye; exit 3');
    for (const n of [`${P}-web-1`, `${P}-web-2`, `${P}-db-1`]) assert.equal((await d.docker(['start', n])).code, 0);
    await until(async () => (await d.docker(['inspect', '-f', '{{.State.Status}}', `${P}-db-1`])).stdout.trim() === 'exited', 10_000, 'db exited');
  });
  after(async () => {
    await d.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('ps: the table has Compose columns, sorted by name, running only without -a', async () => {
    const r = await compose(['ps']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]), [`${P}-web-1`, `${P}-web-2`]);
    assert.match(lines[1]!, /busybox\s+"sh -c 'echo hello f…"\s+web\s+.* ago\s+Up .*127\.0\.0\.1:\d+->80\/tcp$/);
  });

  it('ps -a --format json, -q, --services, --status exited', async () => {
    const j = await compose(['ps', '-a', '--format', 'json']);
    assert.equal(j.code, 0, j.stderr);
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(rows.map((x) => x.Name), [`${P}-db-1`, `${P}-web-1`, `${P}-web-2`]);
    assert.equal(rows[0]!.ExitCode, 3);
    assert.equal(rows[0]!.State, 'exited');
    assert.equal(rows[1]!.Service, 'web');
    assert.equal(rows[1]!.Project, P);
    const q = await compose(['ps', '-q']);
    assert.equal(q.stdout.trim().split('\n').length, 2);
    assert.match(q.stdout, /^[0-9a-f]{64}\n/);
    assert.equal((await compose(['ps', '-a', '--services'])).stdout, 'db\nweb\n');
    assert.equal((await compose(['ps', '--status', 'exited', '--format', '{{.Name}}'])).stdout, `${P}-db-1\n`);
    assert.equal((await compose(['ps', '--filter', 'status=running', '--format', '{{.Name}}'])).stdout, `${P}-web-1\n${P}-web-2\n`);
  });

  it('logs: every container behind its padded prefix, stderr too; --no-log-prefix; --index', async () => {
    const r = await compose(['logs', '--no-color']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(lines, ['db-1   | db says bye', 'web-1  | an error', 'web-1  | hello from w1', 'web-2  | an error', 'web-2  | hello from w2']);
    const np = await compose(['logs', '--no-log-prefix', 'db']);
    assert.equal(np.stdout, 'db says bye\n');
    const ix = await compose(['logs', '--index', '2', 'web']);
    assert.deepEqual(ix.stdout.split('\n').filter(Boolean).sort(), ['web-2  | an error', 'web-2  | hello from w2']);
    const bad = await compose(['logs', '--tail', '1', '--since', 'nonsense']);
    assert.notEqual(bad.code, 0);
  });

  it('logs -f follows a container that starts later and ends with its exit line', async () => {
    await create('job', 1, 'sleep 0.5; echo job done; exit 4');
    const child = spawn(BERTH, ['-H', `unix://${d.socket}`, 'compose', '-p', P, 'logs', '-f', '--no-color', 'job'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      // logs -f on a service with nothing running ends at once: give it a running container first
      assert.equal((await d.docker(['start', `${P}-job-1`])).code, 0);
      const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timeout);
      assert.equal(code, 0, out);
      assert.match(out, /job-1 {2}\| job done\n/);
      assert.match(out, /job-1 exited with code 4\n$/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('exec: output, status of the command, --index, -e', async () => {
    const r = await compose(['exec', '-T', 'web', 'hostname']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'w1\n');
    assert.equal((await compose(['exec', '-T', '--index', '2', 'web', 'hostname'])).stdout, 'w2\n');
    assert.equal((await compose(['exec', '-T', 'web', 'sh', '-c', 'exit 7'])).code, 7);
    assert.equal((await compose(['exec', '-T', '-e', 'A=b', 'web', 'sh', '-c', 'echo $A'])).stdout, 'b\n');
    const none = await compose(['exec', '-T', 'db', 'true']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /service "db" is not running/);
  });

  it('port, top, images', async () => {
    const p = await compose(['port', 'web', '80']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^127\.0\.0\.1:\d+\n$/);
    const np = await compose(['port', 'web', '81']);
    assert.match(np.stderr, new RegExp(`no port 81/tcp for container ${P}-web-1: 80/tcp`));
    const t = await compose(['top', 'web']);
    assert.equal(t.code, 0, t.stderr);
    const tl = t.stdout.trim().split('\n');
    assert.match(tl[0]!, /^SERVICE\s+#\s+UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.ok(tl.slice(1).some((l) => /^web\s+1\s/.test(l)) && tl.slice(1).some((l) => /^web\s+2\s/.test(l)), t.stdout);
    const im = await compose(['images']);
    assert.equal(im.code, 0, im.stderr);
    const il = im.stdout.trim().split('\n');
    assert.match(il[0]!, /^CONTAINER\s+REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/);
    assert.match(il[1]!, new RegExp(`^${P}-db-1\\s+busybox\\s+latest\\s+[0-9a-f]{12}\\s+\\S+B$`));
    assert.equal((await compose(['images', '-q'])).stdout.trim().split('\n').length, 1);
  });

  it('cp into every container of the service and back from the first', async () => {
    await writeFile(join(dir, 'in.txt'), 'payload\n');
    const to = await compose(['cp', join(dir, 'in.txt'), 'web:/tmp/in.txt']);
    assert.equal(to.code, 0, to.stderr);
    assert.equal((await d.docker(['exec', `${P}-web-2`, 'cat', '/tmp/in.txt'])).stdout, 'payload\n');
    assert.equal((await d.docker(['exec', `${P}-web-1`, 'sh', '-c', 'echo from1 > /tmp/out.txt'])).code, 0);
    const from = await compose(['cp', 'web:/tmp/out.txt', join(dir, 'out.txt')]);
    assert.equal(from.code, 0, from.stderr);
    assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'from1\n');
  });

  it('events --json shows a start of the project; wait prints the exit status and returns it', async () => {
    await create('late', 1, 'sleep 1; exit 5');
    const child = spawn(BERTH, ['-H', `unix://${d.socket}`, 'compose', '-p', P, 'events', '--json', 'late'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    try {
      await new Promise((r) => setTimeout(r, 700)); // subscribed
      assert.equal((await d.docker(['start', `${P}-late-1`])).code, 0);
      await until(async () => out.includes('"action":"start"'), 10_000, 'a start event');
      const ev = JSON.parse(out.split('\n').find((l) => l.includes('"action":"start"'))!) as Record<string, unknown>;
      assert.equal(ev.service, 'late');
      assert.equal(ev.type, 'container');
      assert.equal((ev.attributes as Record<string, string>).name, `${P}-late-1`);
      assert.ok(!Object.keys(ev.attributes as object).some((k) => k.startsWith('com.docker.compose.')));
    } finally {
      child.kill('SIGKILL');
    }
    const w = await compose(['wait', 'late']);
    assert.equal(w.code, 5, w.stderr);
    assert.match(w.stdout, /^container "[0-9a-f]{64}" exited with status code 5\n$/);
  });
});
