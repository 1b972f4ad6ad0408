// .dockerignore: moby/patternmatcher and moby/patternmatcher/ignorefile semantics, for the builder
// (which paths of the context COPY/ADD may see) and for the CLI (which files it sends).
//
// Patterns are matched against slash-separated paths relative to the context root. The last
// pattern that matches decides; a pattern that matches a parent directory matches everything under
// it; `!` patterns re-include. A walker asks excluded(dir, true) and, when excluded, descends only
// if mayContainExceptions(dir) — Docker's archive walker does exactly that check.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidParameter } from '../errors.ts';

export interface IgnorePattern {
  /** The cleaned pattern, without `!`. */
  pattern: string;
  /** `!pattern`: re-includes what earlier patterns excluded. */
  exclusion: boolean;
}

/** Go's path.Clean for slash paths. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/**
 * A .dockerignore file → its pattern lines (ignorefile.ReadAll): BOM dropped, lines starting with
 * `#` skipped, blanks trimmed, empty lines skipped, each pattern cleaned and its leading `/`
 * dropped. A lone `!` is kept (patternsFrom rejects it).
 */
export function readIgnoreFile(text: string): string[] {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const out: string[] = [];
  for (const rawLine of src.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  }
  return out;
}

/**
 * Reads and compiles a .dockerignore file. Throws InvalidParameter for a lone `!`
 * (`illegal exclusion pattern: "!"`) and for malformed patterns, as Docker does.
 */
export function parseDockerignore(text: string): IgnorePattern[] {
  return patternsFrom(readIgnoreFile(text));
}

/**
 * Patterns as given on an API or command line (patternmatcher.New): trimmed, cleaned, `!` split off.
 * Throws InvalidParameter for `!` alone or a malformed pattern.
 */
export function patternsFrom(list: readonly string[]): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const item of list) {
    let p = item.trim();
    if (p === '') continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new InvalidParameter('illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    checkGoPattern(p);
    out.push({ pattern: p, exclusion });
  }
  return out;
}

/** filepath.Match's syntax check: unclosed or empty classes, bad ranges, a trailing `\`. */
function checkGoPattern(p: string): void {
  const bad = (): never => {
    throw new InvalidParameter('syntax error in pattern');
  };
  const chars = Array.from(p);
  let i = 0;
  const escChar = (): number => {
    const c = chars[i];
    if (c === undefined || c === '-' || c === ']') bad();
    if (c === '\\') {
      i++;
      if (i >= chars.length) bad();
    }
    return chars[i++]!.codePointAt(0)!;
  };
  while (i < chars.length) {
    const c = chars[i++];
    if (c === '\\') {
      if (i >= chars.length) bad();
      i++;
    } else if (c === '[') {
      if (chars[i] === '^') i++;
      let n = 0;
      for (;;) {
        if (i >= chars.length) bad();
        if (chars[i] === ']' && n > 0) {
          i++;
          break;
        }
        const lo = escChar();
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          hi = escChar();
        }
        if (hi < lo) bad();
        n++;
      }
    }
  }
}

type Compiled =
  | { kind: 'exact'; text: string }
  | { kind: 'prefix'; text: string }
  | { kind: 'suffix'; text: string }
  | { kind: 'regexp'; re: RegExp };

const ESCAPE_IN_REGEX = '.+()|{}$^/';

