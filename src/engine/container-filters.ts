// `docker ps` (GET /containers/json): which containers, in which order, as moby 20.10's
// daemon/list.go decides. The list is walked newest first; `before` skips containers until it
// passes the named one, `since` stops there; the limit counts only containers that are shown.
// Every filter key is validated before anything is read, with dockerd's texts.
import { InvalidParameter, NotFound } from '../errors.ts';
import type { Container, ContainerService } from './containers.ts';
import type { ImageService } from './images.ts';
import { type Filters, validateFilters, invalidFilter, match, exactMatch, matchKVList } from './filter-args.ts';

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
function idOrName(all: Container[], value: string): Container {
  const byId = all.find((c) => c.rec.Id === value);
  if (byId) return byId;
  const hits = all.filter((c) => c.rec.Name.replace(/^\//, '') === value.replace(/^\//, ''));
  if (hits.length !== 1) throw new NotFound(`no such container ${value}`);
  return hits[0]!;
}

/** An image and every image built on it (moby's populateImageFilterByParents). */
function withDescendants(images: ImageService, id: string, into: Set<string>): void {
  if (into.has(id)) return;
  into.add(id);
  for (const child of images.store.children(id)) withDescendants(images, child, into);
}

/** The containers `docker ps` shows for these options, newest first. */
export function listContainers(svc: ContainerService, images: ImageService, opts: { all: boolean; limit?: number; filters: Filters }): Container[] {
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
  let before: Container | undefined;
  let since: Container | undefined;
  for (const v of f.get('before') ?? []) before = idOrName(containers, v);
  for (const v of f.get('since') ?? []) since = idOrName(containers, v);
  let ancestors: Set<string> | undefined;
  if (f.has('ancestor')) {
    ancestors = new Set();
    for (const a of f.get('ancestor')!) {
      // an unknown image is no error: it matches nothing (dockerd logs a warning)
      try { withDescendants(images, images.store.resolve(a).id, ancestors); } catch { /* no such image */ }
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

  const out: Container[] = [];
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
