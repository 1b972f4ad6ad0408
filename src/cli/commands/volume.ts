// berth volume commands (short and management forms), as docker 28.2's `docker volume …`.
import { CliError, forEach, type CommandSpec, type Ctx } from '../command.ts';
import { formatList } from '../format/list.ts';
import { humanSize } from '../format/units.ts';
import { FORMAT_INSPECT_DESC, FORMAT_TABLE_DESC, joinLabels, kvMap, withLabel } from './network.ts';
import { filtersJson } from '../filters.ts';
import type { Volume } from '../../types/engine-api.ts';
import { confirm, deletedSection } from '../shared.ts';
import { inspectEach } from './inspect-each.ts';
import { goStructs } from '../format/go-structs.ts';

/** volume.Volume's nested structs (pointers); Labels, Options and Status are maps. */
const VOLUME_STRUCTS = { UsageData: '*volume.UsageData', ClusterVolume: '*volume.ClusterVolume' };

/** A `volume ls` row: the fields of docker's volumeContext (cluster fields are N/A). */
export function volumeRow(v: Volume): object {
  return withLabel({
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: joinLabels(v.Labels),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: v.UsageData ? humanSize(v.UsageData.Size, 4) : 'N/A',
    Status: 'N/A',
  }, v.Labels);
}

export const VOLUME_HEADERS = { ID: 'ID', Name: 'VOLUME NAME', Group: 'GROUP', Driver: 'DRIVER', Scope: 'SCOPE', Availability: 'AVAILABILITY', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Status: 'STATUS' };

const enc = encodeURIComponent;

