// STOPSIGNAL through the whole path (issue 17): the builder and the engine read a signal with the
// one parser (util/signals.ts), so an image built with `STOPSIGNAL SIGRTMIN+3` runs, and
// `docker stop` sends it signal 37. Before, the builder took SIGRTMIN+3 and every `docker run`
// of the image failed with "Invalid signal: SIGRTMIN+3". Checked against Debian's dockerd 20.10:
// the same Dockerfile builds, runs, and `docker stop` ends it by its trap on 37 (exit 7, "got37").
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, ok, until } from '../../helpers/daemon.ts';

describe('STOPSIGNAL from a Dockerfile reaches docker stop', () => {
  const d = new TestDaemon();
  const dirs: string[] = [];
  const env = { DOCKER_BUILDKIT: '0' };
  const project = (dockerfile: string): string => {
    const dir = mkdtempSync('/tmp/berth-stopsignal-test-');
    dirs.push(dir);
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  };

  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => {
    await d.cleanup();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('an image built with STOPSIGNAL SIGRTMIN+3 runs, and docker stop sends it signal 37', async () => {
    const dir = project([
      'FROM busybox',
      'STOPSIGNAL SIGRTMIN+3',
      'CMD ["sh", "-c", "trap \\"echo got37; exit 7\\" 37; echo ready; while true; do sleep 0.1; done"]',
      '',
    ].join('\n'));
    await ok(d.docker(['build', '-q', '-t', 'ss-rtmin:1', dir], { env, timeoutMs: 120_000 }));
    assert.equal(await ok(d.docker(['inspect', '-f', '{{.Config.StopSignal}}', 'ss-rtmin:1'])), 'SIGRTMIN+3\n');

    await ok(d.docker(['run', '-d', '--name', 'ss-rtmin', 'ss-rtmin:1']));
    assert.equal(await ok(d.docker(['inspect', '-f', '{{.Config.StopSignal}}', 'ss-rtmin'])), 'SIGRTMIN+3\n');
    await until(async () => (await d.docker(['logs', 'ss-rtmin'])).stdout.includes('ready'), 10_000, 'the trap set');

    // A long timeout: were the signal not sent (or not 37), stop would end in SIGKILL (137).
    await ok(d.docker(['stop', '-t', '30', 'ss-rtmin'], { timeoutMs: 60_000 }));
    assert.equal(await ok(d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'ss-rtmin'])), '7\n');
    assert.equal(await ok(d.docker(['logs', 'ss-rtmin'])), 'ready\ngot37\n');
  });

  it('a signal moby\'s map lacks fails the build with dockerd\'s text, as it would fail at run', async () => {
    const dir = project('FROM busybox\nSTOPSIGNAL SIGRTMIN+16\n');
    const r = await d.docker(['build', '-q', '-t', 'ss-bad:1', dir], { env, timeoutMs: 120_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Invalid signal: SIGRTMIN\+16/);
    const run = await d.docker(['create', '--stop-signal', 'SIGRTMIN+16', 'busybox']);
    assert.match(run.stderr, /Invalid signal: SIGRTMIN\+16/);
  });
});
