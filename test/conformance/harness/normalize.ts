// Makes one daemon's answers comparable with the other's without blanking them: every value
// that must differ between two daemons (IDs, generated names, ephemeral ports, roots) is
// replaced by a token numbered in order of first appearance within the scenario, so "the
// same ID twice" and "two different IDs" stay distinguishable. Container addresses keep
// their host part: each daemon's bridge subnet and pool (of the same width on both) become
// <BRIDGE> and <POOL>, in addresses and in the MAC addresses Docker makes of them.
// Times become <TIME> (the zero time stays as it is: null-vs-zero matters).

export interface Context {
  /** paths of this daemon's run, longest first: data root, exec root, scratch dir… */
  roots: [string, string][];
  /** "10.176.203." → <BRIDGE>., "10.214." → <POOL>. */
  prefixes: [string, string][];
  /** container names this daemon generated (not written in the scenario) */
  generatedNames: () => Set<string>;
  /** full IDs of the daemon's objects → a label that is the same on both daemons (`ctr:web`, `img:busybox:latest`) */
  known: () => Map<string, string>;
}

export class Symbols {
  private readonly ids = new Map<string, number>();
  private readonly names = new Map<string, number>();
  private readonly ports = new Map<string, number>();

  readonly ctx: Context;

  constructor(ctx: Context) { this.ctx = ctx; }

  /** The number of an ID, keyed by its first 12 hex digits so short and long forms agree. */
  id(hex: string): string {
    for (const [full, label] of this.ctx.known()) {
      if (full.startsWith(hex)) return hex.length === 64 ? `<${label}>` : `<${label}:${hex.length}>`;
    }
    const key = hex.slice(0, 12);
    let n = this.ids.get(key);
    if (n === undefined) { n = this.ids.size + 1; this.ids.set(key, n); }
    return hex.length === 64 ? `<ID${n}>` : `<ID${n}:${hex.length}>`;
  }

  isKnown(hex: string): boolean {
    for (const full of this.ctx.known().keys()) if (full.startsWith(hex)) return true;
    return this.ids.has(hex.slice(0, 12));
  }

  name(s: string): string {
    let n = this.names.get(s);
    if (n === undefined) { n = this.names.size + 1; this.names.set(s, n); }
    return `<NAME${n}>`;
  }

  port(p: string): string {
    let n = this.ports.get(p);
    if (n === undefined) { n = this.ports.size + 1; this.ports.set(p, n); }
    return `<PORT${n}>`;
  }
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const DURATION = /\b(Less than a second|About an? (minute|hour)|\d+ (seconds?|minutes?|hours?|days?|weeks?|months?|years?))\b/g;
const RFC3339 = /\b(?!0001-01-01T00:00:00Z)\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g;
const GO_TIME = /\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} [A-Z]+( m=[+-]\d+\.\d+)?/g;
/** Unix seconds (2020–2033) and nanoseconds: event times, `Created` of lists. */
const UNIX = /\b1[6-9]\d{8}(\d{9})?\b/g;
const EPHEMERAL = (p: number): boolean => p >= 32768 && p <= 60999;

export interface TextOptions { numbers?: boolean }

export function normalizeText(s: string, sym: Symbols, o: TextOptions = {}): string {
  let out = s;
  for (const [root, token] of sym.ctx.roots) out = out.split(root).join(token);
  // Inside a daemon's own paths an unknown hex name is a storage detail (layer dirs), not an
  // object: it gets no number, so it cannot shift the numbering of the IDs that follow.
  out = out.replace(/<(DATA|EXEC)>\/[^\s"':,]*/g, (path) => path.replace(/\b[0-9a-f]{64}\b/g, (h) => (sym.isKnown(h) ? sym.id(h) : '<H>')));
  out = out.replace(/\b[0-9a-f]{64}\b/g, (h) => sym.id(h));
  out = out.replace(/\b[0-9a-f]{12}\b/g, (h) => (/[a-f]/.test(h) ? sym.id(h) : h));
  const generated = [...sym.ctx.generatedNames()];
  if (generated.length) {
    const re = new RegExp(`(?<![\\w.-])(${generated.map(escape).join('|')})(?![\\w.-])`, 'g');
    out = out.replace(re, (n) => sym.name(n));
  }
  out = out.replace(RFC3339, '<TIME>').replace(GO_TIME, '<TIME>').replace(DURATION, '<DURATION>');
  out = out.replace(UNIX, (m) => (m.length > 10 ? '<UNIXNANO>' : '<UNIX>'));
  for (const [prefix, token] of sym.ctx.prefixes) out = out.split(prefix).join(token);
  // host ports the kernel or the daemon picked: ":49153", "HostPort": "49153"
  out = out.replace(/(?<=[:\s"])(\d{5})(?=->|"|\/|\s|$)/gm, (p) => (EPHEMERAL(Number(p)) ? sym.port(p) : p));
  if (o.numbers) out = out.replace(/\d+/g, 'N');
  // numbers of other widths and durations ("5 seconds" / "About a minute") shift tabwriter
  // columns: there, cells are compared, not their spacing
  if (o.numbers || out.includes('<DURATION>')) out = out.split('\n').map((l) => l.replace(/ {2,}/g, '   ').trimEnd()).join('\n');
  return out;
}

/** Keys whose positive numbers are process IDs (they differ run to run). */
const PID_KEYS = new Set(['Pid', 'pid']);

/** A JSON value with every string normalised as text, Unix times and PIDs tokenised. */
export function normalizeJson(v: unknown, sym: Symbols, o: TextOptions = {}, key = ''): unknown {
  if (typeof v === 'string') {
    if (key === 'HostPort' && /^\d+$/.test(v) && EPHEMERAL(Number(v))) return sym.port(v);
    return normalizeText(v, sym, o);
  }
  if (typeof v === 'number') {
    if (key === 'PublicPort' && EPHEMERAL(v)) return sym.port(String(v));
    if (PID_KEYS.has(key) && v > 0) return '<PID>';
    if (Number.isInteger(v) && ((v >= 1.6e9 && v < 2e9) || (v >= 1.6e18 && v < 2e18))) return v >= 1e18 ? '<UNIXNANO>' : '<UNIX>';
    return o.numbers ? 'N' : v;
  }
  if (Array.isArray(v)) {
    // dockerd lists a container's Mounts from a Go map (no stable order): compare them by destination
    // and a container's Ports from its NetworkSettings.Ports map (each request its own order;
    // a port's bindings keep theirs): compare them by port and protocol, a stable sort
    const items = key === 'Mounts' && v.every((m) => m && typeof m === 'object' && 'Destination' in m)
      ? [...v].sort((a, b) => String(a.Destination).localeCompare(String(b.Destination)))
      : key === 'Ports' && v.every((p) => p && typeof p === 'object' && 'PrivatePort' in p)
        ? [...v].sort((a, b) => (a.PrivatePort - b.PrivatePort) || String(a.Type).localeCompare(String(b.Type))) : v;
    return items.map((x) => normalizeJson(x, sym, o, key));
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    // keys in sorted order: tokens are numbered by first appearance, and key order is not part
    // of the API (Go maps are sorted, structs are not), so it must not shift the numbering
    for (const k of Object.keys(v).sort()) out[normalizeText(k, sym, o)] = normalizeJson((v as Record<string, unknown>)[k], sym, o, k);
    return out;
  }
  return v;
}
