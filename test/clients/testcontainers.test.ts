// testcontainers (node, 12.x) as its users drive it, against a private dockerd and a private
// berthd (client-pair.ts). The steps are in testcontainers-suite.ts, run in a child process per
// daemon (testcontainers caches the runtime it finds, once per process); here each step must
// succeed with the answer dockerd gives, and the two transcripts must be equal.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repo, runCmd } from '../helpers/daemon.ts';
import { onBothDaemons } from './client-pair.ts';

interface StepResult { step: string; ok: boolean; error?: string; record?: unknown }

/** What every step answers on dockerd (the suite is checked against it first). */
const EXPECTED: Record<string, unknown> = {
  'forListeningPorts: an exposed port mapped on the host answers': '200 tc-ok\n',
  'forLogMessage: start returns once the line is logged': 'after ready\n',
  'forHealthCheck: start returns when the health check passes': '/tmp/ok\n',
  'forHttp: a path, a status code and a body predicate': '200 tc-ok\n',
  'forOneShotStartup: a command that exits 0': 'one shot\n',
  'forOneShotStartup: a command that exits 1 fails the start': 'failed: as expected',
  'forAll: a listening port and a log line': 'pong\n',
  'copyFilesToContainer / copyContentToContainer / copyArchiveFromContainer': {
    seen: 'from the host\ninline content\nbuffer\n600\n',
    files: {
      'directory:data/': '', 'file:data/host.txt': 'from the host\n', 'file:data/inline.txt': 'inline content\n',
      'directory:data/sub/': '', 'file:data/sub/buf.txt': 'buffer\n',
    },
  },
  'copy files in before start': 'copied before start\n',
  'exec: exit code, stdout and stderr apart, env and workdir': { exitCode: 2, stdout: 'out\nset\n/tmp\n', stderr: 'err\n' },
  'Network with aliases: one container reaches another by its alias': { exitCode: 0, body: 'tc-ok\n', haveIp: true },
  'GenericContainer.fromDockerfile builds an image that runs': 'tc built\n',
  'withReuse: the same configuration gives the same container': { same: true },
  'stop removes the containers it started': [],
};

onBothDaemons('testcontainers', (c) => {
  it('GenericContainer, every wait strategy, copies, exec, networks, fromDockerfile, reuse', { timeout: 150_000 }, async () => {
    const r = await runCmd(join(repo, 'node_modules/.bin/node'), [join(repo, 'test/clients/testcontainers-suite.ts')], {
      env: { ...c.d().env, TESTCONTAINERS_RYUK_DISABLED: 'true', TESTCONTAINERS_REUSE_ENABLE: 'true' },
      timeoutMs: 140_000,
    });
    const results = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as StepResult);
    const failed = results.filter((s) => !s.ok).map((s) => `${s.step}: ${s.error}`);
    assert.deepEqual(failed, [], `steps failed on ${c.kind}`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(results.map((s) => s.step), Object.keys(EXPECTED), `every step ran (stderr: ${r.stderr.slice(-2000)})`);
    for (const s of results) {
      assert.deepEqual(s.record, EXPECTED[s.step], s.step);
      c.record(s.step, s.record);
    }
  });
});
