// Go text/template, as the Docker CLI runs `--format` templates: parse once, execute on data.
// Data is JSON-like: objects behave as Go maps (map[string]interface{}, as docker's inspect
// fallback sees them), arrays as slices, functions as methods taking the arguments that follow.
// A root "struct" (a list row) is an object whose missing fields are errors, as on docker's
// format contexts. Error messages follow Go's wording.

export type Fn = (...args: any[]) => unknown;

/** An argument of the wrong type: reported as Go does, without "error calling". */
class TemplateArgError extends Error {
  readonly index: number;
  constructor(message: string, index: number) { super(message); this.index = index; }
}

export class TemplateError extends Error {
  /** what the template printed before it failed (docker prints table headers up to the error) */
  partial = '';
}

// ---------------------------------------------------------------- lexer

type Tok =
  | 'text' | 'left' | 'right' | 'space' | 'ident' | 'field' | 'var' | 'dot' | 'string' | 'raw' | 'char'
  | 'number' | 'bool' | 'nil' | 'pipe' | 'lparen' | 'rparen' | 'declare' | 'assign' | 'comma' | 'keyword' | 'punct' | 'error' | 'eof';

interface Item { t: Tok; v: string; pos: number; line: number }

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);
const isSpaceCh = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
/** Go's %#U: U+007D '}' */
const uplus = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
const isAlnum = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);

/** Tokens of src; a lexing error becomes an 'error' token, raised when the parser reaches it
 * (so earlier parse errors win, as with Go's concurrent lexer). */
function lex(src: string, name: string): Item[] {
  const items: Item[] = [];
  try { lexInto(src, name, items); } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    items.push({ t: 'error', v: e.message, pos: src.length, line: 0 });
  }
  return items;
}

function lexInto(src: string, name: string, items: Item[]): void {
  let pos = 0;
  const lineAt = (p: number): number => 1 + (src.slice(0, p).match(/\n/g)?.length ?? 0);
  const fail = (msg: string, p: number): never => { throw new TemplateError(`template: ${name}:${lineAt(p)}: ${msg}`); };
  const emit = (t: Tok, start: number, end: number): void => { items.push({ t, v: src.slice(start, end), pos: start, line: lineAt(start) }); };
  let trimNext = false;
  // after a field, variable or identifier only these may follow (Go's atTerminator)
  const atTerminator = (): void => {
    const c = src[pos];
    if (c === undefined || isSpaceCh(c) || '.,|:()'.includes(c) || src.startsWith('}}', pos)) return;
    fail(`bad character ${uplus(c)}`, pos);
  };
  // a "…" string or '…' character constant: backslash escapes, no newline (Go's lexQuote, lexChar)
  const quoted = (q: string, what: string, t: Tok): void => {
    const start = pos++;
    while (src[pos] !== q) {
      if (src[pos] === '\\') pos++;
      if (src[pos] === undefined || src[pos] === '\n') fail(`unterminated ${what}`, start);
      pos++;
    }
    pos++; emit(t, start, pos);
  };
  while (pos <= src.length) {
    // text up to the next "{{"
    let i = src.indexOf('{{', pos);
    if (i < 0) i = src.length;
    let text = src.slice(pos, i);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    const leftTrim = i < src.length && src[i + 2] === '-' && isSpaceCh(src[i + 3]);
    if (leftTrim) text = text.replace(/[ \t\r\n]+$/, '');
    if (text) items.push({ t: 'text', v: text, pos, line: lineAt(pos) });
    trimNext = false;
    if (i >= src.length) break;
    pos = i + 2 + (leftTrim ? 2 : 0);
    // comment
    if (src.startsWith('/*', pos)) {
      const end = src.indexOf('*/', pos + 2);
      if (end < 0) fail('unclosed comment', i);
      pos = end + 2;
      if (isSpaceCh(src[pos]) && src[pos + 1] === '-' && src.startsWith('}}', pos + 2)) { trimNext = true; pos += 4; }
      else if (src.startsWith('}}', pos)) pos += 2;
      else fail('comment ends before closing delimiter', i);
      continue;
    }
    emit('left', i, i + 2);
    let parens = 0;
    for (;;) {
      if (isSpaceCh(src[pos]) && src[pos + 1] === '-' && src.startsWith('}}', pos + 2)) {
        if (parens) fail('unclosed left paren', pos);
        emit('right', pos + 2, pos + 4); pos += 4; trimNext = true; break;
      }
      if (src.startsWith('}}', pos)) {
        if (parens) fail('unclosed left paren', pos);
        emit('right', pos, pos + 2); pos += 2; break;
      }
      const c = src[pos];
      const start = pos;
      if (c === undefined) fail('unclosed action', start);
      else if (isSpaceCh(c)) { while (isSpaceCh(src[pos]) && !(src[pos + 1] === '-' && src.startsWith('}}', pos + 2))) pos++; if (pos === start) pos++; emit('space', start, pos); }
      else if (c === '=') { pos++; emit('assign', start, pos); }
      else if (c === ':') { if (src[pos + 1] !== '=') fail('expected :=', start); pos += 2; emit('declare', start, pos); }
      else if (c === '|') { pos++; emit('pipe', start, pos); }
      else if (c === '"') quoted('"', 'quoted string', 'string');
      else if (c === '`') {
        const end = src.indexOf('`', pos + 1);
        if (end < 0) fail('unterminated raw quoted string', start);
        pos = end + 1; emit('raw', start, pos);
      } else if (c === "'") quoted("'", 'character constant', 'char');
      else if (c === '$') {
        pos++; while (isAlnum(src[pos])) pos++; atTerminator(); emit('var', start, pos);
      } else if (c === '.' && !/[0-9]/.test(src[pos + 1] ?? '')) {
        pos++;
        if (!isAlnum(src[pos])) { emit('dot', start, pos); } else { while (isAlnum(src[pos])) pos++; atTerminator(); emit('field', start, pos); }
      } else if (/[0-9+\-.]/.test(c)) {
        const m = /^[+-]?(0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|([0-9_]*\.?[0-9_]*)([eE][+-]?[0-9_]+)?)i?/.exec(src.slice(pos))!;
        pos += Math.max(m[0].length, 1);
        if (isAlnum(src[pos])) fail(`bad number syntax: "${src.slice(start, pos + 1)}"`, start);
        emit('number', start, pos);
      } else if (isAlnum(c)) {
        while (isAlnum(src[pos])) pos++;
        atTerminator();
        const w = src.slice(start, pos);
        emit(KEYWORDS.has(w) ? 'keyword' : w === 'true' || w === 'false' ? 'bool' : w === 'nil' ? 'nil' : 'ident', start, pos);
      } else if (c === '(') { pos++; parens++; emit('lparen', start, pos); }
      else if (c === ')') { pos++; if (--parens < 0) fail(`unexpected right paren`, start); emit('rparen', start, pos); }
      else if (c === ',') { pos++; emit('comma', start, pos); }
      else if (c.charCodeAt(0) < 0x7f && c.charCodeAt(0) >= 0x20) { pos++; emit('punct', start, pos); }
      else fail(`unrecognized character in action: ${uplus(c)}`, start);
    }
  }
  items.push({ t: 'eof', v: '', pos: src.length, line: lineAt(src.length) });
}

// ---------------------------------------------------------------- parse tree

type Node =
  | { k: 'text'; text: string }
  | { k: 'action'; pipe: Pipe; pos: number }
  | { k: 'if' | 'with'; pipe: Pipe; list: Node[]; elseList?: Node[]; pos: number }
  | { k: 'range'; pipe: Pipe; list: Node[]; elseList?: Node[]; pos: number }
  | { k: 'break' | 'continue'; pos: number }
  | { k: 'template'; name: string; pipe?: Pipe; pos: number };

