// Step records and their exact comparison. A JSON answer is compared as a tree: key sets,
// value types (null, [] and {} are all different) and values; a difference is named by its
// path (`body.HostConfig.PortBindings`, `stdout[0].Mounts[1].Mode`) so the allowlist can
// name exactly what it accepts.

/** What one daemon answered to one step, normalised. */
export interface Answer {
  /** exit status (CLI) or HTTP status (API) */
  status: number;
  contentType?: string;
  headers?: Record<string, string>;
  /** text, or a parsed JSON value */
  stdout?: unknown;
  stderr?: string;
  body?: unknown;
}

export interface Difference { where: string; docker: unknown; berth: unknown }

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export function diffValues(a: unknown, b: unknown, where: string, out: Difference[], keysOnly = false): void {
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (ta !== tb) { out.push({ where, docker: a, berth: b }); return; }
  if (ta === 'object') {
    const oa = a as Record<string, unknown>;
    const ob = b as Record<string, unknown>;
    for (const k of Object.keys(oa)) {
      if (!(k in ob)) out.push({ where: `${where}.${k}`, docker: oa[k], berth: '<missing>' });
      else diffValues(oa[k], ob[k], `${where}.${k}`, out, keysOnly);
    }
    for (const k of Object.keys(ob)) if (!(k in oa)) out.push({ where: `${where}.${k}`, docker: '<missing>', berth: ob[k] });
    return;
  }
  if (ta === 'array') {
    const aa = a as unknown[];
    const ab = b as unknown[];
    if (!keysOnly && aa.length !== ab.length) { out.push({ where: `${where}.length`, docker: aa.length, berth: ab.length }); }
    for (let i = 0; i < Math.min(aa.length, ab.length); i++) diffValues(aa[i], ab[i], `${where}[${i}]`, out, keysOnly);
    return;
  }
  if (!keysOnly && a !== b) out.push({ where, docker: a, berth: b });
}

export function diffAnswers(d: Answer, b: Answer, keysOnly: boolean): Difference[] {
  const out: Difference[] = [];
  if (d.status !== b.status) out.push({ where: 'status', docker: d.status, berth: b.status });
  if (d.contentType !== b.contentType) out.push({ where: 'content-type', docker: d.contentType, berth: b.contentType });
  for (const k of new Set([...Object.keys(d.headers ?? {}), ...Object.keys(b.headers ?? {})])) {
    if (d.headers?.[k] !== b.headers?.[k]) out.push({ where: `header.${k}`, docker: d.headers?.[k], berth: b.headers?.[k] });
  }
  for (const part of ['stdout', 'stderr', 'body'] as const) {
    const x = d[part];
    const y = b[part];
    if (x === undefined && y === undefined) continue;
    if (typeof x === 'string' && typeof y === 'string') {
      if (x !== y) out.push({ where: part, docker: x, berth: y });
    } else {
      diffValues(x, y, part, out, keysOnly);
    }
  }
  return out;
}

/** JSON text of an answer part, or undefined when it is not JSON (a whole JSON document only). */
export function tryJson(s: string): unknown {
  const t = s.trim();
  if (!t || !'[{'.includes(t[0]!)) return undefined;
  try { return JSON.parse(t); } catch { return undefined; }
}

/** A sorted copy of an array (by each element's JSON text), for answers whose order Docker does not guarantee. */
export function sortedJson(v: unknown): unknown {
  return Array.isArray(v) ? [...v].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)) : v;
}
