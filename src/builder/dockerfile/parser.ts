// The Dockerfile parser of the classic builder: text → Instruction list, with the behaviour of
// moby/buildkit's frontend/dockerfile/parser (which Docker's classic builder uses) and the checks of
// its instructions package, so that every error `docker build` reports before the first step is
// reported here too, with its line.
//
// Lifecycle: parseDockerfile() reads parser directives, joins continuation lines, drops comments,
// splits keyword / flags / arguments, reads heredoc bodies, then validate()s every instruction and
// checks that only ARG precedes the first FROM. Variable expansion is left to the builder
// (expand.ts), which knows the variables in scope at each step.

import { InvalidParameter } from '../../errors.ts';
import type { Directives, Heredoc, Instruction, ParsedDockerfile } from './ast.ts';
import {
  goQuote,
  lexWords,
  rawKeyValues,
  splitArgs,
  splitKeyValues,
  splitQuotedWords,
  type EscapeChar,
} from './expand.ts';

/** The instructions Docker knows, lowercase. */
export const INSTRUCTIONS: readonly string[] = [
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
];

class ParseError extends Error {}

const reWhitespace = /[\t\v\f\r ]+/;
const reHeredoc = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const reDirective = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const isSpace = (ch: string): boolean => /^\p{White_Space}$/u.test(ch);
const trimLeftSpace = (s: string): string => s.replace(/^\p{White_Space}+/u, '');
const trimSpace = (s: string): string => s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const isComment = (line: string): boolean => trimLeftSpace(line).startsWith('#');

/** Parser directives (`# escape=`, `# syntax=`, `# check=`): only before anything else. */
class DirectiveParser {
  done = false;
  private readonly seen = new Set<string>();
  readonly directives: Directives = { escape: '\\', other: {} };

  /** Looks at one line (left-trimmed); true when it was a directive. */
  parseLine(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = reDirective.exec(trimLeftSpace(line.slice(1)));
    const key = m?.[1]?.toLowerCase();
    if (!m || (key !== 'syntax' && key !== 'escape' && key !== 'check')) {
      this.done = true;
      return false;
    }
    if (this.seen.has(key)) throw new ParseError(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2]!;
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new ParseError(`invalid escape token '${value}' does not match \` or \\`);
      }
      this.directives.escape = value;
    } else if (key === 'syntax') {
      this.directives.syntax = value;
    } else {
      this.directives.other[key] = value;
    }
    return true;
  }
}

/** Removes a line-continuation escape at the end (blanks after it allowed); false when removed. */
function trimContinuation(line: string, escape: EscapeChar): [string, boolean] {
  // Like moby's regexp: the escape must not itself be escaped (`\\` at the end is no continuation),
  // unless it stands alone on the line.
  const m = /[ \t]*$/.exec(line)!;
  const body = line.slice(0, m.index);
  if (!body.endsWith(escape)) return [line, true];
  if (body.length === 1) return ['', false];
  if (body[body.length - 2] === escape) return [line, true];
  return [body.slice(0, -1), false];
}

export interface RawFlag {
  name: string;
  value: string;
  hasValue: boolean;
}

/** moby's extractBuilderFlags: leading `--x=y` words (quotes and escapes removed), then the rest. */
function extractFlags(line: string, escape: EscapeChar): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let buf = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const atEnd = pos === line.length;
    let ch = atEnd ? '' : line[pos]!;
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (atEnd) {
      if (buf !== '--' && (blankOK || buf.length > 0)) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (buf === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        pos++;
        ch = line[pos]!;
      }
      buf += ch;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = line[pos]!;
    }
    buf += ch;
  }
  return { rest: '', flags: words };
}

function toFlag(word: string): RawFlag {
  const i = word.indexOf('=');
  const name = (i < 0 ? word : word.slice(0, i)).slice(2);
  return i < 0 ? { name, value: '', hasValue: false } : { name, value: word.slice(i + 1), hasValue: true };
}

/** Keyword, flags and the trimmed rest of one joined instruction line (moby's splitCommand). */
function splitCommand(line: string, escape: EscapeChar): { keyword: string; flags: RawFlag[]; rest: string } {
  const t = trimSpace(line);
  const m = reWhitespace.exec(t);
  if (!m) return { keyword: t, flags: [], rest: '' };
  const { rest, flags } = extractFlags(t.slice(m.index + m[0].length), escape);
  return { keyword: t.slice(0, m.index), flags: flags.map(toFlag), rest: trimSpace(rest) };
}

