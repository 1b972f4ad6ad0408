// Go's encoding/json, as zod schemas decode with it: one issue becomes a 400 naming the field,
// object keys match case-insensitively when none matches exactly; and the shapes Docker's
// types share (strslice, string maps, integers).
import { z } from 'zod';
import { InvalidParameter } from '../../errors.ts';

/** strslice.StrSlice: a JSON string or an array of strings. */
export const strSlice = z.union([z.string().transform((s) => [s]), z.array(z.string())]).nullish();
export const strMap = z.record(z.string(), z.string()).nullish();
export const int = z.number().int().nullish();

/**
 * Parses with a schema and turns the first zod issue into a 400 naming the field, as Go's
 * decoder does; an issue that carries Go's own text (`params.goText`) is answered with it alone.
 */
export function decode<T>(schema: z.ZodType<T>, value: unknown, what: string, o: { foldCase?: boolean } = {}): T {
  const r = schema.safeParse(o.foldCase === false ? value : foldKeys(schema, value));
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const goText = issue.code === 'custom' ? (issue.params as { goText?: string } | undefined)?.goText : undefined;
  if (goText) throw new InvalidParameter(goText);
  const field = issue.path.join('.') || what;
  throw new InvalidParameter(`json: cannot unmarshal ${what} field ${field}: ${issue.message}`);
}

/**
 * Go's encoding/json matches object keys case-insensitively when no key matches exactly:
 * docker-py sends exec create's `detachKeys` in lower camel case, and dockerd takes it as
 * DetachKeys, and HostConfig's CPURealtimePeriod, which dockerd takes as CpuRealtimePeriod. The
 * keys an object schema lists are folded the same way here, in nested object schemas too.
 */
function foldKeys(schema: z.ZodType, value: unknown): unknown {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  if (!(s instanceof z.ZodObject) || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const shape = s.shape as Record<string, z.ZodType>;
  const names = Object.keys(shape);
  const out: Record<string, unknown> = {};
  let changed = false;
  for (const [k, v] of Object.entries(value)) {
    let name = k;
    if (!names.includes(k)) {
      const folded = names.find((n) => n.toLowerCase() === k.toLowerCase());
      if (folded && !(folded in value)) { name = folded; changed = true; }
    }
    const inner = shape[name] ? foldKeys(shape[name]!, v) : v;
    if (inner !== v) changed = true;
    out[name] = inner;
  }
  return changed ? out : value;
}
