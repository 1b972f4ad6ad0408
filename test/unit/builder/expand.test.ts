// The shell-word lexer against buildkit's own tables (frontend/dockerfile/shell/envVarTest and
// wordsTest, copied under test/fixtures/dockerfile/shell) plus the cases the builder relies on:
// every ${} form, quotes, escapes, the backtick escape, word splitting, ENV/LABEL/ARG pairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  expandWord,
  expandWords,
  parseKeyValues,
  splitArgs,
  splitQuotedWords,
} from '../../../src/builder/dockerfile/expand.ts';
import { InvalidParameter } from '../../../src/errors.ts';

const fixtures = resolve(import.meta.dirname, '../../fixtures/dockerfile/shell');

function envOf(pairs: Record<string, string>): (name: string) => string | undefined {
  return (name) => (Object.hasOwn(pairs, name) ? pairs[name] : undefined);
}

function envFromSlice(list: string[]): (name: string) => string | undefined {
  const m: Record<string, string> = {};
  for (const e of list) {
    const i = e.indexOf('=');
    m[i < 0 ? e : e.slice(0, i)] = i < 0 ? '' : e.slice(i + 1);
  }
  return envOf(m);
}

test('buildkit envVarTest table: expandWord (ProcessWord) results and errors', () => {
  const env = envFromSlice(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  let checked = 0;
  for (const raw of readFileSync(resolve(fixtures, 'envVarTest'), 'utf8').split('\n')) {
    if (raw.startsWith('#') || raw.trim() === '') continue;
    const [platform, source, expected] = raw.trim().split('|').map((s) => s.trim()) as [string, string, string];
    if (platform === 'W') continue;
    if (expected === 'error') {
      assert.throws(() => expandWord(source, env, '\\'), InvalidParameter, `input ${source}`);
    } else {
      assert.equal(expandWord(source, env, '\\'), expected, `input ${source}`);
    }
    checked++;
  }
  assert.ok(checked > 200);
});

test('buildkit wordsTest table: expandWords (ProcessWords) splitting after expansion', () => {
  const envs: string[] = [];
  let checked = 0;
  for (const line of readFileSync(resolve(fixtures, 'wordsTest'), 'utf8').split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    if (line.startsWith('ENV ')) {
      envs.push(line.slice(3).replace(/^ +/, ''));
      continue;
    }
    const parts = line.split('|');
    assert.equal(parts.length, 2, line);
    const input = parts[0]!.trim();
    const expected = parts[1]!.replace(/^ +/, '').split(',');
    let result: string[];
    try {
      result = expandWords(input, envFromSlice(envs), '\\');
    } catch {
      result = ['error'];
    }
    assert.deepEqual(result, expected, `input ${JSON.stringify(input)}`);
    checked++;
  }
  assert.ok(checked > 20);
});

test('every ${} form: -, :-, +, :+, ?, :? on set, empty and unset variables', () => {
  const env = envOf({ SET: 'v', EMPTY: '' });
  const cases: [string, string][] = [
    ['${SET-d}', 'v'], ['${EMPTY-d}', ''], ['${UNSET-d}', 'd'],
    ['${SET:-d}', 'v'], ['${EMPTY:-d}', 'd'], ['${UNSET:-d}', 'd'],
    ['${SET+a}', 'a'], ['${EMPTY+a}', 'a'], ['${UNSET+a}', ''],
    ['${SET:+a}', 'a'], ['${EMPTY:+a}', ''], ['${UNSET:+a}', ''],
    ['${SET?m}', 'v'], ['${EMPTY?m}', ''], ['${SET:?m}', 'v'],
    ['$SET', 'v'], ['${SET}', 'v'], ['$UNSET', ''], ['x${UNSET}y', 'xy'],
    ['${UNSET:-"a b"}', 'a b'], ['${UNSET:-$SET}', 'v'],
  ];
  for (const [word, want] of cases) assert.equal(expandWord(word, env), want, word);
  assert.throws(() => expandWord('${UNSET?must be set}', env), {
    message: 'failed to process "${UNSET?must be set}": UNSET: must be set',
  });
  assert.throws(() => expandWord('${EMPTY:?}', env), /EMPTY: is not allowed to be empty/);
  assert.throws(() => expandWord('${UNSET:?}', env), /UNSET: is not allowed to be unset/);
  assert.throws(() => expandWord('${}', env), /bad substitution/);
  assert.throws(() => expandWord('${X', env), /missing '}'/);
  assert.throws(() => expandWord('${X:=y}', env), /unsupported modifier \(:=\) in substitution/);
});

test('pattern forms ${X#p} ${X##p} ${X%p} ${X%%p} ${X/p/r} ${X//p/r}', () => {
  const env = envOf({ F: 'dir/sub/file.tar.gz', V: 'aXbXc' });
  assert.equal(expandWord('${F#*/}', env), 'sub/file.tar.gz');
  assert.equal(expandWord('${F##*/}', env), 'file.tar.gz');
  assert.equal(expandWord('${F%.*}', env), 'dir/sub/file.tar');
  assert.equal(expandWord('${F%%.*}', env), 'dir/sub/file');
  assert.equal(expandWord('${V/X/-}', env), 'a-bXc');
  assert.equal(expandWord('${V//X/-}', env), 'a-b-c');
  assert.equal(expandWord('${V/?/_}', env), '_XbXc');
  assert.throws(() => expandWord('${F:#x}', env), /unsupported modifier \(:#\)/);
});

test('quotes: single quotes literal, double quotes expand, escapes inside double quotes', () => {
  const env = envOf({ A: 'x y' });
  assert.equal(expandWord(`'$A \\n'`, env), '$A \\n');
  assert.equal(expandWord(`"$A \\$A \\" \\n"`, env), 'x y $A " \\n');
  assert.equal(expandWord('a\\ b\\$A', env), 'a b$A');
  assert.equal(expandWord('trailing\\', env), 'trailing');
  assert.throws(() => expandWord(`'open`, env), /matching single-quote/);
  assert.throws(() => expandWord(`"open`, env), /matching double-quote/);
});

test('backtick escape: ` escapes and \\ is literal', () => {
  const env = envOf({ A: 'v' });
  assert.equal(expandWord('C:\\dir\\$A', env, '`'), 'C:\\dir\\v');
  assert.equal(expandWord('`$A', env, '`'), '$A');
  assert.equal(expandWord('a` b', env, '`'), 'a b');
  assert.equal(expandWord('"q`"q"', env, '`'), 'q"q');
  assert.deepEqual(expandWords('a` b c', env, '`'), ['a b', 'c']);
});

test('word splitting: expanded whitespace splits, quoted does not, empty words dropped', () => {
  const env = envOf({ P: '80/tcp 443', E: '' });
  assert.deepEqual(expandWords('$P 8080', env), ['80/tcp', '443', '8080']);
  assert.deepEqual(expandWords('"$P" 8080', env), ['80/tcp 443', '8080']);
  assert.deepEqual(expandWords('a\\ b   c', env), ['a b', 'c']);
  assert.deepEqual(expandWords('"" $E x', env), ['x']);
  assert.deepEqual(expandWords('  ', env), []);
});

test('splitArgs is the parser split for COPY/ADD/FROM/VOLUME/EXPOSE: blanks only, quotes kept', () => {
  assert.deepEqual(splitArgs('"a b" /dst'), ['"a', 'b"', '/dst']);
  assert.deepEqual(splitArgs('a\t b'), ['a', 'b']);
  assert.deepEqual(splitArgs(''), []);
});

test('splitQuotedWords (moby parseWords) keeps quotes and escapes', () => {
  assert.deepEqual(splitQuotedWords(`foo bar 'abc xyz' "a b"`, '\\'), ['foo', 'bar', `'abc xyz'`, '"a b"']);
  assert.deepEqual(splitQuotedWords('foo\\ bar', '\\'), ['foo\\ bar']);
  assert.deepEqual(splitQuotedWords('föo bàr "âbc xÿz"', '\\'), ['föo', 'bàr', '"âbc xÿz"']);
  assert.deepEqual(splitQuotedWords('a="" b', '\\'), ['a=""', 'b']);
});

test('ENV: legacy one-pair form and k=v pairs with quotes and escapes', () => {
  const env = envOf({ HOME: '/root' });
  assert.deepEqual(parseKeyValues('k v with  spaces', 'ENV', env), [['k', 'v with  spaces']]);
  assert.deepEqual(parseKeyValues('k "quoted value"', 'ENV', env), [['k', 'quoted value']]);
  assert.deepEqual(parseKeyValues('a=1 b="two words" c=x\\ y d=$HOME e=', 'ENV', env), [
    ['a', '1'], ['b', 'two words'], ['c', 'x y'], ['d', '/root'], ['e', ''],
  ]);
  assert.deepEqual(parseKeyValues("k='$HOME' \"k2\"=v", 'ENV', env), [['k', '$HOME'], ['k2', 'v']]);
  assert.deepEqual(parseKeyValues('a=b`', 'ENV', env, '`'), [['a', 'b']]);
});

test('ENV/LABEL/ARG errors use Docker words', () => {
  const env = envOf({});
  assert.throws(() => parseKeyValues('', 'ENV', env), { message: 'ENV requires at least one argument' });
  assert.throws(() => parseKeyValues('', 'LABEL', env), { message: 'LABEL requires at least one argument' });
  assert.throws(() => parseKeyValues('', 'ARG', env), { message: 'ARG requires at least one argument' });
  assert.throws(() => parseKeyValues('onlykey', 'ENV', env), { message: 'ENV must have two arguments' });
  assert.throws(() => parseKeyValues('=x', 'ENV', env), { message: 'ENV names can not be blank' });
  assert.throws(() => parseKeyValues('=x', 'ARG', env), { message: 'ARG names can not be blank' });
  assert.throws(() => parseKeyValues('a=1 x', 'ENV', env), {
    message: 'Syntax error - can\'t find = in "x". Must be of the form: name=value',
  });
  assert.throws(() => parseKeyValues('a=1 x', 'LABEL', env), InvalidParameter);
});

test('LABEL with quoted keys; ARG with and without defaults', () => {
  const env = envOf({ V: '1.0' });
  assert.deepEqual(parseKeyValues('"com.example.k"="v" version=$V', 'LABEL', env), [
    ['com.example.k', 'v'], ['version', '1.0'],
  ]);
  assert.deepEqual(parseKeyValues('maintainer Some One <a@b>', 'LABEL', env), [['maintainer', 'Some One <a@b>']]);
  assert.deepEqual(parseKeyValues('name', 'ARG', env), [['name', undefined]]);
  assert.deepEqual(parseKeyValues('a b=2 c= d="x y"', 'ARG', env), [
    ['a', undefined], ['b', '2'], ['c', ''], ['d', 'x y'],
  ]);
  assert.deepEqual(parseKeyValues('v=${V}-rc', 'ARG', env), [['v', '1.0-rc']]);
});