const NOT_STRINGS = 'when using JSON array syntax, arrays must be comprised of strings only';

/** The rest as a JSON array of strings, or undefined when it is not one (then it is shell form). */
function parseJSONArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((x) => typeof x === 'string')) throw new ParseError(NOT_STRINGS);
  return parsed as string[];
}

interface LineNode {
  cmd: string;
  keyword: string;
  flags: RawFlag[];
  json: boolean;
  args: string[];
  /** ONBUILD: the trigger's own keyword, lowercase. */
  inner?: LineNode;
}

function maybeJSON(rest: string): { json: boolean; args: string[] } {
  if (rest === '') return { json: false, args: [] };
  const arr = parseJSONArray(rest);
  return arr ? { json: true, args: arr } : { json: false, args: [rest] };
}

/** One joined line → keyword, flags and arguments, per instruction (moby's dispatch table). */
function parseLineNode(line: string, escape: EscapeChar): LineNode {
  const { keyword, flags, rest } = splitCommand(line, escape);
  const cmd = keyword.toLowerCase();
  const node: LineNode = { cmd, keyword, flags, json: false, args: rest === '' ? [] : [rest] };
  switch (cmd) {
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
    case 'add':
    case 'copy':
    case 'volume':
      Object.assign(node, maybeJSON(rest));
      break;
    case 'healthcheck': {
      const m = /\s/.exec(rest);
      if (rest === '') break;
      const typ = m ? rest.slice(0, m.index) : rest;
      const cmdPart = m ? trimLeftSpace(rest.slice(m.index)) : '';
      const r = maybeJSON(cmdPart);
      node.json = r.json;
      node.args = [typ, ...r.args];
      break;
    }
    case 'env':
    case 'label':
      splitKeyValuesOrThrow(rest, cmd === 'env' ? 'ENV' : 'LABEL', escape);
      break;
    case 'onbuild':
      if (rest !== '') node.inner = parseLineNode(rest, escape);
      break;
    default:
      break;
  }
  return node;
}

function splitKeyValuesOrThrow(rest: string, kind: 'ENV' | 'LABEL', escape: EscapeChar): void {
  try {
    splitKeyValues(rest, kind, escape);
  } catch (err) {
    if (err instanceof InvalidParameter) throw new ParseError(err.message);
    throw err;
  }
}

const noEnv = (): undefined => undefined;

/** A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`) → name, expand and chomp; undefined when not one. */
function heredocFromWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = reHeredoc.exec(word);
  if (!m || m[3] === '') return undefined;
  const rest = m[3]!;
  const words = lexWords(rest, noEnv, '\\', { skipUnsetEnv: true });
  if (words.length !== 1) return undefined;
  const raw = lexWords(rest, noEnv, '\\', { skipUnsetEnv: true, rawQuotes: true });
  if (raw.length !== 1) throw new ParseError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string): number => s.split(/['"]/).length - 1;
  return { name: words[0]!, expand: quotes(words[0]!) === quotes(raw[0]!), chomp: m[2] === '-' };
}

function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = lexWords(line, noEnv, '\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    words = [];
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    let doc: Omit<Heredoc, 'content'> | undefined;
    try {
      doc = heredocFromWord(w);
    } catch (err) {
      if (err instanceof InvalidParameter) throw new ParseError(err.message);
      throw err;
    }
    if (doc) docs.push(doc);
  }
  return docs;
}

function canContainHeredoc(node: LineNode): boolean {
  const n = node.cmd === 'onbuild' && node.inner ? node.inner : node;
  return (n.cmd === 'run' || n.cmd === 'copy' || n.cmd === 'add') && !n.json;
}

/** Splits text into lines that keep their line endings (like moby's scanLines). */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const i = text.indexOf('\n', start);
    if (i < 0) {
      if (start < text.length) lines.push(text.slice(start));
      return lines;
    }
    lines.push(text.slice(start, i + 1));
    start = i + 1;
  }
}

const prefix = (line: number): string => `dockerfile parse error on line ${line}: `;

/**
 * Parses a whole Dockerfile. Throws InvalidParameter, `dockerfile parse error on line N: <Docker's
 * words>`, for anything Docker rejects before building (syntax, unknown instruction, argument
 * counts, unknown flags, an instruction before the first FROM).
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const parsed = parseText(text);
  let seenFrom = false;
  for (const ins of parsed.instructions) {
    validate(ins, parsed.directives.escape);
    if (ins.cmd === 'from') seenFrom = true;
    else if (!seenFrom && ins.cmd !== 'arg') {
      throw new InvalidParameter(prefix(ins.line) + 'no build stage in current context');
    }
  }
  return parsed;
}

/**
 * Parses ONBUILD trigger texts (an image's `OnBuild` list, args[0] of ONBUILD instructions) the
 * way Docker does when a child image builds FROM it: each with the default escape, validated,
 * and FROM/ONBUILD/MAINTAINER rejected.
 */
