// Go's encoding/json as dockerd runs it on a request body, for its error texts: clients (and the
// conformance suite) see exactly what dockerd 20.10 says for a body it cannot decode.
//
// Two phases, as in Go:
//  1. Syntax (scanner.go): the first bad byte is `invalid character 'x' looking for beginning of
//     value` and its siblings; input that ends inside a value is `unexpected EOF` for a
//     json.Decoder (dockerd's usual reader; an empty body is plain `EOF`) and `unexpected end of
//     JSON input` for json.Unmarshal (filters), which also refuses bytes after the value.
//  2. Types (decode.go): the value is walked against the Go type it is decoded into
//     (types/go-wire-types.ts). A mismatch is `json: cannot unmarshal <json kind> into Go struct
//     field <innermost struct>.<JSON path from the top> of type <Go type>`, or `… into Go value of
//     type <T>` outside any struct. Go saves the first mismatch in document order and carries on;
//     an error from a type's own UnmarshalJSON (strslice) stops at once and wins.
// Unknown fields are ignored, `null` is always accepted, and field names match exactly or else
// case-insensitively, as in Go.
import type { GoType } from '../types/go-wire-types.ts';

/** A decode failure, with Go's text as its message. */
export class GoJsonError extends Error {
  /** 'syntax' (the JSON itself), 'eof' (nothing at all), or 'type' (a mismatch with the Go type). */
  readonly kind: 'syntax' | 'eof' | 'type';
  constructor(kind: 'syntax' | 'eof' | 'type', message: string) {
    super(message);
    this.kind = kind;
    this.name = 'GoJsonError';
  }
}

