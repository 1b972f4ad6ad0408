// berth compose's root flags with their COMPOSE_* variables, and the progress renderers' text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../../../../src/cli/flags.ts';
import { COMPOSE_FLAGS, composeGlobals } from '../../../../src/cli/compose/globals.ts';
import { makeProgress, TtyProgress } from '../../../../src/cli/compose/progress.ts';

const term = { stdoutTTY: false, stderrTTY: false };
const globals = (argv: string[], env: Record<string, string> = {}, t = term) => composeGlobals(parseFlags(argv, COMPOSE_FLAGS, false).opts, env, '/w', t);

test('flags win over COMPOSE_* variables; the variables fill in when no flag is given', () => {
  const env = { COMPOSE_FILE: 'a.yml:b.yml', COMPOSE_PROJECT_NAME: 'envp', COMPOSE_PROFILES: 'x,y', COMPOSE_ENV_FILES: 'e1,e2' };
  const g = globals(['up'], env);
  assert.deepEqual(g.load.files, ['a.yml', 'b.yml']);
  assert.equal(g.load.projectName, 'envp');
  assert.deepEqual(g.load.profiles, ['x', 'y']);
  assert.deepEqual(g.load.envFiles, ['e1', 'e2']);
  const f = globals(['-f', 'c.yml', '-f', 'd.yml', '-p', 'flagp', '--profile', 'z', '--env-file', 'e3', 'up'], env);
  assert.deepEqual(f.load.files, ['c.yml', 'd.yml']);
  assert.equal(f.load.projectName, 'flagp');
  assert.deepEqual(f.load.profiles, ['z']);
  assert.deepEqual(f.load.envFiles, ['e3']);
  assert.deepEqual(globals(['up'], { COMPOSE_FILE: 'a;b', COMPOSE_PATH_SEPARATOR: ';' }).load.files, ['a', 'b']);
});

test('--progress auto is tty only on a terminal with ANSI allowed; --ansi and COMPOSE_ANSI decide colour', () => {
  assert.equal(globals(['up']).progress, 'plain');
  assert.equal(globals(['up'], {}, { stdoutTTY: true, stderrTTY: true }).progress, 'tty');
  assert.equal(globals(['--ansi', 'never', 'up'], {}, { stdoutTTY: true, stderrTTY: true }).progress, 'plain');
  assert.equal(globals(['--progress', 'json', 'up']).progress, 'json');
  assert.equal(globals(['up'], { COMPOSE_PROGRESS: 'quiet' }).progress, 'quiet');
  assert.equal(globals(['up']).color, false);
  assert.equal(globals(['--ansi', 'always', 'up']).color, true);
  assert.equal(globals(['up'], { COMPOSE_ANSI: 'always' }).color, true);
  assert.equal(globals(['up'], {}, { stdoutTTY: true, stderrTTY: true }).color, true);
  assert.equal(globals(['up'], { NO_COLOR: '1' }, { stdoutTTY: true, stderrTTY: true }).color, false);
  assert.throws(() => globals(['--progress', 'fancy', 'up']), /unsupported --progress value "fancy"/);
  assert.throws(() => globals(['--ansi', 'sometimes', 'up']), /unsupported --ansi value "sometimes"/);
});

const sink = () => {
  let text = '';
  return { out: { write: (s: string) => { text += s; }, columns: 60 }, text: () => text };
};

test('plain progress: one line per event as Compose prints it off a terminal', () => {
  const s = sink();
  const p = makeProgress('plain', s.out);
  p.event({ kind: 'Network', name: 'shop_default', status: 'Creating', done: false });
  p.event({ kind: 'Network', name: 'shop_default', status: 'Created', done: true });
  p.event({ kind: 'Container', name: 'shop-db-1', status: 'Starting', done: false });
  p.event({ kind: 'Container', name: 'shop-db-1', status: 'Error', text: 'boom', done: true, error: true });
  p.close();
  assert.equal(s.text(), ' Network shop_default  Creating\n Network shop_default  Created\n Container shop-db-1  Starting\n Container shop-db-1  Error boom\n');
});

test('json and quiet progress', () => {
  const s = sink();
  makeProgress('json', s.out).event({ kind: 'Container', name: 'a-web-1', status: 'Started', done: true });
  assert.deepEqual(JSON.parse(s.text()), { 'dry-run': false, id: 'Container a-web-1', status: 'Started' });
  const q = sink();
  const p = makeProgress('quiet', q.out);
  p.event({ kind: 'Container', name: 'x', status: 'Started', done: true });
  p.close();
  assert.equal(q.text(), '');
});

test('tty progress: a title with the count, a spinner while running, ✔ and the elapsed time right-aligned', () => {
  let now = 1000;
  const s = sink();
  const p = new TtyProgress(s.out, () => now, false, 'Running');
  p.event({ kind: 'Network', name: 'shop_default', status: 'Creating', done: false });
  p.event({ kind: 'Container', name: 'shop-db-1', status: 'Starting', done: false });
  now += 300;
  p.event({ kind: 'Network', name: 'shop_default', status: 'Created', done: true });
  const frame = p.frame().split('\n');
  p.close();
  assert.equal(frame[0], '[+] Running 1/2');
  assert.equal(frame[1], ` ✔ Network shop_default  Created${' '.repeat(59 - 32 - 4)}0.3s`);
  // names padded to the longest, so the statuses line up
  assert.match(frame[2]!, /^ \S Container shop-db-1   Starting +0\.3s$/);
  assert.equal(frame[1]!.length, 59);
  // redraws move the cursor up over the last frame
  assert.match(s.text(), /\x1b\[3A\r\x1b\[J/);
});
