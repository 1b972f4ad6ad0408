// Docker's shell-word lexer (moby/buildkit frontend/dockerfile/shell/lex.go semantics), written for
// Berth: quote removal, escapes, `$VAR` / `${VAR…}` expansion and splitting into words. The builder
// calls it per instruction, with the variables in scope at that step; the parser calls it (with raw
// quotes and escapes kept) only to find heredoc words.
//
// Which function applies where, as in Docker:
// - expandWord (Docker's ProcessWord): one word, whitespace kept — the value of WORKDIR, USER,
//   STOPSIGNAL, each source/destination of COPY/ADD (after splitArgs), each VOLUME path, the FROM
//   image, flag values (--chown, --from …), and keys and values of ENV/LABEL/ARG.
// - expandWords (Docker's ProcessWords): expansion, then splitting on unquoted whitespace — EXPOSE.
// - splitArgs: the parser's split on whitespace (no quote handling!) for FROM, COPY, ADD, VOLUME,
//   EXPOSE in shell form. `COPY "a b" /x` is two sources `"a` and `b"` in Docker too.
// - parseKeyValues: ENV, LABEL and ARG, split the way the parser does and then expanded per word.

import { InvalidParameter } from '../../errors.ts';

export type EscapeChar = '\\' | '`';
/** Looks a variable up; undefined means unset (which differs from empty for `${X-…}` and `${X?…}`). */
export type EnvLookup = (name: string) => string | undefined;

export interface LexOptions {
  /** Keep quote characters in the output (the parser uses this to spot quoted heredoc words). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Leave `$X` / `${X…}` as written when X is unset. */
  skipUnsetEnv?: boolean;
}

class LexError extends Error {}

const isSpace = (ch: string): boolean => /^\p{White_Space}$/u.test(ch);
const isDigit = (ch: string): boolean => /^\p{Nd}$/u.test(ch);
const isLetter = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isSpecialParam = (ch: string): boolean => '@*#?-$!0'.includes(ch);

/** Word accumulation of lex.go's wordsStruct: `$` results split on whitespace, quoted text never. */
class Words {
  buf = '';
  words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  private readonly env: EnvLookup;
  private readonly escape: string;
  private readonly opts: LexOptions;

  constructor(src: string, env: EnvLookup, escape: string, opts: LexOptions) {
    this.chars = Array.from(src);
    this.env = env;
    this.escape = escape;
    this.opts = opts;
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }
  private next(): string | undefined {
    return this.pos < this.chars.length ? this.chars[this.pos++] : undefined;
  }

  run(): { result: string; words: string[] } {
    return this.processStopOn(undefined, this.rawEscapes);
  }

  private processStopOn(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (stop !== undefined && ch === stop) {
          this.next();
          return { result, words: words.get() };
        }
        let special: (() => string) | undefined;
        if (ch === '$') special = () => this.processDollar();
        else if (ch === '<') special = () => this.processPossibleHeredoc();
        else if (ch === "'") special = () => this.processSingleQuote();
        else if (ch === '"') special = () => this.processDoubleQuote();
        if (special) {
          const tmp = special();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = this.next()!;
        if (c === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          // The escape character escapes the next one; at the very end it is dropped.
          const n = this.next();
          if (n === undefined) break;
          c = n;
          words.addRawChar(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.get() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    // Literal except `$` expansion; the escape character only escapes `"`, `$` and itself.
    let result = '';
    const open = this.next()!;
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const p = this.peek();
      if (p === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        if (this.opts.rawQuotes) result += p;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next()!;
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === undefined) continue; // an escape at the end of the word is dropped
        if (q === '"' || q === '$' || q === this.escape) ch = this.next()!;
      }
      result += ch;
    }
  }

  private lookup(name: string): string | undefined {
    return this.env(name);
  }

  private processDollar(): string {
    this.next(); // $
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next(); // {
    const first = this.peek();
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    // Go reports `${X` as "unsupported modifier (\uFFFD)" (the EOF rune); the clearer message wins.
    if (ch === undefined) throw new LexError("syntax error: missing '}'");
    let chs = ch;
    if (ch === '}') {
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === ':' || ch === '+' || ch === '-' || ch === '?' || ch === '#' || ch === '%') {
      let nullIsUnset = false;
      if (ch === ':') {
        nullIsUnset = true;
        ch = this.next();
        chs += ch ?? '\uFFFD';
      }
      const raw = ch === '#' || ch === '%';
      if (nullIsUnset && raw) throw new LexError(`unsupported modifier (${chs}) in substitution`);
      let word: string;
      try {
        word = this.processStopOn('}', raw).result;
      } catch (err) {
        if (this.peek() === undefined) throw new LexError("syntax error: missing '}'");
        throw err;
      }
      const value = this.lookup(name);
      const set = value !== undefined;
      if (!set && this.opts.skipUnsetEnv) return `\${${name}${chs}${word}}`;
      const empty = !set || (nullIsUnset && value === '');
      switch (ch) {
        case '-':
          return empty ? word : value!;
        case '+':
          return empty ? '' : word;
        case '?':
          if (!set) throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
          if (nullIsUnset && value === '') throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
          return value!;
        case '%':
        case '#': {
          // %/# remove the shortest matching suffix/prefix, %%/## the longest.
          let pattern = word;
          let greedy = false;
          if (pattern.startsWith(ch)) {
            greedy = true;
            pattern = pattern.slice(1);
          }
          return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
        }
        default:
          throw new LexError(`unsupported modifier (${chs}) in substitution`);
      }
    }
    if (ch === '/') {
      const replaceAll = this.peek() === '/';
      if (replaceAll) this.next();
      let pattern: string;
      let replacement: string;
      try {
        pattern = this.processStopOn('/', true).result;
      } catch (err) {
        if (this.peek() === undefined) throw new LexError("syntax error: missing '/' in ${}");
        throw err;
      }
      try {
        replacement = this.processStopOn('}', true).result;
      } catch (err) {
        if (this.peek() === undefined) throw new LexError("syntax error: missing '}'");
        throw err;
      }
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
      const re = patternRegex(pattern, true, false, replaceAll);
      const v = value ?? '';
      if (replaceAll) return v.replace(re, () => replacement);
      const m = re.exec(v);
      return m ? v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length) : v;
    }
    throw new LexError(`unsupported modifier (${chs}) in substitution`);
  }

