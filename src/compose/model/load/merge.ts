// Merging Compose documents: several -f files in order, and an extended service under the one
// that extends it. The rules are the spec's merge.md with Compose v2's behaviour where they differ
// (compose-go's override package):
//   - mappings merge key by key, recursively; a scalar in the later document wins; a null in the
//     later document leaves the earlier value (only `!reset` removes one);
//   - sequences are appended, then made unique by their identity (ports by their whole spec,
//     volumes and devices by mount target, secrets/configs by target, env_file by path, dns and
//     friends by value), the later entry taking the first one's place (enforceUnique);
//   - `command`, `entrypoint` and `healthcheck.test` are replaced, never appended;
//   - environment, labels, annotations, sysctls, build.args: list and map forms both read as a
//     map, merged by key (the merged value is the map form); extra_hosts appended (a host may
//     have several addresses), exact duplicates dropped; ipam.config entries merged by subnet;
//   - depends_on and a service's networks: the list form becomes a map first;
//   - `build: ./dir` reads as `{context: ./dir}`; logging with another driver replaces the whole;
//   - `!reset` removes the earlier value, `!override` replaces it without merging.
import { Override, RESET, isMapping } from './yaml-file.ts';

type Dict = Record<string, unknown>;
type Merger = (base: unknown, over: unknown, path: string[]) => unknown;

const matches = (pattern: string, path: string[]): boolean => {
  const p = pattern.split('.');
  return p.length === path.length && p.every((seg, i) => seg === '*' || seg === path[i]);
};

/** `A=B` / `A` list entries, or a mapping, as one mapping (a bare `A` is null: "from the environment"). */
export function toMapping(v: unknown, sep: RegExp = /=/): Dict {
  if (isMapping(v)) return { ...v };
  const out: Dict = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const m = sep.exec(s);
      if (m) out[s.slice(0, m.index)] = s.slice(m.index + 1);
      else out[s] = null;
    }
  }
  return out;
}

const byKey: Merger = (b, o) => mergeMapping(toMapping(b), toMapping(o), []);
// extra_hosts: a host may have several addresses, so entries are appended (exact duplicates
// dropped), the map form read as `host=ip` entries (compose-go's mergeExtraHosts)
const hostEntries = (v: unknown): unknown[] => {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [v];
  if (!isMapping(v)) return [];
  return Object.entries(v)
    .flatMap(([k, x]) => (x === null ? [k] : Array.isArray(x) ? x.map((ip) => `${k}=${String(ip)}`) : [`${k}=${String(x)}`]))
    .sort();
};
const hostsAppended: Merger = (b, o) => {
  const base = hostEntries(b);
  return [...base, ...hostEntries(o).filter((h) => !base.includes(h))];
};
// ipam.config: entries with the same subnet merge, others are added
const ipamConfig: Merger = (b, o, p) => {
  if (!Array.isArray(b) || !Array.isArray(o)) return o;
  const out: unknown[] = [...b];
  for (const entry of o) {
    const i = out.findIndex((x) => isMapping(x) && isMapping(entry) && x.subnet === entry.subnet);
    if (i >= 0) out[i] = mergeMapping(out[i] as Dict, entry as Dict, p);
    else out.push(entry);
  }
  return out;
};
const replace: Merger = (_b, o) => o;

const dependsOnMap = (v: unknown): Dict => {
  if (!Array.isArray(v)) return isMapping(v) ? v : {};
  const out: Dict = {};
  for (const s of v) out[String(s)] = { condition: 'service_started', required: true };
  return out;
};

const networksMap = (v: unknown): Dict => {
  if (!Array.isArray(v)) return isMapping(v) ? v : {};
  const out: Dict = {};
  for (const s of v) out[String(s)] = null;
  return out;
};

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

const specials: [string, Merger][] = [
  ['services.*.command', replace],
  ['services.*.entrypoint', replace],
  ['services.*.healthcheck.test', replace],
  ['services.*.environment', byKey],
  ['services.*.labels', byKey],
  ['services.*.annotations', byKey],
  ['services.*.sysctls', byKey],
  ['services.*.deploy.labels', byKey],
  ['services.*.build.args', byKey],
  ['services.*.build.labels', byKey],
  ['services.*.build.additional_contexts', byKey],
  ['services.*.extra_hosts', hostsAppended],
  ['services.*.build.extra_hosts', hostsAppended],
  ['networks.*.ipam.config', ipamConfig],
  ['networks.*.labels', byKey],
  ['volumes.*.labels', byKey],
  ['secrets.*.labels', byKey],
  ['configs.*.labels', byKey],
  ['services.*.depends_on', (b, o, p) => mergeMapping(dependsOnMap(b), dependsOnMap(o), p)],
  ['services.*.networks', (b, o, p) => mergeMapping(networksMap(b), networksMap(o), p)],
  ['services.*.build', (b, o, p) => mergeMapping(typeof b === 'string' ? { context: b } : (b as Dict), typeof o === 'string' ? { context: o } : (o as Dict), p)],
  [
    'services.*.logging',
    (b, o, p) => {
      if (!isMapping(b) || !isMapping(o)) return o;
      if (b.driver !== undefined && o.driver !== undefined && b.driver !== o.driver) return o;
      return mergeMapping(b, o, p);
    },
  ],
  ['services.*.ulimits.*', (b, o, p) => (isMapping(b) && isMapping(o) ? mergeMapping(b, o, p) : o)],
  // string-or-list fields: a string is a one-item list before appending
  ...['dns', 'dns_search', 'dns_opt', 'env_file', 'tmpfs', 'label_file'].map(
    (k): [string, Merger] => [`services.*.${k}`, (b, o) => [...asList(b), ...asList(o)]],
  ),
];