export function parseTriggers(triggers: readonly string[]): Instruction[] {
  const out: Instruction[] = [];
  for (const t of triggers) {
    for (const ins of parseText(t).instructions) {
      validate(ins);
      if (ins.cmd === 'onbuild') throw new InvalidParameter('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (ins.cmd === 'from' || ins.cmd === 'maintainer') {
        throw new InvalidParameter(`${ins.cmd.toUpperCase()} isn't allowed as an ONBUILD trigger`);
      }
      out.push(ins);
    }
  }
  return out;
}

/** Syntax only: directives, lines, keyword/flags/arguments and heredocs; no per-instruction checks. */
export function parseText(input: string): ParsedDockerfile {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const lines = splitLines(text);
  const dp = new DirectiveParser();
  const instructions: Instruction[] = [];
  const warnings: string[] = [];
  let i = 0;
  let currentLine = 0;

  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    try {
      dp.parseLine(token);
    } catch (err) {
      if (err instanceof ParseError) throw new InvalidParameter(prefix(currentLine + 1) + err.message);
      throw err;
    }
    return isComment(token) ? '' : token;
  };

  while (i < lines.length) {
    const first = processLine(lines[i++]!, true);
    currentLine++;
    const startLine = currentLine;
    const escape = dp.directives.escape;
    let [buf, eol] = trimContinuation(first, escape);
    if (eol && buf.length === 0) continue;
    let emptyContinuation = false;
    while (!eol && i < lines.length) {
      const raw = lines[i++]!;
      const t = processLine(raw, false);
      currentLine++;
      if (isComment(raw)) continue;
      if (trimLeftSpace(t).length === 0) {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, eol] = trimContinuation(t, escape);
      buf += part;
    }
    const line = buf;
    if (emptyContinuation) warnings.push(`line ${currentLine}: Empty continuation line found in: ${line}`);

    let node: LineNode;
    try {
      node = parseLineNode(line, escape);
    } catch (err) {
      if (err instanceof ParseError) throw new InvalidParameter(prefix(startLine) + err.message);
      throw err;
    }

    const heredocs: Heredoc[] = [];
    if (canContainHeredoc(node) && line.includes('<<')) {
      let docs: Omit<Heredoc, 'content'>[];
      try {
        docs = heredocsFromLine(line);
      } catch (err) {
        if (err instanceof ParseError) throw new InvalidParameter(prefix(startLine) + err.message);
        throw err;
      }
      for (const doc of docs) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i++]!;
          currentLine++;
          let candidate = trimNewline(raw);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) throw new InvalidParameter(prefix(startLine) + 'unterminated heredoc');
        // Chomping here is safe for a consumer that chomps again: it is idempotent.
        if (doc.chomp) content = content.replace(/^\t+/gm, '');
        heredocs.push({ ...doc, content });
      }
    }

    let args = node.args;
    if (node.cmd === 'onbuild' && args.length > 0) {
      // The trigger is kept as text, heredoc bodies appended, to be parsed again in the child build.
      let trigger = line.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of heredocs) trigger += '\n' + h.content + h.name;
      args = [trigger];
    }
    instructions.push({
      cmd: node.cmd,
      line: startLine,
      endLine: currentLine,
      original: line,
      flags: node.flags.map(({ name, value }) => ({ name, value })),
      json: node.json,
      args,
      heredocs,
    });
  }

  if (instructions.length === 0) throw new InvalidParameter('file with no instructions');
  return { directives: dp.directives, instructions, warnings };
}

/**
 * The argument words Docker's parser hands to an instruction, before expansion: FROM, EXPOSE and
 * shell-form COPY/ADD/VOLUME split on blanks; ENV/LABEL as key, value, separator triples; ARG split
 * on unquoted blanks; HEALTHCHECK type then command; ONBUILD the trigger keyword then its words;
 * everything else the whole rest as one word (or the JSON array).
 */