type Node =
  | { t: 'object'; members: [string, Node][] }
  | { t: 'array'; items: Node[] }
  | { t: 'string'; v: string }
  | { t: 'number'; raw: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' };

/** Go's quoteChar: the offending byte as the scanner names it. */
function quoteChar(s: string, i: number): string {
  let code = s.charCodeAt(i);
  // Go reads bytes: a non-ASCII character shows as its first UTF-8 byte taken as a rune.
  if (code > 0x7f) code = Buffer.from(String.fromCodePoint(s.codePointAt(i)!))[0]!;
  if (code === 0x27) return `'\\''`;
  if (code === 0x22) return `'"'`;
  const esc: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x5c: '\\\\' };
  if (esc[code]) return `'${esc[code]}'`;
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  if ((code >= 0x80 && code <= 0xa0) || code === 0xad) return `'\\u${code.toString(16).padStart(4, '0')}'`;
  return `'${String.fromCharCode(code)}'`;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Thrown at the end of input inside a value; the caller words it for Decoder or Unmarshal. */
class Truncated extends Error {}

/**
 * Go's scanner refuses nesting deeper than 10000 with this text; this recursive parser stops at
 * 1000 so that it never exhausts Node's stack (a RangeError would be a 500). No Docker body nests
 * past a handful of levels.
 */
const MAX_DEPTH = 1000;

class Scanner {
  i = 0;
  private depth = 0;
  readonly s: string;
  constructor(s: string) { this.s = s; }

  private bad(context: string): never {
    throw new GoJsonError('syntax', `invalid character ${quoteChar(this.s, this.i)} ${context}`);
  }

  private peek(): string {
    if (this.i >= this.s.length) throw new Truncated();
    return this.s[this.i]!;
  }

  skipSpace(): void {
    while (this.i < this.s.length && isSpace(this.s[this.i])) this.i++;
  }

  /** One value, from its first byte. */
  value(): Node {
    const c = this.peek();
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return { t: 'string', v: this.string() };
    if (c === '-' || isDigit(c)) return this.number();
    if (c === 't') return this.literal('true', { t: 'bool', v: true });
    if (c === 'f') return this.literal('false', { t: 'bool', v: false });
    if (c === 'n') return this.literal('null', { t: 'null' });
    return this.bad('looking for beginning of value');
  }

  private nest(): void {
    if (++this.depth > MAX_DEPTH) throw new GoJsonError('syntax', 'exceeded max depth');
  }

  private object(): Node {
    this.nest();
    this.i++;
    const members: [string, Node][] = [];
    this.skipSpace();
    if (this.peek() === '}') { this.i++; this.depth--; return { t: 'object', members }; }
    for (;;) {
      if (this.peek() !== '"') this.bad('looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      if (this.peek() !== ':') this.bad('after object key');
      this.i++;
      this.skipSpace();
      members.push([key, this.value()]);
      this.skipSpace();
      const c = this.peek();
      if (c === '}') { this.i++; this.depth--; return { t: 'object', members }; }
      if (c !== ',') this.bad('after object key:value pair');
      this.i++;
      this.skipSpace();
    }
  }

  private array(): Node {
    this.nest();
    this.i++;
    const items: Node[] = [];
    this.skipSpace();
    if (this.peek() === ']') { this.i++; this.depth--; return { t: 'array', items }; }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      const c = this.peek();
      if (c === ']') { this.i++; this.depth--; return { t: 'array', items }; }
      if (c !== ',') this.bad('after array element');
      this.i++;
      this.skipSpace();
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    for (;;) {
      const c = this.peek();
      if (c === '"') break;
      if (c.charCodeAt(0) < 0x20) this.bad('in string literal');
      if (c === '\\') {
        this.i++;
        const e = this.peek();
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            this.i++;
            if (!isHex(this.peek())) this.bad('in \\u hexadecimal character escape');
          }
        } else if (!'bfnrt\\/"'.includes(e)) this.bad('in string escape code');
      }
      this.i++;
    }
    this.i++;
    // The syntax is JSON's own by now, so JSON.parse unquotes it as Go would.
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }

  private number(): Node {
    const start = this.i;
    if (this.s[this.i] === '-') {
      this.i++;
      if (!isDigit(this.peek())) this.bad('in numeric literal');
    }
    if (this.s[this.i] === '0') this.i++;
    else while (isDigit(this.s[this.i])) this.i++;
    if (this.s[this.i] === '.') {
      this.i++;
      if (!isDigit(this.peek())) this.bad('after decimal point in numeric literal');
      while (isDigit(this.s[this.i])) this.i++;
    }
    if (this.s[this.i] === 'e' || this.s[this.i] === 'E') {
      this.i++;
      if (this.peek() === '+' || this.s[this.i] === '-') this.i++;
      if (!isDigit(this.peek())) this.bad('in exponent of numeric literal');
      while (isDigit(this.s[this.i])) this.i++;
    }
    return { t: 'number', raw: this.s.slice(start, this.i) };
  }

  private literal(word: string, node: Node): Node {
    for (let k = 0; k < word.length; k++) {
      if (this.peek() !== word[k]) this.bad(`in literal ${word} (expecting ${quoteChar(word, k)})`);
      this.i++;
    }
    return node;
  }
}

function parse(text: string, whole: boolean): Node {
  const sc = new Scanner(text);
  sc.skipSpace();
  if (sc.i >= text.length) {
    throw whole ? new GoJsonError('syntax', 'unexpected end of JSON input') : new GoJsonError('eof', 'EOF');
  }
  let node: Node;
  try {
    node = sc.value();
  } catch (e) {
    if (e instanceof Truncated) throw new GoJsonError('syntax', whole ? 'unexpected end of JSON input' : 'unexpected EOF');
    throw e;
  }
  // A Decoder stops after an object or array; a scalar needs one more byte to end, and that one
  // must be a space. Unmarshal wants nothing but spaces after any value.
  const scalar = node.t !== 'object' && node.t !== 'array';
  if (whole) sc.skipSpace();
  if ((whole || scalar) && sc.i < text.length && !isSpace(text[sc.i])) {
    throw new GoJsonError('syntax', `invalid character ${quoteChar(text, sc.i)} after top-level value`);
  }
  return node;
}

/** reflect's Type.String() for a GoType. */
export function goTypeName(t: GoType): string {
  if ('name' in t && t.name) return t.name;
  switch (t.kind) {
    case 'int': return `${t.unsigned ? 'u' : ''}int${t.bits}`;
    case 'float': return 'float64';
    case 'any': return 'interface {}';
    case 'slice': return `[${t.len ?? ''}]${goTypeName(t.elem)}`;
    case 'map': return `map[string]${goTypeName(t.elem)}`;
    case 'strslice': return 'strslice.StrSlice';
    default: return t.kind;
  }
}

