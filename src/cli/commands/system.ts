// berth version, info, events and the system commands (df, prune), as docker 28.2 prints them.
import { CLIENT_API_VERSION, ConnectError, checkOk, textLines } from '../../client/engine-client.ts';
import { BERTH_VERSION } from '../../types/version.ts';
import { CliError, type CommandSpec, type Ctx } from '../command.ts';
import { execTemplate, formatList, templateString } from '../format/list.ts';
import { goStructs } from '../format/go-structs.ts';
import { ago, bytesSize, humanSize } from '../format/units.ts';
import { goArch } from '../../util/platform.ts';
import { FORMAT_INSPECT_DESC, FORMAT_TABLE_DESC, pruneNetworks } from './network.ts';
import { filterQuery, filtersJson } from '../filters.ts';
import { confirm, deletedSection, imagesDeletedSection } from '../shared.ts';
import { VOLUME_HEADERS, pruneVolumes, volumeRow } from './volume.ts';
import type { Volume } from '../../types/engine-api.ts';


/** Adds Go-named template fields (`.APIVersion`) for JSON keys that differ (`ApiVersion`), hidden from `{{json .}}`. */
function alias<T extends object>(obj: T, names: Record<string, string>): T {
  for (const [goName, key] of Object.entries(names)) {
    // an omitted (omitempty) string field is still "" on the Go struct
    Object.defineProperty(obj, goName, { get: () => (obj as Record<string, unknown>)[key] ?? '', enumerable: false });
  }
  return obj;
}

/** Docker's clientVersion: JSON keys with omitempty, as `{{json .Client}}` prints them. */
function clientVersion(apiVersion?: string): Record<string, unknown> {
  const v: Record<string, unknown> = {
    Version: BERTH_VERSION,
    ApiVersion: apiVersion,
    DefaultAPIVersion: CLIENT_API_VERSION,
    GoVersion: process.version,
    Os: process.platform,
    Arch: goArch(),
    Context: 'default',
  };
  for (const k of Object.keys(v)) if (v[k] === undefined || v[k] === '') delete v[k];
  // Fields omitted from the JSON (omitempty) still read as "" in templates.
  for (const k of ['GitCommit', 'BuildTime', 'ApiVersion']) if (!(k in v)) Object.defineProperty(v, k, { value: '', enumerable: false });
  return alias(v, { APIVersion: 'ApiVersion' });
}

/** text/tabwriter as docker's version output uses it (minwidth 20, padding 1): one tab per line. */
function tabAlign(text: string, minWidth = 20): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    if (!lines[i]!.includes('\t')) { out.push(lines[i++]!); continue; }
    let j = i;
    while (j < lines.length && lines[j]!.includes('\t')) j++;
    const block = lines.slice(i, j).map((l) => l.split('\t'));
    const w = Math.max(minWidth, ...block.map((c) => c[0]!.length + 1));
    for (const [k, ...rest] of block) out.push(`${k!.padEnd(w)}${rest.join('\t')}`);
    i = j;
  }
  return out.join('\n');
}

interface ServerVersion {
  Platform?: { Name: string };
  Components?: { Name: string; Version: string; Details?: Record<string, string> }[];
  Version: string; ApiVersion: string; MinAPIVersion?: string; GitCommit: string; GoVersion: string;
  Os: string; Arch: string; KernelVersion?: string; Experimental?: boolean; BuildTime?: string;
}

