// berth network commands (short and management forms), as docker 28.2's `docker network …`.
// Also the small pieces the volume and system commands share with these: the --format flag texts,
// comma lists, k=v maps and the Labels column.
import { goTimeStringOfRfc3339 } from '../../util/go-units.ts';
import { CliError, describeError, type CommandSpec, type Ctx } from '../command.ts';
import type { FlagSpec } from '../flags.ts';
import { formatList, type InspectTypes } from '../format/list.ts';
import { inspectEach } from './inspect-each.ts';
import { confirm, deletedSection } from '../shared.ts';
import { filtersJson } from '../filters.ts';
import type { NetworkCreateBody, NetworkSummary } from '../../types/engine-api.ts';
import { goStructs } from '../format/go-structs.ts';
import { goStruct } from '../format/template.ts';

export const FORMAT_TABLE_DESC = "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";
export const FORMAT_INSPECT_DESC = "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

/** pflag "strings" values: every occurrence split on commas. */
export const commaList = (values: string[]): string[] => values.flatMap((v) => v.split(',')).filter((v) => v !== '');

/** `k=v` pairs (docker's map and list-of-labels flags) as an object; `k` alone maps to "". */
export function kvMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) out[v] = '';
    else out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** The `Labels` field of list rows: `k=v,k2=v2`. */
export const joinLabels = (labels: Record<string, string> | null | undefined): string =>
  labels ? Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') : '';

/** Adds docker's `Label "key"` template method to a list row. */
export function withLabel<T extends object>(row: T, labels: Record<string, string> | null | undefined): T {
  Object.defineProperty(row, 'Label', { value: (k: string) => labels?.[k] ?? '', enumerable: false });
  return row;
}



/** The keys of network.Inspect in its struct order (Peers and Services are omitempty). */
const NETWORK_KEYS = ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress',
  'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels', 'Peers', 'Services'];

/**
 * A network as templates see docker's network.Inspect struct: its key order, Created as Go's
 * RFC3339Nano (trailing zeros dropped), Go's `ID` (JSON "Id") and the omitted Peers and Services
 * (nil: `[]`, `map[]`) readable but not in its JSON.
 */
function asGoNetwork(raw: Record<string, unknown>): Record<string, unknown> {
  const n: Record<string, unknown> = {};
  for (const k of NETWORK_KEYS) if (k in raw) n[k] = raw[k];
  for (const [k, v] of Object.entries(raw)) if (!(k in n)) n[k] = v;
  if (typeof n.Created === 'string') n.Created = n.Created.replace(/\.(\d*?)0+(?=Z|[+-]\d\d:\d\d$)/, (_m, d: string) => (d ? `.${d}` : ''));
  Object.defineProperty(n, 'ID', { get: () => n.Id, enumerable: false });
  if (!('Peers' in n)) Object.defineProperty(n, 'Peers', { value: [], enumerable: false });
  if (!('Services' in n)) Object.defineProperty(n, 'Services', { value: {}, enumerable: false });
  markNetworkStructs(n);
  return n;
}

/** Its struct values print as fmt prints structs ("{10.1.0.0/16  10.1.0.1 map[]}"), not as maps. */
function markNetworkStructs(n: Record<string, unknown>): void {
  const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (obj(n.IPAM)) {
    goStruct(n.IPAM, ['Driver', 'Options', 'Config'], { Options: {}, Config: [] });
    if (Array.isArray(n.IPAM.Config)) for (const c of n.IPAM.Config) if (obj(c)) goStruct(c, ['Subnet', 'IPRange', 'Gateway', 'AuxiliaryAddresses'], { AuxiliaryAddresses: {} });
  }
  if (obj(n.ConfigFrom)) goStruct(n.ConfigFrom, ['Network']);
  if (obj(n.Containers)) for (const c of Object.values(n.Containers)) if (obj(c)) goStruct(c, ['Name', 'EndpointID', 'MacAddress', 'IPv4Address', 'IPv6Address']);
}

/** What a network inspect template runs on (`berth inspect` of a network): as `network inspect`'s. */
export function networkTemplateView(raw: unknown): { obj: unknown; typeName: string; types: InspectTypes } {
  const net = asGoNetwork(raw as Record<string, unknown>);
  return { obj: net, typeName: 'network.Inspect', types: { structType: goStructs(net, NETWORK_STRUCTS), rawFallback: true } };
}

/** network.Inspect's nested structs (the rest are maps). */
const NETWORK_STRUCTS = {
  IPAM: 'network.IPAM', 'IPAM.Config.*': 'network.IPAMConfig', ConfigFrom: 'network.ConfigReference',
  'Containers.*': 'network.EndpointResource', 'Peers.*': 'network.PeerInfo', 'Services.*': 'network.ServiceInfo',
  'Services.*.Tasks.*': 'network.Task',
};