interface Pipe { decl: string[]; isAssign: boolean; cmds: Cmd[]; pos: number }
interface Cmd { args: Arg[]; pos: number }
type Arg =
  | { k: 'field'; idents: string[]; pos: number }
  | { k: 'var'; name: string; idents: string[]; pos: number }
  | { k: 'chain'; node: Arg; idents: string[]; pos: number }
  | { k: 'ident'; name: string; pos: number }
  | { k: 'dot'; pos: number }
  | { k: 'nil'; pos: number }
  | { k: 'bool'; value: boolean; pos: number }
  | { k: 'number'; value: number; text: string; pos: number }
  | { k: 'string'; value: string; text: string; pos: number }
  | { k: 'pipe'; pipe: Pipe; pos: number };

function argString(a: Arg): string {
  switch (a.k) {
    case 'field': return a.idents.map((i) => `.${i}`).join('');
    case 'var': return [a.name, ...a.idents].join('.');
    case 'chain': return `${a.node.k === 'pipe' ? argString(a.node) : argString(a.node)}${a.idents.map((i) => `.${i}`).join('')}`;
    case 'ident': return a.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(a.value);
    case 'number': case 'string': return a.text;
    case 'pipe': return `(${pipeString(a.pipe)})`;
  }
}
const cmdString = (c: Cmd): string => c.args.map(argString).join(' ');
function pipeString(p: Pipe): string {
  const d = p.decl.length ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return d + p.cmds.map(cmdString).join(' | ');
}

function unquote(text: string, pos: () => never): string {
  if (text.startsWith('`')) return text.slice(1, -1);
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') { out += c; continue; }
    const e = body[++i];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    if (e !== undefined && e in simple) { out += simple[e]; continue; }
    const hex = (n: number): string => { const h = body.slice(i + 1, i + 1 + n); if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== n) pos(); i += n; return h; };
    if (e === 'x') { out += Buffer.from([parseInt(hex(2), 16)]).toString('latin1'); continue; }
    if (e === 'u') { out += String.fromCodePoint(parseInt(hex(4), 16)); continue; }
    if (e === 'U') { out += String.fromCodePoint(parseInt(hex(8), 16)); continue; }
    if (e !== undefined && /[0-7]/.test(e)) { const o = body.slice(i, i + 3); if (!/^[0-7]{3}$/.test(o)) pos(); out += String.fromCharCode(parseInt(o, 8)); i += 2; continue; }
    pos();
  }
  return out;
}

