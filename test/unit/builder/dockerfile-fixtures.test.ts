// buildkit's parser test files (frontend/dockerfile/parser/testfiles, copied under
// test/fixtures/dockerfile/buildkit): each Dockerfile's AST, dumped in buildkit's Node.Dump format,
// must equal its `result` file. The dumper below rebuilds that format from Berth's AST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dockerArgs, parseText } from '../../../src/builder/dockerfile/parser.ts';
import type { Instruction } from '../../../src/builder/dockerfile/ast.ts';

const dir = resolve(import.meta.dirname, '../../fixtures/dockerfile/buildkit');

/** Go's strconv.Quote, close enough for these files. */
export function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\u00([0-7][0-9a-f])/g, '\\x$1')
    .replace(/\u007f/g, '\\x7f');
}

function dumpInstruction(ins: Instruction, escape: '\\' | '`'): string {
  let out = ins.cmd;
  if (ins.flags.length > 0) {
    out += ' [' + ins.flags.map((f) => goQuote(f.value === '' ? `--${f.name}` : `--${f.name}=${f.value}`)).join(' ') + ']';
  }
  if (ins.cmd === 'onbuild') {
    if (ins.args.length > 0) {
      const inner = parseText(ins.args[0]!).instructions[0]!;
      out += ' (' + dumpInstruction(inner, escape) + ')';
    }
    return out;
  }
  for (const a of dockerArgs(ins, escape)) out += ' ' + goQuote(a);
  return out;
}

export function dump(text: string): string {
  const parsed = parseText(text);
  return parsed.instructions.map((i) => `(${dumpInstruction(i, parsed.directives.escape)})\n`).join('');
}

for (const name of readdirSync(dir).sort()) {
  test(`buildkit testfile ${name}: AST dump equals result`, () => {
    const text = readFileSync(join(dir, name, 'Dockerfile'), 'utf8');
    const expected = readFileSync(join(dir, name, 'result'), 'utf8');
    assert.equal(dump(text), expected);
  });
}
