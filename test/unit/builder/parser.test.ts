// The Dockerfile parser: directives, comments, continuations, JSON vs shell form, flags, heredocs,
// CRLF/BOM, and Docker's parse-time errors (checked against moby/buildkit's parser and
// instructions packages, whose messages the classic builder returns).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerArgs, parseDockerfile, parseText, parseTriggers, validate } from '../../../src/builder/dockerfile/parser.ts';
import { InvalidParameter } from '../../../src/errors.ts';

const parse = (s: string) => parseDockerfile(s);
const only = (s: string) => {
  const r = parse(s).instructions;
  return r[r.length - 1]!;
};
function fails(text: string, message: string | RegExp): void {
  assert.throws(() => parse(text), (err: unknown) => {
    assert.ok(err instanceof InvalidParameter, String(err));
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('directives: escape, syntax, check at the top, keys case-insensitive, blanks around =', () => {
  const r = parse('# syntax=docker/dockerfile:1\n#ESCAPE = `\n# check=skip=all\nFROM x\n');
  assert.equal(r.directives.escape, '`');
  assert.equal(r.directives.syntax, 'docker/dockerfile:1');
  assert.deepEqual(r.directives.other, { check: 'skip=all' });
  assert.equal(r.instructions[0]!.line, 4);
});

test('directives stop at the first comment that is not one, an empty line or an instruction', () => {
  assert.equal(parse('# hello\n# escape=`\nFROM x\n').directives.escape, '\\');
  assert.equal(parse('\n# escape=`\nFROM x\n').directives.escape, '\\');
  assert.equal(parse('# unknown=1\n# escape=`\nFROM x\n').directives.escape, '\\');
  assert.equal(parse('FROM x\n# escape=`\nRUN a \\\n b\n').directives.escape, '\\');
});

test('directive errors: repeated directive, invalid escape token', () => {
  fails('# escape=`\n# escape=\\\nFROM x', 'dockerfile parse error on line 2: only one escape parser directive can be used');
  fails('# escape=x\nFROM x', /invalid escape token 'x' does not match ` or \\/);
});

test('escape backtick: continuation with ` and backslashes literal', () => {
  const r = parse('# escape=`\nFROM x\nRUN dir C:\\ `\n  && echo done\nCOPY a\\b c:\\d\\\n');
  assert.equal(r.instructions[1]!.args[0], 'dir C:\\   && echo done');
  assert.equal(r.instructions[1]!.line, 3);
  assert.equal(r.instructions[1]!.endLine, 4);
  assert.deepEqual(dockerArgs(r.instructions[2]!, '`'), ['a\\b', 'c:\\d\\']);
});

test('comments removed, also inside continuations; blank continuation lines skipped with a warning', () => {
  const r = parse('# top comment\nFROM x\n  # indented comment\nRUN a \\\n# inside\n\n   \n  b \\\n  c\n');
  assert.equal(r.instructions.length, 2);
  const run = r.instructions[1]!;
  assert.equal(run.args[0], 'a   b   c');
  assert.equal(run.original, 'RUN a   b   c');
  assert.equal(run.line, 4);
  assert.equal(run.endLine, 9);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /Empty continuation line/);
});

test('continuation: trailing blanks after the escape allowed; an escaped escape is no continuation', () => {
  const r = parse('FROM x\nRUN a \\  \n b\nRUN echo \\\\\nRUN last \\');
  assert.equal(r.instructions[1]!.args[0], 'a  b');
  assert.equal(r.instructions[2]!.args[0], 'echo \\\\');
  assert.equal(r.instructions[3]!.args[0], 'last');
});

test('CRLF line endings and a BOM', () => {
  const r = parse('\uFEFF# escape=`\r\nFROM x\r\nRUN a `\r\n b\r\nCMD ["c"]\r\n');
  assert.equal(r.directives.escape, '`');
  assert.equal(r.instructions[1]!.args[0], 'a  b');
  assert.deepEqual(r.instructions[2]!.args, ['c']);
});

test('keywords are case-insensitive and recorded lowercase; original keeps the text', () => {
  const r = parse('from x AS build\nRuN echo hi\n');
  assert.equal(r.instructions[0]!.cmd, 'from');
  assert.equal(r.instructions[1]!.cmd, 'run');
  assert.equal(r.instructions[1]!.original, 'RuN echo hi');
  assert.deepEqual(dockerArgs(r.instructions[0]!), ['x', 'AS', 'build']);
});

test('JSON (exec) form only for a valid JSON array of strings; otherwise shell form', () => {
  const r = parse('FROM x\nCMD ["a", "b c"]\nCMD ["a" b]\nENTRYPOINT [ ]\nRUN [\'a\']\nCOPY ["a b", "/d"]\nWORKDIR ["/w"]\n');
  const [, cmd, shell, ep, single, copy, wd] = r.instructions;
  assert.deepEqual([cmd!.json, cmd!.args], [true, ['a', 'b c']]);
  assert.deepEqual([shell!.json, shell!.args], [false, ['["a" b]']]);
  assert.deepEqual([ep!.json, ep!.args], [true, []]);
  assert.deepEqual([single!.json, single!.args], [false, ["['a']"]]);
  assert.deepEqual([copy!.json, copy!.args], [true, ['a b', '/d']]);
  assert.deepEqual([wd!.json, wd!.args], [false, ['["/w"]']]);
  fails('FROM x\nCMD ["a", 1]\n', 'dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only');
});

test('RUN and CMD without arguments are allowed', () => {
  const r = parse('FROM x\nRUN\nCMD\n');
  assert.deepEqual(r.instructions[1]!.args, []);
  assert.deepEqual(r.instructions[2]!.args, []);
});

test('flags split off the arguments, quotes removed, -- ends them', () => {
  const r = parse('FROM --platform=linux/amd64 x\nCOPY --from=build --chown="a b" --link src /dst\nCOPY -- --odd /d\nRUN --mount=type=cache,target=/c make\n');
  assert.deepEqual(r.instructions[0]!.flags, [{ name: 'platform', value: 'linux/amd64' }]);
  const copy = r.instructions[1]!;
  assert.deepEqual(copy.flags, [
    { name: 'from', value: 'build' }, { name: 'chown', value: 'a b' }, { name: 'link', value: '' },
  ]);
  assert.deepEqual(copy.args, ['src /dst']);
  assert.deepEqual(dockerArgs(r.instructions[2]!), ['--odd', '/d']);
  assert.deepEqual(r.instructions[3]!.flags, [{ name: 'mount', value: 'type=cache,target=/c' }]);
  assert.equal(r.instructions[3]!.args[0], 'make');
});

test('flag errors: unknown flag (with a hint), missing value, bad boolean, duplicate', () => {
  fails('FROM x\nCOPY --chwon=1 a b\n', 'dockerfile parse error on line 2: unknown flag: --chwon (did you mean chown?)');
  fails('FROM x\nENV --x=1 a=b\n', 'dockerfile parse error on line 2: unknown flag: --x');
  fails('FROM x\nCOPY --from a b\n', /missing a value on flag: --from/);
  fails('FROM x\nCOPY --link= a b\n', /missing a value on flag: --link/);
  fails('FROM x\nCOPY --link=maybe a b\n', /expecting boolean value for flag --link, not: maybe/);
  fails('FROM x\nCOPY --from=a --from=b a b\n', /duplicate flag specified: --from/);
  assert.doesNotThrow(() => parse('FROM x\nCOPY --exclude=a --exclude=b --link=false a b\n'));
});

test('heredocs: RUN <<EOF, <<-EOF chomps tabs, quoted delimiter disables expansion, several on one line', () => {
  const r = parse('FROM x\nRUN <<EOF\necho $HOME\nEOF\nRUN <<-"END" cat <<\'B\' > f\n\tindented\n\tEND\nb line\nB\nCMD ["x"]\n');
  const run1 = r.instructions[1]!;
  assert.deepEqual(run1.heredocs, [{ name: 'EOF', content: 'echo $HOME\n', expand: true, chomp: false }]);
  assert.equal(run1.line, 2);
  assert.equal(run1.endLine, 4);
  const run2 = r.instructions[2]!;
  assert.deepEqual(run2.heredocs, [
    { name: 'END', content: 'indented\n', expand: false, chomp: true },
    { name: 'B', content: 'b line\n', expand: false, chomp: false },
  ]);
  assert.equal(run2.endLine, 9);
  assert.deepEqual(r.instructions[3]!.args, ['x']);
});

test('heredocs: COPY <<EOF /dest, not for JSON form or other instructions, unterminated is an error', () => {
  const r = parse('FROM x\nCOPY <<EOF /dest\nhello\nEOF\nENV a=<<EOF\nRUN ["<<EOF"]\n');
  assert.deepEqual(r.instructions[1]!.heredocs, [{ name: 'EOF', content: 'hello\n', expand: true, chomp: false }]);
  assert.deepEqual(dockerArgs(r.instructions[1]!), ['<<EOF', '/dest']);
  assert.deepEqual(r.instructions[2]!.heredocs, []);
  assert.deepEqual(r.instructions[3]!.heredocs, []);
  fails('FROM x\nRUN <<EOF\nno end\n', 'dockerfile parse error on line 2: unterminated heredoc');
  fails('FROM x\nCOPY a <<EOF\nx\nEOF\n', /COPY cannot accept a heredoc as a destination/);
});

test('unknown instruction: Docker message with the line number and a suggestion', () => {
  fails('FROM x\n\nXYZZY bar\n', 'dockerfile parse error on line 3: unknown instruction: XYZZY');
  fails('FROM x\nFOO bar\n', 'dockerfile parse error on line 2: unknown instruction: FOO (did you mean FROM?)');
  fails('FROM x\nRUNN make\n', 'dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)');
  fails('FROM x\ncopyy a b\n', 'dockerfile parse error on line 2: unknown instruction: copyy (did you mean copy?)');
});

test('argument-count errors in Docker words', () => {
  fails('FROM\n', 'dockerfile parse error on line 1: FROM requires either one or three arguments');
  fails('FROM a b\n', /FROM requires either one or three arguments/);
  fails('FROM a AS 1x\n', /invalid name for build stage: "1x", name can't start with a number or contain symbols/);
  fails('FROM x\nENV\n', /ENV requires at least one argument/);
  fails('FROM x\nENV foo\n', 'dockerfile parse error on line 2: ENV must have two arguments');
  fails('FROM x\nLABEL a=1 b\n', /Syntax error - can't find = in "b". Must be of the form: name=value/);
  fails('FROM x\nLABEL\n', /LABEL requires at least one argument/);
  fails('FROM x\nARG\n', /ARG requires at least one argument/);
  fails('FROM x\nCOPY a\n', /COPY requires at least two arguments, but only one was provided. Destination could not be determined/);
  fails('FROM x\nADD\n', /ADD requires at least two arguments/);
  fails('FROM x\nWORKDIR\n', /WORKDIR requires exactly one argument/);
  fails('FROM x\nUSER\n', /USER requires exactly one argument/);
  fails('FROM x\nSTOPSIGNAL\n', /STOPSIGNAL requires exactly one argument/);
  fails('FROM x\nMAINTAINER\n', /MAINTAINER requires exactly one argument/);
  fails('FROM x\nEXPOSE\n', /EXPOSE requires at least one argument/);
  fails('FROM x\nVOLUME\n', /VOLUME requires at least one argument/);
  fails('FROM x\nVOLUME [""]\n', /VOLUME specified can not be an empty string/);
  fails('FROM x\nSHELL\n', /SHELL requires at least one argument/);
  fails('FROM x\nSHELL /bin/sh -c\n', /SHELL requires the arguments to be in JSON form/);
  fails('FROM x\nONBUILD\n', /ONBUILD requires at least one argument/);
});

test('HEALTHCHECK forms and errors', () => {
  const r = parse('FROM x\nHEALTHCHECK --interval=5s --retries=3 CMD curl -f http://l/\nHEALTHCHECK CMD ["a","b"]\nHEALTHCHECK NONE\n');
  assert.deepEqual(r.instructions[1]!.args, ['CMD', 'curl -f http://l/']);
  assert.equal(r.instructions[1]!.json, false);
  assert.deepEqual([r.instructions[2]!.args, r.instructions[2]!.json], [['CMD', 'a', 'b'], true]);
  assert.deepEqual(r.instructions[3]!.args, ['NONE']);
  fails('FROM x\nHEALTHCHECK NONE x\n', /HEALTHCHECK NONE takes no arguments/);
  fails('FROM x\nHEALTHCHECK CMD\n', /Missing command after HEALTHCHECK CMD/);
  fails('FROM x\nHEALTHCHECK FOO x\n', /Unknown type "FOO" in HEALTHCHECK \(try CMD\)/);
  fails('FROM x\nHEALTHCHECK --interval=1us CMD x\n', /Interval "interval" cannot be less than 1ms/);
  fails('FROM x\nHEALTHCHECK --interval=abc CMD x\n', /time: invalid duration "abc"/);
  fails('FROM x\nHEALTHCHECK --retries=-1 CMD x\n', /--retries cannot be negative \(-1\)/);
});

test('ONBUILD keeps the trigger text; ONBUILD ONBUILD / FROM / MAINTAINER rejected', () => {
  const r = parse('FROM x\nonbuild RUN --mount=type=cache,target=/c echo hi\nONBUILD COPY <<EOF /f\nbody\nEOF\n');
  const ob = r.instructions[1]!;
  assert.equal(ob.cmd, 'onbuild');
  assert.deepEqual(ob.flags, []);
  assert.deepEqual(ob.args, ['RUN --mount=type=cache,target=/c echo hi']);
  assert.deepEqual(r.instructions[2]!.args, ['COPY <<EOF /f\nbody\nEOF']);
  assert.equal(r.instructions[2]!.heredocs.length, 1);
  fails('FROM x\nONBUILD ONBUILD RUN x\n', /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
  fails('FROM x\nONBUILD FROM y\n', /FROM isn't allowed as an ONBUILD trigger/);
  fails('FROM x\nONBUILD maintainer me\n', /MAINTAINER isn't allowed as an ONBUILD trigger/);
});

test('parseTriggers re-parses ONBUILD texts, heredocs included', () => {
  const t = parseTriggers(['RUN echo hi', 'COPY <<EOF /f\nbody\nEOF']);
  assert.deepEqual(t.map((i) => i.cmd), ['run', 'copy']);
  assert.equal(t[1]!.heredocs[0]!.content, 'body\n');
  assert.throws(() => parseTriggers(['FROM x']), /FROM isn't allowed as an ONBUILD trigger/);
});

test('MAINTAINER, ENV legacy form and ARG before FROM', () => {
  const r = parse('ARG BASE=alpine\nFROM $BASE\nMAINTAINER Jane Doe <j@d>\nENV PATH /a:/b\n');
  assert.deepEqual(r.instructions[2]!.args, ['Jane Doe <j@d>']);
  assert.deepEqual(dockerArgs(r.instructions[3]!), ['PATH', '/a:/b', '']);
});

test('only ARG may come before the first FROM', () => {
  fails('RUN x\nFROM y\n', 'dockerfile parse error on line 1: no build stage in current context');
  fails('# only a comment\n', 'file with no instructions');
  fails('', 'file with no instructions');
});

test('buildkit testfiles-negative cases are errors', () => {
  fails('FROM busybox\nENV PATH\n', /ENV must have two arguments/);
  fails('CMD [ "echo", [ "nested json" ] ]\n', /arrays must be comprised of strings only/);
  fails('#\n# comment\n\n', 'file with no instructions');
});

test('validate is usable on its own and parseText skips the checks', () => {
  const r = parseText('RUN x\nFOO y\n');
  assert.equal(r.instructions.length, 2);
  assert.doesNotThrow(() => validate(r.instructions[0]!));
  assert.throws(() => validate(r.instructions[1]!), /line 2: unknown instruction: FOO/);
});
