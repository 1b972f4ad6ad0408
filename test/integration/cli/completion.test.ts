// berth completion bash|zsh: the scripts complete commands, subcommands, flags of the command
// being typed, and names from the daemon that BERTH_HOST/DOCKER_HOST point at.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { TestDaemon, makeBusybox, runCmd, repo } from '../../helpers/daemon.ts';

const BIN = process.env.BERTH_TEST_BIN || join(repo, 'bin/berth');

describe('berth completion', () => {
  const d = new TestDaemon();
  // the scripts call `berth` from PATH, as an installed berth is found
  const pathDir = mkdtempSync('/tmp/berth-completion-');
  symlinkSync(BIN, join(pathDir, 'berth'));
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${pathDir}:${dirname(BIN)}:${process.env.PATH}`, BERTH_HOST: `unix://${d.socket}`, DOCKER_HOST: '' });
  /** COMPREPLY for the words typed (the last one is under the cursor). */
  const bash = async (...words: string[]): Promise<string[]> => {
    const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = await runCmd('bash', ['-c', `source <(berth completion bash) || exit 9
COMP_WORDS=(berth ${quoted}); COMP_CWORD=${words.length}
__berth_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { env: env(), timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  /** What the zsh function hands to _describe, with _describe replaced by a printer. */
  const zsh = async (...words: string[]): Promise<string[]> => {
    const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = await runCmd('zsh', ['-fc', `autoload -U compinit && compinit -u -D
source <(berth completion zsh) || exit 9
_describe() { print -rl -- "\${(@P)4}" }
words=(berth ${quoted}); CURRENT=${words.length + 1}
_berth`], { env: env(), timeoutMs: 30_000 });
    assert.equal(r.stderr, '');
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  before(async () => {
    await d.start();
    await makeBusybox(d);
    await d.docker(['run', '-d', '--name', 'c-running', 'busybox', 'sleep', '300']);
    await d.docker(['create', '--name', 'c-created', 'busybox', 'true']);
    await d.docker(['network', 'create', 'cnet']);
    await d.docker(['volume', 'create', 'cvol']);
    await d.docker(['tag', 'busybox', 'other:v2']);
  });
  after(async () => {
    await d.cleanup();
    rmSync(pathDir, { recursive: true, force: true });
  });

  it('completes commands and management subcommands from the command list', async () => {
    assert.deepEqual(await bash('st'), ['start', 'stats', 'stop'], `berth st`);
    const top = await bash('');
    for (const c of ['run', 'ps', 'network', 'volume', 'system', 'version', 'info', 'events', 'completion']) assert.ok(top.includes(c), `${c} in ${top}`);
    assert.deepEqual(await bash('network', 'c'), ['connect', 'create'], `berth network c`);
    assert.deepEqual(await bash('volume', 'p'), ['prune'], `berth volume p`);
    assert.deepEqual(await bash('completion', ''), ['bash', 'zsh'], `berth completion `);
  });

  it('completes the flags of the command being typed', async () => {
    assert.deepEqual(await bash('run', '--rm', '--na'), ['--name'], `berth run --rm --na`);
    assert.deepEqual(await bash('network', 'create', '--ip'), ['--ip-range', '--ipam-driver', '--ipam-opt', '--ipv4', '--ipv6'], `berth network create --ip`);
    assert.deepEqual(await bash('volume', 'prune', '--'), ['--all', '--filter', '--force', '--help'], `berth volume prune --`);
    assert.deepEqual(await bash('--tls'), ['--tls', '--tlscacert', '--tlscert', '--tlskey', '--tlsverify'], `berth --tls`);
  });

  it('completes names from the daemon: containers by state, images, networks, volumes', async () => {
    assert.deepEqual(await bash('stop', ''), ['c-running'], `berth stop `);
    assert.deepEqual(await bash('exec', '-it', ''), ['c-running'], `berth exec -it `);
    assert.deepEqual(await bash('start', ''), ['c-created'], `berth start `);
    assert.deepEqual(await bash('rm', '-f', 'c-'), ['c-created', 'c-running'], `berth rm -f c-`);
    assert.deepEqual(await bash('run', '--rm', ''), ['busybox:latest', 'other:v2'], `berth run --rm `);
    assert.deepEqual(await bash('run', 'busybox', ''), [], 'the container\'s command is not completed');
    assert.deepEqual(await bash('rmi', 'oth'), ['other:v2'], `berth rmi oth`);
    assert.deepEqual(await bash('network', 'rm', 'c'), ['cnet'], `berth network rm c`);
    assert.deepEqual(await bash('network', 'connect', 'cnet', 'c-r'), ['c-running'], `berth network connect cnet c-r`);
    assert.deepEqual(await bash('run', '--network', 'cn'), ['cnet'], `berth run --network cn`);
    assert.deepEqual(await bash('volume', 'inspect', ''), ['cvol'], `berth volume inspect `);
    // -H given on the line wins over BERTH_HOST
    assert.deepEqual(await bash('-H', 'unix:///nonexistent.sock', 'stop', ''), [], `berth -H unix:///nonexistent.sock stop `);
  });

  it('zsh: a #compdef script that parses, and a function giving words with descriptions', async () => {
    const script = await runCmd(BIN, ['completion', 'zsh'], { env: env() });
    assert.match(script.stdout, /^#compdef berth\n/);
    const syntax = await runCmd('zsh', ['-n', '-c', script.stdout]);
    assert.equal(syntax.code, 0, syntax.stderr);
    assert.deepEqual(await zsh('stop', ''), ['c-running:running (busybox)']);
    // zsh filters by the typed prefix itself: every subcommand comes with its description
    const subs = await zsh('volume', 'r');
    assert.ok(subs.includes('create:Create a volume') && subs.includes('rm:Remove one or more volumes. You cannot remove a volume that is in use by a container.'), subs.join('\n'));
    const flags = await zsh('network', 'prune', '-');
    assert.ok(flags.includes('--force:Do not prompt for confirmation') && flags.includes('-f:Do not prompt for confirmation'), flags.join('\n'));
  });
});
