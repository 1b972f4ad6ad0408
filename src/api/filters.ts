// The `filters` query parameter: a JSON map of maps (`{"label":{"a=b":true}}`), or the legacy
// map of lists (`{"label":["a=b"]}`) older clients send.
import { InvalidParameter } from '../errors.ts';

export function parseFilters(raw: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
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
    if (Array.isArray(val)) out.set(k, val.map(String));
    else if (val && typeof val === 'object') {
      out.set(k, Object.entries(val as Record<string, unknown>).filter(([, on]) => on === true || on === 'true').map(([x]) => x));
    } else throw new InvalidParameter(`invalid filter: ${raw}`);
  }
  return out;
}

export function rejectUnknownFilters(f: Map<string, string[]>, allowed: string[]): void {
  for (const k of f.keys()) if (!allowed.includes(k)) throw new InvalidParameter(`invalid filter '${k}'`);
}
