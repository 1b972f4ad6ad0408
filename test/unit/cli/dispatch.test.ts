// What berth does before it talks to a daemon — unknown commands and flags, missing arguments,
// help, no daemon at the address — compared with the Docker CLI 28.2 doing the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '../../..');
const DOCKER = '/usr/local/bin/docker';
const NO_DAEMON = 'unix:///run/berth-test-nothing-here.sock';

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number; out: string; err: string } {
  const r = spawnSync(file, args, { env: { PATH: process.env.PATH, HOME: '/nonexistent', DOCKER_HOST: NO_DAEMON, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const berth = (args: string[], env?: NodeJS.ProcessEnv) => run(join(repo, 'bin/berth'), args, env);
const docker = (args: string[], env?: NodeJS.ProcessEnv) => run(DOCKER, args, env);
/** docker's words for itself, as berth says them */
const asBerth = (s: string): string => s.replaceAll('docker', 'berth').replace('Docker daemon', 'Berth daemon');

for (const args of [['ps', '--bogus'], ['run', '-x', 'busybox'], ['run', '--name'], ['rm'], ['rename', 'a'], ['container', 'rm'], ['foo'], ['container', 'foo']]) {
  test(`\`${args.join(' ')}\` fails like docker's: same status, same first line`, () => {
    const b = berth(args);
    const d = docker(args);
    assert.equal(b.code, d.code, `berth: ${b.err}\ndocker: ${d.err}`);
    assert.equal(b.err.split('\n')[0], asBerth(d.err.split('\n')[0]!));
    assert.equal(b.out, '');
  });
}

test('help: the top-level, a group and a command print usage and exit 0', () => {
  const top = berth(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.out, /^Usage: {2}berth \[OPTIONS\] COMMAND\n/);
  assert.match(top.out, /Management Commands:\n(?: {2}\w+ +.+\n)*? {2}container +Manage containers\n/);
  const group = berth(['container']);
  assert.equal(group.code, 0);
  assert.match(group.out, /Usage: {2}berth container COMMAND/);
  const cmd = berth(['container', 'rm', '--help']);
  assert.equal(cmd.code, 0);
  assert.match(cmd.out, /Usage: {2}berth container rm \[OPTIONS\] CONTAINER \[CONTAINER\.\.\.\]/);
  assert.match(cmd.out, /Aliases:\n {2}berth container rm, berth container remove, berth rm\n/);
  assert.match(cmd.out, / {2}-f, --force +Force the removal of a running container \(uses SIGKILL\)/);
});

test('no daemon at the address: the message names it, status 1', () => {
  const b = berth(['ps']);
  assert.equal(b.code, 1);
  assert.equal(b.err, `Cannot connect to the Berth daemon at ${NO_DAEMON}. Is berthd running?\n`);
  assert.equal(berth(['-H', 'tcp://127.0.0.1:1', 'ps']).err, 'Cannot connect to the Berth daemon at tcp://127.0.0.1:1. Is berthd running?\n');
  // BERTH_HOST wins over DOCKER_HOST; -H over both
  assert.match(berth(['ps'], { BERTH_HOST: 'unix:///run/berth-test-b.sock' }).err, /at unix:\/\/\/run\/berth-test-b\.sock\./);
});

test('--version needs no daemon', () => {
  const b = berth(['--version']);
  assert.equal(b.code, 0);
  assert.match(b.out, /^Berth version \d+\.\d+\.\d+\n$/);
});
