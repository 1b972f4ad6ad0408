// The dotenv format Compose reads for `.env` and --env-file (compose-go's dotenv parser):
//   KEY=VALUE and KEY: VALUE, an optional `export ` prefix, `#` comment lines, blank lines;
//   unquoted values are trimmed and cut at ` #` (an inline comment), then interpolated;
//   'single quoted' values are literal (and may span lines);
//   "double quoted" values take \n \r \t \\ \" escapes, then are interpolated (and may span lines);
//   a bare `KEY` takes its value from the environment if it is set there, else stays unset.
// Interpolation inside a file sees the process environment first, then earlier files' values,
// then this file's earlier keys: the process environment always wins, as in Compose.
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ComposeError } from '../types.ts';
import { substitute, SubstitutionError, type Lookup } from './interpolate.ts';

const KEY = /^[\p{L}\p{N}_.\-[\]]+$/u;

/** Parses dotenv text. `lookup` resolves references not defined earlier in this text. */
export function parseDotEnv(text: string, lookup: Lookup = () => undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const look: Lookup = (name) => lookup(name) ?? (Object.hasOwn(out, name) ? out[name] : undefined);
  const expand = (v: string, line: number): string => {
    try {
      return substitute(v, look);
    } catch (e) {
      if (e instanceof SubstitutionError) throw new ComposeError(`line ${line}: ${e.kind === 'invalid' ? `invalid variable reference: ${v}` : e.message}`);
      throw e;
    }
  };
  const src = text.replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const eol = src.indexOf('\n', i);
    const lineEnd = eol < 0 ? src.length : eol;
    const raw = src.slice(i, lineEnd);
    const startLine = line;
    const trimmed = raw.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = lineEnd + 1;
      line++;
      continue;
    }
    let body = trimmed.startsWith('export ') ? trimmed.slice(7).trimStart() : trimmed;
    const sep = body.search(/[=:]/);
    if (sep < 0) {
      // a bare name: inherited from the environment
      const key = body.trim();
      if (/\s/.test(key)) throw new ComposeError(`line ${startLine}: key cannot contain a space`);
      if (!KEY.test(key)) throw new ComposeError(`line ${startLine}: unexpected character ${JSON.stringify(key.replace(/[\p{L}\p{N}_.\-[\]\s]/gu, '')[0] ?? '')} in variable name ${JSON.stringify(key)}`);
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      i = lineEnd + 1;
      line++;
      continue;
    }
    const key = body.slice(0, sep).trimEnd();
    if (/\s/.test(key)) throw new ComposeError(`line ${startLine}: key cannot contain a space`);
    if (!KEY.test(key)) throw new ComposeError(`line ${startLine}: unexpected character ${JSON.stringify(key.replace(/[\p{L}\p{N}_.\-[\]\s]/gu, '')[0] ?? '')} in variable name ${JSON.stringify(key)}`);
    body = body.slice(sep + 1);
    const valueStart = i + (raw.length - body.length);
    const rest = src.slice(valueStart).replace(/^[ \t]+/, '');
    const q = rest[0];
    if (q === "'" || q === '"') {
      // up to the closing quote, which a backslash escapes; the value may span lines. A
      // backslash before any other character stays (double quotes' escapes come next).
      let j = 1;
      let inner = '';
      let escaped = false;
      for (; j < rest.length; j++) {
        const ch = rest[j];
        if (ch !== q) {
          if (!escaped && ch === '\\') {
            escaped = true;
            continue;
          }
          if (escaped) inner += '\\';
          escaped = false;
          inner += ch;
          continue;
        }
        if (escaped) {
          escaped = false;
          inner += ch;
          continue;
        }
        break;
      }
      if (j >= rest.length) throw new ComposeError(`line ${startLine}: unterminated quoted value ${rest.split('\n')[0]}`);
      out[key] = q === "'" ? inner : expand(unescapeDouble(inner), startLine);
      const restStart = src.length - rest.length;
      const after = src.indexOf('\n', restStart + j);
      const next = after < 0 ? src.length : after + 1;
      line += src.slice(i, next).split('\n').length - 1 || 1;
      i = next;
      continue;
    }
    let value = src.slice(valueStart, lineEnd).trimStart();
    const hash = value.indexOf(' #');
    if (hash >= 0) value = value.slice(0, hash);
    out[key] = expand(value.trimEnd(), startLine);
    i = lineEnd + 1;
    line++;
  }
  return out;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\([abcfnrtv$"\\]|0[0-7]{0,3})/g, (m, c: string) => {
    if (c.startsWith('0')) return String.fromCharCode(parseInt(c, 8) || 0);
    switch (c) {
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '\\':
        return '\\';
      case '$':
        // keeps `\$` for the substitution, which reads `$$` as the escape
        return '$$';
      case '"':
        return '"';
      default:
        return m;
    }
  });
}

/**
 * Reads dotenv files in order and returns their merged values (later files override earlier ones).
 * References inside a file look at `env` (the process environment) first. A missing file is
 * Compose's `couldn't find env file: <abs path>`.
 */
export async function readEnvFiles(files: string[], env: Record<string, string | undefined>, cwd: string): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const f of files) {
    const abs = resolve(cwd, f);
    let st;
    try {
      st = await stat(abs);
    } catch {
      throw new ComposeError(`couldn't find env file: ${abs}`);
    }
    if (st.isDirectory()) throw new ComposeError(`${abs} is a directory`);
    const text = await readFile(abs, 'utf8');
    let parsed: Record<string, string>;
    try {
      parsed = parseDotEnv(text, (k) => env[k] ?? (Object.hasOwn(values, k) ? values[k] : undefined));
    } catch (e) {
      if (e instanceof ComposeError) throw new ComposeError(`failed to read ${abs}: ${e.message}`);
      throw e;
    }
    Object.assign(values, parsed);
  }
  return values;
}

/** The process environment over the files' values: what interpolation sees. */
export function overlayEnvironment(processEnv: Record<string, string | undefined>, fileValues: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...fileValues };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) out[k] = v;
  return out;
}
