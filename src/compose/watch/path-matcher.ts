// Which changed host paths a develop.watch rule takes, as Compose v2's pkg/watch matchers decide:
// patterns are .dockerignore patterns (moby/patternmatcher: the last match wins, `!` re-includes,
// a pattern that matches a parent directory matches everything under it), anchored at a root
// directory: the rule's `path` for its `ignore`/`include`, the build context for the service's
// .dockerignore, `/` for the editor temp files every rule ignores. The matching itself is
// util/dockerignore.ts (the builder's and the CLI's matcher), on paths made relative to the root.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { makeMatcher, patternsFrom, readIgnoreFile, type IgnoreMatcher } from '../../util/dockerignore.ts';
import { ComposeError, type Build } from '../model/types.ts';

export interface PathMatcher {
  /** whether the absolute host path (or one of its parents under the root) matches */
  matches(absPath: string): boolean;
}

/** Matches nothing (a service without a build context has no .dockerignore). */
export const NO_MATCH: PathMatcher = { matches: () => false };

/** Matches everything (a rule without `include`). */
export const ANY_MATCH: PathMatcher = { matches: () => true };

/** The path of `p` under `root`, slash-separated, or undefined when `p` is not under it. */
export function relativeUnder(root: string, p: string): string | undefined {
  const rel = relative(root, p);
  if (rel === '') return '.';
  if (rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * Patterns anchored at `root` (an absolute directory). Paths outside the root never match, as
 * Compose's absolute patterns cannot match them. A malformed pattern is a ComposeError naming it.
 */
export function patternMatcher(root: string, patterns: readonly string[], what: string): PathMatcher {
  if (patterns.length === 0) return NO_MATCH;
  let m: IgnoreMatcher;
  try {
    m = makeMatcher(patternsFrom(patterns.map((p) => stripRoot(root, p))));
  } catch (err) {
    throw new ComposeError(`invalid ${what} pattern in ${JSON.stringify(patterns)}: ${(err as Error).message}`);
  }
  return {
    matches(absPath: string): boolean {
      const rel = relativeUnder(root, absPath);
      return rel !== undefined && rel !== '.' && m.excluded(rel);
    },
  };
}

/** An absolute pattern under the root is made relative to it (Compose joins relative ones to the root). */
function stripRoot(root: string, pattern: string): string {
  const neg = pattern.trimStart().startsWith('!');
  const body = neg ? pattern.trimStart().slice(1) : pattern;
  if (!isAbsolute(body.trim())) return pattern;
  const rel = relativeUnder(root, body.trim());
  return (neg ? '!' : '') + (rel ?? body);
}

/** The first matcher that matches decides (Compose's CompositeMatcher). */
export function anyOf(...ms: PathMatcher[]): PathMatcher {
  return { matches: (p) => ms.some((m) => m.matches(p)) };
}

/**
 * Editors' temp and lock files (Compose's EphemeralPathMatcher: GoLand, emacs, vim, kate, Go's
 * umask probe), so that saving a file does not sync its swap file. Plus `.git` anywhere: Compose
 * adds `.git/` anchored at `/`, meant as "never sync a repository's metadata"; Berth ignores a
 * `.git` directory at any depth, which is what that intends.
 */
export const EPHEMERAL: PathMatcher = patternMatcher(
  '/',
  [
    '**/*___jb_old___', '**/*___jb_tmp___', '**/.idea/**',
    '**/.#*', '**/#*#',
    '**/4913', '**/*~', '**/.*.swp', '**/.*.swx', '**/.*.swo', '**/.*.swn',
    '**/.*.kate-swp',
    '**/*-go-tmp-umask',
    '**/.git',
  ],
  'built-in ignore',
);

/**
 * The service's .dockerignore as Compose reads it for watch: `<context>/<dockerfile>.dockerignore`
 * first, else `<context>/.dockerignore`, anchored at the context. No build section (or a URL
 * context): nothing is ignored.
 */
export async function loadDockerignore(build: Build | undefined): Promise<PathMatcher> {
  if (!build || !isAbsolute(build.context)) return NO_MATCH;
  const dockerfile = build.dockerfile ?? 'Dockerfile';
  for (const name of [`${dockerfile}.dockerignore`, '.dockerignore']) {
    let text: string;
    try {
      text = await readFile(join(build.context, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw new ComposeError(`error reading .dockerignore: ${(err as Error).message}`);
    }
    return patternMatcher(build.context, readIgnoreFile(text), '.dockerignore');
  }
  return NO_MATCH;
}
