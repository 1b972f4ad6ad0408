// Type checks for request bodies that have no schema of their own: a field of the wrong JSON
// type is a 400 naming the field (what dockerd's JSON decoding says), never a TypeError deeper in.
import { InvalidParameter } from '../../errors.ts';

const wrong = (field: string, want: string, v: unknown): InvalidParameter =>
  new InvalidParameter(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v} into Go struct field ${field} of type ${want}`);

export function optString(o: Record<string, unknown>, k: string, field = k): void {
  const v = o[k];
  if (v !== undefined && v !== null && typeof v !== 'string') throw wrong(field, 'string', v);
}

export function optBool(o: Record<string, unknown>, k: string, field = k): void {
  const v = o[k];
  if (v !== undefined && v !== null && typeof v !== 'boolean') throw wrong(field, 'bool', v);
}

/** A JSON object of strings (labels, options), or absent/null. */
export function optStringMap(o: Record<string, unknown>, k: string, field = k): void {
  const v = o[k];
  if (v === undefined || v === null) return;
  if (typeof v !== 'object' || Array.isArray(v)) throw wrong(field, 'map[string]string', v);
  for (const [kk, vv] of Object.entries(v)) if (typeof vv !== 'string') throw wrong(`${field}.${kk}`, 'string', vv);
}

export function object(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameter(`invalid ${what}: expected a JSON object`);
  return v as Record<string, unknown>;
}
