// The `filters` query parameter: a JSON map of maps (`{"label":{"a=b":true}}`), or the legacy
// map of lists (`{"label":["a=b"]}`) older clients send. Like moby's filters.FromJSON, every
// key of an inner map is a value, whatever its boolean says (`{"v":false}` still filters on v).
import { InvalidParameter } from '../errors.ts';
import { validateFilters, type Filters } from '../engine/filter-args.ts';

export function parseFilters(raw: string | null): Filters {
  const out: Filters = new Map();
  if (raw === null || raw === '') return out;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InvalidParameter(`invalid filter: ${raw}`);
  }
  if (v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameter(`invalid filter: ${raw}`);
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === null) out.set(k, []);
    else if (Array.isArray(val) && val.every((x) => typeof x === 'string')) out.set(k, [...new Set(val as string[])]);
    else if (typeof val === 'object' && !Array.isArray(val) && Object.values(val).every((b) => typeof b === 'boolean')) {
      out.set(k, Object.keys(val));
    } else throw new InvalidParameter(`invalid filter: ${raw}`);
  }
  return out;
}

/** moby's `invalid filter 'k'` for a key the list does not take. */
export function rejectUnknownFilters(f: Filters, allowed: string[]): void {
  validateFilters(f, allowed);
}
