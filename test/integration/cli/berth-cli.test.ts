// The berth client against a real berthd: run, build, import (the docker-comparison tests of
// each command family are in the *-cli.test.ts files).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { TestDaemon, makeBusybox, runCmd, repo } from '../../helpers/daemon.ts';
import { berthCli } from '../../helpers/berth-cli.ts';

describe('berth client', () => {
  const d = new TestDaemon();
  const { berth } = berthCli(d);
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('runs containers with output, stderr and exit code', async () => {
    const r = await berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, 'oops\n');
    assert.equal(r.code, 3);
    assert.equal((await d.docker(['ps', '-aq'])).stdout, '', '--rm removed it');
    const det = await berth(['run', '-d', '--name', 'bg', '-e', 'X=1', 'busybox', 'sleep', '60']);
    assert.match(det.stdout, /^[0-9a-f]{64}\n$/);
    const ps = await berth(['ps']);
    assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n[0-9a-f]{12}\s+busybox\s+"sleep 60"\s+.*Up .*\s+bg\n$/);
    assert.equal((await berth(['rm', 'bg'])).code, 1);
    assert.equal((await berth(['rm', '-f', 'bg'])).stdout, 'bg\n');
    const missing = await berth(['run', 'nosuch']);
    assert.equal(missing.code, 125);
    // As docker: a missing image is pulled first, and that fails here (no Docker Hub).
    assert.match(missing.stderr, /^Unable to find image 'nosuch:latest' locally\n/);
  });

  it('berth build sends the context without what .dockerignore excludes, prints the steps, uses the cache, exits with a failed RUN\'s code', async () => {
    const dir = mkdtempSync('/tmp/berth-cli-build-');
    try {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nARG WHO=nobody\nCOPY . /ctx\nRUN echo "hi $WHO" > /hi\nCMD cat /hi\n');
      writeFileSync(join(dir, 'sub/kept.txt'), 'kept');
      writeFileSync(join(dir, 'ignored.txt'), 'ignored');
      writeFileSync(join(dir, '.dockerignore'), 'ignored.txt\n');
      const r = await berth(['build', '-t', 'mine:built', '--build-arg', 'WHO=berth', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Sending build context to Docker daemon\s+[\d.]+kB\r\r\nStep 1\/5 : FROM busybox\n/);
      assert.match(r.stdout, /Successfully tagged mine:built\n$/);
      assert.equal((await d.docker(['run', '--rm', 'mine:built'])).stdout, 'hi berth\n');
      assert.equal((await d.docker(['run', '--rm', 'mine:built', 'sh', '-c', 'cd /ctx && find . -type f | sort'])).stdout, './.dockerignore\n./Dockerfile\n./sub/kept.txt\n');
      const again = await berth(['build', '-q', '-t', 'mine:built', '--build-arg', 'WHO=berth', dir]);
      assert.match(again.stdout, /^sha256:[0-9a-f]{64}\n$/);
      writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN exit 7\n');
      const failed = await berth(['build', dir]);
      assert.equal(failed.code, 7);
      assert.match(failed.stderr, /returned a non-zero code: 7/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('imports and lists images', async () => {
    const r = await runCmd('bash', ['-c', `bash ${join(repo, 'scripts/busybox-image.sh')} | ${join(repo, 'bin/berth')} -H unix://${d.socket} import - mine:1`]);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const images = await berth(['images']);
    assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    assert.match(images.stdout, /\nmine\s+1\s+[0-9a-f]{12}\s+/);
    assert.match((await berth(['version'])).stdout, /\nServer: Berth Engine\n Engine:\n  Version:\s+0\.1\.0\n  API version:\s+1\.47 /);
  });
});
