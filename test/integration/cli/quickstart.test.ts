// The README's first command, scripts/quickstart.sh, as a user on a machine without Docker and
// without npm runs it: PATH holds the system's /usr/bin and /usr/sbin minus the Docker CLI,
// dockerd, containerd, npm, npx and Debian's node, and nothing from /usr/local. Its install step
// finds everything installed already (the suite ran scripts/install.sh); the rest must work with
// Berth's own CLI. The berthd it starts gets this test's socket, roots and bridge, and is taken
// away afterwards like any test daemon.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestDaemon, runCmd, repo, sleep } from '../../helpers/daemon.ts';

const HIDDEN = /^(docker|dockerd|docker-.*|containerd.*|ctr|npm|npx|node|nodejs|corepack)$/;

/** A PATH directory with every program of /usr/bin and /usr/sbin except Docker's and npm's. */
function bareMachinePath(): string {
  const dir = mkdtempSync('/tmp/berth-qs-path-');
  for (const src of ['/usr/sbin', '/usr/bin']) {
    for (const name of readdirSync(src)) {
      if (HIDDEN.test(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(src, name), join(dir, name));
    }
  }
  return dir;
}

describe('README first command (scripts/quickstart.sh)', () => {
  const d = new TestDaemon();
  const pathDir = bareMachinePath();
  after(async () => {
    let pid = 0;
    try { pid = Number(readFileSync(join(d.execRoot, 'berthd.pid'), 'utf8').trim()); } catch { /* it never started */ }
    if (pid > 0) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      for (let i = 0; i < 100; i++) {
        try { process.kill(pid, 0); } catch { break; }
        await sleep(100);
      }
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await d.cleanup();
    rmSync(pathDir, { recursive: true, force: true });
  });

  it('installs, starts berthd, makes busybox and runs a container with berth alone', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: pathDir, HOME: process.env.HOME, LANG: 'C.UTF-8',
      BERTH_HOST: `unix://${d.socket}`, BERTH_DATA_ROOT: d.dataRoot, BERTH_EXEC_ROOT: d.execRoot, BERTH_LOG: d.logFile,
      BERTH_DAEMON_ARGS: `--bridge ${d.net.bridge} --bip ${d.net.bip} --default-address-pool ${d.net.pool}`,
      DOCKER_CONFIG: d.env.DOCKER_CONFIG,
    };
    // The machine this pretends to be: no docker, no npm on PATH.
    for (const tool of ['docker', 'npm']) {
      assert.notEqual((await runCmd('/usr/bin/bash', ['-c', `command -v ${tool}`], { env })).code, 0, `${tool} is hidden`);
    }
    const r = await runCmd('/usr/bin/bash', [join(repo, 'scripts/quickstart.sh')], { env, timeoutMs: 240_000 });
    assert.equal(r.code, 0, `quickstart failed:\n${r.stdout}\n${r.stderr}\n${d.logTail()}`);
    assert.match(r.stdout, /^hello from berth$/m);
    // It left berthd running with busybox:latest, and the container it ran removed (--rm).
    const images = (await d.api('GET', '/images/json')).json() as { RepoTags: string[] }[];
    assert.ok(images.some((i) => i.RepoTags.includes('busybox:latest')), JSON.stringify(images));
    assert.deepEqual((await d.api('GET', '/containers/json?all=1')).json(), []);
    // A second run finds it all in place and only runs the container.
    const again = await runCmd('/usr/bin/bash', [join(repo, 'scripts/quickstart.sh')], { env, timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^hello from berth$/m);
  });

  it('installs only what Berth needs: no test tool and no Docker in scripts/install.sh', async () => {
    const script = readFileSync(join(repo, 'scripts/install.sh'), 'utf8');
    const debs = script.match(/^debs=\(([^)]*)\)/m)?.[1]?.split(/\s+/).filter(Boolean) ?? [];
    assert.ok(debs.includes('runc') && debs.includes('conmon'), debs.join(' '));
    for (const testOnly of ['docker.io', 'skopeo', 'docker-registry', 'wrk', 'tmux', 'zsh', 'python3-docker', 'docker-compose', 'python3-pytest', 'gcc']) {
      assert.ok(!debs.includes(testOnly), `${testOnly} is a test tool: it belongs in scripts/install-test-deps.sh`);
    }
    // Every Debian package it names (and npm, which it adds on a machine without it) is one apt can install.
    const names = [...debs, 'npm'];
    const policy = (await runCmd('apt-cache', ['policy', ...names], { timeoutMs: 60_000 })).stdout;
    const candidates = new Map([...policy.matchAll(/^(\S+):\n(?:\s+.*\n)*?\s+Candidate: (.*)$/gm)].map((m) => [m[1], m[2]]));
    for (const p of names) {
      const c = candidates.get(p);
      assert.ok(c !== undefined && c !== '(none)', `apt has no candidate for ${p}`);
    }
    const quick = readFileSync(join(repo, 'scripts/quickstart.sh'), 'utf8');
    assert.doesNotMatch(quick.replace(/^#.*$/gm, ''), /\bdocker\b/, 'the quickstart uses berth, not docker');
  });
});
