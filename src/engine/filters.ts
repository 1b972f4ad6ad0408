// Every list and prune filter of the API, applied by the engine: the services (and the list
// functions beside them) take a parsed `filters` map (filter-args.ts) and return records; the
// API only parses the query and projects the result. Each section follows moby's own filter for
// that object, validated key by key with dockerd's texts.
import { InvalidParameter, NotFound } from '../errors.ts';
import type { ImageStore, ImageRecord } from '../image/store.ts';
import { isPredefinedNetwork } from '../network/predefined.ts';
import type { ContainerNet, NetworkRecord, NetworkService } from './networks.ts';
import type { VolumeRecord } from '../volume/store.ts';
import { type Filters, validateFilters, invalidFilter, match, exactMatch, matchKVList, matchLabel } from './filter-args.ts';

export type { Filters };

/**
 * What the container filters ask of the images (`ancestor`); the image service has it. Declared
 * here, not imported, because the image service applies the image filters below.
 */
export interface ImageLookup {
  resolve(ref: string): { id: string };
  children(id: string): string[];
}

/**
 * What the container filters read of a container (a ContainerService's Container is one).
 * Structural, so that the volume and image services, which apply their filters here, do not
 * import the container modules that import them.
 */
export interface ListedContainer {
  rec: {
    Id: string; Name: string; Created: string; Image: string;
    State: { Running: boolean; StartedAt: string; ExitCode: number; Status: string };
    Config: { Labels?: Record<string, string> | null; ExposedPorts?: unknown };
    HostConfig: object;
    NetworkSettings?: ContainerNet;
    Mounts?: { Destination: string; Name?: string; Source: string }[];
  };
}

// ---- containers ---------------------------------------------------------------------------
// `docker ps` (GET /containers/json): which containers, in which order, as moby 20.10's
// daemon/list.go decides. The list is walked newest first; `before` skips containers until it
// passes the named one, `since` stops there; the limit counts only containers that are shown.
// Every filter key is validated before anything is read, with dockerd's texts.
const PS_FILTERS = ['ancestor', 'before', 'exited', 'id', 'isolation', 'label', 'name', 'status', 'health', 'since',
  'volume', 'network', 'is-task', 'publish', 'expose'];
const STATES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);
const HEALTH = new Set(['starting', 'healthy', 'unhealthy', 'none']);

/**
 * `publish`/`expose` values: `80`, `80/udp`, `8000-8080/tcp`, as moby's portOp reads them
 * (nat.SplitProtoPort, nat.ParsePortRange) into a set of `port/proto`.
 */
function portSet(key: string, values: string[]): Set<string> {
  const out = new Set<string>();
  for (const value of values) {
    if (value.includes(':')) throw new InvalidParameter(`filter for '${key}' should not contain ':': ${value}`);
    const parts = value.split('/');
    const [proto, port] = value === '' || parts[0] === '' ? ['', ''] : parts.length === 1 || parts[1] === '' ? ['tcp', parts[0]!] : [parts[1]!, parts[0]!];
    const fail = (why: string): never => { throw new InvalidParameter(`error while looking up for ${key} ${value}: ${why}`); };
    if (port === '') fail('Empty string specified for ports.');
    const [a, b] = port.includes('-') ? port.split('-') : [port, port];
    const start = parseUint16(a!, fail);
    const end = parseUint16(b!, fail);
    if (end < start) fail(`Invalid range specified for the Port: ${port}`);
    for (let p = start; p <= end; p++) out.add(`${p}/${proto}`);
  }
  return out;
}

