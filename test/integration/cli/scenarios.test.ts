// The same scenario scripts run with `docker` and with `berth` (the helper swaps the binary on
// PATH) against one berthd, and give equal exit codes and equivalent output step by step.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, makeBusybox, repo } from '../../helpers/daemon.ts';
import { compareScenario, normalise, parseScenario } from '../../helpers/cli-scenario.ts';

const dir = join(repo, 'test/fixtures/cli-scenarios');
const only = process.env.SCENARIO; // run one: SCENARIO=images
const files = readdirSync(dir).filter((f) => f.endsWith('.sh') && (!only || f === `${only}.sh`)).sort();

describe('scenario scripts: docker and berth agree', () => {
  const d = new TestDaemon();
  before(async () => {
    await d.start();
    await makeBusybox(d);
  });
  after(async () => { await d.cleanup(); });

  it('the script format: steps, continuations, directives; normalisation', () => {
    const steps = parseScenario('# header\n# @numbers\ndocker top x\n\ndocker run \\\n  busybox true\n');
    assert.deepEqual(steps.map((s) => [s.line, s.cmd, s.numbers]), [[3, 'docker top x', true], [5, 'docker run \n  busybox true', false]]);
    assert.equal(normalise('berth: Error response from daemon: No such container: 0123456789ab\n', { numbers: false, sort: false }),
      'docker: Error response from daemon: No such container: <ID12>\n');
    assert.equal(normalise('c1   Up 3 seconds   2026-11-23 14:16:43 +0000 UTC', { numbers: false, sort: false }), 'c1   Up <DURATION>   <TIME>');
    assert.throws(() => parseScenario('# @nope\ntrue\n'), /unknown directive/);
  });

  for (const f of files) {
    it(f, async () => {
      const r = await compareScenario(d, join(dir, f));
      // the harness really ran docker against the daemon: some step succeeded
      assert.ok(r.docker.some((s) => s.code === 0), `no step of docker's succeeded: ${JSON.stringify(r.docker.slice(0, 3))}`);
      const diff = r.differing.map((cmd) => {
        const i = r.docker.findIndex((x) => x.cmd === cmd);
        return { docker: r.docker[i], berth: r.berth[i] };
      });
      assert.deepEqual(diff.map((x) => x.berth), diff.map((x) => x.docker), `${r.differing.length}/${r.docker.length} steps differ`);
    });
  }
});