/** Go's time.ANSIC for docker's reformatDate: `Fri May 30 12:07:14 2025`. */
function ansic(iso: string): string {
  const t = new Date(iso);
  if (!iso || Number.isNaN(t.getTime())) return iso;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[t.getDay()]} ${months[t.getMonth()]} ${String(t.getDate()).padStart(2, ' ')} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())} ${t.getFullYear()}`;
}

function versionText(client: Record<string, unknown>, server: ServerVersion | undefined): string {
  const c = client;
  const lines = [
    'Client:',
    ` Version:\t${c.Version}`,
    ` API version:\t${c.ApiVersion ?? ''}${c.ApiVersion !== c.DefaultAPIVersion ? ` (downgraded from ${c.DefaultAPIVersion})` : ''}`,
    ` Node.js version:\t${c.GoVersion}`,
    ` Git commit:\t${c.GitCommit ?? ''}`,
    ` Built:\t${c.BuildTime ?? ''}`,
    ` OS/Arch:\t${c.Os}/${c.Arch}`,
    ` Context:\t${c.Context}`,
  ];
  if (server) {
    lines.push('', `Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}`);
    for (const comp of server.Components ?? []) {
      const d = comp.Details ?? {};
      lines.push(` ${comp.Name}:`);
      if (comp.Name === 'Engine') {
        lines.push(
          `  Version:\t${comp.Version}`,
          `  API version:\t${d.ApiVersion ?? ''} (minimum version ${d.MinAPIVersion ?? ''})`,
          `  Go version:\t${d.GoVersion ?? ''}`,
          `  Git commit:\t${d.GitCommit ?? ''}`,
          `  Built:\t${d.BuildTime ?? ''}`,
          `  OS/Arch:\t${d.Os ?? ''}/${d.Arch ?? ''}`,
          `  Experimental:\t${d.Experimental ?? ''}`,
        );
      } else {
        lines.push(`  Version:\t${comp.Version}`);
        // docker's getDetailsOrder: the details sorted by key
        for (const k of Object.keys(d).sort()) lines.push(`  ${k}:\t${d[k]}`);
      }
    }
  }
  return `${tabAlign(lines.join('\n'))}\n`;
}

/** types.Version as the Go struct marshals it (empty BuildTime and false Experimental omitted). */
function serverVersion(sv: ServerVersion): ServerVersion {
  const s: Record<string, unknown> = { ...sv };
  for (const k of ['MinAPIVersion', 'KernelVersion', 'BuildTime', 'Experimental']) if (!s[k]) delete s[k];
  let engine = sv.Components?.find((c) => c.Name === 'Engine');
  if (engine?.Details?.BuildTime) engine.Details.BuildTime = ansic(engine.Details.BuildTime);
  if (!engine) {
    engine = {
      Name: 'Engine', Version: sv.Version, Details: {
        ApiVersion: sv.ApiVersion, MinAPIVersion: sv.MinAPIVersion ?? '', GitCommit: sv.GitCommit, GoVersion: sv.GoVersion,
        Os: sv.Os, Arch: sv.Arch, BuildTime: ansic(sv.BuildTime ?? ''), Experimental: String(!!sv.Experimental),
      },
    };
    s.Components = [...(sv.Components ?? []), engine];
  }
  return alias(s, { APIVersion: 'ApiVersion' }) as unknown as ServerVersion;
}

/**
 * A --format template on one value, as version, info, events and `system df -v` run theirs: a
 * template that does not parse fails with `template parsing error: …` (`parseStatus`), one that
 * fails prints what it printed and a newline (`newline`), then Go's error as is (status 1).
 */
function printTemplate(ctx: Ctx, format: string, data: unknown, o: { name?: string; typeName: string; structs?: Record<string, string>; parseStatus?: number; newline?: boolean }): void {
  const r = execTemplate(format, data, { name: o.name, typeName: o.typeName, structType: o.structs ? goStructs(data, o.structs) : undefined });
  if (r.parseError) throw new CliError(`template parsing error: ${r.parseError}`, o.parseStatus ?? 64);
  ctx.out.write(o.newline === false ? r.out : `${r.out}\n`);
  if (r.error) throw new CliError(r.error, 1);
}

/** Fails as printTemplate does when a template does not parse, before the daemon is asked. */
function checkTemplate(format: string | undefined, name = '', parseStatus = 64): void {
  const r = format ? execTemplate(format, undefined, { name }) : {};
  if ('parseError' in r && r.parseError) throw new CliError(`template parsing error: ${r.parseError}`, parseStatus);
}

const VERSION_STRUCTS = { Client: 'system.clientVersion', Server: '*types.Version', 'Server.Platform': 'struct { Name string }', 'Server.Components.*': 'types.ComponentVersion' };
const INFO_STRUCTS = {
  ClientInfo: '*system.clientInfo', Plugins: 'system.PluginsInfo', RegistryConfig: '*registry.ServiceConfig', Swarm: 'swarm.Info',
  ContainerdCommit: 'system.Commit', RuncCommit: 'system.Commit', InitCommit: 'system.Commit',
};

/** For version, info and events, docker's `--format json` means the template `{{json .}}`. */
const template = (format: string | undefined): string | undefined => (format === 'json' ? '{{json .}}' : format || undefined);

async function runVersion(ctx: Ctx, format: string | undefined): Promise<number> {
  checkTemplate(format, 'version');
  const client = ctx.client();
  let server: ServerVersion | undefined;
  let failure: unknown;
  try {
    server = serverVersion(await client.request<ServerVersion>('GET', '/version'));
  } catch (err) {
    failure = err;
  }
  const cv = clientVersion(server ? await client.apiVersion() : CLIENT_API_VERSION);
  const data = { Client: cv, Server: server ?? null };
  try {
    if (format) printTemplate(ctx, format, data, { name: 'version', typeName: 'system.versionInfo', structs: VERSION_STRUCTS });
    else ctx.out.write(versionText(cv, server));
  } catch (err) {
    // docker reports the daemon's error before a template's (which it usually caused)
    if (!failure) throw err;
  }
  if (failure) throw failure;
  return 0;
}

type Info = Record<string, any>;

/** docker's prettyPrintServerInfo, line for line. */
function serverInfoText(info: Info): string {
  const l: string[] = [];
  const ln = (...a: unknown[]): void => { l.push(a.map(String).join(' ')); };
  const nonEmpty = (label: string, v: unknown): void => { if (v !== undefined && v !== null && v !== '') ln(label, v); };
  ln(' Containers:', info.Containers);
  ln('  Running:', info.ContainersRunning);
  ln('  Paused:', info.ContainersPaused);
  ln('  Stopped:', info.ContainersStopped);
  ln(' Images:', info.Images);
  nonEmpty(' Server Version:', info.ServerVersion);
  nonEmpty(' Storage Driver:', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) l.push(`  ${k}: ${v}`);
  for (const [k, v] of info.SystemStatus ?? []) l.push(` ${k}: ${v}`);
  nonEmpty(' Logging Driver:', info.LoggingDriver);
  nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  nonEmpty(' Cgroup Version:', info.CgroupVersion);
  const plugins = info.Plugins ?? {};
  ln(' Plugins:');
  ln('  Volume:', (plugins.Volume ?? []).join(' '));
  ln('  Network:', (plugins.Network ?? []).join(' '));
  if (plugins.Authorization?.length) ln('  Authorization:', plugins.Authorization.join(' '));
  ln('  Log:', (plugins.Log ?? []).join(' '));
  if (info.CDISpecDirs?.length) {
    ln(' CDI spec directories:');
    for (const d of info.CDISpecDirs) l.push(`  ${d}`);
  }
  if (info.DiscoveredDevices?.length) {
    ln(' Discovered Devices:');
    for (const d of info.DiscoveredDevices) l.push(`  ${d.Source}: ${d.ID}`);
  }
  ln(' Swarm:', info.Swarm?.LocalNodeState ?? '');
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length) {
    ln(' Runtimes:', runtimes.sort().join(' '));
    ln(' Default Runtime:', info.DefaultRuntime);
  }
  if (info.OSType === 'linux') {
    ln(' Init Binary:', info.InitBinary ?? '');
    ln(' containerd version:', info.ContainerdCommit?.ID ?? '');
    ln(' runc version:', info.RuncCommit?.ID ?? '');
    ln(' init version:', info.InitCommit?.ID ?? '');
    if (info.SecurityOptions?.length) {
      ln(' Security Options:');
      for (const so of info.SecurityOptions as string[]) {
        const kv = Object.fromEntries(so.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
        l.push(`  ${kv.name ?? so}`);
        if (kv.profile !== undefined) ln('   Profile:', kv.profile);
      }
    }
  }
  if (info.OSType === 'windows') ln(' Default Isolation:', info.Isolation);
  nonEmpty(' Kernel Version:', info.KernelVersion);
  nonEmpty(' Operating System:', info.OperatingSystem);
  nonEmpty(' OSType:', info.OSType);
  nonEmpty(' Architecture:', info.Architecture);
  ln(' CPUs:', info.NCPU);
  ln(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  nonEmpty(' Name:', info.Name);
  nonEmpty(' ID:', info.ID);
  ln(' Docker Root Dir:', info.DockerRootDir ?? '');
  ln(' Debug Mode:', !!info.Debug);
  if (info.Debug) {
    ln('  File Descriptors:', info.NFd);
    ln('  Goroutines:', info.NGoroutines);
    ln('  System Time:', info.SystemTime);
    ln('  EventsListeners:', info.NEventsListener);
  }
  nonEmpty(' HTTP Proxy:', info.HttpProxy);
  nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  nonEmpty(' No Proxy:', info.NoProxy);
  if (info.Labels?.length) {
    ln(' Labels:');
    for (const x of info.Labels) l.push(`  ${x}`);
  }
  ln(' Experimental:', !!info.ExperimentalBuild);
  const reg = info.RegistryConfig;
  const indexes = Object.values(reg?.IndexConfigs ?? {}) as { Name: string; Secure: boolean }[];
  if (reg && (reg.InsecureRegistryCIDRs?.length || indexes.length)) {
    ln(' Insecure Registries:');
    for (const ic of indexes.sort((a, b) => a.Name.localeCompare(b.Name))) if (!ic.Secure) l.push(`  ${ic.Name}`);
    for (const cidr of reg.InsecureRegistryCIDRs ?? []) l.push(`  ${cidr}`);
  }
  if (reg?.Mirrors?.length) {
    ln(' Registry Mirrors:');
    for (const m of reg.Mirrors) l.push(`  ${m}`);
  }
  ln(' Live Restore Enabled:', !!info.LiveRestoreEnabled);
  if (info.ProductLicense) ln(' Product License:', info.ProductLicense);
  if (info.DefaultAddressPools?.length) {
    ln(' Default Address Pools:');
    for (const p of info.DefaultAddressPools) l.push(`   Base: ${p.Base}, Size: ${p.Size}`);
  }
  return `${l.join('\n')}\n\n`;
}

async function runInfo(ctx: Ctx, format: string | undefined): Promise<number> {
  checkTemplate(format);
  const clientInfo = { Debug: false, ...clientVersion(), Plugins: [], Warnings: null };
  let info: Info | undefined;
  try {
    info = await ctx.client().request<Info>('GET', '/info');
  } catch (err) {
    if (err instanceof ConnectError) {
      if (!format) ctx.out.write(`Client:\n Version:    ${BERTH_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n`);
      throw err;
    }
    throw err;
  }
  if (format) {
    // docker's dockerInfo struct, which berth names after itself
    printTemplate(ctx, format, { ...info, ClientInfo: clientInfo }, { typeName: 'system.berthInfo', structs: INFO_STRUCTS });
    return 0;
  }
  ctx.out.write(`Client:\n Version:    ${BERTH_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n`);
  ctx.out.write(serverInfoText(info));
  const warnings = (info.Warnings ?? []) as string[];
  if (warnings.length) ctx.err.write(`${warnings.join('\n')}\n`);
  return 0;
}

// ---- events ----

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds; undefined when `s` is not a duration. */
function parseDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m && s !== '0') return undefined;
  if (s === '0') return 0;
  let total = 0;
  for (const p of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(p[1]) * DURATION_UNITS[p[2]!]!;
  return m![1] === '-' ? -total : total;
}

/** docker's timetypes.GetTimestamp: a duration ago, a date, or a unix time, as `sec.nanosec`. */
export function eventTimestamp(value: string, nowMs = Date.now()): string {
  const d = parseDuration(value);
  const fmt = (ns: bigint): string => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
  // "0" is a unix time to docker, not a duration
  if (d !== undefined && value !== '0') return fmt(BigInt(nowMs) * 1_000_000n - BigInt(Math.round(d)));
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  // dates without a zone are local, as Go's time.ParseInLocation(…, time.Local)
  const t = Date.parse(/^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00` : value);
  if (Number.isNaN(t)) throw new CliError(`failed to parse value as time or duration: "${value}"`);
  return fmt(BigInt(t) * 1_000_000n + BigInt(nanoFraction(value)) % 1_000_000n);
}

