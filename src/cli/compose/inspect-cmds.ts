// The compose commands that look at (or copy in and out of) the project's containers without
// changing them: top, port, images, cp, events, wait. Output as Compose v2 prints it.
import type { Opts } from '../flags.ts';
import { ApiError, checkOk, jsonLines, query } from '../../client/engine-client.ts';
import { CliError } from '../command.ts';
import { cpCommand } from '../commands/container-cp.ts';
import { displayImage, truncateId } from '../commands/container-ps.ts';
import { humanSize } from '../format/units.ts';
import { tabwrite } from '../tabwriter.ts';
import type { ComposeCommandSpec, ComposeCtx } from './command.ts';
import { composeEngine } from '../../compose/engine/service.ts';
import { engineContext } from './lifecycle.ts';
import { projectOrName } from './ps.ts';
import { LABEL, canonicalName, listContainers, numberOf, pickContainer, serviceOf, type Listed } from './s-containers.ts';
import { runBerthCommand } from './s-delegate.ts';

// ---------------------------------------------------------------- top

export interface TopOf { service: string; replica: string; titles: string[]; processes: string[][] }

/**
 * Compose's top table: SERVICE, #, then every ps title in the order first seen, CMD moved to the
 * right; a title a container lacks is "-". Go's tabwriter with minwidth 4, padding 2.
 */
export function topTable(containers: TopOf[]): string {
  const header: string[] = ['SERVICE', '#'];
  const rows: Record<string, string>[] = [];
  for (const c of containers) {
    for (const p of c.processes) {
      const row: Record<string, string> = { SERVICE: c.service, '#': c.replica };
      c.titles.forEach((t, i) => {
        if (!header.includes(t)) header.push(t);
        row[t] = p[i] ?? '';
      });
      rows.push(row);
    }
  }
  if (!rows.length) return '';
  const cmd = header.indexOf('CMD');
  if (cmd >= 0) header.push(...header.splice(cmd, 1));
  const lines = [header, ...rows.map((r) => header.map((h) => r[h] ?? '-'))];
  return tabwrite(lines.map((l) => `${l.join('\t')}\n`).join(''), { minwidth: 4, padding: 2 });
}

async function runTop(ctx: ComposeCtx, services: string[]): Promise<number> {
  const { name } = await projectOrName(ctx);
  const client = ctx.client();
  const list = (await listContainers(client, name, { services, oneoff: 'include' }))
    .sort((a, b) => (canonicalName(a) < canonicalName(b) ? -1 : 1));
  const tops = await Promise.all(list.map(async (c): Promise<TopOf> => {
    const t = await client.containerTop(c.Id, {});
    return { service: serviceOf(c), replica: String(numberOf(c)), titles: t.Titles ?? [], processes: t.Processes ?? [] };
  }));
  ctx.out.write(topTable(tops));
  return 0;
}

// ---------------------------------------------------------------- port

async function runPort(ctx: ComposeCtx, args: string[], o: Opts): Promise<number> {
  const [service, portArg] = args as [string, string];
  const port = Number(portArg);
  if (!/^\d+$/.test(portArg) || port > 65535) throw new CliError(`strconv.ParseUint: parsing "${portArg}": invalid syntax`);
  const protocol = o.str('protocol') ?? 'tcp';
  const name = await ctx.projectName();
  const c = await pickContainer(ctx.client(), name, service, { index: o.int('index') ?? 0, oneoff: 'include' });
  const hit = (c.Ports ?? []).find((p) => p.PrivatePort === port && p.Type === protocol);
  if (!hit) {
    const have = (c.Ports ?? []).map((p) => `${p.PrivatePort}/${p.Type}`).join(', ');
    throw new CliError(`no port ${port}/${protocol} for container ${canonicalName(c)}: ${have}`);
  }
  ctx.out.write(`${hit.IP ?? ''}:${hit.PublicPort ?? 0}\n`);
  return 0;
}

// ---------------------------------------------------------------- images

export interface ImageRow { container: string; repository: string; tag: string; id: string; size: number }

/** The repository and tag of a container's image reference (familiar form); none for an ID. */
export function repoTag(image: string): { repository: string; tag: string } {
  if (!image || /^(sha256:)?[0-9a-f]{64}$/.test(image)) return { repository: '', tag: '' };
  const familiar = displayImage(image.split('@')[0], undefined, true);
  const slash = familiar.lastIndexOf('/');
  const colon = familiar.lastIndexOf(':');
  if (colon > slash) return { repository: familiar.slice(0, colon), tag: familiar.slice(colon + 1) };
  return { repository: familiar, tag: image.includes('@') ? '' : 'latest' };
}

