// moby's api/types/filters.Args semantics, shared by every list and prune filter: a filter is a
// key with a set of values; different keys must all hold (AND), the values of one key are
// alternatives (OR). Each list decides per key which kind of match it uses, as moby does:
// `match` (a regular expression, e.g. ps's name and id), `exactMatch` (e.g. health),
// `matchKVList` (labels: every `k` or `k=v` value must hold) and `fuzzyMatch` (a prefix).
import { InvalidParameter } from '../errors.ts';

export type Filters = Map<string, string[]>;

/** moby's text for a key the list does not know (api/types/filters invalidFilter; lower case since moby 23, as the allowlist notes). */
export function invalidFilter(key: string, value?: string): InvalidParameter {
  return new InvalidParameter(value === undefined ? `invalid filter '${key}'` : `invalid filter '${key}=${value}'`);
}

/** Refuses the first key not in `accepted` (filters.Validate). */
export function validateFilters(f: Filters, accepted: readonly string[]): void {
  for (const k of f.keys()) if (!accepted.includes(k)) throw invalidFilter(k);
}

const regexCache = new Map<string, RegExp | null>();

/** A Go regexp as a JS one; Go's syntax (RE2) is nearly a subset. A pattern that does not compile is null. */
function compile(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re !== undefined) return re;
  try { re = new RegExp(pattern); } catch { re = null; }
  if (regexCache.size > 256) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

/**
 * filters.Args.Match: true when the key is absent, or one value equals `source` or, as a
 * regular expression, matches somewhere in it. A value that is no valid expression matches
 * nothing (moby skips it, it is no error).
 */
export function match(f: Filters, key: string, source: string): boolean {
  const vals = f.get(key);
  if (!vals?.length) return true;
  return vals.some((v) => v === source || compile(v)?.test(source) === true);
}

/** filters.Args.ExactMatch: the key absent, or one value equal to `source`. */
export function exactMatch(f: Filters, key: string, source: string): boolean {
  const vals = f.get(key);
  return !vals?.length || vals.includes(source);
}

/** filters.Args.FuzzyMatch: the key absent, or one value equal to `source` or a prefix of it. */
export function fuzzyMatch(f: Filters, key: string, source: string): boolean {
  const vals = f.get(key);
  return !vals?.length || vals.some((v) => source.startsWith(v));
}

/** One `k` (present) or `k=v` (equal) label condition. */
export function matchLabel(labels: Record<string, string> | null | undefined, filter: string): boolean {
  const l = labels ?? {};
  const i = filter.indexOf('=');
  if (i < 0) return Object.hasOwn(l, filter);
  const k = filter.slice(0, i);
  return Object.hasOwn(l, k) && l[k] === filter.slice(i + 1);
}

/** filters.Args.MatchKVList: every value of the key holds for `labels` (none given: true). */
export function matchKVList(f: Filters, key: string, labels: Record<string, string> | null | undefined): boolean {
  return (f.get(key) ?? []).every((v) => matchLabel(labels, v));
}

/** A boolean filter value as moby's filters.Args.GetBoolOrDefault reads it: `true`/`1`, `false`/`0`. */
export function boolFilter(f: Filters, key: string): boolean | undefined {
  const vals = f.get(key);
  if (!vals?.length) return undefined;
  if (vals.some((v) => !['true', 'false', '1', '0'].includes(v.toLowerCase()))) throw invalidFilter(key, vals.join(','));
  return vals.some((v) => ['true', '1'].includes(v.toLowerCase()));
}