  private processName(): string {
    // A name is letters, digits and _; a leading digit reads digits only ($1, $10);
    // a special parameter ($@, $*, $#, $?, $-, $$, $!, $0) is one character.
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next()!;
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private processPossibleHeredoc(): string {
    // `<<` and the blanks after it stay glued to the next word, so `<< EOF` is one word.
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    for (let c = this.peek(); c === ' ' || c === '\t' || c === '\r'; c = this.peek()) space += this.next();
    return '<<' + space;
  }
}

/** Shell wildcard pattern (`*`, `?`, `\` escapes; no brackets) → RegExp, as lex.go's convertShellPatternToRegex. */
function patternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '.*' : '.*?';
  for (let i = 0; i < chars.length; i++) {
    const tok = chars[i]!;
    if (tok === '*') out += star;
    else if (tok === '?') out += '.';
    else if (tok === '\\') {
      const nx = chars[i + 1];
      // `\}` and `\/` inside ${} are escapes of the ${} syntax, not of the pattern.
      if (nx === '}' || nx === '/') continue;
      i++;
      if (nx !== '*' && nx !== '?' && nx !== '\\') {
        throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${nx ?? ''}'`);
      }
      out += '\\' + nx;
    } else if ('[]{}.+()|^$'.includes(tok)) out += '\\' + tok;
    else if (tok === '/' || tok === '-') out += tok;
    else out += tok;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

function reversePattern(pattern: string): string {
  // Reverse, keeping each `\x` escape pair in order.
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      out.unshift('\\' + chars[i + 1]);
      i += 2;
    } else {
      out.unshift(chars[i]!);
      i++;
    }
  }
  return out.join('');
}

const reverse = (s: string): string => Array.from(s).reverse().join('');

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  // Regexps cannot find the shortest rightmost match, so reverse both sides and trim a prefix.
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy));
}

/** Go's %q for the error texts that quote a word. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

function runLexer(word: string, env: EnvLookup, escape: string, opts: LexOptions): { result: string; words: string[] } {
  try {
    return new Lexer(word, env, escape, opts).run();
  } catch (err) {
    if (err instanceof LexError) {
      throw new InvalidParameter(`failed to process ${goQuote(word)}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * Docker's ProcessWord: expands variables and removes quotes and escapes, keeping whitespace.
 * Throws InvalidParameter (`failed to process "…": …`) on syntax errors and `${X:?msg}`.
 */
export function expandWord(word: string, env: EnvLookup, escape: EscapeChar = '\\'): string {
  return runLexer(word, env, escape, {}).result;
}

/**
 * Docker's ProcessWords: expands, then splits on whitespace that is neither quoted nor escaped.
 * Whitespace inside an expanded value splits too (`$X` with X="a b" gives two words); empty
 * words (`""`) are dropped, as in Docker.
 */
