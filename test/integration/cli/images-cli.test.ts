// berth's image commands against the real Docker CLI on the same berthd: images, tag, rmi,
// save/load, import, history, image inspect, image prune, build (the legacy builder's output),
// and pull/push/login/logout against the CNCF registry, with credentials shared through
// config.json and progress bars on a pty.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, runCmd, ok, repo, type Result } from '../../helpers/daemon.ts';
import { startCncfRegistry, type CncfRegistry } from '../../helpers/cncf-registry.ts';
import { berthCli, BERTH } from '../../helpers/berth-cli.ts';

/** What may differ between two runs of one command: times ago, generated IDs, column widths. */
function normalize(s: string): string {
  return s
    .replace(/\b(\d+|About an?|Less than a) (second|minute|hour|day|week|month|year)s? ago/g, '<ago>')
    .replace(/\b(\d+|About an?|Less than a) (second|minute|hour|day|week|month|year)s?\b/g, '<dur>')
    .replace(/ {2,}/g, '\t')
    .replace(/[ \t]+\n/g, '\n');
}

/**
 * A list's rows in a fixed order, a table's header line kept first: docker lists the repos of one
 * image in Go map order. Template output has no header, so all of its lines are sorted.
 */
const sortedRows = (s: string): string => {
  const lines = s.split('\n');
  const head = /^[A-Z]{2,}/.test(lines[0] ?? '') ? [lines.shift()!] : [];
  return [...head, ...lines.filter(Boolean).sort()].join('\n');
};