function parseNumber(text: string): number {
  let t = text.replace(/_/g, '').replace(/i$/, '');
  let sign = 1;
  if (t[0] === '-' || t[0] === '+') { if (t[0] === '-') sign = -1; t = t.slice(1); }
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return sign * parseInt(t.slice(2), 16);
  if (/^0[bB][01]+$/.test(t)) return sign * parseInt(t.slice(2), 2);
  if (/^0[oO]?[0-7]+$/.test(t)) return sign * parseInt(t.replace(/^0[oO]?/, ''), 8);
  if (t === '' || !/^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return NaN;
  return sign * Number(t);
}

class Parser {
  private i = 0;
  private vars: string[][] = [['$']];
  private readonly items: Item[];
  private readonly name: string;
  private readonly funcs: Set<string>;
  constructor(items: Item[], name: string, funcs: Set<string>) { this.items = items; this.name = name; this.funcs = funcs; }

  private fail(msg: string, it: Item = this.items[Math.min(this.i, this.items.length - 1)]!): never {
    throw new TemplateError(`template: ${this.name}:${it.line}: ${msg}`);
  }
  private next(): Item { const it = this.peek(); this.i++; return it; }
  private peek(): Item {
    const it = this.items[this.i]!;
    if (it.t === 'error') throw new TemplateError(it.v);
    return it;
  }
  private nextNonSpace(): Item { let it = this.next(); while (it.t === 'space') it = this.next(); return it; }
  private peekNonSpace(): Item { const save = this.i; const it = this.nextNonSpace(); this.i = save; return it; }
  private describe(it: Item): string {
    if (it.t === 'eof') return 'EOF';
    if (it.t === 'space') return 'space';
    if (it.t === 'left') return '"{{"';
    if (it.t === 'right') return '"}}"';
    // Go's item.String(): keywords, "." and "nil" as <x>; long values cut as %.10q...
    if (it.t === 'keyword' || it.t === 'dot' || it.t === 'nil') return `<${it.v}>`;
    if ([...it.v].length > 10) return `${goQuote([...it.v].slice(0, 10).join(''))}...`;
    return goQuote(it.v);
  }

  parse(): Node[] {
    const { list, end } = this.itemList();
    if (end) this.fail(`unexpected ${end}`);
    return list;
  }

  /** Nodes up to {{end}}/{{else}} (returned as `end`) or EOF. */
  private itemList(inBlock = false): { list: Node[]; end?: string; endItem?: Item } {
    const list: Node[] = [];
    for (;;) {
      const it = this.next();
      if (it.t === 'eof') { if (inBlock) this.fail('unexpected EOF', it); return { list }; }
      if (it.t === 'text') { list.push({ k: 'text', text: it.v }); continue; }
      // it.t === 'left'
      const kw = this.peekNonSpace();
      if (kw.t === 'keyword' && (kw.v === 'end' || kw.v === 'else')) {
        this.nextNonSpace();
        if (!inBlock) this.fail(`unexpected {{${kw.v}}}`, kw);
        return { list, end: kw.v, endItem: kw };
      }
      list.push(this.action());
    }
  }

  private expectRight(ctx: string): void {
    const it = this.nextNonSpace();
    if (it.t !== 'right') this.fail(`unexpected ${this.describe(it)} in ${ctx}`, it);
  }

  private action(): Node {
    const it = this.peekNonSpace();
    if (it.t === 'keyword') {
      this.nextNonSpace();
      switch (it.v) {
        case 'if': case 'with': case 'range': return this.control(it.v, it);
        case 'break': case 'continue':
          if (!this.rangeDepth) this.fail(`{{${it.v}}} outside {{range}}`, it);
          this.expectRight(`{{${it.v}}}`);
          return { k: it.v, pos: it.pos };
        case 'template': {
          const n = this.nextNonSpace();
          if (n.t !== 'string' && n.t !== 'raw') this.fail(`unexpected ${this.describe(n)} in template clause`, n);
          const nm = unquote(n.v, () => this.fail('bad string', n));
          const p = this.peekNonSpace();
          // Go places the node at its name
          if (p.t === 'right') { this.nextNonSpace(); return { k: 'template', name: nm, pos: n.pos }; }
          return { k: 'template', name: nm, pipe: this.pipeline('template', 'right'), pos: n.pos };
        }
        default: this.fail(`unexpected <${it.v}> in command`, it);
      }
    }
    return { k: 'action', pipe: this.pipeline('command', 'right'), pos: it.pos };
  }

  private rangeDepth = 0;

  private control(kind: 'if' | 'with' | 'range', kwItem: Item): Node {
    this.vars.push([]);
    const pipe = this.pipeline(kind, 'right');
    if (kind === 'range') this.rangeDepth++;
    const body = this.itemList(true);
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | undefined;
    if (body.end === 'else') {
      const nxt = this.peekNonSpace();
      if ((kind === 'if' && nxt.t === 'keyword' && nxt.v === 'if') || (kind === 'with' && nxt.t === 'keyword' && nxt.v === 'with')) {
        // "{{else if ...}}" is "{{else}}{{if ...}}...{{end}}" sharing this {{end}}
        this.nextNonSpace();
        elseList = [this.control(kind, nxt)];
      } else {
        this.expectRight('else');
        this.vars.push([]);
        const e = this.itemList(true);
        this.vars.pop();
        if (e.end !== 'end') this.fail(`expected end; found {{${e.end}}}`, e.endItem);
        this.expectRight('end');
        elseList = e.list;
      }
    } else {
      this.expectRight('end');
    }
    this.vars.pop();
    return { k: kind, pipe, list: body.list, elseList, pos: kwItem.pos };
  }

  private isDeclared(name: string): boolean { return this.vars.some((s) => s.includes(name)); }

  private pipeline(ctx: string, end: 'right' | 'rparen'): Pipe {
    const startItem = this.peekNonSpace();
    const pipe: Pipe = { decl: [], isAssign: false, cmds: [], pos: startItem.pos };
    // declarations: $x := / $x = / $i, $e :=
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.t === 'var') {
      const after = this.nextNonSpace();
      if (after.t === 'declare' || after.t === 'assign') {
        pipe.decl.push(v.v); pipe.isAssign = after.t === 'assign';
      } else if (after.t === 'comma' && ctx === 'range') {
        const v2 = this.nextNonSpace();
        const op = this.nextNonSpace();
        if (v2.t === 'var' && op.t === 'comma') this.fail('too many declarations in range', op);
        if (v2.t !== 'var' || (op.t !== 'declare' && op.t !== 'assign')) this.fail(`range can only initialize variables`, v2);
        pipe.decl.push(v.v, v2.v); pipe.isAssign = op.t === 'assign';
      } else this.i = save;
    } else this.i = save;
    if (pipe.decl.length) {
      if (pipe.isAssign) { for (const d of pipe.decl) if (!this.isDeclared(d)) this.fail(`undefined variable "${d}"`, v); }
      else this.vars[this.vars.length - 1]!.push(...pipe.decl);
    }
    const starts = new Set<Tok>(['bool', 'char', 'dot', 'field', 'ident', 'number', 'nil', 'raw', 'string', 'var', 'lparen']);
    for (;;) {
      const it = this.peekNonSpace();
      if ((end === 'right' && it.t === 'right') || (end === 'rparen' && it.t === 'rparen')) {
        this.nextNonSpace();
        if (!pipe.cmds.length) this.fail(`missing value for ${ctx}`, it);
        pipe.cmds.slice(1).forEach((c, i) => {
          if (['bool', 'dot', 'nil', 'number', 'string'].includes(c.args[0]!.k)) this.fail(`non executable command in pipeline stage ${i + 2}`, it);
        });
        return pipe;
      }
      if (!starts.has(it.t)) this.fail(`unexpected ${this.describe(it)} in ${ctx}`, it);
      pipe.cmds.push(this.command());
    }
  }

  private command(): Cmd {
    const cmd: Cmd = { args: [], pos: this.peekNonSpace().pos };
    for (;;) {
      this.skipSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const it = this.next();
      if (it.t === 'space') continue;
      if (it.t === 'right' || it.t === 'rparen') this.i--;
      else if (it.t !== 'pipe') this.fail(`unexpected ${this.describe(it)} in operand`, it);
      break;
    }
    if (!cmd.args.length) this.fail('empty command');
    return cmd;
  }

  private skipSpace(): void { while (this.peek().t === 'space') this.next(); }

  private operand(): Arg | undefined {
    const term = this.term();
    if (!term) return undefined;
    if (this.peek().t !== 'field') return term;
    const idents: string[] = [];
    // Go places a chain at its first trailing field (errors say ":1:9" for .Config.Nope)
    const pos = this.peek().pos;
    while (this.peek().t === 'field') idents.push(this.next().v.slice(1));
    if (term.k === 'field') return { k: 'field', idents: [...term.idents, ...idents], pos };
    if (term.k === 'var') return { k: 'var', name: term.name, idents: [...term.idents, ...idents], pos };
    if (['bool', 'string', 'number', 'nil', 'dot'].includes(term.k)) this.fail(`unexpected . after term ${goQuote(argString(term))}`);
    return { k: 'chain', node: term, idents, pos };
  }

  private term(): Arg | undefined {
    const it = this.next();
    switch (it.t) {
      case 'ident':
        if (!this.funcs.has(it.v)) this.fail(`function ${goQuote(it.v)} not defined`, it);
        return { k: 'ident', name: it.v, pos: it.pos };
      case 'dot': return { k: 'dot', pos: it.pos };
      case 'nil': return { k: 'nil', pos: it.pos };
      case 'var': {
        const [name, ...idents] = it.v.split('.');
        if (!this.isDeclared(name!)) this.fail(`undefined variable ${goQuote(name!)}`, it);
        return { k: 'var', name: name!, idents, pos: it.pos };
      }
      case 'field': return { k: 'field', idents: [it.v.slice(1)], pos: it.pos };
      case 'bool': return { k: 'bool', value: it.v === 'true', pos: it.pos };
      case 'number': {
        const n = parseNumber(it.v);
        if (Number.isNaN(n)) this.fail(`illegal number syntax: ${goQuote(it.v)}`, it);
        return { k: 'number', value: n, text: it.v, pos: it.pos };
      }
      case 'char': {
        const s = unquote(`"${it.v.slice(1, -1).replace(/"/g, '\\"')}"`, () => this.fail(`malformed character constant: ${it.v}`, it));
        if ([...s].length !== 1) this.fail(`malformed character constant: ${it.v}`, it);
        return { k: 'number', value: s.codePointAt(0) ?? 0, text: it.v, pos: it.pos };
      }
      case 'string': case 'raw':
        return { k: 'string', value: unquote(it.v, () => this.fail(`invalid syntax`, it)), text: it.v, pos: it.pos };
      case 'lparen': return { k: 'pipe', pipe: this.pipeline('parenthesized pipeline', 'rparen'), pos: it.pos };
      default:
        this.i--;
        return undefined;
    }
  }
}

// ---------------------------------------------------------------- execution

/** Marks a value that is not there (a missing map key): prints "<no value>". */
const MISSING: unique symbol = Symbol('no value');
class BreakSignal { readonly cont: boolean; constructor(cont: boolean) { this.cont = cont; } }

export interface ExecOptions {
  /** Extra functions (docker's json, split, …) — names must have been given at parse time. */
  funcs?: Record<string, Fn>;
  /** 'error': a missing map key is an error (docker inspect's raw-JSON fallback). */
  missingKey?: 'default' | 'error';
  /** The root object is a struct of this Go type: a missing field is an error naming it. */
  rootType?: string;
  /** The root struct's fields are methods (docker's list contexts): arguments to one are a count error. */
  methods?: boolean;
  /** The Go struct type of a nested object (undefined: a map), so a missing field is an error there too. */
  structType?: (v: object) => string | undefined;
}

/** A method or function parameter type the engine checks as Go's evalArg does. */
type ArgKind = 'string' | 'int';