/** Compose's images table: by container name, CONTAINER REPOSITORY TAG IMAGE ID SIZE. */
export function imagesTable(rows: ImageRow[]): string {
  const sorted = [...rows].sort((a, b) => (a.container < b.container ? -1 : 1));
  const lines = [['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'],
    ...sorted.map((r) => [r.container, r.repository || '<none>', r.tag || '<none>', truncateId(r.id), humanSize(r.size)])];
  return tabwrite(lines.map((l) => `${l.join('\t')}\n`).join(''));
}

async function runImages(ctx: ComposeCtx, services: string[], o: Opts): Promise<number> {
  const name = await ctx.projectName();
  const client = ctx.client();
  let list = await client.containerList({ all: true, filters: JSON.stringify({ label: [`${LABEL.project}=${name.toLowerCase()}`] }) }) as Listed[];
  if (services.length) list = list.filter((c) => services.includes(serviceOf(c)));
  const rows = await Promise.all(list.map(async (c): Promise<ImageRow> => {
    const { repository, tag } = repoTag(c.Image ?? '');
    const img = await client.imageInspect(c.Image ?? c.ImageID ?? '').catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    });
    return { container: canonicalName(c), repository, tag, id: img?.Id ?? c.ImageID ?? '', size: img?.Size ?? 0 };
  }));
  if (o.bool('quiet')) {
    const ids = [...new Set(rows.map((r) => r.id.replace(/^[^:]*:/, '')))];
    ctx.out.write(ids.map((i) => `${i}\n`).join(''));
    return 0;
  }
  const format = o.str('format') ?? 'table';
  if (format === 'json') {
    const objs = rows.map((r) => ({ ID: r.id, ContainerName: r.container, Repository: r.repository, Tag: r.tag, Size: r.size }));
    ctx.out.write(`${JSON.stringify(objs, null, 0)}\n`);
    return 0;
  }
  if (format !== 'table') throw new CliError(`format value ${JSON.stringify(format)} could not be parsed: unsupported format`);
  ctx.out.write(imagesTable(rows));
  return 0;
}

// ---------------------------------------------------------------- cp

async function runCp(ctx: ComposeCtx, args: string[], o: Opts): Promise<number> {
  const [src, dst] = args as [string, string];
  const split = (a: string): [string, string] | undefined => {
    // a local path with a colon starts with "/" or "." (docker's rule): only SERVICE:PATH is remote
    if (a.startsWith('/') || a.startsWith('.')) return undefined;
    const i = a.indexOf(':');
    return i > 0 ? [a.slice(0, i), a.slice(i + 1)] : undefined;
  };
  const from = split(src);
  const to = split(dst);
  if (from && to) throw new CliError('copying between services is not supported');
  if (!from && !to) throw new CliError('unknown copy direction');
  const service = (from ?? to)![0];
  const name = await ctx.projectName();
  const client = ctx.client();
  const index = o.int('index') ?? 0;
  let targets: Listed[];
  if (index > 0) targets = [await pickContainer(client, name, service, { index, all: true })];
  else {
    targets = (await listContainers(client, name, { services: [service], all: true, oneoff: o.bool('all') ? 'include' : 'exclude' }))
      .sort((a, b) => numberOf(a) - numberOf(b));
    if (!targets.length) throw new CliError(`no container found for service "${service}"`);
    // from a service: its first container
    if (from) targets = targets.slice(0, 1);
  }
  const flags = ['-q', ...(o.bool('archive') ? ['-a'] : []), ...(o.bool('follow-link') ? ['-L'] : [])];
  for (const c of targets) {
    const argv = from ? [...flags, `${c.Id}:${from[1]}`, dst] : [...flags, src, `${c.Id}:${to![1]}`];
    const code = await runBerthCommand(ctx, cpCommand, argv);
    if (code) return code;
  }
  return 0;
}

// ---------------------------------------------------------------- events

interface DaemonEvent { Type?: string; Action?: string; status?: string; id?: string; time?: number; timeNano?: number; Actor?: { ID?: string; Attributes?: Record<string, string> } }

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Go's Format("2006-01-02 15:04:05.000000") in local time, from nanoseconds. */
export function eventTime(nanos: bigint): string {
  const d = new Date(Number(nanos / 1_000_000n));
  const micros = Number((nanos / 1000n) % 1_000_000n);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(micros, 6)}`;
}

/** Go's time.Time JSON (RFC 3339 with trimmed nanoseconds, local offset or Z). */
export function eventTimeJson(nanos: bigint): string {
  const d = new Date(Number(nanos / 1_000_000n));
  const frac = String(nanos % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac ? `.${frac}` : ''}${zone}`;
}