const kindOf = (n: Node): string => (n.t === 'bool' ? 'bool' : n.t);

/** The walk of decode.go: the first mismatch in document order, unless a fatal one comes. */
class TypeWalk {
  saved: string | undefined;
  private struct: string | undefined;
  private stack: string[] = [];

  private message(value: string, type: string): string {
    if (this.struct !== undefined || this.stack.length) {
      return `json: cannot unmarshal ${value} into Go struct field ${this.struct}.${this.stack.join('.')} of type ${type}`;
    }
    return `json: cannot unmarshal ${value} into Go value of type ${type}`;
  }

  private save(value: string, t: GoType | string): void {
    this.saved ??= this.message(value, typeof t === 'string' ? t : goTypeName(t));
  }

  walk(n: Node, t: GoType): void {
    if (n.t === 'null' || t.kind === 'any') return;
    switch (t.kind) {
      case 'strslice':
        if (n.t === 'string') return;
        if (n.t === 'array' && n.items.every((x) => x.t === 'string' || x.t === 'null')) return;
        // StrSlice.UnmarshalJSON: not a []string, so it tries a string and returns that error
        throw new GoJsonError('type', this.message(kindOf(n), 'string'));
      case 'string':
      case 'bool':
        if (n.t !== t.kind) this.save(kindOf(n), t);
        return;
      case 'float':
        if (n.t !== 'number') this.save(kindOf(n), t);
        return;
      case 'int':
        if (n.t !== 'number') return this.save(kindOf(n), t);
        if (!intFits(n.raw, t.bits, t.unsigned ?? false)) this.save(`number ${n.raw}`, t);
        return;
      case 'slice':
        if (n.t !== 'array') return this.save(kindOf(n), t);
        for (const [k, item] of n.items.entries()) if (t.len === undefined || k < t.len) this.walk(item, t.elem);
        return;
      case 'map':
        if (n.t !== 'object') return this.save(kindOf(n), t);
        for (const [, v] of n.members) this.walk(v, t.elem);
        return;
      case 'struct': {
        if (n.t !== 'object') return this.save(kindOf(n), t);
        const names = Object.keys(t.fields);
        for (const [k, v] of n.members) {
          const f = k in t.fields ? k : names.find((x) => x.toLowerCase() === k.toLowerCase());
          if (f === undefined) continue;
          const saved = { struct: this.struct, depth: this.stack.length };
          this.struct = t.name.slice(t.name.lastIndexOf('.') + 1);
          this.stack.push(f);
          this.walk(v, t.fields[f]!);
          this.struct = saved.struct;
          this.stack.length = saved.depth;
        }
      }
    }
  }
}

function intFits(raw: string, bits: number, unsigned: boolean): boolean {
  if (!/^-?\d+$/.test(raw)) return false;
  const v = BigInt(raw);
  if (unsigned) return !raw.startsWith('-') && v < 1n << BigInt(bits);
  return v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits - 1);
}

function toJs(n: Node): unknown {
  switch (n.t) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of n.members) {
        // a key such as __proto__ must stay a plain data key, as JSON.parse keeps it
        Object.defineProperty(o, k, { value: toJs(v), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    case 'array': return n.items.map(toJs);
    case 'number': return Number(n.raw);
    case 'null': return null;
    default: return n.v;
  }
}

/**
 * Decodes a request body as dockerd's `json.NewDecoder(body).Decode(&v)` would, with v of Go type
 * `type`: throws a GoJsonError with Go's text, else returns the value as JSON.parse would.
 */
export function goDecode(text: string, type: GoType): unknown {
  return checked(parse(text, false), type);
}

/** As Go's `json.Unmarshal(data, &v)`: the whole input must be one value. */
export function goUnmarshal(text: string, type: GoType): unknown {
  return checked(parse(text, true), type);
}

function checked(node: Node, type: GoType): unknown {
  const w = new TypeWalk();
  w.walk(node, type);
  if (w.saved !== undefined) throw new GoJsonError('type', w.saved);
  return toJs(node);
}
