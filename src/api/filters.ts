// The `filters` query parameter: a JSON map of maps (`{"label":{"a=b":true}}`), or the legacy
// map of lists (`{"label":["a=b"]}`) older clients send. Like moby's filters.FromJSON, every
// key of an inner map is a value, whatever its boolean says (`{"v":false}` still filters on v).
// What it cannot read is refused with Go's json.Unmarshal texts, as dockerd words them.
import { InvalidParameter } from '../errors.ts';
import { goUnmarshal, GoJsonError } from '../util/go-json.ts';
import { filterArgs, legacyFilterArgs } from '../types/go-wire-types.ts';
import { validateFilters, type Filters } from '../engine/filter-args.ts';

export function parseFilters(raw: string | null): Filters {
  const out: Filters = new Map();
  if (raw === null || raw === '') return out;
  let v: unknown;
  try {
    v = goUnmarshal(raw, filterArgs);
  } catch (err) {
    if (!(err instanceof GoJsonError)) throw err;
    // filters.FromJSON: the legacy map of lists is tried next, and the first error is the answer
    try {
      v = goUnmarshal(raw, legacyFilterArgs);
    } catch {
      throw new InvalidParameter(err.message);
    }
  }
  if (v === null) return out;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === null) out.set(k, []);
    else if (Array.isArray(val)) out.set(k, [...new Set((val as (string | null)[]).map((x) => x ?? ''))]);
    else out.set(k, Object.keys(val as object));
  }
  return out;
}

/** moby's `invalid filter 'k'` for a key the list does not take. */
export function rejectUnknownFilters(f: Filters, allowed: string[]): void {
  validateFilters(f, allowed);
}