const enc = encodeURIComponent;

/**
 * A network of the list as a row reads it: the spec makes every field optional; dockerd and
 * berthd always send these, so they are narrowed once, at the list call.
 */
type Listed = NetworkSummary & Required<Pick<NetworkSummary, 'Name' | 'Id' | 'Created' | 'Scope' | 'Driver'>>;


function networkRow(n: Listed, noTrunc: boolean): object {
  return withLabel({
    CreatedAt: goTimeStringOfRfc3339(n.Created),
    Driver: n.Driver,
    ID: noTrunc ? n.Id : n.Id.slice(0, 12),
    IPv4: String(n.EnableIPv4 ?? true),
    IPv6: String(!!n.EnableIPv6),
    Internal: String(!!n.Internal),
    Labels: joinLabels(n.Labels),
    Name: n.Name,
    Scope: n.Scope,
  }, n.Labels);
}

const NETWORK_HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

const subnetOf = (cidr: string): { base: bigint; bits: number; v6: boolean } | undefined => {
  const [addr, len] = cidr.split('/');
  const ip = parseIp(addr ?? '');
  if (!ip) return undefined;
  const max = ip.v6 ? 128 : 32;
  const bits = len === undefined ? max : Number(len);
  if (!(bits >= 0 && bits <= max)) return undefined;
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(max - bits);
  return { base: ip.n & mask, bits, v6: ip.v6 };
};

function parseIp(s: string): { n: bigint; v6: boolean } | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) {
    const p = s.split('.').map(Number);
    if (p.some((x) => x > 255)) return undefined;
    return { n: p.reduce((a, x) => (a << 8n) | BigInt(x), 0n), v6: false };
  }
  if (!s.includes(':')) return undefined;
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return { n: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), v6: true };
}

/** Whether `data` (an address or CIDR) lies in `subnet`, as docker's subnetMatches. */
function subnetMatches(subnet: string, data: string): boolean {
  const s = subnetOf(subnet);
  if (!s) throw new CliError(`invalid subnet: invalid CIDR address: ${subnet}`);
  const d = subnetOf(data.includes('/') ? data : data);
  if (!d || d.v6 !== s.v6) return false;
  const max = s.v6 ? 128 : 32;
  const mask = s.bits === 0 ? 0n : ((1n << BigInt(s.bits)) - 1n) << BigInt(max - s.bits);
  return (d.base & mask) === s.base;
}

/** docker's createIPAMConfig: subnets with their ranges, gateways and aux addresses. */
function ipamConfig(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): object[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new CliError('every ip-range or gateway must have a corresponding subnet');
  const data = new Map<string, { Subnet: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses: Record<string, string> }>();
  for (const s of subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new CliError('multiple overlapping subnet configuration is not supported');
    }
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  const place = (value: string, what: 'IPRange' | 'Gateway', name: string): void => {
    let match = false;
    for (const s of subnets) {
      if (!subnetMatches(s, value)) continue;
      const d = data.get(s)!;
      if (d[what]) throw new CliError(what === 'IPRange' ? `cannot configure multiple ranges (${value}, ${d[what]}) on the same subnet (${s})` : `cannot configure multiple gateways (${value}, ${d[what]}) for the same subnet (${s})`);
      d[what] = value;
      match = true;
    }
    if (!match) throw new CliError(`no matching subnet for ${name} ${value}`);
  };
  for (const r of ranges) place(r, 'IPRange', 'range');
  for (const g of gateways) place(g, 'Gateway', 'gateway');
  for (const [k, a] of Object.entries(aux)) {
    const hits = subnets.filter((s) => subnetMatches(s, a));
    if (!hits.length) throw new CliError(`no matching subnet for aux-address ${a}`);
    for (const s of hits) data.get(s)!.AuxiliaryAddresses[k] = a;
  }
  return [...data.values()];
}

const FORCE_NETWORK: FlagSpec = { name: 'force', short: 'f', type: 'bool', desc: 'Do not error if the network does not exist' };

