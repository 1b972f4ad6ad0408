import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDotEnv, readEnvFiles, overlayEnvironment } from '../../../../src/compose/model/load/env-file.ts';

test('dotenv syntax as compose-go reads it', () => {
  const text = [
    '# a comment',
    '',
    'A=plain',
    'export B=exported',
    'C = spaced  ',
    'D=value # inline comment',
    'E=value#not-a-comment',
    "F='single $A \\n literal'",
    'G="double $A\\nnext"',
    'H=${A}-x',
    'I="quoted" # comment after',
    'J: yaml-style',
    'K=',
    'L="multi',
    'line"',
    'M=after-multiline',
    'N=${UNSET:-dflt}',
    'O="\\$A escaped"',
    'P=$$A',
    "Q='it\\'s'",
    'R="a\\"b"',
    'S="x\\qy"',
    'T="tab\\there"',
  ].join('\n');
  const env = parseDotEnv(text);
  assert.deepEqual(env, {
    A: 'plain',
    B: 'exported',
    C: 'spaced',
    D: 'value',
    E: 'value#not-a-comment',
    F: 'single $A \\n literal',
    G: 'double plain\nnext',
    H: 'plain-x',
    I: 'quoted',
    J: 'yaml-style',
    K: '',
    L: 'multi\nline',
    M: 'after-multiline',
    N: 'dflt',
    O: '$A escaped',
    P: '$A',
    Q: "it's",
    R: 'a"b',
    S: 'x\\qy',
    T: 'tab\there',
  });
});

test('bare key inherits from the environment, lookup wins over earlier keys', () => {
  const env = parseDotEnv('HOME\nMISSING\nX=1\nY=$X\n', (k) => ({ HOME: '/root', X: 'from-env' })[k]);
  assert.deepEqual(env, { HOME: '/root', X: '1', Y: 'from-env' });
});

test('errors carry the line', () => {
  assert.throws(() => parseDotEnv('A=1\nBAD KEY=2\n'), /line 2: key cannot contain a space/);
  assert.throws(() => parseDotEnv('A="open\n'), /line 1: unterminated quoted value/);
  assert.throws(() => parseDotEnv('A=1\nB@C=2\n'), { message: 'line 2: unexpected character "@" in variable name "B@C"' });
  assert.deepEqual(parseDotEnv('ÜBER=1\n'), { ÜBER: '1' });
});

test('several files apply in order; the process environment wins in the overlay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-envfile-'));
  try {
    writeFileSync(join(dir, 'a.env'), 'X=a\nY=a\nZ=a\n');
    writeFileSync(join(dir, 'b.env'), 'Y=b\nW=${X}-${Z}\n');
    const values = await readEnvFiles(['a.env', join(dir, 'b.env')], { Z: 'proc' }, dir);
    assert.deepEqual(values, { X: 'a', Y: 'b', Z: 'a', W: 'a-proc' });
    assert.deepEqual(overlayEnvironment({ Z: 'proc', U: undefined }, values), { X: 'a', Y: 'b', Z: 'proc', W: 'a-proc' });
    await assert.rejects(readEnvFiles(['nope.env'], {}, dir), { message: `couldn't find env file: ${join(dir, 'nope.env')}` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
