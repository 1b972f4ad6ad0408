// berth's container management commands and inspect, judged against the real Docker CLI run on
// the same berthd: the same stdout, stderr and exit status (with "docker" → "berth"), for lists,
// logs, copies both ways, lifecycle errors, prune's prompt, stats and inspect templates.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, readdirSync, symlinkSync, lstatSync, readlinkSync } from 'node:fs';
import { TestDaemon, makeBusybox, runCmd, repo, ok, until, type Result } from '../../helpers/daemon.ts';
import { berthCli } from '../../helpers/berth-cli.ts';

/** What a user sees, with the program's name and the volatile parts made comparable. */
const norm = (r: Result): Result => ({
  code: r.code,
  // times differ between two runs, and with them the width of table columns
  stdout: r.stdout.replace(/\bdocker\b/g, 'berth').replace(/(\d+|Less than a) seconds?( ago)?|About a minute( ago)?/g, 'N seconds').replace(/ {3,}/g, '   '),
  stderr: r.stderr.replace(/\bdocker\b/g, 'berth'),
});

/** A listing of a local tree: paths, modes and contents or link targets. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string): void => {
    for (const name of readdirSync(p).sort()) {
      const abs = join(p, name);
      const r = `${rel}${name}`;
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(abs)}`);
      else if (st.isDirectory()) {
        out.push(`${r}/ ${(st.mode & 0o777).toString(8)}`);
        walk(abs, `${r}/`);
      } else out.push(`${r} ${(st.mode & 0o777).toString(8)} ${readFileSync(abs, 'utf8')}`);
    }
  };
  walk(dir, '');
  return out;
}

describe('berth container commands', () => {
  const d = new TestDaemon();
  const tmp = mkdtempSync('/tmp/berth-containers-cli-');
  const { berth, docker, same } = berthCli(d, {
    normalise: norm,
    // berth's own result, read as a user sees it
    returns: (got) => ({ ...got, stderr: got.stderr.replace(/\bdocker\b/g, 'berth') }),
  });
  /** `cp` with relative local paths, run in `dir` by either CLI. */
  const cpIn = (tool: 'docker' | 'berth', args: string[], dir: string): Promise<Result> =>
    (tool === 'docker' ? docker : berth)(['cp', ...args], { cwd: dir });

  before(async () => {
    await d.start();
    await makeBusybox(d);
    await ok(d.docker(['run', '-d', '--name', 'web', '-p', '8080:80', '-p', '127.0.0.1:9000-9002:9000-9002/udp', '-l', 'a=b', '-l', 'c=d', 'busybox', 'sleep', '600']));
    assert.equal((await d.docker(['run', '--name', 'done', 'busybox', 'sh', '-c', 'echo one; echo two >&2; echo three; mkdir /x; touch /x/y; rm /etc/passwd; exit 3'])).code, 3);
    await ok(d.docker(['exec', 'web', 'sh', '-c', 'mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b && ln -s a /d/link && ln -s /d /dl']));
  });
  after(async () => {
    await d.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('ps: the default table, -a, -q, --no-trunc, -s, filters, --format and bad filters as docker', async () => {
    const ps = await same(['ps']);
    assert.match(ps.stdout, /^CONTAINER ID {3}IMAGE {5}COMMAND {7}CREATED +STATUS +PORTS +NAMES\n[0-9a-f]{12} {3}busybox {3}"sleep 600" {3}.*127\.0\.0\.1:9000-9002->9000-9002\/udp, 0\.0\.0\.0:8080->80\/tcp, \[::\]:8080->80\/tcp {3}web\n$/);
    await same(['ps', '-a']);
    await same(['container', 'ls', '-a', '--no-trunc']);
    await same(['ps', '-aq']);
    await same(['ps', '-a', '-q', '--no-trunc']);
    await same(['ps', '-s']);
    await same(['ps', '-a', '-n', '1']);
    await same(['container', 'list', '-l']);
    await same(['ps', '-a', '-f', 'status=exited', '--format', '{{.Names}} {{.State}} {{.Status}}']);
    await same(['ps', '-f', 'label=a=b', '-f', 'name=web', '--format', 'table {{.Names}}\t{{.Label "c"}}\t{{.Labels}}\t{{.Ports}}']);
    await same(['ps', '--format', '{{json .}}']);
    await same(['ps', '-a', '--format', '{{.Command}} {{.Image}} {{.Networks}} {{.LocalVolumes}} {{.CreatedAt}}']);
    const bad = await same(['ps', '-f', 'nonsense']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^invalid argument "nonsense" for "-f, --filter" flag: bad format of filter \(expected name=value\)\n\nUsage: {2}berth ps \[OPTIONS\]/);
  });

  it('logs: streams split back, --tail, -t, --since/--until forms and their errors, -f ends with the container', async () => {
    const all = await same(['logs', 'done']);
    assert.deepEqual([all.code, all.stdout, all.stderr], [0, 'one\nthree\n', 'two\n']);
    const last = await same(['logs', '--tail', '1', 'done']);
    assert.equal(`${last.stdout}${last.stderr}`.split('\n').length, 2, 'one line');
    await same(['logs', '-n', '0', 'done']);
    await same(['logs', '-t', 'done']);
    await same(['logs', '--since', '10m', 'done']);
    await same(['logs', '--until', '1h', 'done']);
    await same(['logs', '--since', '2000-01-02T03:04:05Z', 'done']);
    await same(['logs', '--since', '2000-01-02', 'done']);
    await same(['logs', '--since', '946782245', 'done']);
    assert.equal((await same(['logs', '--since', 'bogus', 'done'])).code, 1);
    await same(['logs', '--since', '2026-13-45', 'done']);
    await same(['logs', 'nope']);
    await ok(d.docker(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done']));
    const f = await berth(['logs', '-f', 'ticker'], { timeoutMs: 15_000 });
    assert.deepEqual([f.code, f.stdout], [0, 'tick 1\ntick 2\ntick 3\n']);
    await ok(d.docker(['run', '-d', '-t', '--name', 'tty', 'busybox', 'sh', '-c', 'echo out; echo err >&2']));
    await until(async () => (await d.docker(['inspect', '-f', '{{.State.Running}}', 'tty'])).stdout === 'false\n');
    const tty = await same(['logs', 'tty']);
    assert.equal(tty.stdout, 'out\r\nerr\r\n', 'a TTY container\'s output is raw, all on stdout');
  });

  it('stop, kill, rm, pause, wait, rename, port, top, diff: messages and statuses for missing containers and bad arguments', async () => {
    for (const args of [['stop', 'nope', 'nope2'], ['kill', 'nope'], ['rm', 'nope'], ['pause', 'nope'], ['unpause', 'nope'], ['wait', 'nope'],
      ['restart', 'nope'], ['rename', 'nope', 'x'], ['port', 'nope'], ['port', 'web', '81'], ['port', 'web', 'abc'], ['port', 'web', '99999'],
      ['top', 'nope'], ['diff', 'nope'], ['update', 'web'], ['update', '--memory', 'xx', 'web'], ['commit', 'nope'], ['commit', 'web', 'Bad:x'],
      ['commit', 'web', 'x@sha256:abc'], ['container', 'inspect', 'nope'], ['export', 'nope']]) {
      const r = await same(args);
      assert.notEqual(r.code, 0, args.join(' '));
    }
    assert.deepEqual(await same(['rm', '-f', 'nope']), { code: 0, stdout: '', stderr: 'Error response from daemon: No such container: nope\n' });
    assert.equal((await same(['port', 'web'])).stdout, '80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n9000/udp -> 127.0.0.1:9000\n9001/udp -> 127.0.0.1:9001\n9002/udp -> 127.0.0.1:9002\n');
    await same(['port', 'web', '9001/udp']);
    await same(['diff', 'done']);
    assert.match((await same(['top', 'web'])).stdout, /^UID {17}PID {17}PPID {16}C {19}STIME {15}TTY {17}TIME {16}CMD\nroot {16}\d+/);
    await same(['top', 'web', '-o', 'pid,comm']);

    await ok(d.docker(['run', '-d', '--name', 'life', 'busybox', 'sleep', '600']));
    assert.deepEqual(await berth(['pause', 'life']), { code: 0, stdout: 'life\n', stderr: '' });
    assert.equal((await berth(['pause', 'life'])).code, 1);
    assert.deepEqual(await berth(['unpause', 'life']), { code: 0, stdout: 'life\n', stderr: '' });
    assert.deepEqual(await berth(['rename', 'life', 'life2']), { code: 0, stdout: '', stderr: '' });
    assert.deepEqual(await berth(['restart', '-t', '1', 'life2']), { code: 0, stdout: 'life2\n', stderr: '' });
    const both = await berth(['restart', '-t', '1', '--time', '1', 'life2']);
    // cobra prints deprecation notices on the command's output, which docker points at stdout
    assert.deepEqual([both.code, both.stdout, both.stderr], [1, 'Flag --time has been deprecated, use --timeout instead\n', 'conflicting options: cannot specify both --timeout and --time\n']);
    assert.deepEqual(await berth(['kill', '-s', 'KILL', 'life2', 'nope']), { code: 1, stdout: 'life2\n', stderr: 'Error response from daemon: Cannot kill container: nope: No such container: nope\n' });
    assert.deepEqual(await berth(['wait', 'life2', 'done']), { code: 0, stdout: '137\n3\n', stderr: '' });
    assert.deepEqual(await berth(['rm', 'life2']), { code: 0, stdout: 'life2\n', stderr: '' });
  });

  it('update, commit and export change and read what docker\'s do', async () => {
    await ok(d.docker(['run', '-d', '--name', 'upd', 'busybox', 'sleep', '600']));
    assert.deepEqual(await berth(['update', '--cpus', '0.5', '-m', '100m', '--memory-swap', '-1', '--pids-limit', '50', '--restart', 'on-failure:3', 'upd']), { code: 0, stdout: 'upd\n', stderr: '' });
    assert.equal((await d.docker(['inspect', '-f', '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'upd'])).stdout,
      '500000000 104857600 -1 50 on-failure:3\n');
    await same(['update', '--cpus', 'abc', 'upd']);
    await ok(d.docker(['exec', 'upd', 'sh', '-c', 'echo hi > /committed']));
    const c = await berth(['commit', '-m', 'msg', '-a', 'me', '-c', 'ENV A=1', '--change', 'CMD ["cat", "/committed"]', 'upd', 'mine:c1']);
    assert.match(c.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal((await d.docker(['inspect', '-f', '{{.Id}} {{.Comment}} {{.Author}} {{.Config.Env}}', 'mine:c1'])).stdout, `${c.stdout.trim()} msg me [A=1]\n`);
    assert.equal((await d.docker(['run', '--rm', 'mine:c1'])).stdout, 'hi\n');
    const file = join(tmp, 'export.tar');
    assert.deepEqual(await berth(['export', '-o', file, 'upd']), { code: 0, stdout: '', stderr: '' });
    const listing = await runCmd('tar', ['tf', file]);
    assert.match(listing.stdout, /^committed$/m);
    const piped = await runCmd('sh', ['-c', `${join(repo, 'bin/berth')} -H unix://${d.socket} export upd | tar t | grep -c committed`]);
    assert.equal(piped.stdout, '1\n');
  });

  it('cp from a container: directories into existing and new directories, "/.", files, links, errors and tar on stdout', async () => {
    const cases: string[][] = [
      ['web:/d', 'new'], ['web:/d', 'exists'], ['web:/d/', 'exists/'], ['web:/d/.', 'new'], ['web:/d/.', 'exists'], ['web:/d/a', 'exists'],
      ['web:/d/a', 'newf'], ['web:/d/a', 'efile'], ['web:/d', 'efile'], ['web:/d/a', 'nodir/'], ['web:/d/a', 'nodir/x'], ['web:/nope', 'x'],
      ['nope:/d', 'x'], ['web:/d/link', '.'], ['web:/dl', '.'], ['-L', 'web:/d/link', 'lk'], ['-L', 'web:/dl', 'dlf'], ['web:/d', 'web:/x'], ['a', 'b'],
    ];
    for (const args of cases) {
      const results: { r: Result; files: string[] }[] = [];
      for (const tool of ['docker', 'berth'] as const) {
        const dir = mkdtempSync(join(tmp, 'from-'));
        mkdirSync(join(dir, 'exists'));
        writeFileSync(join(dir, 'efile'), 'old');
        const r = await cpIn(tool, args, dir);
        results.push({ r: { ...r, stderr: r.stderr.replaceAll(dir, 'DIR') }, files: tree(dir) });
      }
      assert.deepEqual(norm(results[1]!.r), norm(results[0]!.r), `cp ${args.join(' ')}`);
      assert.deepEqual(results[1]!.files, results[0]!.files, `cp ${args.join(' ')}: the files`);
    }
    const want = await runCmd('sh', ['-c', `docker cp web:/d - | tar tv`], { env: d.env });
    const got = await runCmd('sh', ['-c', `${join(repo, 'bin/berth')} -H unix://${d.socket} cp web:/d - | tar tv`]);
    assert.equal(got.stdout, want.stdout);
    assert.match(got.stdout, /d\/sub\/b\n$/);
  });

  it('cp into a container: directory and file rules, trailing "/.", -L, a tar on stdin, and errors', async () => {
    const src = join(tmp, 'L');
    mkdirSync(join(src, 'src/sub'), { recursive: true });
    writeFileSync(join(src, 'src/x'), 'x');
    writeFileSync(join(src, 'src/sub/y'), 'y');
    symlinkSync('x', join(src, 'src/lx'));
    writeFileSync(join(src, 'file'), 'f', { mode: 0o600 });
    await ok(d.docker(['run', '-d', '--name', 'to-docker', 'busybox', 'sleep', '600']));
    await ok(d.docker(['run', '-d', '--name', 'to-berth', 'busybox', 'sleep', '600']));
    const state = (c: string): Promise<string> => ok(d.docker(['exec', c, 'sh', '-c',
      'cd /t && find . | sort | while read f; do if [ -L "$f" ]; then echo "$f -> $(readlink $f)"; elif [ -f "$f" ]; then echo "$f $(stat -c "%a %u" $f) $(cat $f)"; else echo "$f/ $(stat -c "%a %u" $f)"; fi; done']));
    const tarIn = (await runCmd('sh', ['-c', `tar -C ${src} -c src | base64 -w0`])).stdout;
    const cases: [string[], boolean][] = [
      [['src', '/t/new'], false], [['src', '/t/exists'], false], [['src/', '/t/exists/'], false], [['src/.', '/t/new'], false], [['src/.', '/t/exists'], false],
      [['file', '/t/exists'], false], [['file', '/t/newf'], false], [['file', '/t/efile'], false], [['src', '/t/efile'], false], [['file', '/t/nodir/'], false],
      [['file', '/t/nodir/x'], false], [['nope', '/t/x'], false], [['src/lx', '/t/'], false], [['-L', 'src/lx', '/t/'], false], [['-a', 'src', '/t/new'], false],
      [['-', '/t/exists'], true], [['-', '/t/nope'], true], [['-', '/t/efile'], true],
    ];
    for (const [args, stdin] of cases) {
      const out: { r: Result; files: string }[] = [];
      for (const tool of ['docker', 'berth']) {
        const c = `to-${tool}`;
        await ok(d.docker(['exec', c, 'sh', '-c', 'rm -rf /t; mkdir -p /t/exists; echo old > /t/efile']));
        const target = args.map((a, i) => (i === args.length - 1 ? `${c}:${a}` : a));
        const bin = tool === 'docker' ? '/usr/local/bin/docker' : `${join(repo, 'bin/berth')} -H unix://${d.socket}`;
        const input = stdin ? `echo ${tarIn} | base64 -d | ` : '';
        const r = await runCmd('sh', ['-c', `cd ${src} && ${input}${bin} cp ${target.map((a) => `'${a}'`).join(' ')}`], { env: d.env });
        // docker's own client logs the broken upload pipe after a refusal; not part of the contract
        out.push({ r: { ...r, stderr: r.stderr.replace(/^time=.*\n/gm, '').replaceAll(c, 'C') }, files: await state(c) });
      }
      assert.deepEqual(norm(out[1]!.r), norm(out[0]!.r), `cp ${args.join(' ')}`);
      assert.equal(out[1]!.files, out[0]!.files, `cp ${args.join(' ')}: the files`);
    }
  });

  it('container prune asks first: "n" keeps everything, -f removes and reports', async () => {
    const id = (await ok(d.docker(['create', '--name', 'stale', 'busybox', 'true']))).trim();
    const no = await berth(['container', 'prune'], { input: 'n\n' });
    assert.deepEqual(no, { code: 0, stdout: 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ', stderr: '' });
    assert.equal((await d.docker(['ps', '-aq', '-f', 'name=stale'])).stdout, `${id.slice(0, 12)}\n`);
    const filtered = await berth(['container', 'prune', '-f', '--filter', 'label=nope=1']);
    assert.deepEqual(filtered, { code: 0, stdout: 'Total reclaimed space: 0B\n', stderr: '' });
    const yes = await berth(['container', 'prune', '-f']);
    assert.equal(yes.code, 0);
    assert.match(yes.stdout, new RegExp(`^Deleted Containers:\\n([0-9a-f]{64}\\n)*${id}\\n([0-9a-f]{64}\\n)*\\nTotal reclaimed space: \\S+B\\n$`));
    assert.equal((await d.docker(['ps', '-aq', '-f', 'name=stale'])).stdout, '');
  });

  it('stats --no-stream: the columns docker prints; live mode writes docker\'s redraw sequences', async () => {
    await ok(d.docker(['run', '-d', '--name', 'st', '-m', '64m', 'busybox', 'sleep', '600']));
    const shape = (s: string): string => s.replace(/\d+(\.\d+)?(%|[KMG]?i?B)/g, 'N$2').replace(/ +/g, ' ');
    const want = await d.docker(['stats', '--no-stream', 'st']);
    const got = await berth(['stats', '--no-stream', 'st']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^CONTAINER ID {3}NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n[0-9a-f]{12} {3}st +\d+\.\d\d% +[\d.]+[KMG]?i?B \/ 64MiB +[\d.]+% +\S+ \/ \S+ +\S+ \/ \S+ +1\n$/);
    assert.equal(shape(got.stdout), shape(want.stdout));
    const json = JSON.parse((await ok(berth(['stats', '--no-stream', '--format', '{{json .}}', 'st']))));
    assert.deepEqual(Object.keys(json), ['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs']);
    assert.deepEqual([json.Container, json.Name, json.PIDs], ['st', 'st', '1']);
    const missing = await berth(['stats', '--no-stream', 'nope']);
    assert.deepEqual(missing, { code: 1, stdout: '', stderr: 'Error response from daemon: No such container: nope\n' });
    await ok(d.docker(['create', '--name', 'st-created', 'busybox', 'true']));
    const all = await berth(['stats', '--no-stream', '-a', '--format', '{{.Name}} {{.MemUsage}}']);
    assert.match(all.stdout, /^st \S+ \/ 64MiB$/m);
    assert.match(all.stdout, /^st-created 0B \/ 0B$/m);
    assert.doesNotMatch((await ok(berth(['stats', '--no-stream', '--format', '{{.Name}}']))), /st-created/);
    // live: killed after a few redraws (docker's stats runs until interrupted)
    const live = await berth(['stats', 'st'], { timeoutMs: 1700 });
    const frames = live.stdout.split('\x1b[J').filter(Boolean);
    assert.ok(frames.length >= 2, live.stdout);
    assert.match(frames[0]!, /^\x1b\[HCONTAINER ID.*\n.*\n\x1b\[HCONTAINER ID.* \x1b\[K\n.* \x1b\[K\n \x1b\[K\n$/);
  });

  it('inspect: any object kind, -f templates, --format json, --type, -s, and missing objects', async () => {
    await ok(d.docker(['network', 'create', 'nn']));
    await ok(d.docker(['create', '--name', 'insp', '-l', 'a=x', 'busybox', 'true']));
    await ok(d.docker(['volume', 'create', 'vv']));
    for (const args of [
      ['inspect', 'web'], ['inspect', '--format', 'json', 'web', 'nn'], ['inspect', 'busybox', 'vv', 'nn'], ['container', 'inspect', 'web', 'insp'],
      ['inspect', '-f', '{{.Name}} {{.State.Running}} {{json .Config.Labels}} {{index .Config.Labels "a"}}', 'web', 'insp'],
      ['inspect', '-f', '{{.Name}}', 'nn', 'bridge', 'vv'], ['container', 'inspect', '-s', '-f', '{{.SizeRootFs}}', 'web'],
      ['inspect', '-s', 'busybox'], ['inspect', '--type', 'image', '-f', '{{.Id}}', 'busybox'],
    ]) {
      const r = await same(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(await same(['inspect', 'nope']), { code: 1, stdout: '[]\n', stderr: 'Error: No such object: nope\n' });
    assert.deepEqual(await same(['inspect', '-f', '{{.Name}}', 'nope', 'web']), { code: 1, stdout: '/web\n', stderr: 'Error: No such object: nope\n' });
    assert.deepEqual(await same(['container', 'inspect', 'nope']), { code: 1, stdout: '[]\n', stderr: 'Error response from daemon: No such container: nope\n' });
    assert.equal((await same(['inspect', '--type', 'foo', 'x'])).code, 1);
    assert.equal((await same(['inspect', '--type', 'volume', 'web'])).code, 1);
    assert.equal((await same(['inspect', '-f', '{{.Nope', 'web'])).code, 64);
    assert.equal((await same(['inspect', '-f', '{{json .State.Running}}', 'web', 'busybox'])).code, 1);
  });
});
