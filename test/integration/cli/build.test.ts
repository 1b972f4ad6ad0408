// `DOCKER_BUILDKIT=0 docker build` against berthd with the real Docker CLI: a multi-stage
// Dockerfile with every instruction, its config compared with what dockerd 20.10 made of it
// (test/fixtures/build, recorded by scripts/record-build-fixture.ts), the cache, .dockerignore,
// failures and the errors users meet every day.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, ok } from '../../helpers/daemon.ts';
import { writeProject, CONFIG_FIELDS } from '../../helpers/build-project.ts';

const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/build/dockerd-20.10-config.json'), 'utf8')) as { config: Record<string, unknown> };

describe('docker build (classic builder) against berthd', () => {
  const d = new TestDaemon();
  const dirs: string[] = [];
  let server: http.Server;
  let url = '';
  const env = { DOCKER_BUILDKIT: '0' };
  const build = (args: string[], input?: string) => d.docker(['build', ...args], { env, timeoutMs: 120_000, input });
  const project = (): string => {
    const dir = mkdtempSync('/tmp/berth-build-test-');
    dirs.push(dir);
    return dir;
  };
  const steps = (out: string): string[] => out.split('\n').filter((l) => l.startsWith('Step '));

  before(async () => {
    await d.start();
    await makeBusybox(d);
    server = http.createServer((_req, res) => { res.writeHead(200, { 'Last-Modified': 'Mon, 02 Jan 2006 15:04:05 GMT' }); res.end('remote file\n'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await d.cleanup();
    server?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('builds a multi-stage Dockerfile with every instruction; the config equals dockerd 20.10\'s; it runs', async () => {
    const dir = project();
    writeProject(dir, url);
    const r = await build(['-t', 'multi:1', '-t', 'multi:also', dir]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const lines = steps(r.stdout);
    assert.equal(lines[0], 'Step 1/29 : ARG BASE=busybox');
    assert.equal(lines.length, 29);
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged multi:1\nSuccessfully tagged multi:also\n/);
    const [img] = JSON.parse(await ok(d.docker(['image', 'inspect', 'multi:1'])));
    const mine = Object.fromEntries(CONFIG_FIELDS.map((k) => [k, img.Config[k] ?? null]));
    assert.deepEqual(mine, fixture.config);
    assert.equal(img.Author, 'someone@example.com');

    const run = await ok(d.docker(['run', '--rm', '-u', '0', 'multi:1']));
    assert.match(run, /^hello from build\nfile a\n/);
    assert.match(run, /\/srv\/app:\na\.txt\nb\.txt\ndir\n/);
    assert.match(run, /\/copied:\napp\.conf\nopt-list\nremote\.txt\n/);
    // COPY --from makes root the owner again (as the classic builder does); the unpacked tar; the
    // remote file's mode and Last-Modified time.
    const meta = await ok(d.docker(['run', '--rm', '-u', '0', '--entrypoint', 'sh', 'multi:1', '-c', 'stat -c "%u:%g %a" /copied/app.conf; cat /copied/opt-list; stat -c "%a %Y" /copied/remote.txt']));
    assert.equal(meta, '0:0 644\netc\n600 1136214245\n');
    const hist = await ok(d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'multi:1']));
    assert.match(hist, /#\(nop\)\s+CMD \["cat \/greeting; ls \/srv\/app \/srv\/app\/dir \/copied"\]/);
    assert.match(hist, /#\(nop\) COPY multi:[0-9a-f]+ in \/copied\//);
    // .dockerignore: the secret never reached the daemon.
    const inBuilder = await build(['-q', '--target', 'builder', '-t', 'stage:builder', dir]);
    assert.equal(inBuilder.code, 0, inBuilder.stderr);
    const ls = await ok(d.docker(['run', '--rm', 'stage:builder', 'sh', '-c', 'ls /app; ls /opt; cat /greeting; stat -c "%u:%g %a" /etc/app.conf; ls /']));
    assert.match(ls, /^a\.txt\nb\.txt\ndir\netc\nhello from build\nfile a\n1000:1000 644\n/);
    assert.doesNotMatch(ls, /secret|payload/);
  });

  it('a second build prints Using cache for every step; changing one file rebuilds from the first step that copies it', async () => {
    const dir = project();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo one > /one\nCOPY a.txt /a.txt\nRUN cat /a.txt > /seen\nCOPY b.txt /b.txt\nENV DONE=1\n');
    writeFileSync(join(dir, 'a.txt'), 'a1\n');
    writeFileSync(join(dir, 'b.txt'), 'b1\n');
    const first = await build(['-t', 'cache:1', dir]);
    assert.equal(first.code, 0, first.stderr);
    const id1 = (await ok(d.docker(['image', 'inspect', '-f', '{{.Id}}', 'cache:1']))).trim();
    const second = await build(['-t', 'cache:1', dir]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.split('\n').filter((l) => l === ' ---> Using cache').length, 5, second.stdout);
    assert.equal((await ok(d.docker(['image', 'inspect', '-f', '{{.Id}}', 'cache:1']))).trim(), id1);

    writeFileSync(join(dir, 'b.txt'), 'b2\n');
    const third = await build(['-t', 'cache:1', dir]);
    const cachedSteps = (out: string): number[] => out.split('Step ').slice(1).flatMap((s) => (s.includes(' ---> Using cache') ? [Number(s.split('/')[0])] : []));
    assert.deepEqual(cachedSteps(third.stdout), [2, 3, 4], third.stdout);
    writeFileSync(join(dir, 'a.txt'), 'a2\n');
    const fourth = await build(['-t', 'cache:1', dir]);
    assert.deepEqual(cachedSteps(fourth.stdout), [2], fourth.stdout);
    assert.equal(await ok(d.docker(['run', '--rm', 'cache:1', 'cat', '/seen', '/b.txt'])), 'a2\nb2\n');
    // Only mtime changes: nothing rebuilt (the cache keys on content and mode).
    writeFileSync(join(dir, 'a.txt'), 'a2\n');
    const fifth = await build(['-t', 'cache:1', dir]);
    assert.deepEqual(cachedSteps(fifth.stdout), [2, 3, 4, 5, 6], fifth.stdout);
    const nocache = await build(['--no-cache', '-t', 'cache:1', dir]);
    assert.deepEqual(cachedSteps(nocache.stdout), []);
    // Intermediate images are hidden from docker images, and rmi takes them along.
    const before = (await ok(d.docker(['images', '-a', '-q']))).trim().split('\n').length;
    assert.ok(before > (await ok(d.docker(['images', '-q']))).trim().split('\n').length);
  });

  it('.dockerignore keeps files out of the context, with ! exceptions', async () => {
    const dir = project();
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'keep'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY . /ctx\nCOPY --chmod=600 app.txt /private.txt\nCMD find /ctx -type f\n');
    writeFileSync(join(dir, '.dockerignore'), '# comment\nsecret.txt\n**/*.log\n!keep/important.log\nlogs/\n');
    for (const f of ['secret.txt', 'app.txt', 'logs/x.log', 'keep/important.log', 'keep/other.log', 'deep.log']) writeFileSync(join(dir, f), f);
    await ok(build(['-q', '-t', 'ignore:1', dir]));
    const files = (await ok(d.docker(['run', '--rm', 'ignore:1']))).trim().split('\n').sort();
    assert.deepEqual(files, ['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/app.txt', '/ctx/keep/important.log']);
    assert.equal(await ok(d.docker(['run', '--rm', 'ignore:1', 'stat', '-c', '%a', '/private.txt'])), '600\n');
  });

  it('a failing RUN reports its exit code and leaves no container behind', async () => {
    const dir = project();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo before\nRUN echo failing >&2; exit 3\nRUN echo never\n');
    const before = await ok(d.docker(['ps', '-aq']));
    const r = await build(['-t', 'fails:1', dir]);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo failing >&2; exit 3' returned a non-zero code: 3/);
    assert.match(r.stdout, /failing/);
    assert.doesNotMatch(r.stdout, /never/);
    assert.equal(await ok(d.docker(['ps', '-aq'])), before);
    const img = await d.docker(['image', 'inspect', 'fails:1']);
    assert.notEqual(img.code, 0);
  });

  it('everyday errors are clear: unknown instruction with its line, a missing COPY source by name, an unknown target stage', async () => {
    const dir = project();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN true\nFOO bar\n');
    const unknown = await build([dir]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /dockerfile parse error on line 3: unknown instruction: FOO/);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY nosuch.txt /x\n');
    const missing = await build([dir]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat nosuch\.txt: file does not exist/);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox AS one\nRUN true\n');
    const target = await build(['--target', 'two', dir]);
    assert.notEqual(target.code, 0);
    assert.match(target.stderr, /failed to reach build target two in Dockerfile/);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY a b c\n');
    writeFileSync(join(dir, 'a'), 'a');
    writeFileSync(join(dir, 'b'), 'b');
    const multi = await build([dir]);
    assert.match(multi.stderr, /When using COPY with more than one source file, the destination must be a directory and end with a \//);
    assert.equal(await ok(d.docker(['ps', '-aq'])), '');
  });

  it('builds from a Dockerfile on stdin, with build args, labels, ONBUILD triggers and quiet output', async () => {
    const parent = await build(['-q', '-t', 'parent:1', '-'], 'FROM busybox\nONBUILD RUN echo triggered > /trigger\n');
    assert.equal(parent.code, 0, parent.stderr);
    const child = await build(['-t', 'child:1', '--build-arg', 'V=42', '--build-arg', 'UNUSED=1', '--label', 'team=ops', '-'], 'FROM parent:1\nARG V=1\nRUN echo "v=$V" > /v\n');
    assert.equal(child.code, 0, child.stderr);
    assert.match(child.stdout, /# Executing 1 build trigger/);
    assert.match(child.stdout, /\[Warning\] One or more build-args \[UNUSED\] were not consumed/);
    assert.equal(await ok(d.docker(['run', '--rm', 'child:1', 'cat', '/trigger', '/v'])), 'triggered\nv=42\n');
    const [img] = JSON.parse(await ok(d.docker(['image', 'inspect', 'child:1'])));
    assert.deepEqual(img.Config.Labels, { team: 'ops' });
    assert.equal(img.Config.OnBuild, null);
    assert.match(await ok(d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'child:1'])), /\|1 V=42 \/bin\/sh -c echo "v=\$V" > \/v/);
    assert.match(parent.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
  });
});