export const isNil = (v: unknown): boolean => v === null || v === undefined || v === MISSING;
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** Go's notion of "true": non-zero, non-empty, non-nil. */
export function truth(v: unknown): boolean {
  if (isNil(v)) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

export function goTypeName(v: unknown): string {
  if (isNil(v)) return 'interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'function') return 'func';
  return 'map[string]interface {}';
}

class State {
  vars: { name: string; value: unknown }[];
  out = '';
  node?: { pos: number; str: string };
  /**
   * Whether dot has a concrete Go type (the root, a {{with}} value, elements of a function's
   * slice) rather than interface {} (elements of JSON arrays and maps): Go names it in
   * "can't evaluate field X in type T".
   */
  private dotTyped = true;
  /** Whether the last field read gave a concrete type (a struct field or method) or interface {} (a map entry). */
  private lastTyped = true;
  private readonly t: Template;
  readonly root: unknown;
  private readonly o: ExecOptions;
  private readonly funcs: Record<string, Fn>;
  constructor(t: Template, root: unknown, o: ExecOptions, funcs: Record<string, Fn>) {
    this.t = t; this.root = root; this.o = o; this.funcs = funcs;
    this.vars = [{ name: '$', value: root }];
  }

  errorf(msg: string): never {
    if (!this.node) throw new TemplateError(`template: ${this.t.name}: ${msg}`);
    const text = this.t.src.slice(0, this.node.pos);
    const nl = text.lastIndexOf('\n');
    const line = 1 + (text.match(/\n/g)?.length ?? 0);
    const col = nl < 0 ? this.node.pos : this.node.pos - nl - 1;
    const ctx = this.node.str;
    throw new TemplateError(`template: ${this.t.name}:${line}:${col}: executing ${goQuote(this.t.name)} at <${ctx}>: ${msg}`);
  }
  at(pos: number, str: string): void { this.node = { pos, str }; }

  walk(dot: unknown, list: Node[]): void {
    for (const n of list) this.walkNode(dot, n);
  }

  private walkTyped(dot: unknown, list: Node[], typed: boolean): void {
    const save = this.dotTyped;
    this.dotTyped = typed;
    try { this.walk(dot, list); } finally { this.dotTyped = save; }
  }

  private walkNode(dot: unknown, n: Node): void {
    switch (n.k) {
      case 'text': this.out += n.text; return;
      case 'action': {
        const v = this.evalPipe(dot, n.pipe);
        if (!n.pipe.decl.length) this.out += this.printValue(v, n.pipe);
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipe(dot, n.pipe);
        if (truth(v) && n.k === 'with') this.walkTyped(v, n.list, true);
        else if (truth(v)) this.walk(dot, n.list);
        else if (n.elseList) this.walk(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range': return this.walkRange(dot, n);
      case 'break': case 'continue': throw new BreakSignal(n.k === 'continue');
      case 'template':
        this.at(n.pos, `{{template ${goQuote(n.name)}${n.pipe ? ` ${pipeString(n.pipe)}` : ''}}}`);
        this.errorf(`template ${goQuote(n.name)} not defined`);
    }
  }

  private walkRange(dot: unknown, n: Extract<Node, { k: 'range' }>): void {
    const mark = this.vars.length;
    const v = this.evalPipe(dot, n.pipe);
    // evalPipe declared the range variables with the whole value; the loop rebinds them
    const pairs: [unknown, unknown][] = [];
    if (Array.isArray(v)) v.forEach((e, i) => pairs.push([i, e]));
    else if (isMap(v)) for (const k of Object.keys(v).sort()) pairs.push([k, v[k]]);
    else if (typeof v === 'number' && Number.isInteger(v)) for (let i = 0; i < v; i++) pairs.push([i, i]);
    else if (!isNil(v)) { this.at(n.pipe.pos, pipeString(n.pipe)); this.errorf(`range can't iterate over ${this.printValue(v)}`); }
    const decl = n.pipe.decl;
    // a function's result is a typed slice ([]string from split); JSON arrays hold interface {}
    const typed = n.pipe.cmds.at(-1)?.args[0]?.k === 'ident';
    for (const [k, e] of pairs) {
      if (decl.length === 1) this.setVar(decl[0]!, typeof v === 'number' ? k : e, n.pipe.isAssign, mark);
      if (decl.length === 2) { this.setVar(decl[0]!, k, n.pipe.isAssign, mark); this.setVar(decl[1]!, e, n.pipe.isAssign, mark); }
      const inner = this.vars.length;
      try { this.walkTyped(e, n.list, typed); } catch (err) {
        if (!(err instanceof BreakSignal)) throw err;
        this.vars.length = inner;
        if (!err.cont) break;
      }
      this.vars.length = inner;
    }
    if (!pairs.length && n.elseList) this.walk(dot, n.elseList);
    this.vars.length = mark;
  }

  private setVar(name: string, value: unknown, assign: boolean, mark: number): void {
    if (assign) {
      for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) { this.vars[i]!.value = value; return; }
    }
    for (let i = this.vars.length - 1; i >= mark; i--) if (this.vars[i]!.name === name) { this.vars[i]!.value = value; return; }
    this.vars.push({ name, value });
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  evalPipe(dot: unknown, p: Pipe): unknown {
    let v: unknown = MISSING;
    let first = true;
    for (const c of p.cmds) {
      v = this.evalCommand(dot, c, first ? NO_FINAL : v);
      first = false;
    }
    if (p.decl.length) {
      if (p.isAssign) for (const d of p.decl) this.setVar(d, v, true, 0);
      else for (const d of p.decl) this.vars.push({ name: d, value: v });
    }
    return v;
  }

  private evalCommand(dot: unknown, c: Cmd, final: unknown): unknown {
    const first = c.args[0]!;
    const rest = c.args.slice(1);
    this.at(first.pos, cmdString(c));
    switch (first.k) {
      case 'field':
        this.at(first.pos, argString(first));
        return this.evalFieldChain(dot, dot, first, first.idents, rest, final, this.dotTyped);
      case 'var': {
        this.at(first.pos, argString(first));
        const v = this.varValue(first.name);
        if (!first.idents.length) { this.notAFunction(rest, final); return v; }
        return this.evalFieldChain(dot, v, first, first.idents, rest, final, true);
      }
      case 'chain': {
        // Go does not place field reads: errors point at the last node the pipeline evaluated
        this.at(first.pos, argString(first));
        const v = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, v, first, first.idents, rest, final, true);
      }
      case 'ident': return this.evalFunction(dot, first, c, rest, final);
      case 'pipe': this.notAFunction(rest, final); return this.evalPipe(dot, first.pipe);
      case 'nil': this.errorf('nil is not a command');
    }
    this.notAFunction(rest, final);
    return this.evalArg(dot, first);
  }

  private notAFunction(args: Arg[], final: unknown): void {
    if (args.length || final !== NO_FINAL) this.errorf(`can't give argument to non-function ${argString(this.cmdFirstOrDot(args))}`);
  }
  private cmdFirstOrDot(args: Arg[]): Arg { return args[0] ?? { k: 'dot', pos: 0 }; }

  evalArg(dot: unknown, a: Arg): unknown {
    this.at(a.pos, argString(a));
    switch (a.k) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'bool': case 'number': case 'string': return a.value;
      case 'field': return this.evalFieldChain(dot, dot, a, a.idents, [], NO_FINAL, this.dotTyped);
      case 'var': { const v = this.varValue(a.name); return a.idents.length ? this.evalFieldChain(dot, v, a, a.idents, [], NO_FINAL, true) : v; }
      case 'chain': { const v = this.evalArg(dot, a.node); return this.evalFieldChain(dot, v, a, a.idents, [], NO_FINAL, true); }
      case 'pipe': return this.evalPipe(dot, a.pipe);
      case 'ident': return this.evalFunction(dot, a, { args: [a], pos: a.pos }, [], NO_FINAL);
    }
  }

  private evalFieldChain(dot: unknown, recv: unknown, node: Arg, idents: string[], args: Arg[], final: unknown, typed: boolean): unknown {
    let v = recv;
    for (let i = 0; i < idents.length; i++) {
      const last = i === idents.length - 1;
      v = this.evalField(dot, idents[i]!, node, last ? args : [], last ? final : NO_FINAL, v, typed);
      typed = this.lastTyped;
    }
    return v;
  }

  /** Go's evalField (which, unlike the other evaluators, does not move the error position). */
  private evalField(dot: unknown, name: string, node: Arg, args: Arg[], final: unknown, recv: unknown, typed: boolean): unknown {
    this.lastTyped = true;
    if (recv === MISSING || recv === undefined) {
      if (this.o.missingKey === 'error') this.errorf(`nil data; no entry for key ${goQuote(name)}`);
      return MISSING;
    }
    if (recv === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 0 || final !== NO_FINAL;
    if (isMap(recv) || typeof recv === 'function') {
      const own = Object.prototype.hasOwnProperty.call(recv, name);
      const v = own ? (recv as Record<string, unknown>)[name] : undefined;
      if (typeof v === 'function') return this.callMethod(dot, name, v as Fn, node, args, final, recv);
      const isRoot = this.o.rootType !== undefined && recv === this.root;
      const structName = isRoot ? this.o.rootType : this.o.structType?.(recv);
      const isStruct = structName !== undefined;
      if (!own) {
        if (isStruct) this.errorf(`can't evaluate field ${name} in type ${structName}`);
        if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
        if (this.o.missingKey === 'error') this.errorf(`map has no entry for key ${goQuote(name)}`);
        return MISSING;
      }
      if (hasArgs && isRoot && this.o.methods) this.errorf(`wrong number of args for ${name}: want 0 got ${args.length + (final !== NO_FINAL ? 1 : 0)}`);
      if (hasArgs) this.errorf(isStruct ? `${name} has arguments but cannot be invoked as function` : `${name} is not a method but has arguments`);
      // a map[string]interface {} entry is an interface {}; a struct field has its own type
      this.lastTyped = isStruct;
      return v;
    }
    return this.errorf(`can't evaluate field ${name} in type ${typed ? goTypeName(recv) : 'interface {}'}`);
  }

  /** A method with arguments (docker's `Label "key"`): its parameters are strings unless tagged `argKinds`. */
  private callMethod(dot: unknown, name: string, fn: Fn, node: Arg, args: Arg[], final: unknown, recv: unknown): unknown {
    const n = args.length + (final !== NO_FINAL ? 1 : 0);
    if (fn.length !== n) this.errorf(`wrong number of args for ${name}: want ${fn.length} got ${n}`);
    const kinds = (fn as Fn & { argKinds?: (ArgKind | undefined)[] }).argKinds ?? Array<ArgKind>(fn.length).fill('string');
    const argv = args.map((a, i) => this.evalTypedArg(dot, a, kinds[i]));
    if (final !== NO_FINAL) argv.push(this.validateType(final, kinds[argv.length]));
    try { return fn.apply(recv, argv.map(unmissing)); } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(node.pos, argString(node));
      return this.errorf(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  /** Go's evalArg for a parameter of a known type: literals are checked by their node, values by their type. */
  private evalTypedArg(dot: unknown, a: Arg, kind: ArgKind | undefined): unknown {
    if (!kind) return this.evalArg(dot, a);
    this.at(a.pos, argString(a));
    switch (a.k) {
      case 'nil': return this.errorf(`cannot assign nil to ${kind}`);
      case 'string': if (kind === 'string') return a.value; break;
      // Go's NumberNode is an int whenever its value is integral (1.0 and 'a' too)
      case 'number': if (kind === 'int' && Number.isInteger(a.value)) return a.value; break;
      case 'bool': break;
      default: return this.validateType(this.evalArg(dot, a), kind);
    }
    return this.errorf(`expected ${kind === 'int' ? 'integer' : 'string'}; found ${argString(a)}`);
  }

  /** Go's validateType for a value given to a typed parameter. */
  private validateType(v: unknown, kind: ArgKind | undefined): unknown {
    if (!kind) return v;
    if (v === MISSING || v === undefined) this.errorf(`invalid value; expected ${kind}`);
    const ok = kind === 'string' ? typeof v === 'string' : typeof v === 'number' && Number.isInteger(v);
    if (!ok) this.errorf(`wrong type for value; expected ${kind}; got ${v === null ? 'interface {}' : goTypeName(v)}`);
    return v;
  }

  private evalFunction(dot: unknown, id: Extract<Arg, { k: 'ident' }>, c: Cmd, args: Arg[], final: unknown): unknown {
    const name = id.name;
    // Go checks the count at the function's name, before evaluating any argument
    this.at(id.pos, id.name);
    const count = args.length + (final !== NO_FINAL ? 1 : 0);
    // and/or evaluate lazily, stopping at the first deciding argument
    if (name === 'and' || name === 'or') {
      if (count < 1) this.errorf(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const a of args) {
        v = this.evalArg(dot, a);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== NO_FINAL) v = final;
      return v;
    }
    const fn = this.funcs[name];
    if (!fn) this.errorf(`${goQuote(name)} is not a defined function`);
    const min = (fn as Fn & { minArgs?: number }).minArgs ?? fn.length;
    const variadic = (fn as Fn & { variadic?: boolean }).variadic ?? false;
    if (variadic ? count < min : count !== fn.length) {
      this.errorf(`wrong number of args for ${name}: want ${variadic ? 'at least ' : ''}${min} got ${count}`);
    }
    const kinds: (ArgKind | undefined)[] = [];
    for (const i of (fn as Fn & { intArgs?: number[] }).intArgs ?? []) kinds[i] = 'int';
    for (const i of (fn as Fn & { stringArgs?: number[] }).stringArgs ?? []) kinds[i] = 'string';
    // each argument is evaluated and checked in turn, as Go's evalCall does
    const argv = args.map((a, i) => this.evalTypedArg(dot, a, kinds[i]));
    if (final !== NO_FINAL) argv.push(this.validateType(final, kinds[argv.length]));
    this.at(id.pos, cmdString(c));
    if (name === 'call' && typeof argv[0] !== 'function') {
      // Go names the callee by its node: "non-function .Name of type string"
      const callee = args[0] ? argString(args[0]) : '';
      this.errorf(`error calling call: ${isNil(argv[0]) ? 'call of nil' : `non-function ${callee} of type ${goTypeName(argv[0])}`}`);
    }
    try { return fn(...argv.map(unmissing)); } catch (e) {
      if (e instanceof TemplateError) throw e;
      if (e instanceof TemplateArgError) {
        const a = args[e.index];
        if (a) this.at(a.pos, argString(a));
        this.errorf(e.message);
      }
      return this.errorf(`error calling ${name}: ${(e as Error).message}`);
    }
  }

  printValue(v: unknown, p?: Pipe): string {
    // a JSON null is a nil interface{}: Go's pipeline digs it down to "no value"
    if (v === MISSING || v === undefined || v === null) return '<no value>';
    if (typeof v === 'function' && p) { this.errorf(`can't print ${pipeString(p)} of type func`); }
    return formatV(v);
  }
}

const NO_FINAL: unique symbol = Symbol('no final');
const unmissing = (v: unknown): unknown => (v === MISSING ? undefined : v);

export class Template {
  private readonly tree: Node[];
  readonly src: string;
  readonly name: string;
  private readonly funcs: Record<string, Fn>;
  constructor(src: string, funcs: Record<string, Fn>, name = '') {
    this.src = src; this.funcs = funcs; this.name = name;
    const names = new Set([...Object.keys(BUILTINS), 'and', 'or', ...Object.keys(funcs)]);
    this.tree = new Parser(lex(src, name), name, names).parse();
  }

  /** Runs the template on data; extra funcs replace same-named ones (docker's header functions). */
  execute(data: unknown, o: ExecOptions = {}): string {
    const st = new State(this, data, o, { ...BUILTINS, ...this.funcs, ...o.funcs });
    rawNumbers = o.missingKey === 'error';
    try { st.walk(data, this.tree); } catch (e) {
      if (e instanceof TemplateError) e.partial = st.out;
      throw e;
    } finally { rawNumbers = false; }
    return st.out;
  }
}

/** Parses with Go's builtins plus the given functions. Throws TemplateError ("template: :1: …"). */
export function parse(src: string, funcs: Record<string, Fn> = {}, name = ''): Template {
  return new Template(src, funcs, name);
}

// ---------------------------------------------------------------- builtins

function tag<F extends Fn>(fn: F, o: { minArgs?: number; variadic?: boolean; stringArgs?: number[]; intArgs?: number[] }): F {
  return Object.assign(fn, o);
}

function cmpKind(v: unknown): string {
  if (isNil(v)) return 'nil';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return 'other';
}

/** Set while running in docker inspect's raw-JSON mode, where numbers are json.Number strings
 * (so they also compare with strings by their text). Execution is synchronous. */
let rawNumbers = false;

function eq1(a: unknown, b: unknown): boolean {
  if (rawNumbers && typeof a !== typeof b && (typeof a === 'number' || typeof b === 'number') && (typeof a === 'string' || typeof b === 'string')) return String(a) === String(b);
  const ka = cmpKind(a); const kb = cmpKind(b);
  if (ka === 'nil' || kb === 'nil') {
    if (ka === kb) return true;
    if (ka === 'other' || kb === 'other') return false;
    throw new Error('incompatible types for comparison');
  }
  if (ka === 'other') throw new Error(`non-comparable type ${formatV(a, true)}: ${goTypeName(a)}`);
  if (kb === 'other') throw new Error(`non-comparable types ${formatV(a, true)}: ${goTypeName(a)}, ${goTypeName(b)}`);
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return a === b;
}

function lt1(a: unknown, b: unknown): boolean {
  if (rawNumbers && typeof a !== typeof b && (typeof a === 'number' || typeof b === 'number') && (typeof a === 'string' || typeof b === 'string')) return String(a) < String(b);
  const ka = cmpKind(a); const kb = cmpKind(b);
  if (ka !== 'number' && ka !== 'string') throw new Error(`invalid type for comparison`);
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return (a as number) < (b as number);
}

function goLen(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  if (isNil(v)) throw new Error('len of nil pointer');
  throw new Error(`len of type ${goTypeName(v)}`);
}

function goIndex(item: unknown, ...idx: unknown[]): unknown {
  let v = item;
  for (const i of idx) {
    if (isNil(v)) throw new Error('index of untyped nil');
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof i !== 'number' || !Number.isInteger(i)) throw new Error(`cannot index slice/array with type ${goTypeName(i)}`);
      const len = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      if (i < 0 || i >= len) throw new Error(`index out of range: ${i}`);
      v = typeof v === 'string' ? Buffer.from(v)[i] : v[i];
    } else if (isMap(v)) {
      if (typeof i !== 'string') throw new Error(`value has type ${goTypeName(i)}; should be string`);
      // a map of strings is a Go map[string]string: a missing key gives its zero value ""
      v = Object.prototype.hasOwnProperty.call(v, i) ? v[i] : Object.values(v).every((x) => typeof x === 'string') ? '' : undefined;
    } else throw new Error(`can't index item of type ${goTypeName(v)}`);
  }
  return v;
}

function goSlice(item: unknown, ...idx: unknown[]): unknown {
  if (typeof item !== 'string' && !Array.isArray(item)) throw new Error(`can't slice item of type ${goTypeName(item)}`);
  if (idx.length > 3 || (idx.length === 3 && typeof item === 'string')) throw new Error('too many slice indexes');
  const len = typeof item === 'string' ? Buffer.byteLength(item) : item.length;
  const n = idx.map((i) => { if (typeof i !== 'number' || !Number.isInteger(i)) throw new Error(`cannot index slice/array with type ${goTypeName(i)}`); return i; });
  const lo = n[0] ?? 0; const hi = n[1] ?? len;
  if (lo < 0 || hi > len || lo > hi) throw new Error(`index out of range: ${lo > hi ? lo : hi}`);
  return typeof item === 'string' ? Buffer.from(item).subarray(lo, hi).toString() : item.slice(lo, hi);
}

/** fmt.Sprint: a space between operands when neither side is a string. */
function goSprint(...a: unknown[]): string {
  let out = '';
  a.forEach((v, i) => {
    if (i > 0 && typeof v !== 'string' && typeof a[i - 1] !== 'string') out += ' ';
    out += isNil(v) ? '<nil>' : formatV(v);
  });
  return out;
}

function htmlEscape(...a: unknown[]): string {
  const s = a.length === 1 && typeof a[0] === 'string' ? a[0] : goSprint(...a);
  return s.replace(/[&'<>"\0]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;', '\0': '\uFFFD' }[c]!));
}

const BUILTINS: Record<string, Fn> = {
  not: (v: unknown) => !truth(v),
  eq: tag((a: unknown, ...b: unknown[]) => {
    if (!b.length) throw new Error('missing argument for comparison');
    return b.some((x) => eq1(a, x));
  }, { minArgs: 1, variadic: true }),
  ne: (a: unknown, b: unknown) => !eq1(a, b),
  lt: (a: unknown, b: unknown) => lt1(a, b),
  le: (a: unknown, b: unknown) => lt1(a, b) || eq1(a, b),
  gt: (a: unknown, b: unknown) => !lt1(a, b) && !eq1(a, b),
  ge: (a: unknown, b: unknown) => !lt1(a, b),
  len: (v: unknown) => goLen(v),
  index: tag((item: unknown, ...idx: unknown[]) => goIndex(item, ...idx), { minArgs: 1, variadic: true }),
  slice: tag((item: unknown, ...idx: unknown[]) => goSlice(item, ...idx), { minArgs: 1, variadic: true }),
  print: tag((...a: unknown[]) => goSprint(...a), { minArgs: 0, variadic: true }),
  println: tag((...a: unknown[]) => `${a.map((v) => (isNil(v) ? '<nil>' : formatV(v))).join(' ')}\n`, { minArgs: 0, variadic: true }),
  printf: tag((f: string, ...a: unknown[]) => goSprintf(f, a), { minArgs: 1, variadic: true, stringArgs: [0] }),
  html: tag((...a: unknown[]) => htmlEscape(...a), { minArgs: 0, variadic: true }),
  urlquery: tag((...a: unknown[]) => encodeURIComponent(a.length === 1 && typeof a[0] === 'string' ? a[0] : goSprint(...a)).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`), { minArgs: 0, variadic: true }),
  js: tag((...a: unknown[]) => (a.length === 1 && typeof a[0] === 'string' ? a[0] : goSprint(...a)).replace(/[\\'"<>&=\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '<': '\\u003C', '>': '\\u003E', '&': '\\u0026', '=': '\\u003D', '\n': '\\n', '\r': '\\r', '\t': '\\t' }[c]!)), { minArgs: 0, variadic: true }),
  call: tag((fn: unknown, ...a: unknown[]) => {
    if (typeof fn !== 'function') throw new Error(`non-function of type ${goTypeName(fn)}`);
    return (fn as Fn)(...a);
  }, { minArgs: 1, variadic: true }),
};

// ---------------------------------------------------------------- Go's fmt, as far as templates reach

/** strconv.Quote: double-quoted with Go escapes; printable characters kept as they are. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const esc: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
    if (ch in esc) out += esc[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Exact decimal digits of |x| (no leading/trailing zeros) and the decimal point position. */
function exactDigits(x: number): { d: string; dp: number } {
  x = Math.abs(x);
  if (x === 0) return { d: '', dp: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0); const lo = buf.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) e = -1074; else { mant |= 1n << 52n; e = bexp - 1075; }
  let digits: string; let dp: number;
  if (e >= 0) { digits = (mant << BigInt(e)).toString(); dp = digits.length; }
  else { digits = (mant * 5n ** BigInt(-e)).toString(); dp = digits.length + e; }
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead); dp -= lead;
  return { d: digits.replace(/0+$/, ''), dp };
}

/** Rounds digits to nd digits, half to even on exact ties (as Go's decimal rounding). */
function roundDigits(g: { d: string; dp: number }, nd: number): { d: string; dp: number } {
  if (nd < 0) return { d: '', dp: g.dp };
  if (nd >= g.d.length) return g;
  const next = g.d.charCodeAt(nd) - 48;
  const up = next > 5 || (next === 5 && (nd + 1 < g.d.length || (nd > 0 && (g.d.charCodeAt(nd - 1) - 48) % 2 === 1)));
  let d = g.d.slice(0, nd); let dp = g.dp;
  if (up) {
    let i = d.length - 1;
    while (i >= 0 && d[i] === '9') i--;
    if (i < 0) { d = '1'; dp++; } else d = d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1);
  }
  return { d: d.replace(/0+$/, ''), dp };
}

function shortestDigits(x: number): { d: string; dp: number } {
  if (x === 0) return { d: '', dp: 0 };
  const [m, e] = Math.abs(x).toExponential().split('e');
  const d = m!.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(e) + 1 };
}

function fmtE(g: { d: string; dp: number }, prec: number, upper = false): string {
  const first = g.d[0] ?? '0';
  let s = first;
  if (prec > 0) s += `.${g.d.slice(1, 1 + prec).padEnd(prec, '0')}`;
  const exp = g.d.length ? g.dp - 1 : 0;
  const ae = Math.abs(exp);
  return `${s}${upper ? 'E' : 'e'}${exp < 0 ? '-' : '+'}${ae < 10 ? `0${ae}` : ae}`;
}

function fmtF(g: { d: string; dp: number }, prec: number): string {
  let s = g.dp > 0 ? g.d.slice(0, g.dp).padEnd(g.dp, '0') : '0';
  if (prec > 0) {
    s += '.';
    for (let i = 0; i < prec; i++) { const j = g.dp + i; s += j >= 0 && j < g.d.length ? g.d[j] : '0'; }
  }
  return s;
}

/** strconv.FormatFloat(x, verb, prec, 64) for verbs e, f, g (prec -1: shortest). */
export function formatFloat(x: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const neg = x < 0 || Object.is(x, -0) ? '-' : '';
  const shortest = prec < 0;
  let g: { d: string; dp: number };
  if (shortest) {
    g = shortestDigits(x);
    prec = verb === 'e' || verb === 'E' ? Math.max(g.d.length - 1, 0) : verb === 'f' ? Math.max(g.d.length - g.dp, 0) : g.d.length;
  } else {
    const ex = exactDigits(x);
    if (verb === 'e' || verb === 'E') g = roundDigits(ex, prec + 1);
    else if (verb === 'f') g = roundDigits(ex, ex.dp + prec);
    else { if (prec === 0) prec = 1; g = roundDigits(ex, prec); }
  }
  if (verb === 'e' || verb === 'E') return neg + fmtE(g, prec, verb === 'E');
  if (verb === 'f') return neg + fmtF(g, prec);
  let eprec = prec;
  if (eprec > g.d.length && g.d.length >= g.dp) eprec = g.d.length;
  if (shortest) eprec = 6;
  const exp = g.dp - 1;
  if (exp < -4 || exp >= eprec) return neg + fmtE(g, Math.min(prec, g.d.length) - 1, verb === 'G');
  return neg + fmtF(g, Math.max((prec > g.dp ? g.d.length : prec) - g.dp, 0));
}

/** A number as Go prints it with %v: integers in full, floats as %g shortest. */
function numberV(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  return formatFloat(n, 'g', -1);
}

/** The field names of an object that stands for a Go struct value (fmt prints "{v1 v2}"). */
const GO_FIELDS: unique symbol = Symbol('go struct fields');

/**
 * Marks v as a Go struct value with these fields in order, so `{{.X}}` prints it as fmt does
 * ("{0.0.0.0 8080}", struct{}{} as "{}") rather than as a map. Its JSON is unchanged.
 */
export function goStruct<T extends object>(v: T, fields: string[], zeros: Record<string, unknown> = {}): T {
  if (structFields(v)) return v; // already marked (the raw reply and its typed view share values)
  Object.defineProperty(v, GO_FIELDS, { value: fields, enumerable: false });
  // fields left out of the JSON (omitempty) are still there, with their zero value ("" unless given)
  for (const f of fields) if (!(f in v)) Object.defineProperty(v, f, { value: zeros[f] ?? '', enumerable: false });
  return v;
}

/** A nil Go slice in a typed struct: fmt prints "[]", encoding/json "null" (JSON.stringify too). */
export function nilSlice(): unknown[] {
  const a: unknown[] = [];
  Object.defineProperty(a, 'toJSON', { value: () => null, enumerable: false });
  return a;
}

const structFields = (v: object): string[] | undefined => (v as { [GO_FIELDS]?: string[] })[GO_FIELDS];

/** fmt's %v for a non-nil value: slices "[a b]", maps "map[k:v]" with sorted keys. */
export function formatV(v: unknown, nested = false): string {
  if (v === null || v === undefined || v === MISSING) return nested ? '<nil>' : '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return numberV(v);
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return '0x1';
  if (Array.isArray(v)) return `[${v.map((e) => formatV(e, true)).join(' ')}]`;
  const fields = typeof v === 'object' ? structFields(v) : undefined;
  if (fields) return `{${fields.map((f) => formatV((v as Record<string, unknown>)[f], true)).join(' ')}}`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${formatV(v[k], true)}`).join(' ')}]`;
  return String(v);
}

function typeV(v: unknown): string {
  if (isNil(v)) return '<nil>';
  return `${goTypeName(v)}=${formatV(v, true)}`;
}

function pad(s: string, width: number | undefined, minus: boolean, zero: boolean): string {
  const len = [...s].length;
  if (width === undefined || len >= width) return s;
  if (minus) return s + ' '.repeat(width - len);
  if (zero) {
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(width - len) + s.slice(sign.length);
  }
  return ' '.repeat(width - len) + s;
}

interface Spec { plus: boolean; minus: boolean; sharp: boolean; space: boolean; zero: boolean; width?: number; prec?: number }

function fmtInteger(n: number, verb: string, s: Spec): string | undefined {
  const neg = n < 0; const a = Math.abs(n);
  let body: string;
  switch (verb) {
    case 'v': case 'd': body = BigInt(a).toString(); break;
    case 'x': body = BigInt(a).toString(16); if (s.sharp) body = `0x${body}`; break;
    case 'X': body = BigInt(a).toString(16).toUpperCase(); if (s.sharp) body = `0X${body}`; break;
    case 'o': body = BigInt(a).toString(8); if (s.sharp) body = `0${body}`; break;
    case 'O': body = `0o${BigInt(a).toString(8)}`; break;
    case 'b': body = BigInt(a).toString(2); break;
    case 'c': return String.fromCodePoint(n);
    case 'q': return `'${String.fromCodePoint(n)}'`;
    case 'U': return `U+${a.toString(16).toUpperCase().padStart(4, '0')}`;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': return fmtFloatVerb(n, verb, s);
    default: return undefined;
  }
  if (s.prec !== undefined) body = body.padStart(s.prec, '0');
  return (neg ? '-' : s.plus ? '+' : s.space ? ' ' : '') + body;
}

function fmtFloatVerb(n: number, verb: string, s: Spec): string {
  const v = verb === 'v' ? 'g' : verb === 'F' ? 'f' : verb as 'e' | 'E' | 'f' | 'g' | 'G';
  const prec = s.prec ?? (v === 'g' || v === 'G' ? -1 : 6);
  const out = formatFloat(n, v, prec);
  return (s.plus && !out.startsWith('-') ? '+' : s.space && !out.startsWith('-') ? ' ' : '') + out;
}

function fmtOne(v: unknown, verb: string, s: Spec): string {
  if (verb === 'T') return isNil(v) ? '<nil>' : goTypeName(v);
  if (isNil(v)) return verb === 'v' ? '<nil>' : `%!${verb}(<nil>)`;
  if (typeof v === 'boolean') return verb === 'v' || verb === 't' ? String(v) : `%!${verb}(bool=${v})`;
  if (typeof v === 'number') {
    if (verb === 's' || verb === 't') return `%!${verb}(${typeV(v)})`;
    const r = Number.isInteger(v) && !'eEfFgG'.includes(verb) ? fmtInteger(v, verb, s) : /^[veEfFgGd]$/.test(verb) ? fmtFloatVerb(v, verb === 'd' ? 'v' : verb, s) : undefined;
    return r ?? `%!${verb}(${typeV(v)})`;
  }
  if (typeof v === 'string') {
    switch (verb) {
      case 'v': case 's': return s.prec !== undefined ? [...v].slice(0, s.prec).join('') : v;
      case 'q': return s.sharp && !v.includes('`') ? `\`${v}\`` : goQuote(v);
      case 'x': case 'X': {
        const h = Buffer.from(v).toString('hex');
        return verb === 'X' ? h.toUpperCase() : h;
      }
      default: return `%!${verb}(string=${v})`;
    }
  }
  if (Array.isArray(v)) return `[${v.map((e) => fmtOne(e, verb, { ...s, width: undefined })).join(' ')}]`;
  if (isMap(v) && !structFields(v)) return `map[${Object.keys(v).sort().map((k) => `${fmtOne(k, verb, s)}:${fmtOne(v[k], verb, s)}`).join(' ')}]`;
  return formatV(v);
}