export function expandWords(s: string, env: EnvLookup, escape: EscapeChar = '\\'): string[] {
  return runLexer(s, env, escape, {}).words;
}

/** The lexer with Docker's internal switches (raw quotes/escapes, unset variables kept); for the parser. */
export function lexWords(s: string, env: EnvLookup, escape: string, opts: LexOptions): string[] {
  return runLexer(s, env, escape, opts).words;
}

const reWhitespace = /[\t\v\f\r ]+/;

/** The parser's split of FROM/COPY/ADD/VOLUME/EXPOSE shell-form arguments: on blanks, quotes ignored. */
export function splitArgs(rest: string): string[] {
  if (rest === '') return [];
  return rest.split(reWhitespace);
}

/**
 * The parser's quote-aware word split (moby's parseWords) for ENV, LABEL and ARG: splits on
 * unquoted, unescaped whitespace and keeps quotes and escapes in the words (expansion removes them).
 */
export function splitQuotedWords(rest: string, escape: EscapeChar): string[] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let buf = '';
  const chars = Array.from(rest);
  for (let pos = 0; pos <= chars.length; pos++) {
    const atEnd = pos === chars.length;
    let ch = atEnd ? '' : chars[pos]!;
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (atEnd) {
      if (blankOK || buf.length > 0) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue; // an escape at the end of the line is dropped
        buf += ch;
        pos++;
        ch = chars[pos]!;
      }
      buf += ch;
      continue;
    }
    // phase === 'quote'
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      buf += ch;
      ch = chars[pos]!;
    }
    buf += ch;
  }
  return words;
}

export interface RawKeyValue {
  key: string;
  value: string;
  /** '=' for `k=v`, '' for the legacy `ENV k v` form. */
  sep: '=' | '';
}

/**
 * ENV/LABEL arguments split as moby's parser does, not yet expanded. `ENV k v w` (first word
 * without `=`) is the legacy single pair whose value is the rest of the line.
 * Throws InvalidParameter with the parser's message for malformed input.
 */
export function splitKeyValues(rest: string, kind: 'ENV' | 'LABEL', escape: EscapeChar): RawKeyValue[] {
  const words = splitQuotedWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    const m = reWhitespace.exec(rest);
    if (!m) throw new InvalidParameter(`${kind} must have two arguments`);
    return [{ key: rest.slice(0, m.index), value: rest.slice(m.index + m[0].length), sep: '' }];
  }
  return words.map((word) => {
    const i = word.indexOf('=');
    if (i < 0) {
      throw new InvalidParameter(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`);
    }
    return { key: word.slice(0, i), value: word.slice(i + 1), sep: '=' };
  });
}

/**
 * ENV, LABEL or ARG arguments → expanded [key, value] pairs, in order. ARG gives undefined for a
 * name without `=`. Throws InvalidParameter with Docker's messages (`ENV requires at least one
 * argument`, `ENV names can not be blank`, `ENV must have two arguments`, `Syntax error - can't
 * find = in "x". …`) and for expansion errors.
 */
export function parseKeyValues(
  s: string,
  kind: 'ENV' | 'LABEL' | 'ARG',
  env: EnvLookup,
  escape: EscapeChar = '\\',
): [string, string | undefined][] {
  const raw = rawKeyValues(s, kind, escape);
  return raw.map(([k, v]) => [expandWord(k, env, escape), v === undefined ? undefined : expandWord(v, env, escape)]);
}

/** The unexpanded pairs, with the argument-count and blank-name checks; shared by validate(). */
export function rawKeyValues(s: string, kind: 'ENV' | 'LABEL' | 'ARG', escape: EscapeChar): [string, string | undefined][] {
  let pairs: [string, string | undefined][];
  if (kind === 'ARG') {
    pairs = splitQuotedWords(s, escape).map((w) => {
      const i = w.indexOf('=');
      return i < 0 ? [w, undefined] : [w.slice(0, i), w.slice(i + 1)];
    });
  } else {
    pairs = splitKeyValues(s, kind, escape).map((kv) => [kv.key, kv.value]);
  }
  if (pairs.length === 0) throw new InvalidParameter(`${kind} requires at least one argument`);
  for (const [k, v] of pairs) {
    // ARG checks the blank name only for `=value` words; a bare word cannot be blank anyway.
    if (k === '' && (kind !== 'ARG' || v !== undefined)) throw new InvalidParameter(`${kind} names can not be blank`);
  }
  return pairs;
}