/** Pattern → matcher, as patternmatcher's compile (exact, prefix `dir/**`, suffix `**\/x`, or regexp). */
function compile(pattern: string): Compiled {
  let re = '^';
  let type: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  const chars = Array.from(pattern);
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const start = i;
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++; // `**/` is `**`
        if (i + 1 >= chars.length) {
          // `**` at the end matches everything, like .gitignore.
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        // A leading `**` makes it a suffix match (`**/foo`, `**foo`, `**`).
        if (start === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        const nx = chars[++i]!;
        re += inClass ? (/[\\\]^-]/.test(nx) ? '\\' + nx : nx) : /[\\^$.*+?()[\]{}|/]/.test(nx) ? '\\' + nx : nx;
        type = 'regexp';
      } else {
        re += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      inClass = ch === '[';
      re += ch;
      type = 'regexp';
    } else if (!inClass && ESCAPE_IN_REGEX.includes(ch)) {
      re += '\\' + ch;
    } else if (inClass && ch === '^' && chars[i - 1] !== '[') {
      re += '\\^';
    } else {
      re += ch;
    }
  }
  switch (type) {
    case 'exact':
      return { kind: 'exact', text: pattern };
    case 'prefix':
      return { kind: 'prefix', text: pattern.slice(0, -2) };
    case 'suffix':
      return { kind: 'suffix', text: pattern.slice(2) };
    default:
      return { kind: 'regexp', re: new RegExp(re + '$', 'u') };
  }
}

function matches(c: Compiled, path: string): boolean {
  switch (c.kind) {
    case 'exact':
      return path === c.text;
    case 'prefix':
      return path.startsWith(c.text);
    case 'suffix':
      // `**/foo` matches "foo" too.
      return path.endsWith(c.text) || (c.text.startsWith('/') && path === c.text.slice(1));
    case 'regexp':
      return c.re.test(path);
  }
}

export interface IgnoreMatcher {
  /** Whether the context path (relative, slash-separated) is left out of the build context. */
  excluded(relPath: string, isDir?: boolean): boolean;
  /**
   * For an excluded directory: whether a walker must still descend because an exception pattern
   * (`!dir/keep`) starts with this directory. Docker skips the directory otherwise, so an exception
   * such as `!**\/keep` does not reach into an excluded directory — Berth does the same.
   */
  mayContainExceptions(dirRel: string): boolean;
  readonly patterns: readonly IgnorePattern[];
}

/**
 * A matcher with MatchesOrParentMatches semantics: for each pattern in order, a match of the path
 * or of any parent directory sets excluded = !exclusion; the last match wins.
 */
export function makeMatcher(patterns: readonly IgnorePattern[]): IgnoreMatcher {
  const compiled = patterns.map((p) => ({ ...p, c: compile(p.pattern) }));
  const hasExclusions = patterns.some((p) => p.exclusion);
  return {
    patterns,
    excluded(relPath: string): boolean {
      const file = cleanPath(relPath);
      if (file === '.') return false; // the context root itself is never excluded
      const dirs = file.split('/').slice(0, -1);
      let matched = false;
      for (const p of compiled) {
        // An inclusion cannot change an excluded path, nor an exclusion an included one.
        if (p.exclusion !== matched) continue;
        let match = matches(p.c, file);
        for (let i = 0; !match && i < dirs.length; i++) match = matches(p.c, dirs.slice(0, i + 1).join('/'));
        if (match) matched = !p.exclusion;
      }
      return matched;
    },
    mayContainExceptions(dirRel: string): boolean {
      if (!hasExclusions) return false;
      const dirSlash = cleanPath(dirRel) + '/';
      return patterns.some((p) => p.exclusion && (p.pattern + '/').startsWith(dirSlash));
    },
  };
}

/**
 * Walks a context directory and yields the relative paths (slash-separated, parents before
 * children, names sorted) that are not excluded, as Docker's archive walker does: an excluded
 * directory is not yielded, and entered only when mayContainExceptions says so (so a re-included
 * file can appear without its parent directory's entry). Symlinks are yielded, not followed.
 */
export async function* walkContext(root: string, matcher: IgnoreMatcher, dir = ''): AsyncGenerator<string> {
  const entries = await readdir(dir === '' ? root : join(root, dir), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = dir === '' ? e.name : `${dir}/${e.name}`;
    const isDir = e.isDirectory();
    if (matcher.excluded(rel, isDir)) {
      if (isDir && matcher.mayContainExceptions(rel)) yield* walkContext(root, matcher, rel);
      continue;
    }
    yield rel;
    if (isDir) yield* walkContext(root, matcher, rel);
  }
}