export const networkCommands: CommandSpec[] = [
  {
    paths: [['network', 'create']],
    usage: '[OPTIONS] NETWORK',
    description: 'Create a network',
    args: { min: 1, max: 1 },
    flags: [
      { name: 'attachable', type: 'bool', desc: 'Enable manual container attachment' },
      { name: 'aux-address', type: 'list', value: 'map', desc: 'Auxiliary IPv4 or IPv6 addresses used by Network driver (default map[])' },
      { name: 'config-from', type: 'string', desc: 'The network from which to copy the configuration' },
      { name: 'config-only', type: 'bool', desc: 'Create a configuration only network' },
      { name: 'driver', short: 'd', type: 'string', desc: 'Driver to manage the Network', default: 'bridge' },
      { name: 'gateway', type: 'list', value: 'strings', desc: 'IPv4 or IPv6 Gateway for the master subnet' },
      { name: 'ingress', type: 'bool', desc: 'Create swarm routing-mesh network' },
      { name: 'internal', type: 'bool', desc: 'Restrict external access to the network' },
      { name: 'ip-range', type: 'list', value: 'strings', desc: 'Allocate container ip from a sub-range' },
      { name: 'ipam-driver', type: 'string', desc: 'IP Address Management Driver', default: 'default' },
      { name: 'ipam-opt', type: 'list', value: 'map', desc: 'Set IPAM driver specific options (default map[])' },
      { name: 'ipv4', type: 'bool', desc: 'Enable or disable IPv4 address assignment', default: true },
      { name: 'ipv6', type: 'bool', desc: 'Enable or disable IPv6 address assignment' },
      { name: 'label', type: 'list', value: 'list', desc: 'Set metadata on a network' },
      { name: 'opt', short: 'o', type: 'list', value: 'map', desc: 'Set driver specific options (default map[])' },
      { name: 'scope', type: 'string', desc: "Control the network's scope" },
      { name: 'subnet', type: 'list', value: 'strings', desc: 'Subnet in CIDR format that represents a network segment' },
    ],
    async run(ctx, [name], o) {
      const subnets = commaList(o.list('subnet'));
      const ipam = {
        Driver: o.str('ipam-driver'),
        Config: ipamConfig(subnets, commaList(o.list('ip-range')), commaList(o.list('gateway')), kvMap(o.list('aux-address'))),
        Options: kvMap(o.list('ipam-opt')),
      };
      const body: NetworkCreateBody = {
        Name: name!, Driver: o.str('driver'), Options: kvMap(o.list('opt')), IPAM: ipam,
        Internal: o.bool('internal'), Attachable: o.bool('attachable'), Ingress: o.bool('ingress'),
        ConfigOnly: o.bool('config-only'), Labels: kvMap(o.list('label')),
      };
      // Sent only when given, as docker's *bool fields: the daemon decides the defaults.
      if (o.changed('ipv4')) body.EnableIPv4 = o.bool('ipv4');
      if (o.changed('ipv6')) body.EnableIPv6 = o.bool('ipv6');
      if (o.str('scope')) body.Scope = o.str('scope');
      if (o.str('config-from')) body.ConfigFrom = { Network: o.str('config-from') };
      const res = await ctx.client().networkCreate(body);
      ctx.out.write(`${res.Id}\n`);
    },
  },
  {
    paths: [['network', 'ls'], ['network', 'list']],
    usage: '[OPTIONS]',
    description: 'List networks',
    args: { max: 0 },
    flags: [
      { name: 'filter', short: 'f', type: 'list', value: 'filter', desc: 'Provide filter values (e.g. "driver=bridge")' },
      { name: 'format', type: 'string', desc: FORMAT_TABLE_DESC },
      { name: 'no-trunc', type: 'bool', desc: 'Do not truncate the output' },
      { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display network IDs' },
    ],
    async run(ctx, _args, o) {
      const nets = await ctx.client().networkList({ filters: filtersJson(ctx, { usage: '[OPTIONS]' }, o.list('filter')) }) as Listed[];
      // docker sorts by name (natural order; names rarely differ only in digits)
      nets.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      ctx.out.write(formatList(nets.map((n) => networkRow(n, o.bool('no-trunc'))), {
        format: o.str('format'), quiet: o.bool('quiet'), quietField: 'ID',
        defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', headers: NETWORK_HEADERS, typeName: '*network.networkContext',
      }));
    },
  },
  {
    paths: [['network', 'inspect']],
    usage: '[OPTIONS] NETWORK [NETWORK...]',
    description: 'Display detailed information on one or more networks',
    args: { min: 1 },
    flags: [
      { name: 'format', short: 'f', type: 'string', desc: FORMAT_INSPECT_DESC },
      { name: 'verbose', short: 'v', type: 'bool', desc: 'Verbose output for diagnostics' },
    ],
    run(ctx, names, o) {
      const verbose = o.bool('verbose') ? '?verbose=true' : '';
      // the typed network.Inspect first, then the raw reply (docker's NetworkInspectWithRaw)
      const typed: ((v: object) => string | undefined)[] = [];
      const structType = (v: object): string | undefined => typed.map((f) => f(v)).find(Boolean);
      const template = !!o.str('format') && o.str('format') !== 'json';
      return inspectEach(ctx, names, o.str('format'), async (n) => {
        const raw = await ctx.client().request<Record<string, unknown>>('GET', `/networks/${enc(n)}${verbose}`);
        // without a template docker prints the daemon's own JSON
        const net = template ? asGoNetwork(raw) : raw;
        typed.push(goStructs(net, NETWORK_STRUCTS));
        return net;
      }, (obj) => ({ obj, typeName: 'network.Inspect', types: { structType, rawFallback: true } }));
    },
  },
  {
    paths: [['network', 'rm'], ['network', 'remove']],
    usage: 'NETWORK [NETWORK...]',
    description: 'Remove one or more networks',
    args: { min: 1 },
    flags: [FORCE_NETWORK],
    async run(ctx, names, o) {
      // docker prints each error as it happens and ends with "exit status 1"
      let status = 0;
      for (const n of names) {
        try {
          await ctx.client().request('DELETE', `/networks/${enc(n)}`);
          ctx.out.write(`${n}\n`);
        } catch (err) {
          if (o.bool('force') && (err as { status?: number }).status === 404) continue;
          ctx.err.write(`${describeError(err)}\n`);
          status = 1;
        }
      }
      if (status) throw new CliError('exit status 1', 1);
    },
  },
  {
    paths: [['network', 'prune']],
    usage: '[OPTIONS]',
    description: 'Remove all unused networks',
    args: { max: 0 },
    flags: [
      { name: 'filter', type: 'list', value: 'filter', desc: 'Provide filter values (e.g. "until=<timestamp>")' },
      { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
    ],
    async run(ctx, _args, o) {
      const f = filtersJson(ctx, { usage: '[OPTIONS]' }, o.list('filter'), '--filter');
      if (!o.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return 0;
      const out = await pruneNetworks(ctx, f);
      if (out) ctx.out.write(`${out}\n`);
    },
  },
  {
    paths: [['network', 'connect']],
    usage: '[OPTIONS] NETWORK CONTAINER',
    description: 'Connect a container to a network',
    args: { min: 2, max: 2 },
    flags: [
      { name: 'alias', type: 'list', value: 'strings', desc: 'Add network-scoped alias for the container' },
      { name: 'driver-opt', type: 'list', value: 'strings', desc: 'driver options for the network' },
      { name: 'gw-priority', type: 'int', desc: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
      { name: 'ip', type: 'string', desc: 'IPv4 address (e.g., "172.30.100.104")' },
      { name: 'ip6', type: 'string', desc: 'IPv6 address (e.g., "2001:db8::33")' },
      { name: 'link', type: 'list', value: 'list', desc: 'Add link to another container' },
      { name: 'link-local-ip', type: 'list', value: 'strings', desc: 'Add a link-local address for the container' },
    ],
    async run(ctx, [net, container], o) {
      const ipam: Record<string, unknown> = {};
      if (o.str('ip')) ipam.IPv4Address = o.str('ip');
      if (o.str('ip6')) ipam.IPv6Address = o.str('ip6');
      const lla = commaList(o.list('link-local-ip'));
      if (lla.length) ipam.LinkLocalIPs = lla;
      const endpoint: Record<string, unknown> = {
        IPAMConfig: Object.keys(ipam).length ? ipam : undefined,
        Links: o.list('link').length ? o.list('link') : undefined,
        Aliases: commaList(o.list('alias')).length ? commaList(o.list('alias')) : undefined,
        DriverOpts: o.list('driver-opt').length ? kvMap(commaList(o.list('driver-opt'))) : undefined,
        GwPriority: o.int('gw-priority'),
      };
      await ctx.client().request('POST', `/networks/${enc(net!)}/connect`, { Container: container, EndpointConfig: endpoint });
    },
  },
  {
    paths: [['network', 'disconnect']],
    usage: '[OPTIONS] NETWORK CONTAINER',
    description: 'Disconnect a container from a network',
    args: { min: 2, max: 2 },
    flags: [{ name: 'force', short: 'f', type: 'bool', desc: 'Force the container to disconnect from a network' }],
    async run(ctx, [net, container], o) {
      await ctx.client().request('POST', `/networks/${enc(net!)}/disconnect`, { Container: container, Force: o.bool('force') });
    },
  },
];

/** POST /networks/prune; docker's "Deleted Networks:" text, or '' when none were removed. */
export async function pruneNetworks(ctx: Ctx, filters: string | undefined): Promise<string> {
  const r = await ctx.client().networkPrune({ filters });
  return deletedSection('Deleted Networks', r.NetworksDeleted);
}