describe('berth image commands, compared with the Docker CLI', () => {
  const d = new TestDaemon();
  let reg: CncfRegistry;
  let locked: CncfRegistry;
  const dirs: string[] = [];
  const tmp = (): string => {
    const dir = mkdtempSync('/tmp/berth-images-cli-');
    dirs.push(dir);
    return dir;
  };
  /** berth finds the daemon through DOCKER_HOST, as docker does. `same` runs the command with both CLIs and expects the same stdout, stderr and status ("docker" read as "berth"). */
  const { berth, docker, same } = berthCli<{ sort?: boolean }>(d, {
    host: null,
    env: d.env,
    timeoutMs: 90_000,
    normalise: (r, fromDocker, o) => {
      const fix = (s: string): string => {
        const t = normalize(fromDocker ? s.replace(/(?<![./])\bdocker\b(?!\.)/g, 'berth') : s);
        return o.sort ? sortedRows(t) : t;
      };
      return { code: r.code, stdout: fix(r.stdout), stderr: fix(r.stderr) };
    },
  });
  const sh = (cmd: string): Promise<Result> => runCmd('bash', ['-c', cmd], { env: { ...d.env, BERTH: BERTH }, timeoutMs: 90_000 });

  before(async () => {
    await d.start();
    await makeBusybox(d);
    reg = await startCncfRegistry();
    locked = await startCncfRegistry({ htpasswd: { user: 'alice', password: 's3cret' } });
    // Another tag of busybox, an image built on it (its intermediate image is hidden without -a),
    // and a repo digest from a push.
    await ok(docker(['tag', 'busybox', 'other:2']));
    const ctxDir = tmp();
    writeFileSync(join(ctxDir, 'Dockerfile'), 'FROM busybox\nRUN echo built > /f && echo a command long enough for history to cut it > /dev/null\nLABEL purpose=test\nCMD ["cat", "/f"]\n');
    await ok(docker(['build', '-t', 'built:1', ctxDir], { env: { DOCKER_BUILDKIT: '0' } }));
    await ok(docker(['tag', 'busybox', `${reg.host}/t/busybox:1`]));
    await ok(docker(['push', `${reg.host}/t/busybox:1`]));
  });

  after(async () => {
    await d.cleanup();
    await reg?.stop();
    await locked?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('images: the table, -q, -a, --digests, --no-trunc, --format, filters and REPO[:TAG] as docker prints them', async () => {
    const ls = await same(['images'], { sort: true });
    assert.match(ls.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    assert.match(ls.stdout, /\nbuilt\s+1\s+[0-9a-f]{12}\s+/);
    for (const args of [
      ['images', '-q'], ['images', '-a'], ['images', '-a', '-q'], ['images', '--digests'], ['images', '--no-trunc'],
      ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}} {{.Size}}'],
      ['image', 'list', '--format', '{{json .}}'], ['images', '--format', 'table {{.Repository}}\t{{.Containers}}\t{{.VirtualSize}}'],
      ['images', 'busybox'], ['images', 'other:2'], ['images', '-f', 'dangling=true'], ['images', '-f', 'dangling=true', '-a', '-q'],
      ['images', '-f', 'label=purpose=test'], ['images', '-f', 'reference=b*'], ['images', '-f', 'before=built:1'],
      ['images', '-f', 'bad'], ['images', '-f', 'nosuch=1'], ['images', '--format', '{{.Nope}}'],
    ]) await same(args, { sort: true });
  });

  it('tag and rmi: the Untagged/Deleted lines, reference errors, an error per missing image with status 1', async () => {
    for (const args of [
      ['tag', 'nosuch', 'a:b'], ['tag', 'busybox', 'A:b'], ['tag', 'bad@@', 'a:b'],
      ['tag', 'busybox', 'a@sha256:d8a4761dfd7a60fa58ad103283713dbcf4249c3831bdc579e7e01ab4aa5677aa'], ['rmi', 'nosuch'],
    ]) await same(args);
    // The same removals through each CLI: tags first, then the image with its parents.
    for (const cli of [docker, berth]) {
      await ok(cli(['tag', 'busybox', 'x:1']));
      await ok(cli(['image', 'tag', 'built:1', 'y:1']));
    }
    const out: Record<string, Result> = {};
    for (const [name, cli] of [['docker', docker], ['berth', berth]] as const) {
      await ok(docker(['tag', 'busybox', 'x:1']));
      await ok(docker(['tag', 'built:1', 'y:1']));
      out[name] = await cli(['rmi', 'x:1', 'nosuch', 'y:1']);
    }
    assert.equal(out.berth!.code, 1);
    assert.deepEqual(out.berth, out.docker);
    assert.equal(out.berth!.stdout, 'Untagged: x:1\nUntagged: y:1\n');
    assert.equal(out.berth!.stderr, 'Error response from daemon: No such image: nosuch:latest\n');
    // A forced removal of a built image deletes it and its intermediate parent.
    const dir = tmp();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo 1 > /one\nRUN echo 2 > /two\n');
    await ok(docker(['build', '-t', 'gone:1', dir], { env: { DOCKER_BUILDKIT: '0' } }));
    const gone = await berth(['image', 'rm', '-f', 'gone:1']);
    assert.equal(gone.code, 0, gone.stderr);
    assert.match(gone.stdout, /^Untagged: gone:1\n(Deleted: sha256:[0-9a-f]{64}\n){3,}$/);
    await same(['image', 'remove', 'gone:1']);
  });

  it('save | load through a pipe, save -o and load -i, and docker\'s refusals', async () => {
    const piped = await sh(`"$BERTH" save busybox other:2 | "$BERTH" load`);
    assert.equal(piped.code, 0, piped.stderr);
    const dockerPiped = await sh('docker save busybox other:2 | docker load');
    assert.equal(piped.stdout, dockerPiped.stdout);
    assert.match(piped.stdout, /^Loaded image: (busybox:latest|other:2)\nLoaded image: (busybox:latest|other:2)\n$/);
    const dir = tmp();
    const file = join(dir, 'bb.tar');
    assert.equal((await berth(['image', 'save', '-o', file, 'busybox'])).code, 0);
    const listing = await runCmd('tar', ['-tf', file]);
    assert.match(listing.stdout, /manifest\.json/);
    await same(['load', '-i', file]);
    await same(['load', '-q', '-i', file]);
    await same(['image', 'load', '--input', join(dir, 'nosuch.tar')]);
    await same(['save', '-o', join(dir, 'no/such/dir.tar'), 'busybox']);
    await same(['save', '-o', join(dir, 'x.tar'), 'nosuch']);
    assert.ok(!existsSync(join(dir, 'x.tar')), 'no file is left by a failed save');
    // On a terminal save refuses to write the archive there (script(1) gives it a pty).
    const tty = await runCmd('script', ['-qec', `${BERTH} save busybox`, '/dev/null'], { env: d.env });
    assert.equal(tty.code, 1);
    assert.match(tty.stdout, /^cowardly refusing to save to a terminal\. Use the -o flag or redirect\r?\n$/);
  });

  it('import from a file and from stdin with -c and -m; history shows it; errors match docker', async () => {
    const dir = tmp();
    const rootfs = join(dir, 'rootfs.tar');
    await ok(sh(`bash ${join(repo, 'scripts/busybox-image.sh')} > ${rootfs}`));
    const fromFile = await berth(['import', '-c', 'CMD ["echo", "imported"]', '-m', 'my message', rootfs, 'imp:1']);
    assert.match(fromFile.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await ok(docker(['run', '--rm', 'imp:1'])), 'imported\n');
    const hist = await berth(['history', '--format', '{{.Comment}}|{{.CreatedBy}}|{{.Size}}', 'imp:1']);
    assert.equal(hist.stdout, 'my message||1.98MB\n');
    const fromStdin = await berth(['image', 'import', '-', 'imp:2'], { input: readFileSync(rootfs) });
    assert.match(fromStdin.stdout, /^sha256:[0-9a-f]{64}\n$/);
    await same(['import', join(dir, 'nosuch.tar')]);
    await same(['import', '-c', 'BAD x', rootfs]);
    await same(['import', rootfs, 'Bad:Name']);
    await same(['import']);
  });

  it('history: human and raw sizes and dates, --no-trunc, -q, --format, a missing image', async () => {
    for (const args of [
      ['history', 'built:1'], ['history', '-H=false', 'built:1'], ['history', '--human=false', '--no-trunc', 'built:1'],
      ['history', '-q', 'built:1'], ['history', '--no-trunc', '-q', 'built:1'], ['image', 'history', '--format', '{{.ID}}\t{{.CreatedBy}}', 'built:1'],
      ['history', '--format', 'json', 'built:1'], ['history', 'nosuch'],
    ]) await same(args);
    // CreatedBy is cut at 45 characters with an ellipsis unless --no-trunc.
    const cut = await berth(['history', '--format', '{{.CreatedBy}}', 'built:1']);
    assert.ok(cut.stdout.split('\n').some((l) => [...l].length === 45 && l.endsWith('…')), cut.stdout);
  });

  it('image inspect: JSON, -f templates, errors per image', async () => {
    for (const args of [
      ['image', 'inspect', 'busybox'], ['image', 'inspect', '-f', '{{.Id}} {{.Config.Cmd}}', 'busybox', 'built:1'],
      ['image', 'inspect', '--format', '{{json .Config.Labels}}', 'built:1'], ['image', 'inspect', '-f', 'json', 'busybox'],
      ['image', 'inspect', 'nosuch', 'busybox'], ['image', 'inspect', '-f', '{{.Id}}', 'busybox', 'nosuch'],
      ['image', 'inspect', '-f', '{{.Nope}}', 'busybox'], ['image', 'inspect', '-f', '{{.Id', 'busybox'],
    ]) await same(args);
  });

  it('image prune: docker\'s prompt, cancelled on "n", deletes dangling images with -f', async () => {
    await same(['image', 'prune'], { input: 'n\n' });
    await same(['image', 'prune', '-a'], { input: 'N\n' });
    await same(['image', 'prune', '--filter', 'bad']);
    // A dangling image: a tag moved away from a built image.
    const dir = tmp();
    writeFileSync(join(dir, 'Dockerfile'), `FROM busybox\nRUN echo ${Date.now()} > /stamp\n`);
    await ok(docker(['build', '-t', 'dangle:1', dir], { env: { DOCKER_BUILDKIT: '0' } }));
    await ok(docker(['tag', 'busybox', 'dangle:1']));
    const pruned = await berth(['image', 'prune', '-f']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^Deleted Images:\n(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: [\d.]+k?B\n$/);
    assert.equal((await berth(['image', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
    await ok(docker(['rmi', 'dangle:1']));
  });

  it('build: the legacy builder\'s output, -q, --iidfile, a Dockerfile on stdin, a failing RUN\'s exit code', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'ctx'));
    writeFileSync(join(dir, 'ctx/Dockerfile'), 'FROM busybox\nARG WHO=nobody\nLABEL who=$WHO\nCMD ["echo", "hi"]\n');
    const legacy = { DOCKER_BUILDKIT: '0' };
    const args = ['build', '--build-arg', 'WHO=me', '--label', 'x=1', '-t', 'b1:1', join(dir, 'ctx')];
    const first = await berth(args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /\nStep 5\/5 : LABEL "x"='1'\n ---> [0-9a-f]{12}\nSuccessfully built /);
    // Both again, from the cache.
    const want = await docker(args, { env: legacy });
    const got = await berth(args);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^Sending build context to Docker daemon {2}[\d.]+kB\r\r\nStep 1\/5 : FROM busybox\n/);
    assert.equal(got.stdout.replace(/[0-9a-f]{12}/g, 'ID'), want.stdout.replace(/[0-9a-f]{12}/g, 'ID'));
    assert.equal(got.stderr, '');
    // -q prints the ID alone; --iidfile gets what docker writes (the ID line as printed).
    const iid = join(dir, 'iid');
    const q = await berth(['image', 'build', '-q', '--iidfile', iid, '-t', 'b1:1', '--build-arg', 'WHO=me', '--label', 'x=1', join(dir, 'ctx')]);
    assert.match(q.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(readFileSync(iid, 'utf8'), q.stdout);
    const iid2 = join(dir, 'iid2');
    await ok(berth(['builder', 'build', '--iidfile', iid2, join(dir, 'ctx')]));
    assert.match(readFileSync(iid2, 'utf8'), /^sha256:[0-9a-f]{64}$/);
    // -f is relative to the working directory; a Dockerfile outside the context is sent along.
    writeFileSync(join(dir, 'Other.dockerfile'), 'FROM busybox\nCMD ["echo", "other"]\n');
    await ok(berth(['build', '-t', 'b2:1', '-f', join(dir, 'Other.dockerfile'), join(dir, 'ctx')]));
    assert.equal(await ok(docker(['run', '--rm', 'b2:1'])), 'other\n');
    // build - with a Dockerfile, and with a tar context.
    const stdinDf = await berth(['build', '-t', 'b3:1', '-'], { input: 'FROM busybox\nCMD ["echo", "from stdin"]\n' });
    assert.equal(stdinDf.code, 0, stdinDf.stderr);
    assert.equal(await ok(docker(['run', '--rm', 'b3:1'])), 'from stdin\n');
    const tarCtx = await sh(`tar -C ${join(dir, 'ctx')} -c . | "$BERTH" build -t b4:1 -`);
    assert.equal(tarCtx.code, 0, tarCtx.stderr);
    assert.equal(await ok(docker(['run', '--rm', 'b4:1'])), 'hi\n');
    // A failing RUN: its exit code and docker's message; with -q the hidden output goes to stderr.
    writeFileSync(join(dir, 'ctx/Dockerfile'), 'FROM busybox\nRUN echo failing; exit 7\n');
    const failed = await berth(['build', join(dir, 'ctx')]);
    const dockerFailed = await docker(['build', join(dir, 'ctx')], { env: legacy });
    assert.equal(failed.code, 7);
    assert.equal(failed.code, dockerFailed.code);
    assert.equal(failed.stderr, "The command '/bin/sh -c echo failing; exit 7' returned a non-zero code: 7\n");
    assert.equal(failed.stdout.replace(/[0-9a-f]{12}/g, 'ID'), dockerFailed.stdout.replace(/[0-9a-f]{12}/g, 'ID'));
    const failedQ = await berth(['build', '-q', join(dir, 'ctx')]);
    assert.equal(failedQ.code, 7);
    assert.equal(failedQ.stdout, '');
    assert.match(failedQ.stderr, /^Sending build context to Docker daemon.*\r\r\nThe command .* returned a non-zero code: 7\n$/s);
    // Context errors as docker words them.
    const noDir = await berth(['build', join(dir, 'nosuch')]);
    assert.equal(noDir.code, 1);
    assert.equal(noDir.stderr, `unable to prepare context: path "${join(dir, 'nosuch')}" not found\n`);
    const noFile = await berth(['build', '-f', join(dir, 'nope'), join(dir, 'ctx')]);
    assert.equal(noFile.stderr, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${join(dir, 'nope')}: no such file or directory\n`);
  });

  it('pull, push, login and logout against the CNCF registry: stored credentials are used and shared with docker', async () => {
    const ref = `${reg.host}/t/busybox:1`;
    // Each CLI pulls the image anew; other tags still hold its layer.
    const fresh = async (cli: typeof docker, args: string[]): Promise<Result> => {
      await ok(docker(['rmi', ref]));
      return cli(args);
    };
    const dockerPull = await fresh(docker, ['pull', ref]);
    const pulled = await fresh(berth, ['pull', ref]);
    assert.deepEqual(pulled, dockerPull);
    assert.match(pulled.stdout, /^1: Pulling from t\/busybox\n[0-9a-f]{12}: Already exists\nDigest: sha256:[0-9a-f]{64}\nStatus: Downloaded newer image for .*\n127\.0\.0\.1:\d+\/t\/busybox:1\n$/);
    assert.deepEqual(await fresh(berth, ['pull', '-q', ref]), await fresh(docker, ['pull', '-q', ref]));
    await same(['pull', ref]);
    await same(['image', 'pull', `${reg.host}/t/busybox`]);
    await same(['pull', '-a', `${reg.host}/t/busybox:1`]);
    await same(['pull', 'Bad/Name']);
    await same(['push', '-q', ref]);

    // Without credentials the locked registry refuses; berth login stores them as docker does.
    const target = `${locked.host}/priv/busybox:1`;
    await ok(docker(['tag', 'busybox', target]));
    const denied = await berth(['push', target]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /no basic auth credentials/);
    await same(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 'wrong\n' });
    await same(['login', '-u', 'alice', '-p', 'x', '--password-stdin', locked.host]);
    await same(['login', '--password-stdin', locked.host]);
    const login = await berth(['login', '-u', 'alice', '-p', 's3cret', locked.host]);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, 'Login Succeeded\n');
    const cfgPath = join(d.env.DOCKER_CONFIG!, 'config.json');
    assert.equal(login.stderr, `WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n\nWARNING! Your credentials are stored unencrypted in '${cfgPath}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
    assert.deepEqual(JSON.parse(readFileSync(cfgPath, 'utf8')).auths, { [locked.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } });
    // Logging in again with the same credentials changes nothing and warns no more (docker's output).
    await same(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 's3cret\n' });

    const pushed = await berth(['push', target]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /^The push refers to repository \[127\.0\.0\.1:\d+\/priv\/busybox\]\n[0-9a-f]{12}: Preparing\n[0-9a-f]{12}: Pushed\n1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    // docker uses what berth stored, and the other way round.
    await ok(docker(['rmi', target]));
    await ok(docker(['pull', target]));
    await same(['logout', locked.host]);
    assert.deepEqual(JSON.parse(readFileSync(cfgPath, 'utf8')).auths, {});
    await ok(docker(['login', '-u', 'alice', '--password-stdin', locked.host], { input: 's3cret' }));
    await ok(berth(['rmi', target]));
    assert.equal((await berth(['pull', '-q', target])).stdout, `${target}\n`);
    const out = await berth(['logout', locked.host]);
    assert.equal(out.stdout, `Removing login credentials for ${locked.host}\n`);
    await same(['logout']);
    const anon = await berth(['pull', target]);
    assert.equal(anon.code, 1);
    assert.match(anon.stderr, /no basic auth credentials/);
  });

  it('on a terminal pull and push draw progress bars and redraw layer lines in place', async () => {
    // A layer big enough to be downloaded in several updates.
    await ok(docker(['run', '--name', 'mk', 'busybox', 'sh', '-c', 'head -c 6000000 /dev/urandom > /noise']));
    await ok(docker(['commit', 'mk', 'big:1']));
    await ok(docker(['rm', 'mk']));
    const ref = `${reg.host}/tty/big:1`;
    await ok(docker(['tag', 'big:1', ref]));
    const onTty = (cmd: string): Promise<string> => ok(runCmd('script', ['-qec', `stty cols 160 rows 40; ${cmd}`, '/dev/null'], { env: d.env, timeoutMs: 90_000 }));
    const pushed = await onTty(`${BERTH} push ${ref}`);
    assert.match(pushed, /Pushing\s+\[=*>\s*\]\s+[\d.]+[kM]?B\/[\d.]+[kM]?B/);
    assert.match(pushed, /\x1b\[\d+A\x1b\[2K\r[0-9a-f]{12}: Pushed/);
    assert.match(pushed, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
    await ok(docker(['rmi', '-f', (await ok(docker(['image', 'inspect', '-f', '{{.Id}}', ref]))).trim()]));
    const pulled = await onTty(`${BERTH} pull ${ref}`);
    assert.match(pulled, /Downloading\s+\[=*>\s*\]\s+[\d.]+[kM]?B\/[\d.]+[kM]?B/);
    assert.match(pulled, /\x1b\[\d+A\x1b\[2K\r[0-9a-f]{12}: Pull complete/);
    assert.match(pulled, new RegExp(`Status: Downloaded newer image for ${ref.replace(/[.]/g, '\\.')}`));
    // Piped, the same pull prints status lines only.
    await ok(docker(['rmi', ref]));
    const piped = await berth(['pull', ref]);
    assert.doesNotMatch(piped.stdout, /\x1b|\[=|Downloading|Extracting/);
    assert.match(piped.stdout, /: Pull complete\n/);
  });
});