const sortedMap = (m: unknown): unknown => m && typeof m === 'object'
  ? Object.fromEntries(Object.entries(m as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  : m;

function nilMap(): Record<string, unknown> {
  return Object.defineProperty({}, 'toJSON', { value: () => null, enumerable: false });
}

/**
 * A volume as docker's inspect prints it: re-encoded from its volume.Volume struct (not the raw
 * reply), so the keys come in the struct's order, maps sorted, empty optional fields left out.
 */
function asGoVolume(v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['ClusterVolume', 'CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope', 'Status', 'UsageData']) {
    const omitEmpty = ['ClusterVolume', 'CreatedAt', 'Status', 'UsageData'].includes(k);
    if (omitEmpty && (v[k] === undefined || v[k] === null || v[k] === '' || (k === 'Status' && !Object.keys(v[k] as object).length))) continue;
    out[k] = k === 'Labels' || k === 'Options' || k === 'Status' ? sortedMap(v[k] ?? null) : v[k] ?? null;
    // a Go nil map: empty to a template (.Labels.x is <no value>), null when encoded as JSON
    if ((k === 'Labels' || k === 'Options') && out[k] === null) out[k] = nilMap();
  }
  // Omitted fields are still there for templates: a nil map reads as empty, a nil pointer as nil.
  for (const k of ['ClusterVolume', 'CreatedAt', 'Status', 'UsageData']) {
    if (!(k in out)) Object.defineProperty(out, k, { value: k === 'Status' ? {} : k === 'CreatedAt' ? '' : null, enumerable: false });
  }
  return out;
}

export const volumeCommands: CommandSpec[] = [
  {
    paths: [['volume', 'create']],
    usage: '[OPTIONS] [VOLUME]',
    description: 'Create a volume',
    args: { max: 1 },
    flags: [
      { name: 'driver', short: 'd', type: 'string', desc: 'Specify volume driver name', default: 'local' },
      { name: 'label', type: 'list', value: 'list', desc: 'Set metadata for a volume' },
      { name: 'name', type: 'string', desc: 'Specify volume name', hidden: true },
      { name: 'opt', short: 'o', type: 'list', value: 'map', desc: 'Set driver specific options (default map[])' },
    ],
    async run(ctx, args, o) {
      if (args.length && o.str('name')) throw new CliError(`conflicting options: cannot specify a volume-name through both --name and as a positional arg`);
      const v = await ctx.client().volumeCreate({
        Name: args[0] ?? o.str('name') ?? '', Driver: o.str('driver'), DriverOpts: kvMap(o.list('opt')), Labels: kvMap(o.list('label')),
      });
      ctx.out.write(`${v.Name}\n`);
    },
  },
  {
    paths: [['volume', 'ls'], ['volume', 'list']],
    usage: '[OPTIONS]',
    description: 'List volumes',
    args: { max: 0 },
    flags: [
      { name: 'cluster', type: 'bool', desc: 'Display only cluster volumes, and use cluster volume list formatting', hidden: true },
      { name: 'filter', short: 'f', type: 'list', value: 'filter', desc: 'Provide filter values (e.g. "dangling=true")' },
      { name: 'format', type: 'string', desc: FORMAT_TABLE_DESC },
      { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display volume names' },
    ],
    async run(ctx, _args, o) {
      const r = await ctx.client().volumeList({ filters: filtersJson(ctx, { usage: '[OPTIONS]' }, o.list('filter')) });
      const vols = (r.Volumes ?? []).sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
      ctx.out.write(formatList(vols.map(volumeRow), {
        format: o.str('format'), quiet: o.bool('quiet'), quietField: 'Name',
        defaultFormat: 'table {{.Driver}}\t{{.Name}}', headers: VOLUME_HEADERS, typeName: '*formatter.volumeContext',
      }));
    },
  },
  {
    paths: [['volume', 'inspect']],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    description: 'Display detailed information on one or more volumes',
    args: { min: 1 },
    flags: [{ name: 'format', short: 'f', type: 'string', desc: FORMAT_INSPECT_DESC }],
    run(ctx, names, o) {
      // docker's VolumeInspect has no raw reply: templates see only the volume.Volume struct
      const typed: ((v: object) => string | undefined)[] = [];
      const structType = (v: object): string | undefined => typed.map((f) => f(v)).find(Boolean);
      return inspectEach(ctx, names, o.str('format'), async (n) => {
        const v = asGoVolume(await ctx.client().request('GET', `/volumes/${enc(n)}`));
        typed.push(goStructs(v, VOLUME_STRUCTS));
        return v;
      }, (obj) => ({ obj, typeName: 'volume.Volume', types: { structType } }));
    },
  },
  {
    paths: [['volume', 'rm'], ['volume', 'remove']],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    description: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
    args: { min: 1 },
    flags: [{ name: 'force', short: 'f', type: 'bool', desc: 'Force the removal of one or more volumes' }],
    run(ctx, names, o) {
      return forEach(ctx, names, async (n) => {
        await ctx.client().request('DELETE', `/volumes/${enc(n)}${o.bool('force') ? '?force=true' : ''}`);
      });
    },
  },
  {
    paths: [['volume', 'prune']],
    usage: '[OPTIONS]',
    description: 'Remove unused local volumes',
    args: { max: 0 },
    flags: [
      { name: 'all', short: 'a', type: 'bool', desc: 'Remove all unused volumes, not just anonymous ones' },
      { name: 'filter', type: 'list', value: 'filter', desc: 'Provide filter values (e.g. "label=<label>")' },
      { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
    ],
    async run(ctx, _args, o) {
      const filters = o.list('filter');
      if (o.bool('all') && filters.some((f) => /^all=/i.test(f))) throw new CliError('conflicting options: cannot specify both --all and --filter all=1');
      const f = filtersJson(ctx, { usage: '[OPTIONS]' }, filters, '--filter', o.bool('all') ? { all: ['true'] } : {});
      const warning = o.bool('all')
        ? 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?'
        : 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
      if (!o.bool('force') && !(await confirm(ctx, warning))) return 0;
      const { output, space } = await pruneVolumes(ctx, f);
      if (output) ctx.out.write(`${output}\n`);
      ctx.out.write(`Total reclaimed space: ${humanSize(space, 4)}\n`);
    },
  },
];

/** POST /volumes/prune: docker's "Deleted Volumes:" text and the space reclaimed. */
export async function pruneVolumes(ctx: Ctx, filters: string | undefined): Promise<{ output: string; space: number }> {
  const r = await ctx.client().volumePrune({ filters });
  return { output: deletedSection('Deleted Volumes', r.VolumesDeleted), space: r.SpaceReclaimed ?? 0 };
}
