// `berth ps` / `container ls`: the container list with docker's ContainerContext fields, so
// `--format` templates and `{{json .}}` print what docker's do.
import type { CommandSpec } from '../command.ts';
import { PS_ERROR_PREFIX, checkListTemplate, formatList } from '../format/list.ts';
import { ago, humanSize } from '../format/units.ts';
import type { ContainerSummary, PortSummary } from '../../types/engine-api.ts';
import { filtersJson } from '../filters.ts';
import { goTime, joinHostPort } from '../shared.ts';

export const FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

/**
 * A container of the list as a row reads it. The spec leaves Id and Created optional; dockerd and
 * berthd always send both, so they are narrowed once, at the list call.
 */
type Listed = ContainerSummary & Required<Pick<ContainerSummary, 'Id' | 'Created'>>;

/** docker's stringid.TruncateID: the part after "algo:", 12 characters. */
export const truncateId = (id: string): string => id.slice(id.indexOf(':') + 1).slice(0, 12);

/** formatter.Ellipsis for narrow characters: at most `max` characters, the last one "…". */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (max <= 0) return '';
  if (max === 1) return chars[0] ?? '';
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * The image as `ps` shows it truncated: an image ID as 12 characters, a reference in its familiar
 * form with any digest dropped (`docker.io/library/busybox:1@sha256:…` → `busybox:1`).
 */
export function displayImage(image: string | undefined, imageId: string | undefined, trunc: boolean): string {
  if (!image) return '<no image>';
  if (!trunc) return image;
  if (imageId && truncateId(imageId) === truncateId(image)) return truncateId(image);
  let ref = image.split('@')[0]!;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const repo = colon > slash ? ref.slice(0, colon) : ref;
  // what docker's reference parser rejects (a 64-hex name, upper case) is shown as it is
  if (/^[0-9a-f]{64}$/.test(repo) || /[A-Z]/.test(repo)) return image;
  ref = ref.replace(/^(docker\.io|index\.docker\.io)\/library\/(?=[^/]+$)/, '').replace(/^(docker\.io|index\.docker\.io)\//, '');
  return ref;
}

/** formatter.DisplayablePorts: ranges of consecutive ports grouped, host mappings last. */
export function displayablePorts(input: PortSummary[] | null | undefined): string {
  const ports = [...(input ?? [])].sort((i, j) => {
    if (i.PrivatePort !== j.PrivatePort) return i.PrivatePort - j.PrivatePort;
    if ((i.IP ?? '') !== (j.IP ?? '')) return (i.IP ?? '') < (j.IP ?? '') ? -1 : 1;
    if ((i.PublicPort ?? 0) !== (j.PublicPort ?? 0)) return (i.PublicPort ?? 0) - (j.PublicPort ?? 0);
    return i.Type < j.Type ? -1 : i.Type > j.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, first: number, last: number): string => {
    const parts = key.split('/');
    const ip = parts.length > 1 ? parts[0]! : '';
    const type = parts.length > 1 ? parts[1]! : parts[0]!;
    let group = String(first);
    if (first !== last) group += `-${last}`;
    if (ip) group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of ports) {
    const current = p.PrivatePort;
    let key: string = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(p.IP, p.PublicPort ?? 0)}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    // the map keeps the key's first position, as Go's recorded key order does
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

/** The Go-quoted command (strconv.Quote for the printable ASCII commands containers have). */
const goQuote = (s: string): string => JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const platformString = (p: { architecture?: string; os?: string; variant?: string }): string =>
  [p.os ?? 'unknown', p.architecture ?? 'unknown', ...(p.variant ? [p.variant] : [])].join('/');

/** One row of `ps` as docker's ContainerContext exposes it (properties in its JSON key order). */
export function containerRow(c: Listed, trunc: boolean): Record<string, unknown> {
  const labels = c.Labels ?? {};
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  const mounts = (c.Mounts ?? []).map((m) => (trunc ? ellipsis(m.Name || m.Source || '', 15) : (m.Name || m.Source || '')));
  const sizeRw = humanSize(c.SizeRw ?? 0);
  const platform = c.ImageManifestDescriptor?.platform;
  const row: Record<string, unknown> = {
    Command: goQuote(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    CreatedAt: goTime(c.Created),
    ID: trunc ? truncateId(c.Id) : c.Id,
    Image: displayImage(c.Image, c.ImageID, trunc),
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: mounts.join(','),
    // truncated: the first name that is not a legacy link ("/other/alias")
    Names: trunc ? (names.find((n) => !n.includes('/')) ?? '') : names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    Platform: platform ? platformString(platform) : null,
    Ports: displayablePorts(c.Ports),
    RunningFor: ago(c.Created),
    Size: (c.SizeRootFs ?? 0) > 0 ? `${sizeRw} (virtual ${humanSize(c.SizeRootFs!)})` : sizeRw,
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
  Object.defineProperty(row, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return row;
}

const PS_TYPE = '*formatter.ContainerContext';

const DEFAULT_PS_FORMAT = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Names: 'NAMES', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS', Platform: 'PLATFORM',
};

export const psCommand: CommandSpec = {
  paths: [['container', 'ls'], ['container', 'list'], ['container', 'ps'], ['ps']],
  usage: '[OPTIONS]',
  description: 'List containers',
  args: { max: 0 },
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', value: 'filter', desc: 'Filter output based on conditions provided' },
    { name: 'format', type: 'string', desc: FORMAT_HELP },
    { name: 'last', short: 'n', type: 'int', default: -1, desc: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', desc: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', desc: 'Display total file sizes' },
  ],
  async run(ctx, _args, o) {
    const format = o.str('format') ?? '';
    const quiet = o.bool('quiet');
    if (format && quiet) ctx.err.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    let limit = o.int('last') ?? -1;
    if (o.bool('latest') && limit === -1) limit = 1;
    const trunc = !o.bool('no-trunc');
    // docker runs the template once on an empty row before asking the daemon: a bad template
    // fails even with no containers, and one that reads .Size (or every field, `json .`) asks
    // for sizes unless --size=false was given (FieldsUsed).
    let size = o.bool('size');
    if (format && !quiet) {
      // docker parses the flag's raw value: "json" and "table" are plain text there, using no field
      const used = checkListTemplate(format, containerRow({ Id: '', Created: 0 }, trunc), PS_TYPE);
      if (!o.changed('size')) size ||= used.has('Size');
    }
    const filters = filtersJson(ctx, psCommand, o.list('filter'));
    const list = await ctx.client().containerList({ all: o.bool('all'), limit: limit > 0 ? limit : undefined, size, filters }) as Listed[];
    const defaultFormat = size ? `${DEFAULT_PS_FORMAT}\t{{.Size}}` : DEFAULT_PS_FORMAT;
    const rows = list.map((c) => containerRow(c, trunc));
    ctx.out.write(formatList(rows, { format: format || undefined, quiet, defaultFormat, quietField: 'ID', headers: PS_HEADERS, typeName: PS_TYPE, errorPrefix: PS_ERROR_PREFIX }));
  },
};