/** Go's strconv.ParseUint(s, 10, 16) with its error text. */
function parseUint16(s: string, fail: (why: string) => never): number {
  if (!/^\d+$/.test(s)) fail(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n > 0xffff) fail(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** moby's idOrNameFilter: a full ID, else a name; a short ID is no match ('no such container'). */
function idOrName<C extends ListedContainer>(all: C[], value: string): C {
  const byId = all.find((c) => c.rec.Id === value);
  if (byId) return byId;
  const hits = all.filter((c) => c.rec.Name.replace(/^\//, '') === value.replace(/^\//, ''));
  if (hits.length !== 1) throw new NotFound(`no such container ${value}`);
  return hits[0]!;
}

/** An image and every image built on it (moby's populateImageFilterByParents). */
function withDescendants(images: ImageLookup, id: string, into: Set<string>): void {
  if (into.has(id)) return;
  into.add(id);
  for (const child of images.children(id)) withDescendants(images, child, into);
}

/** The containers `docker ps` shows for these options, newest first. */
export function listContainers<C extends ListedContainer>(svc: { all(): C[] }, images: ImageLookup, opts: { all: boolean; limit?: number; filters: Filters }): C[] {
  const f = opts.filters;
  validateFilters(f, PS_FILTERS);
  const exited = (f.get('exited') ?? []).map((v) => {
    if (!/^[+-]?\d+$/.test(v)) throw new InvalidParameter(`strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  });
  let all = opts.all;
  for (const s of f.get('status') ?? []) {
    if (!STATES.has(s)) throw invalidFilter('status', s);
    all = true;
  }
  let taskFilter: boolean | undefined;
  if (f.has('is-task')) {
    const v = f.get('is-task')!;
    if (v.includes('true')) taskFilter = true;
    else if (v.includes('false')) taskFilter = false;
    // Go prints the values as a slice: `invalid filter 'is-task=[maybe]'`
    else throw invalidFilter('is-task', `[${v.join(' ')}]`);
  }
  for (const h of f.get('health') ?? []) {
    if (!HEALTH.has(h)) throw new InvalidParameter(`Unrecognised filter value for health: ${h}`);
  }
  const containers = svc.all().sort((a, b) => (a.rec.Created < b.rec.Created ? 1 : a.rec.Created > b.rec.Created ? -1 : 0));
  let before: C | undefined;
  let since: C | undefined;
  for (const v of f.get('before') ?? []) before = idOrName(containers, v);
  for (const v of f.get('since') ?? []) since = idOrName(containers, v);
  let ancestors: Set<string> | undefined;
  if (f.has('ancestor')) {
    ancestors = new Set();
    for (const a of f.get('ancestor')!) {
      // an unknown image is no error: it matches nothing (dockerd logs a warning)
      try { withDescendants(images, images.resolve(a).id, ancestors); } catch { /* no such image */ }
    }
  }
  const publish = portSet('publish', f.get('publish') ?? []);
  const expose = portSet('expose', f.get('expose') ?? []);
  const ids = f.get('id') ?? [];
  // The id filter first goes through the ID index: a unique prefix (an ambiguous one finds nothing).
  const idHits = new Set<string>();
  for (const i of ids) {
    const hits = containers.filter((c) => c.rec.Id.startsWith(i));
    if (i !== '' && hits.length === 1) idHits.add(hits[0]!.rec.Id);
  }

  const out: C[] = [];
  for (const c of containers) {
    const r = c.rec;
    if (!r.State.Running && !all && !(opts.limit !== undefined && opts.limit > 0)) continue;
    if (before) {
      if (r.Id === before.rec.Id) before = undefined;
      continue;
    }
    if (since && r.Id === since.rec.Id) break;
    if (ids.length && (!idHits.has(r.Id) || !match(f, 'id', r.Id))) continue;
    if (!match(f, 'name', r.Name) && !match(f, 'name', r.Name.replace(/^\//, ''))) continue;
    if (taskFilter === true) continue; // Berth runs no swarm tasks
    if (!matchKVList(f, 'label', r.Config.Labels)) continue;
    const isolation = String((r.HostConfig as { Isolation?: string }).Isolation ?? '').toLowerCase() || 'default';
    if (!match(f, 'isolation', isolation)) continue;
    if (opts.limit !== undefined && opts.limit > 0 && out.length === opts.limit) break;
    if (exited.length && (r.State.Running || !r.State.StartedAt || r.State.StartedAt.startsWith('0001-') || !exited.includes(r.State.ExitCode))) continue;
    if (!match(f, 'status', r.State.Status)) continue;
    const health = (r.State as { Health?: { Status: string } }).Health?.Status ?? 'none';
    if (!exactMatch(f, 'health', health)) continue;
    if (f.has('volume')) {
      const mounts = r.Mounts ?? [];
      const vols = f.get('volume')!;
      if (!mounts.some((m) => vols.includes(m.Destination) || vols.includes(m.Name || m.Source))) continue;
    }
    if (ancestors && !ancestors.has(r.Image)) continue;
    if (f.has('network')) {
      const nets = r.NetworkSettings?.Networks ?? {};
      const want = f.get('network')!;
      if (!want.some((v) => Object.hasOwn(nets, v) || Object.values(nets).some((ep) => !!ep.NetworkID && ep.NetworkID.startsWith(v)))) continue;
    }
    // publish matches a published host port with its container port's protocol, as moby's snapshot keeps them
    if (publish.size) {
      const bound = new Set<string>();
      for (const [key, binds] of Object.entries(r.NetworkSettings?.Ports ?? {})) {
        for (const b of binds ?? []) if (b.HostPort) bound.add(`${Number(b.HostPort)}/${key.split('/')[1] ?? 'tcp'}`);
      }
      if (![...publish].some((p) => bound.has(p))) continue;
    }
    if (expose.size && !Object.keys((r.Config.ExposedPorts as Record<string, unknown> | null | undefined) ?? {}).some((p) => expose.has(p))) continue;
    out.push(c);
  }
  return out;
}

// ---- images -------------------------------------------------------------------------------
// `docker images` (GET /images/json): which images and which of their references, as moby
// 20.10's daemon/images/images.go decides. dangling=true walks only the heads (images no other
// image is built on); before/since compare creation times at full precision; `reference`
// keeps an image when one of its references matches a glob (Go's path.Match, against the
// familiar string or the familiar name), and shows only the matching references.
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

// ---- networks -----------------------------------------------------------------------------
// `docker network ls` (GET /networks) filters, as moby 20.10's daemon/network/filter.go applies
// them: name and id are regular expressions, driver and scope exact, labels k or k=v; dangling
// (one value) keeps the networks no container is attached to, never the predefined ones, and
// dangling=false the predefined ones and those in use; each `type` value adds its networks.
const NETWORK_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'];

export function filterNetworks(nets: NetworkService, f: Filters): NetworkRecord[] {
  validateFilters(f, NETWORK_FILTERS);
  let list = nets.list().filter((n) => exactMatch(f, 'driver', n.Driver) && match(f, 'name', n.Name) && match(f, 'id', n.Id)
    && matchKVList(f, 'label', n.Labels) && exactMatch(f, 'scope', n.Scope));
  const dangling = f.get('dangling');
  if (dangling?.length) {
    if (dangling.length > 1) throw new InvalidParameter('got more than one value for filter key "dangling"');
    let only: boolean;
    if (['1', 'true'].includes(dangling[0]!)) only = true;
    else if (['0', 'false'].includes(dangling[0]!)) only = false;
    else throw new InvalidParameter('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
    const used = (n: NetworkRecord): boolean => isPredefinedNetwork(n.Name) || nets.containersOf(n).length > 0;
    list = list.filter((n) => (only ? !used(n) : used(n)));
  }
  const types = f.get('type');
  if (types?.length) {
    const picked: NetworkRecord[] = [];
    for (const t of types) {
      if (t !== 'builtin' && t !== 'custom') throw new InvalidParameter(`invalid filter: 'type'='${t}'`);
      picked.push(...list.filter((n) => isPredefinedNetwork(n.Name) === (t === 'builtin')));
    }
    list = picked;
  }
  return list;
}

// ---- volumes ------------------------------------------------------------------------------

const VOLUME_FILTERS = ['dangling', 'name', 'label', 'driver'];

/** `docker volume ls`: moby's volume/service filtersToBy: name a regular expression, driver exact, labels, dangling. */
export function filterVolumes(list: VolumeRecord[], inUse: (name: string) => boolean, f: Filters): VolumeRecord[] {
  validateFilters(f, VOLUME_FILTERS);
  const d = f.get('dangling');
  if (d?.length) {
    let dangling: boolean;
    if (d.includes('true') || d.includes('1')) dangling = true;
    else if (d.includes('false') || d.includes('0')) dangling = false;
    else throw invalidFilter('dangling', `[${d.join(' ')}]`);
    list = list.filter((v) => !inUse(v.Name) === dangling);
  }
  return list.filter((v) => match(f, 'name', v.Name) && exactMatch(f, 'driver', v.Driver) && matchKVList(f, 'label', v.Labels));
}

// ---- prune --------------------------------------------------------------------------------

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A filter time as Docker takes it: RFC 3339 (or a date), Unix seconds, or a Go duration ago. */
export function parseFilterTime(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(v) ? v.match(/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)/g) : null;
  if (dur) return now - dur.reduce((n, part) => n + parseFloat(part) * GO_UNITS[part.replace(/^[\d.]+/, '')]!, 0);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameter(`failed to parse value as time or duration: ${JSON.stringify(v)}`); // moby's timetypes.GetTimestamp
  return t;
}

/** label / label! filters against a set of labels. */
export function labelsMatch(f: Filters, labels: Record<string, string> | null | undefined): boolean {
  if (!(f.get('label') ?? []).every((l) => matchLabel(labels, l))) return false;
  return (f.get('label!') ?? []).every((l) => !matchLabel(labels, l));
}

/** The `until` cutoff of a container or image prune (one value at most). */
export function pruneUntil(f: Filters): number | undefined {
  const u = f.get('until');
  if (!u?.length) return undefined;
  if (u.length > 1) throw new InvalidParameter('more than one until filter specified');
  return parseFilterTime(u[0]!);
}

/**
 * `docker volume prune`'s filters, checked before anything goes. Docker 23+ (API 1.42): only
 * anonymous volumes, unless all=true; `allByDefault` is the older APIs' every unused one.
 */
export function volumePruneFilter(f: Filters, allByDefault: boolean): (v: VolumeRecord) => boolean {
  validateFilters(f, ['label', 'label!', 'all']);
  const all = allByDefault || ['true', '1'].includes(f.get('all')?.[0] ?? '');
  return (v) => (all || !!v.Anonymous) && labelsMatch(f, v.Labels);
}

/** `docker network prune`'s filters: created before `until` (its first value), label, label!. */
export function networkPruneFilter(f: Filters): (n: NetworkRecord) => boolean {
  validateFilters(f, ['until', 'label', 'label!']);
  const until = f.get('until')?.[0];
  const cutoff = until ? parseFilterTime(until) : undefined;
  return (n) => (cutoff === undefined || Date.parse(n.Created) < cutoff) && labelsMatch(f, n.Labels);
}
