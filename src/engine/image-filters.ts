// `docker images` (GET /images/json): which images and which of their references, as moby
// 20.10's daemon/images/images.go decides. dangling=true walks only the heads (images no other
// image is built on); before/since compare creation times at full precision; `reference`
// keeps an image when one of its references matches a glob (Go's path.Match, against the
// familiar string or the familiar name), and shows only the matching references.
import { InvalidParameter } from '../errors.ts';
import type { ImageRecord } from './images.ts';
import type { ImageStore } from '../image/store.ts';
import { type Filters, validateFilters, invalidFilter, matchKVList } from './filter-args.ts';

// `until` came with moby 25's image list; dockerd 20.10 refuses it, Berth takes it (newer API).
const IMAGE_FILTERS = ['dangling', 'label', 'before', 'since', 'reference', 'until'];

/** Go's path.Match compiled once: `*` and `?` stop at `/`, `[...]`/`[^...]` classes, `\` escapes. */
export function globToRegExp(pattern: string): RegExp {
  const bad = (): never => { throw new InvalidParameter('syntax error in pattern'); };
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '\\') {
      if (++i >= pattern.length) bad();
      out += escapeRe(pattern[i]!);
    } else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') { cls += '^'; j++; }
      let first = true;
      for (;; j++) {
        if (j >= pattern.length) bad();
        let c = pattern[j]!;
        if (c === ']' && !first) break;
        first = false;
        if (c === '\\') { if (++j >= pattern.length) bad(); c = pattern[j]!; }
        if (c === '-' || c === ']') bad();
        cls += escapeRe(c);
        if (pattern[j + 1] === '-' && pattern[j + 2] !== ']') {
          j += 2;
          if (j >= pattern.length) bad();
          let hi = pattern[j]!;
          if (hi === '\\') { if (++j >= pattern.length) bad(); hi = pattern[j]!; }
          if (hi < c) bad();
          cls += `-${escapeRe(hi)}`;
        }
      }
      // a negated class never matches the separator either
      out += cls.startsWith('^') ? `[${cls}/]` : `[${cls}]`;
      i = j;
    } else out += escapeRe(ch);
  }
  return new RegExp(`${out}$`, 's');
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c;
}

const createdMs = (r: ImageRecord): number => {
  const t = Date.parse(r.config.created ?? '');
  return Number.isNaN(t) ? 0 : t;
};

/** The images `docker images` shows, newest first, with only the references the filters keep. */
export function listImages(store: ImageStore, opts: { all: boolean; filters: Filters }): ImageRecord[] {
  const f = opts.filters;
  validateFilters(f, IMAGE_FILTERS);
  let danglingOnly = false;
  if (f.has('dangling')) {
    const d = f.get('dangling')!;
    if (d.includes('true')) danglingOnly = true;
    else if (!d.includes('false')) throw invalidFilter('dangling', `[${d.join(' ')}]`);
  }
  let before: number | undefined;
  let since: number | undefined;
  for (const v of f.get('before') ?? []) before = createdMs(store.resolve(v));
  for (const v of f.get('since') ?? []) since = createdMs(store.resolve(v));
  const refs = f.get('reference');
  const globs = refs?.map(globToRegExp);
  const matches = (ref: string): boolean => {
    const name = ref.includes('@') ? ref.slice(0, ref.indexOf('@')) : ref.slice(0, ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.lastIndexOf(':') : ref.length);
    return globs!.some((g) => g.test(ref) || g.test(name));
  };
  let list = store.list();
  if (danglingOnly) list = list.filter((r) => store.children(r.id).length === 0);
  const out: ImageRecord[] = [];
  for (const r of list) {
    const t = createdMs(r);
    if (before !== undefined && t >= before) continue;
    if (since !== undefined && t <= since) continue;
    if (f.has('label') && !matchKVList(f, 'label', r.config.config?.Labels)) continue;
    const repoTags = globs ? r.repoTags.filter(matches) : r.repoTags;
    const repoDigests = globs ? r.repoDigests.filter(matches) : r.repoDigests;
    if (!repoTags.length && !repoDigests.length) {
      // untagged: an intermediate image (one others are built on) only with -a
      if (!opts.all && store.children(r.id).length) continue;
      if (f.has('dangling') && !danglingOnly) continue;
      if (globs) continue;
    } else if (danglingOnly && repoTags.length) continue;
    out.push(globs ? { ...r, repoTags, repoDigests } : r);
  }
  return out.sort((a, b) => createdMs(b) - createdMs(a) || a.id.localeCompare(b.id));
}