/** One event as `compose events` prints it (the compose labels left out of the attributes), or undefined to skip. */
export function formatEvent(ev: DaemonEvent, services: string[], json: boolean): string | undefined {
  if ((ev.Type ?? 'container') !== 'container') return undefined;
  const attrs = ev.Actor?.Attributes ?? {};
  if (attrs[LABEL.oneoff] === 'True') return undefined;
  const service = attrs[LABEL.service] ?? '';
  if (services.length && !services.includes(service)) return undefined;
  const attributes: Record<string, string> = {};
  for (const k of Object.keys(attrs).sort()) if (!k.startsWith('com.docker.compose.')) attributes[k] = attrs[k]!;
  const nanos = ev.timeNano ? BigInt(ev.timeNano) : BigInt(ev.time ?? 0) * 1_000_000_000n;
  const id = ev.Actor?.ID ?? ev.id ?? '';
  const action = ev.Action ?? ev.status ?? '';
  if (json) {
    return `${JSON.stringify({ action, attributes, id, service, time: eventTimeJson(nanos), type: 'container' })}\n`;
  }
  // Go's Fprintln after a String() that already ends in "\n": a blank line follows each event
  return `${eventTime(nanos)} container ${action} ${id} (${Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(', ')})\n\n`;
}

async function runEvents(ctx: ComposeCtx, services: string[], o: Opts): Promise<number> {
  const { name } = await projectOrName(ctx);
  const res = await ctx.client().raw('GET', `/events${query({
    filters: JSON.stringify({ label: [`${LABEL.project}=${name.toLowerCase()}`] }), since: o.str('since') || undefined, until: o.str('until') || undefined,
  })}`);
  await checkOk(res);
  const stop = (): void => { res.destroy(); };
  process.once('SIGINT', stop);
  try {
    for await (const ev of jsonLines<DaemonEvent>(res)) {
      const line = formatEvent(ev, services, o.bool('json'));
      if (line) ctx.out.write(line);
    }
  } catch (e) {
    if (!res.destroyed) throw e;
  } finally {
    process.removeListener('SIGINT', stop);
  }
  return 0;
}

// ---------------------------------------------------------------- wait

async function runWait(ctx: ComposeCtx, services: string[], o: Opts): Promise<number> {
  const { name } = await projectOrName(ctx);
  const client = ctx.client();
  const list = await listContainers(client, name, { services, oneoff: 'include' });
  if (!list.length) throw new CliError(`no containers for project "${name}"`);
  let status = 0;
  await Promise.all(list.map(async (c) => {
    const r = await client.containerWait(c.Id, {});
    ctx.out.write(`container "${c.Id}" exited with status code ${r.StatusCode}\n`);
    status = r.StatusCode;
  }));
  if (o.bool('down-project')) {
    await composeEngine.down(engineContext(ctx), await ctx.project(), { removeOrphans: true });
  }
  return status;
}

// ---------------------------------------------------------------- the specs

export const inspectCommands: ComposeCommandSpec[] = [
  {
    names: ['top'], usage: '[SERVICES...]', description: 'Display the running processes', flags: [],
    run: (ctx, args) => runTop(ctx, args),
  },
  {
    names: ['port'], usage: '[OPTIONS] SERVICE PRIVATE_PORT', description: 'Print the public port for a port binding', args: { min: 2, max: 2 },
    flags: [
      { name: 'index', type: 'int', default: 0, desc: 'Index of the container if service has multiple replicas' },
      { name: 'protocol', type: 'string', default: 'tcp', desc: 'tcp or udp' },
    ],
    run: runPort,
  },
  {
    names: ['images'], usage: '[OPTIONS] [SERVICE...]', description: 'List images used by the created containers',
    flags: [
      { name: 'format', type: 'string', default: 'table', desc: 'Format the output. Values: [table | json]' },
      { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display IDs' },
    ],
    run: runImages,
  },
  {
    names: ['cp'], usage: '[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n\tdocker compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH',
    description: 'Copy files/folders between a service container and the local filesystem', args: { min: 2, max: 2 },
    flags: [
      { name: 'all', type: 'bool', hidden: true, desc: 'Include containers created by the run command' },
      { name: 'archive', short: 'a', type: 'bool', desc: 'Archive mode (copy all uid/gid information)' },
      { name: 'follow-link', short: 'L', type: 'bool', desc: 'Always follow symbol link in SRC_PATH' },
      { name: 'index', type: 'int', default: 0, desc: 'Index of the container if service has multiple replicas' },
    ],
    run: runCp,
  },
  {
    names: ['events'], usage: '[OPTIONS] [SERVICE...]', description: 'Receive real time events from containers',
    flags: [
      { name: 'json', type: 'bool', desc: 'Output events as a stream of json objects' },
      { name: 'since', type: 'string', desc: 'Show all events created since timestamp' },
      { name: 'until', type: 'string', desc: 'Stream events until this timestamp' },
    ],
    run: runEvents,
  },
  {
    names: ['wait'], usage: 'SERVICE [SERVICE...] [OPTIONS]', description: 'Block until containers of all (or specified) services stop.', args: { min: 1 },
    flags: [{ name: 'down-project', type: 'bool', desc: 'Drops project when the first container stops' }],
    run: runWait,
  },
];
