// `compose ps`: the project's containers as Compose v2 lists them — NAME IMAGE COMMAND SERVICE
// CREATED STATUS PORTS, sorted by name; `--format json` one object per line with the fields of
// Compose's ContainerContext (sorted keys, as its MarshalJSON); templates over the same row.
import type { Opts } from '../flags.ts';
import { CliError } from '../command.ts';
import type { ComposeCommandSpec, ComposeCtx } from './command.ts';
import { formatList } from '../format/list.ts';
import { goJson } from '../format/template.ts';
import { ago, humanSize } from '../format/units.ts';
import { displayablePorts, ellipsis, truncateId } from '../commands/container-ps.ts';
import { goTime } from '../shared.ts';
import { LABEL, canonicalName, checkServices, listContainers, serviceOf, type Listed } from './s-containers.ts';

const DEFAULT_FORMAT = 'table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}';

export const COMPOSE_PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Name: 'NAME', Names: 'NAMES', Project: 'PROJECT', Service: 'SERVICE', Image: 'IMAGE', Command: 'COMMAND',
  CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE',
  Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Networks: 'NETWORKS', Health: 'HEALTH', ExitCode: 'EXIT CODE',
};

/** What ps needs beyond the list entry: from an inspect (Compose inspects every container for these). */
export interface PsExtra { health?: string; exitCode?: number }

/** strconv.Quote for the printable commands containers have. */
const goQuote = (s: string): string => JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');

/** One row of `compose ps`, keys in Compose's JSON order (sorted), plus the `Label "k"` method. */
export function psRow(c: Listed, extra: PsExtra, trunc: boolean, now = Date.now() / 1000): Record<string, unknown> {
  const labels = c.Labels ?? {};
  const ports = [...(c.Ports ?? [])].sort((a, b) => a.PrivatePort - b.PrivatePort);
  const mounts = (c.Mounts ?? []).map((m) => m.Name || m.Source || '');
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, ''));
  const command = c.Command ?? '';
  const row: Record<string, unknown> = {
    Command: goQuote(trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTime(c.Created),
    ExitCode: extra.exitCode ?? 0,
    Health: extra.health ?? '',
    ID: trunc ? truncateId(c.Id) : c.Id,
    Image: c.Image ?? '',
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: (trunc ? mounts.map((m) => ellipsis(m, 15)) : mounts).join(','),
    Name: canonicalName(c),
    Names: trunc ? (names.find((n) => !n.includes('/')) ?? '') : names.join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
    Ports: displayablePorts(ports),
    Project: labels[LABEL.project] ?? '',
    Publishers: ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    RunningFor: ago(c.Created, now),
    Service: serviceOf(c),
    Size: (c.SizeRootFs ?? 0) > 0 ? `${humanSize(c.SizeRw ?? 0)} (virtual ${humanSize(c.SizeRootFs!)})` : humanSize(c.SizeRw ?? 0),
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
  Object.defineProperty(row, 'Label', { value: (k: string) => labels[k] ?? '', enumerable: false });
  return row;
}

/** Prints rows as Compose does for a --format value ('' / table / json / template). */
export function renderPs(rows: Record<string, unknown>[], format: string): string {
  // json: one object per line, Compose's field order (its struct values unsorted)
  if (format === 'json') return rows.map((r) => `${goJson(r, true)}\n`).join('');
  return formatList(rows, { format, defaultFormat: DEFAULT_FORMAT, headers: COMPOSE_PS_HEADERS, typeName: '*formatter.ContainerContext' });
}

async function runPs(ctx: ComposeCtx, services: string[], o: Opts): Promise<number> {
  const statuses = [...o.list('status')];
  const filter = o.str('filter');
  if (filter) {
    const eq = filter.indexOf('=');
    if (eq < 0) throw new CliError('arguments to --filter should be in form KEY=VAL');
    const key = filter.slice(0, eq);
    if (key === 'status') statuses.push(filter.slice(eq + 1));
    else if (key === 'source') throw new CliError('not implemented');
    else throw new CliError(`unknown filter ${key}`);
  }

  const { name, known } = await projectOrName(ctx);
  checkServices(known, services);
  if (known && !services.length && !o.bool('orphans')) services = known;
  const client = ctx.client();
  const all = o.bool('all') || statuses.length > 0;
  let list = await listContainers(client, name, { all, services, oneoff: all ? 'include' : 'exclude' });
  if (services.length) list = list.filter((c) => services.includes(serviceOf(c)));
  if (statuses.length) list = list.filter((c) => statuses.includes(c.State ?? ''));
  list.sort((a, b) => (canonicalName(a) < canonicalName(b) ? -1 : canonicalName(a) > canonicalName(b) ? 1 : 0));

  if (o.bool('quiet')) {
    ctx.out.write(list.map((c) => `${c.Id}\n`).join(''));
    return 0;
  }
  if (o.bool('services')) {
    const seen = [...new Set(list.map(serviceOf))];
    ctx.out.write(`${seen.join('\n')}\n`);
    return 0;
  }
  // Compose inspects each container for its health and exit code
  const extras = await Promise.all(list.map(async (c): Promise<PsExtra> => {
    const i = await client.containerInspect(c.Id).catch(() => undefined);
    const st = i?.State;
    if (!st) return {};
    if (st.Status === 'running') return { health: st.Health?.Status ?? '' };
    if (st.Status === 'exited' || st.Status === 'dead') return { exitCode: st.ExitCode ?? 0 };
    return {};
  }));
  const trunc = !o.bool('no-trunc');
  ctx.out.write(renderPs(list.map((c, i) => psRow(c, extras[i]!, trunc)), o.str('format') ?? ''));
  return 0;
}

/**
 * The project's name, and its service names when a file could be loaded (ps, logs and images work
 * from -p alone, as Compose's projectOrName: without a file the name is enough).
 */
export async function projectOrName(ctx: ComposeCtx): Promise<{ name: string; known?: string[] }> {
  try {
    const p = await ctx.project();
    return { name: p.name, known: Object.keys(p.services) };
  } catch (err) {
    // no compose file: -p (or COMPOSE_PROJECT_NAME) alone names the project
    const name = await ctx.projectName().catch(() => undefined);
    if (name) return { name };
    throw err;
  }
}

export const psCommand: ComposeCommandSpec = {
  names: ['ps'],
  usage: '[OPTIONS] [SERVICE...]',
  description: 'List containers',
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all stopped containers (including those created by the run command)' },
    { name: 'filter', type: 'string', desc: 'Filter services by a property (supported filters: status)' },
    { name: 'format', type: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates", default: 'table' },
    { name: 'no-trunc', type: 'bool', desc: "Don't truncate output" },
    { name: 'orphans', type: 'bool', default: true, desc: 'Include orphaned services (not declared by project)' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display IDs' },
    { name: 'services', type: 'bool', desc: 'Display services' },
    { name: 'status', type: 'list', value: 'stringArray', desc: 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]' },
  ],
  run: runPs,
};