/** Merges `over` onto `base` at `path`: the result; undefined means "remove the key". */
function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (over === RESET) return undefined;
  if (over instanceof Override) return over.value;
  if (base === undefined || base === RESET) return over;
  if (base instanceof Override) base = base.value;
  for (const [pattern, merger] of specials) if (matches(pattern, path)) return over === null ? base : merger(base, over, path);
  if (over === null) return base;
  if (isMapping(base) && isMapping(over)) return mergeMapping(base, over, path);
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  return over;
}

function mergeMapping(base: Dict, over: Dict, path: string[]): Dict {
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const merged = mergeValue(out[k], v, [...path, k]);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

/** Merges a later Compose document onto an earlier one (several -f files, in order). */
export function mergeDocuments(base: Dict, over: Dict): Dict {
  return mergeMapping(base, over, []);
}

/** Merges an extending service's mapping onto its base's (extends). */
export function mergeService(base: Dict, over: Dict): Dict {
  const merged = mergeMapping({ services: { s: base } }, { services: { s: over } }, []);
  return (merged.services as Dict).s as Dict;
}

/** Removes what `!reset` left (also inside lists) and unwraps `!override`: the document as YAML values. */
export function stripMarkers(v: unknown): unknown {
  if (v instanceof Override) return stripMarkers(v.value);
  if (Array.isArray(v)) return v.filter((x) => x !== RESET).map(stripMarkers);
  if (isMapping(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) if (x !== RESET) out[k] = stripMarkers(x);
    return out;
  }
  return v;
}

// Identity of a list entry, by which duplicates are found (compose-go's indexers).
type Indexer = (v: unknown) => string;
const plain: Indexer = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
const mountTarget: Indexer = (v) => {
  if (isMapping(v)) return String(v.target ?? v.source ?? '');
  const parts = String(v).split(':');
  return parts.length >= 2 ? parts[1] : parts[0];
};
const fileMount = (dflt: string): Indexer => (v) => {
  if (isMapping(v)) return v.target !== undefined ? String(v.target) : `${dflt}/${String(v.source)}`;
  return `${dflt}/${String(v)}`;
};
const port: Indexer = (v) => {
  if (!isMapping(v)) return String(v);
  return `${String(v.host_ip ?? '0.0.0.0')}:${String(v.published ?? '')}:${String(v.target)}/${String(v.protocol ?? 'tcp')}`;
};
const envFile: Indexer = (v) => (isMapping(v) ? String(v.path) : String(v));
const keyOf: Indexer = (v) => String(v).split('=')[0];

const uniqueBy: [string, Indexer][] = [
  ['services.*.ports', port],
  ['services.*.expose', (v) => String(v)],
  ['services.*.volumes', mountTarget],
  ['services.*.devices', mountTarget],
  ['services.*.secrets', fileMount('/run/secrets')],
  ['services.*.configs', fileMount('')],
  ['services.*.env_file', envFile],
  ['services.*.environment', keyOf],
  ['services.*.labels', keyOf],
  ['services.*.annotations', keyOf],
  ['services.*.sysctls', keyOf],
  ['services.*.build.args', keyOf],
  ['services.*.build.labels', keyOf],
  ...['dns', 'dns_opt', 'dns_search', 'cap_add', 'cap_drop', 'profiles', 'links', 'tmpfs', 'build.tags', 'build.platforms', 'networks.*.aliases', 'networks.*.link_local_ips'].map(
    (k): [string, Indexer] => [`services.*.${k}`, plain],
  ),
];

/**
 * Drops duplicate list entries by their identity: the first position, the last value (as Compose,
 * which runs this after every merge, so that a later file's `8080:80` replaces an earlier one).
 */
export function enforceUnique(v: unknown, path: string[] = []): unknown {
  if (Array.isArray(v)) {
    const rule = uniqueBy.find(([p]) => matches(p, path));
    if (!rule) return v;
    const out: unknown[] = [];
    const at = new Map<string, number>();
    for (const entry of v) {
      const key = rule[1](entry);
      const j = at.get(key);
      if (j !== undefined) out[j] = entry;
      else at.set(key, out.push(entry) - 1);
    }
    return out;
  }
  if (isMapping(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) out[k] = enforceUnique(x, [...path, k]);
    return out;
  }
  return v;
}
