// The flag parser against pflag's rules, as the Docker CLI applies them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, flagUsages, parseFlags, type FlagSpec } from '../../../src/cli/flags.ts';

const specs: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', desc: 'Run in background' },
  { name: 'interactive', short: 'i', type: 'bool', desc: 'Keep STDIN open' },
  { name: 'tty', short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'bool', desc: 'Remove' },
  { name: 'name', type: 'string', desc: 'Assign a name' },
  { name: 'env', short: 'e', type: 'list', desc: 'Set environment variables' },
  { name: 'publish', short: 'p', type: 'list', desc: 'Publish ports' },
  { name: 'time', short: 'T', type: 'int', desc: 'Seconds', default: 10 },
];

test('long flags take values with = or as the next argument; booleans only with =', () => {
  const r = parseFlags(['--name=a', '--env', 'X=1', '--rm=false', '--detach', 'img'], specs);
  assert.equal(r.opts.str('name'), 'a');
  assert.deepEqual(r.opts.list('env'), ['X=1']);
  assert.equal(r.opts.bool('rm'), false);
  assert.equal(r.opts.changed('rm'), true);
  assert.equal(r.opts.bool('detach'), true);
  assert.deepEqual(r.args, ['img']);
  // `--rm false`: false is an argument, as with pflag
  assert.deepEqual(parseFlags(['--rm', 'false'], specs).args, ['false']);
});

test('short flags group; the first one taking a value takes the rest of the group or the next argument', () => {
  const r = parseFlags(['-itd', '-p8080:80', '-e=A=1', '-dp', '90:90', '-T5'], specs);
  assert.equal(r.opts.bool('interactive') && r.opts.bool('tty') && r.opts.bool('detach'), true);
  assert.deepEqual(r.opts.list('publish'), ['8080:80', '90:90']);
  assert.deepEqual(r.opts.list('env'), ['A=1']);
  assert.equal(r.opts.int('time'), 5);
  assert.equal(parseFlags([], specs).opts.int('time'), 10, 'default');
});

test('non-interspersed commands stop at their first argument; -- ends the flags anywhere', () => {
  const run = parseFlags(['-d', 'busybox', 'sh', '-c', 'echo --name'], specs, false);
  assert.deepEqual(run.args, ['busybox', 'sh', '-c', 'echo --name']);
  assert.equal(run.opts.str('name'), undefined);
  const rm = parseFlags(['a', '--rm', 'b', '--', '-d'], specs);
  assert.deepEqual(rm.args, ['a', 'b', '-d']);
  assert.equal(rm.opts.bool('rm'), true);
  assert.equal(rm.opts.bool('detach'), false);
});

test('errors carry pflag\'s messages', () => {
  assert.throws(() => parseFlags(['--bogus'], specs), (e: Error) => e instanceof FlagError && e.message === 'unknown flag: --bogus');
  assert.throws(() => parseFlags(['-x'], specs), { message: "unknown shorthand flag: 'x' in -x" });
  assert.throws(() => parseFlags(['-dx'], specs), { message: "unknown shorthand flag: 'x' in -dx" });
  assert.throws(() => parseFlags(['--name'], specs), { message: 'flag needs an argument: --name' });
  assert.throws(() => parseFlags(['-e'], specs), { message: "flag needs an argument: 'e' in -e" });
  assert.throws(() => parseFlags(['--time=x'], specs), { message: 'invalid argument "x" for "--time" flag: strconv.ParseInt: parsing "x": invalid syntax' });
  assert.throws(() => parseFlags(['--rm=maybe'], specs), /invalid argument "maybe" for "--rm" flag/);
});

test('-h and --help ask for help', () => {
  assert.equal(parseFlags(['-h'], specs).help, true);
  assert.equal(parseFlags(['x', '--help'], specs).help, true);
});

test('help rows align like cobra\'s and show defaults', () => {
  assert.equal(flagUsages(specs.slice(3, 5).concat(specs[7]!)),
    '      --rm            Remove\n      --name string   Assign a name\n  -T, --time int      Seconds (default 10)');
});
