// Variable substitution as Compose does it (compose-go's template package, the spec's
// interpolation.md): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
// `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, nested (`${A:-${B}}`), and `$$` for a literal `$`.
// A `$` followed by anything else (`$1`, `$ `) stays as written; `${` not closed or with a bad
// name is an error. The same substitution reads .env files (env-file.ts), so it takes a lookup
// function and reports unset variables through a callback instead of printing.
import { ComposeError } from '../types.ts';
import { Override } from './yaml-file.ts';

export type Lookup = (name: string) => string | undefined;

/** Why substitution failed: `invalid` (bad syntax) or `required` (a `?` variable is missing). */
export class SubstitutionError extends Error {
  kind: 'invalid' | 'required';
  constructor(kind: 'invalid' | 'required', message: string) {
    super(message);
    this.kind = kind;
  }
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/**
 * Substitutes the variables of one string. `onUnset` hears each plain reference
 * (`$X`, `${X}`) to an unset variable, which becomes "".
 */
export function substitute(template: string, lookup: Lookup, onUnset?: (name: string) => void): string {
  if (!template.includes('$')) return template;
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < template.length && NAME_CHAR.test(template[j])) j++;
      const name = template.slice(i + 1, j);
      const v = lookup(name);
      if (v === undefined) onUnset?.(name);
      out += v ?? '';
      i = j;
    } else if (next === '{') {
      const end = closingBrace(template, i + 2);
      if (end < 0) throw new SubstitutionError('invalid', template);
      out += braced(template.slice(i + 2, end), template, lookup, onUnset);
      i = end + 1;
    } else {
      out += '$';
      i++;
    }
  }
  return out;
}

/** The index of the `}` closing a `${` whose body starts at `from`, counting nested `${`. */
function closingBrace(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
    } else if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function braced(body: string, template: string, lookup: Lookup, onUnset?: (name: string) => void): string {
  let j = 0;
  if (!NAME_START.test(body[0] ?? '')) throw new SubstitutionError('invalid', template);
  while (j < body.length && NAME_CHAR.test(body[j])) j++;
  const name = body.slice(0, j);
  if (j === body.length) {
    const v = lookup(name);
    if (v === undefined) onUnset?.(name);
    return v ?? '';
  }
  const colon = body[j] === ':';
  const op = body[colon ? j + 1 : j];
  if (op !== '-' && op !== '?' && op !== '+') throw new SubstitutionError('invalid', template);
  const arg = body.slice(j + (colon ? 2 : 1));
  const v = lookup(name);
  // with ':' an empty value counts as unset
  const set = colon ? v !== undefined && v !== '' : v !== undefined;
  if (op === '-') return set ? (v as string) : substitute(arg, lookup, onUnset);
  if (op === '+') return set ? substitute(arg, lookup, onUnset) : '';
  if (set) return v as string;
  const reason = substitute(arg, lookup, onUnset);
  throw new SubstitutionError('required', `required variable ${name} is missing a value${reason ? `: ${reason}` : ''}`);
}

/**
 * Interpolates every string value (never a key) of a parsed Compose document, in place of a copy.
 * Unset variables are collected into `warnings` once each, with Compose's text.
 */
export function interpolateDocument(doc: Record<string, unknown>, env: Record<string, string>, warnings: string[]): Record<string, unknown> {
  const warned = new Set<string>();
  const lookup: Lookup = (name) => (Object.hasOwn(env, name) ? env[name] : undefined);
  const onUnset = (name: string): void => {
    if (warned.has(name)) return;
    warned.add(name);
    const text = `The "${name}" variable is not set. Defaulting to a blank string.`;
    if (!warnings.includes(text)) warnings.push(text);
  };
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      try {
        return substitute(v, lookup, onUnset);
      } catch (e) {
        if (e instanceof SubstitutionError && e.kind === 'invalid') {
          throw new ComposeError(`invalid interpolation format for ${path}: ${JSON.stringify(v)}. You may need to escape any $ with another $.`);
        }
        if (e instanceof SubstitutionError) throw new ComposeError(`error while interpolating ${path}: ${e.message}`);
        throw e;
      }
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, `${path}.[]`));
    if (v instanceof Override) return new Override(walk(v.value, path));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, path ? `${path}.${k}` : k);
      return out;
    }
    return v;
  };
  return walk(doc, '') as Record<string, unknown>;
}