/** fmt.Sprintf with Go's verbs, flags, widths, precisions, and its %!verb(…) complaints. */
export function goSprintf(format: string, args: unknown[]): string {
  let out = ''; let argi = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') { out += c; continue; }
    const s: Spec = { plus: false, minus: false, sharp: false, space: false, zero: false };
    i++;
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '+') s.plus = true; else if (f === '-') s.minus = true; else if (f === '#') s.sharp = true;
      else if (f === ' ') s.space = true; else if (f === '0') s.zero = !s.minus; else break;
    }
    const num = (): number | undefined => {
      if (format[i] === '*') { i++; const a = args[argi++]; return typeof a === 'number' ? a : undefined; }
      const m = /^\d+/.exec(format.slice(i));
      if (!m) return undefined;
      i += m[0].length; return Number(m[0]);
    };
    s.width = num();
    if (s.width !== undefined && s.width < 0) { s.minus = true; s.width = -s.width; }
    if (format[i] === '.') { i++; s.prec = num() ?? 0; }
    const verb = format[i];
    if (verb === undefined) { out += '%!(NOVERB)'; break; }
    if (verb === '%') { out += '%'; continue; }
    if (argi >= args.length) { out += `%!${verb}(MISSING)`; continue; }
    const a = args[argi++];
    const body = fmtOne(a, verb, s);
    out += pad(body, s.width, s.minus, s.zero && typeof a === 'number');
  }
  if (argi < args.length) out += `%!(EXTRA ${args.slice(argi).map(typeV).join(', ')})`;
  return out;
}