export function dockerArgs(ins: Instruction, escape: EscapeChar = '\\'): string[] {
  const rest = ins.args[0] ?? '';
  switch (ins.cmd) {
    case 'from':
    case 'expose':
      return splitArgs(rest);
    case 'copy':
    case 'add':
    case 'volume':
      return ins.json ? ins.args : splitArgs(rest);
    case 'env':
    case 'label':
      return splitKeyValues(rest, ins.cmd === 'env' ? 'ENV' : 'LABEL', escape).flatMap((kv) => [kv.key, kv.value, kv.sep]);
    case 'arg':
      return splitQuotedWords(rest, escape);
    case 'onbuild': {
      if (ins.args.length === 0) return [];
      const inner = parseLineNode(rest.split('\n')[0]!, escape);
      return [inner.keyword, ...inner.args];
    }
    default:
      return ins.args;
  }
}

type FlagType = 'bool' | 'string' | 'strings';

const FLAGS: Record<string, Record<string, FlagType>> = {
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  copy: { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' },
  add: {
    chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool',
    exclude: 'strings',
  },
  healthcheck: {
    interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string',
  },
};

/** Levenshtein distance, for Docker's "(did you mean X?)" hints. */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** buildkit's suggest.Search: the closest option within distance 2, in the value's case. */
function suggest(val: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? val : val.toLowerCase();
  let match: string | undefined;
  let min = 3;
  for (const o of options) {
    const opt = caseSensitive ? o : o.toLowerCase();
    if (opt === v) return undefined;
    const d = distance(v, opt);
    if (d < min) {
      min = d;
      match = caseSensitive ? opt : val === val.toLowerCase() ? opt : val === val.toUpperCase() ? opt.toUpperCase() : opt;
    }
  }
  return match;
}

/** Checks the flags against what the instruction accepts (buildkit's BFlags.Parse). */
function checkFlags(ins: Instruction, allowed: Record<string, FlagType>, escape: EscapeChar): void {
  const raw = splitCommand(ins.original, escape).flags;
  // Re-split the original to learn which flags had an `=`; fall back to the AST's flags.
  const flags: RawFlag[] =
    raw.length === ins.flags.length ? raw : ins.flags.map((f) => ({ ...f, hasValue: f.value !== '' }));
  const used = new Set<string>();
  for (const f of flags) {
    const type = allowed[f.name];
    if (!type) {
      const hint = suggest(f.name, Object.keys(allowed), true);
      throw new ParseError(`unknown flag: --${f.name}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    if (used.has(f.name) && type !== 'strings') throw new ParseError(`duplicate flag specified: --${f.name}`);
    used.add(f.name);
    if (type === 'bool') {
      if (f.hasValue && f.value === '') throw new ParseError(`missing a value on flag: --${f.name}`);
      const v = f.value.toLowerCase();
      if (v !== 'true' && v !== 'false' && v !== '') {
        throw new ParseError(`expecting boolean value for flag --${f.name}, not: ${f.value}`);
      }
    } else if (!f.hasValue) {
      throw new ParseError(`missing a value on flag: --${f.name}`);
    }
  }
}

const GO_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds (HEALTHCHECK --interval=30s etc.). */
export function parseGoDuration(s: string): number {
  const bad = (): never => {
    throw new ParseError(`time: invalid duration ${goQuote(s)}`);
  };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') bad();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.') bad();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]+/.exec(rest);
    if (!u) throw new ParseError(`time: missing unit in duration ${goQuote(s)}`);
    const unit = GO_UNITS[u[0]];
    if (unit === undefined) throw new ParseError(`time: unknown unit ${goQuote(u[0])} in duration ${goQuote(s)}`);
    rest = rest.slice(u[0].length);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * unit;
  }
  return sign * Math.round(total);
}

function checkInterval(ins: Instruction, name: string): void {
  const f = [...ins.flags].reverse().find((x) => x.name === name);
  if (!f || f.value === '') return;
  const d = parseGoDuration(f.value);
  if (d !== 0 && d < 1e6) throw new ParseError(`Interval ${goQuote(name)} cannot be less than 1ms`);
}

function exactlyOne(ins: Instruction, name: string, args: string[]): void {
  if (args.length !== 1) throw new ParseError(`${name} requires exactly one argument`);
}

/**
 * The checks of buildkit's instructions package for one instruction (argument counts, flags,
 * stage names, HEALTHCHECK and SHELL forms), in Docker's order and words. parseDockerfile calls
 * it for every instruction; the builder may call it for ONBUILD triggers.
 */
export function validate(ins: Instruction, escape: EscapeChar = '\\'): void {
  try {
    validateInner(ins, escape);
  } catch (err) {
    if (err instanceof ParseError || err instanceof InvalidParameter) {
      throw new InvalidParameter(prefix(ins.line) + err.message);
    }
    throw err;
  }
}

function validateInner(ins: Instruction, escape: EscapeChar): void {
  const NAME = ins.cmd.toUpperCase();
  if (!INSTRUCTIONS.includes(ins.cmd)) {
    const keyword = trimSpace(ins.original).split(reWhitespace)[0] ?? ins.cmd;
    const hint = suggest(keyword, INSTRUCTIONS.map((x) => x.toUpperCase()), false);
    throw new ParseError(`unknown instruction: ${keyword}${hint ? ` (did you mean ${hint}?)` : ''}`);
  }
  const flags = FLAGS[ins.cmd] ?? {};
  const args = ins.cmd === 'env' || ins.cmd === 'label' ? [] : dockerArgs(ins, escape);
  switch (ins.cmd) {
    case 'env':
    case 'label':
      checkFlags(ins, flags, escape);
      rawKeyValues(ins.args[0] ?? '', ins.cmd === 'env' ? 'ENV' : 'LABEL', escape);
      return;
    case 'arg':
      rawKeyValues(ins.args[0] ?? '', 'ARG', escape);
      return;
    case 'maintainer':
    case 'workdir':
    case 'user':
      exactlyOne(ins, NAME, args);
      checkFlags(ins, flags, escape);
      return;
    case 'stopsignal':
      exactlyOne(ins, NAME, args);
      return;
    case 'add':
    case 'copy': {
      if (args.length < 2) {
        throw new ParseError(
          `${NAME} requires at least two arguments, but only one was provided. Destination could not be determined`,
        );
      }
      checkFlags(ins, flags, escape);
      if (heredocFromWord(args[args.length - 1]!)) throw new ParseError(`${NAME} cannot accept a heredoc as a destination`);
      return;
    }
    case 'from': {
      if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
        const name = args[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(name)) {
          throw new ParseError(
            `invalid name for build stage: ${goQuote(args[2]!)}, name can't start with a number or contain symbols`,
          );
        }
      } else if (args.length !== 1) {
        throw new ParseError('FROM requires either one or three arguments');
      }
      checkFlags(ins, flags, escape);
      return;
    }
    case 'onbuild': {
      if (args.length === 0) throw new ParseError('ONBUILD requires at least one argument');
      checkFlags(ins, flags, escape);
      const trigger = args[0]!.toUpperCase();
      if (trigger === 'ONBUILD') throw new ParseError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new ParseError(`${trigger} isn't allowed as an ONBUILD trigger`);
      return;
    }
    case 'run':
    case 'cmd':
    case 'entrypoint':
      checkFlags(ins, flags, escape);
      return;
    case 'healthcheck': {
      if (args.length === 0) throw new ParseError('HEALTHCHECK requires at least one argument');
      const typ = args[0]!.toUpperCase();
      if (typ === 'NONE') {
        if (args.length > 1) throw new ParseError('HEALTHCHECK NONE takes no arguments');
        return;
      }
      checkFlags(ins, flags, escape);
      if (typ !== 'CMD') throw new ParseError(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
      if (args.length === 1) throw new ParseError('Missing command after HEALTHCHECK CMD');
      for (const n of ['interval', 'timeout', 'start-period', 'start-interval']) checkInterval(ins, n);
      const retries = [...ins.flags].reverse().find((x) => x.name === 'retries');
      if (retries && retries.value !== '') {
        if (!/^[+-]?\d+$/.test(retries.value)) {
          throw new ParseError(`strconv.ParseInt: parsing ${goQuote(retries.value)}: invalid syntax`);
        }
        const n = Number(retries.value);
        if (n < 0) throw new ParseError(`--retries cannot be negative (${n})`);
      }
      return;
    }
    case 'expose':
      if (args.length === 0) throw new ParseError('EXPOSE requires at least one argument');
      checkFlags(ins, flags, escape);
      return;
    case 'volume':
      if (args.length === 0) throw new ParseError('VOLUME requires at least one argument');
      checkFlags(ins, flags, escape);
      if (args.some((v) => trimSpace(v) === '')) throw new ParseError('VOLUME specified can not be an empty string');
      return;
    case 'shell':
      checkFlags(ins, flags, escape);
      if (args.length === 0) throw new ParseError('SHELL requires at least one argument');
      if (!ins.json) throw new ParseError('SHELL requires the arguments to be in JSON form');
      return;
    default:
      return;
  }
}