const nanoFraction = (v: string): number => Number((/:\d\d\.(\d{1,9})/.exec(v)?.[1] ?? '').padEnd(9, '0') || 0);

interface EventMessage {
  status?: string; id?: string; from?: string; Type: string; Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> }; scope?: string; time?: number; timeNano?: number;
}

/** `2026-11-23T14:08:45.123456789Z` (docker's rfc3339NanoFixed, in local time). */
function eventTime(timeNano: string | undefined, time: number | undefined): string {
  const ns = timeNano && timeNano !== '0' ? BigInt(timeNano) : BigInt(time ?? 0) * 1_000_000_000n;
  const ms = Number(ns / 1_000_000n);
  const off = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  return `${local.toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}${zone}`;
}

export function eventLine(e: EventMessage, timeNano = e.timeNano ? String(e.timeNano) : undefined): string {
  let s = e.timeNano || e.time ? `${eventTime(timeNano, e.time)} ` : '';
  s += `${e.Type} ${e.Action} ${e.Actor.ID}`;
  const attrs = e.Actor.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${s}\n`;
}

async function runEvents(ctx: Ctx, o: { since?: string; until?: string; filters: string[]; format?: string }): Promise<void> {
  const parsed = o.format ? execTemplate(o.format, undefined) : {};
  if ('parseError' in parsed && parsed.parseError) throw new CliError(`Error parsing format: ${parsed.parseError}`, 64);
  const params = new URLSearchParams();
  if (o.since) params.set('since', eventTimestamp(o.since));
  if (o.until) params.set('until', eventTimestamp(o.until));
  const f = filterQuery(ctx, { usage: '[OPTIONS]' }, o.filters);
  const q = [params.toString(), f].filter(Boolean).join('&');
  const res = await ctx.client().raw('GET', `/events${q ? `?${q}` : ''}`);
  await checkOk(res);
  for await (const line of textLines(res)) {
    const e = JSON.parse(line) as EventMessage;
    // timeNano is above 2^53: JSON.parse rounds it, so its digits are taken from the text.
    const nano = /"timeNano":\s*(\d+)/.exec(line)?.[1];
    if (!o.format) {
      ctx.out.write(eventLine(e, nano));
      continue;
    }
    // The daemon's own line is docker's JSON (key order, exact timeNano), which a re-encoding would round.
    if (o.format === 'json' || /^\s*\{\{\s*json\s+\.\s*\}\}\s*$/.test(o.format)) {
      ctx.out.write(`${goEventJson(e, nano)}\n`);
      continue;
    }
    alias(e, { Status: 'status', ID: 'id', From: 'from', Scope: 'scope', Time: 'time', TimeNano: 'timeNano' });
    // docker stops at the first event its template fails on, printing nothing of it
    const r = execTemplate(o.format, e, { typeName: '*events.Message', structType: goStructs(e, { Actor: 'events.Actor' }) });
    if (r.error) throw new CliError(`Error parsing format: ${r.error}`, 64);
    ctx.out.write(`${r.out}\n`);
  }
}

/** The event as Go encodes events.Message: the daemon's key order, Attributes sorted, exact timeNano. */
function goEventJson(e: EventMessage, nano: string | undefined): string {
  const attrs = e.Actor.Attributes ?? {};
  e.Actor.Attributes = Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, attrs[k]!]));
  const text = JSON.stringify(e);
  return nano ? text.replace(/"timeNano":\d+(\.\d+)?(e\+\d+)?/, `"timeNano":${nano}`) : text;
}


// ---- df ----

interface DiskUsage {
  LayersSize: number;
  Images?: { Id: string; RepoTags?: string[] | null; Created: number; Size: number; SharedSize: number; Containers: number }[] | null;
  Containers?: { Id: string; Names: string[]; Image: string; Command: string; Created: number; State: string; Status: string; SizeRw?: number; Mounts?: { Type: string; Name?: string }[] }[] | null;
  Volumes?: Volume[] | null;
  BuildCache?: { ID: string; Type: string; Size: number; CreatedAt: string; LastUsedAt?: string | null; UsageCount: number; InUse: boolean; Shared: boolean }[] | null;
}

/** go-units HumanSize (4 significant digits), which docker uses for totals. */
const size4 = (n: number): string => humanSize(n, 4);
const pct = (part: number, total: number): string => total > 0 ? `${size4(part)} (${Math.trunc((part * 100) / total)}%)` : size4(part);
const ACTIVE_STATES = new Set(['running', 'paused', 'restarting']);

function dfRows(du: DiskUsage): object[] {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const usedImg = images.filter((i) => i.Containers > 0 && i.Size !== -1 && i.SharedSize !== -1).reduce((a, i) => a + i.Size - i.SharedSize, 0);
  const ctrSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const ctrFree = containers.filter((c) => !ACTIVE_STATES.has(c.State)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
  const sized = volumes.filter((v) => (v.UsageData?.Size ?? -1) !== -1);
  const volSize = sized.reduce((a, v) => a + v.UsageData!.Size, 0);
  const volFree = sized.filter((v) => v.UsageData!.RefCount === 0).reduce((a, v) => a + v.UsageData!.Size, 0);
  const builder = cache.filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0);
  const inUse = cache.filter((c) => c.InUse && !c.Shared).reduce((a, c) => a + c.Size, 0);
  const row = (Type: string, total: number, active: number, Size: string, Reclaimable: string): object =>
    ({ Active: String(active), Reclaimable, Size, TotalCount: String(total), Type });
  return [
    row('Images', images.length, images.filter((i) => i.Containers > 0).length, size4(du.LayersSize), pct(du.LayersSize - usedImg, du.LayersSize)),
    row('Containers', containers.length, containers.filter((c) => ACTIVE_STATES.has(c.State)).length, size4(ctrSize), pct(ctrFree, ctrSize)),
    row('Local Volumes', volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, size4(volSize), pct(volFree, volSize)),
    row('Build Cache', cache.length, cache.filter((c) => c.InUse).length, size4(builder), size4(builder - inUse)),
  ];
}

/** The rows of `system df -v` are docker's list contexts. */
const DF_STRUCTS = { 'Images.*': '*formatter.imageContext', 'Containers.*': '*formatter.ContainerContext', 'Volumes.*': '*formatter.volumeContext', 'BuildCache.*': '*formatter.buildCacheContext' };

const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

/** `system df -v`: the four sections with docker's table formats. */
function dfVerbose(du: DiskUsage, trunc: boolean): { data: object; text: () => string } {
  const images = (du.Images ?? []).map((i) => {
    const tag = i.RepoTags?.find((t) => t !== '<none>:<none>');
    const at = tag ? tag.lastIndexOf(':') : -1;
    return {
      Containers: String(i.Containers), CreatedAt: new Date(i.Created * 1000).toISOString(), CreatedSince: ago(i.Created),
      ID: trunc ? i.Id.replace(/^sha256:/, '').slice(0, 12) : i.Id, Repository: tag ? tag.slice(0, at) : '<none>',
      SharedSize: i.SharedSize === -1 ? 'N/A' : size4(i.SharedSize), Size: humanSize(i.Size, 3),
      Tag: tag ? tag.slice(at + 1) : '<none>', UniqueSize: i.SharedSize === -1 ? 'N/A' : size4(i.Size - i.SharedSize),
    };
  });
  const containers = (du.Containers ?? []).map((c) => {
    const cmd = trunc && c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command;
    return {
      Command: `"${cmd}"`, CreatedAt: new Date(c.Created * 1000).toISOString(), ID: trunc ? c.Id.slice(0, 12) : c.Id,
      Image: c.Image, LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).length),
      Names: c.Names.map((n) => n.replace(/^\//, '')).join(','), RunningFor: ago(c.Created), Size: humanSize(c.SizeRw ?? 0, 3),
      State: c.State, Status: c.Status,
    };
  });
  const volumes = (du.Volumes ?? []).map(volumeRow);
  const cache = (du.BuildCache ?? []).map((c) => ({
    CacheType: c.Type, CreatedSince: ago(Date.parse(c.CreatedAt) / 1000), ID: c.ID,
    LastUsedSince: c.LastUsedAt ? ago(Date.parse(c.LastUsedAt) / 1000) : '', Shared: String(c.Shared),
    Size: humanSize(c.Size, 3), UsageCount: String(c.UsageCount),
  }));
  const builder = (du.BuildCache ?? []).filter((c) => !c.Shared).reduce((a, c) => a + c.Size, 0);
  return {
    data: { Images: images, Containers: containers, Volumes: volumes, BuildCache: cache },
    text() {
      const t = (rows: object[], defaultFormat: string, headers: Record<string, string>): string => formatList(rows, { defaultFormat, headers });
      return [
        'Images space usage:\n\n',
        t(images, 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
          { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' }),
        '\nContainers space usage:\n\n',
        t(containers, 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
          { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' }),
        '\nLocal Volumes space usage:\n\n',
        t(volumes, 'table {{.Name}}\t{{.Links}}\t{{.Size}}', VOLUME_HEADERS),
        `\nBuild cache usage: ${size4(builder)}\n\n`,
        t(cache, 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
          { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' }),
      ].join('');
    },
  };
}

// ---- prune ----

const naturalLess = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

function pruneWarning(o: { all: boolean; volumes: boolean; filters: string[] }): string {
  const items = ['all stopped containers', 'all networks not used by at least one container'];
  if (o.volumes) items.push('all anonymous volumes not used by at least one container');
  items.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images');
  items.push(o.all ? 'all build cache' : 'unused build cache');
  const shown = o.filters.filter((f) => /^(label|label!|until)=/.test(f)).sort(naturalLess);
  const filterText = shown.length ? `\n  Items to be pruned will be filtered with:${shown.map((f) => `\n  - ${f}`).join('')}\n` : '';
  return `WARNING! This will remove:${items.map((i) => `\n  - ${i}`).join('')}\n${filterText}\nAre you sure you want to continue?`;
}

async function runSystemPrune(ctx: Ctx, o: { all: boolean; volumes: boolean; force: boolean; filters: string[] }): Promise<number> {
  if (o.volumes && o.filters.some((f) => /^until=/i.test(f))) throw new CliError('ERROR: The "until" filter is not supported with "--volumes"');
  const filters = filtersJson(ctx, { usage: '[OPTIONS]' }, o.filters, '--filter');
  if (!o.force && !(await confirm(ctx, pruneWarning(o)))) return 0;
  const c = ctx.client();
  let space = 0;
  const print = (s: string): void => { if (s) ctx.out.write(`${s}\n`); };

  const cr = await c.containerPrune({ filters });
  space += cr.SpaceReclaimed ?? 0;
  print(deletedSection('Deleted Containers', cr.ContainersDeleted));
  print(await pruneNetworks(ctx, filters));
  if (o.volumes) {
    const v = await pruneVolumes(ctx, filters);
    space += v.space;
    print(v.output);
  }
  const ir = await c.imagePrune({ filters: filtersJson(ctx, { usage: '[OPTIONS]' }, o.filters, '--filter', { dangling: [String(!o.all)] }) });
  if (ir.ImagesDeleted?.length) {
    space += ir.SpaceReclaimed ?? 0;
    print(imagesDeletedSection(ir.ImagesDeleted));
  }
  const br = await c.buildPrune({ all: o.all, filters });
  space += br.SpaceReclaimed ?? 0;
  print(deletedSection('Deleted build cache objects', br.CachesDeleted));
  ctx.out.write(`Total reclaimed space: ${size4(space)}\n`);
  return 0;
}

const INFO_FLAGS = [{ name: 'format', short: 'f', type: 'string' as const, desc: FORMAT_INSPECT_DESC }];

export const systemCommands: CommandSpec[] = [
  {
    paths: [['version']],
    usage: '[OPTIONS]',
    description: 'Show the Berth version information',
    args: { max: 0 },
    flags: INFO_FLAGS,
    run: (ctx, _args, o) => runVersion(ctx, template(o.str('format'))),
  },
  {
    paths: [['system', 'info'], ['info']],
    usage: '[OPTIONS]',
    description: 'Display system-wide information',
    args: { max: 0 },
    flags: INFO_FLAGS,
    run: (ctx, _args, o) => runInfo(ctx, template(o.str('format'))),
  },
  {
    paths: [['system', 'events'], ['events']],
    usage: '[OPTIONS]',
    description: 'Get real time events from the server',
    args: { max: 0 },
    flags: [
      { name: 'filter', short: 'f', type: 'list', value: 'filter', desc: 'Filter output based on conditions provided' },
      { name: 'format', type: 'string', desc: FORMAT_INSPECT_DESC },
      { name: 'since', type: 'string', desc: 'Show all events created since timestamp' },
      { name: 'until', type: 'string', desc: 'Stream events until this timestamp' },
    ],
    run: (ctx, _args, o) => runEvents(ctx, { since: o.str('since'), until: o.str('until'), filters: o.list('filter'), format: template(o.str('format')) }),
  },
  {
    paths: [['system', 'df']],
    usage: '[OPTIONS]',
    description: 'Show berth disk usage',
    args: { max: 0 },
    flags: [
      { name: 'format', type: 'string', desc: FORMAT_TABLE_DESC },
      { name: 'verbose', short: 'v', type: 'bool', desc: 'Show detailed information on space usage' },
    ],
    async run(ctx, _args, o) {
      const du = await ctx.client().request<DiskUsage>('GET', '/system/df');
      const format = o.str('format');
      if (o.bool('verbose')) {
        const v = dfVerbose(du, !format || format.startsWith('table'));
        // docker's diskUsageContext: one template run, printed without a newline
        if (format && format !== 'table') {
          printTemplate(ctx, templateString(format), v.data, { typeName: '*formatter.diskUsageContext', structs: DF_STRUCTS, parseStatus: 1, newline: false });
        } else ctx.out.write(v.text());
        return;
      }
      ctx.out.write(formatList(dfRows(du), {
        format, defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', headers: DF_HEADERS,
        // the first row (images) is the one a bad field fails on
        typeName: '*formatter.diskUsageImagesContext',
      }));
    },
  },
  {
    paths: [['system', 'prune']],
    usage: '[OPTIONS]',
    description: 'Remove unused data',
    args: { max: 0 },
    flags: [
      { name: 'all', short: 'a', type: 'bool', desc: 'Remove all unused images not just dangling ones' },
      { name: 'filter', type: 'list', value: 'filter', desc: 'Provide filter values (e.g. "label=<key>=<value>")' },
      { name: 'force', short: 'f', type: 'bool', desc: 'Do not prompt for confirmation' },
      { name: 'volumes', type: 'bool', desc: 'Prune anonymous volumes' },
    ],
    run: (ctx, _args, o) => runSystemPrune(ctx, { all: o.bool('all'), volumes: o.bool('volumes'), force: o.bool('force'), filters: o.list('filter') }),
  },
];