// ---------------------------------------------------------------- docker's functions (cli/templates)

/** Go's encoding/json of a JSON-like value. Maps whose keys are not all exported-field-like are
 * Go maps (sorted keys); other objects are structs, printed in their own order. */
export function goJson(v: unknown, escapeHtml = false, sortAll = false): string {
  const norm = (x: unknown): unknown => {
    if (x === undefined || x === MISSING) return null;
    if (Array.isArray(x)) return 'toJSON' in x ? null : x.map(norm);
    if (isMap(x)) {
      if (Object.prototype.hasOwnProperty.call(x, 'toJSON')) return null; // a Go nil map
      const keys = Object.keys(x);
      if (sortAll || keys.some((k) => !/^[A-Z]/.test(k))) keys.sort();
      const o: Record<string, unknown> = {};
      for (const k of keys) if (typeof x[k] !== 'function') o[k] = norm(x[k]);
      return o;
    }
    return typeof x === 'function' ? null : x;
  };
  let s = JSON.stringify(norm(v)) ?? 'null';
  s = s.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  if (escapeHtml) s = s.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
  return s;
}

/** strings.Title: upper-cases letters that start a word. */
function goTitle(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = /[A-Za-z0-9_]/.test(prev) ? false : prev.charCodeAt(0) < 0x80 ? true : /\s/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

/** docker 28's join is strings.Join: a []string, anything else is a type error. */
function goJoin(elems: unknown, sep: string): string {
  if (Array.isArray(elems) && elems.every((e) => typeof e === 'string')) return elems.join(sep);
  if (isNil(elems)) throw new Error('invalid value; expected []string');
  throw new TemplateArgError(`wrong type for value; expected []string; got ${goTypeName(elems)}`, 0);
}

/** docker/cli templates.basicFunctions. */
export const DOCKER_FUNCS: Record<string, Fn> = {
  json: (v: unknown) => goJson(v),
  split: tag((s: string, sep: string) => (sep === '' ? [...s] : s.split(sep)), { stringArgs: [0, 1] }),
  join: tag((elems: unknown, sep: string) => goJoin(elems, sep), { stringArgs: [1] }),
  title: tag((s: string) => goTitle(s), { stringArgs: [0] }),
  lower: tag((s: string) => s.toLowerCase(), { stringArgs: [0] }),
  upper: tag((s: string) => s.toUpperCase(), { stringArgs: [0] }),
  pad: tag((s: string, prefix: number, suffix: number) => (s === '' ? s : ' '.repeat(Math.max(prefix, 0)) + s + ' '.repeat(Math.max(suffix, 0))), { stringArgs: [0], intArgs: [1, 2] }),
  truncate: tag((s: string, n: number) => (Buffer.byteLength(s) < n ? s : Buffer.from(s).subarray(0, Math.max(n, 0)).toString()), { stringArgs: [0], intArgs: [1] }),
};

/** docker/cli templates.HeaderFunctions: table headers stay as they are (pad still applies). */
export const HEADER_FUNCS: Record<string, Fn> = {
  json: tag((v: string) => v, { stringArgs: [0] }),
  split: tag((v: string, _sep: string) => v, { stringArgs: [0, 1] }),
  join: tag((v: string, _sep: string) => v, { stringArgs: [0, 1] }),
  title: tag((v: string) => v, { stringArgs: [0] }),
  lower: tag((v: string) => v, { stringArgs: [0] }),
  upper: tag((v: string) => v, { stringArgs: [0] }),
  truncate: tag((v: string, _n: number) => v, { stringArgs: [0], intArgs: [1] }),
};

/** templates.Parse: Go's builtins plus docker's functions. */
export function parseDocker(src: string): Template {
  return new Template(src, DOCKER_FUNCS);
}
