// What `docker inspect` and `docker ps` (and `docker system df`'s containers) show of a
// container: the engine's records projected onto the wire, the newest API's shape first
// (inspectView, summaryView), then the older API versions' shapes (inspectFor, summaryFor).
import type { Container, ContainerService } from '../../engine/containers.ts';
import { statusString } from '../../engine/container/status.ts';
import type { ContainerRecord } from '../../engine/container/record.ts';
import type { ImageService } from '../../engine/images.ts';
import { isPredefinedNetwork, type EndpointRecord } from '../../engine/networks.ts';
import type { MountPoint } from '../../engine/volumes.ts';
import { createHash } from 'node:crypto';
import { versionLess } from '../version.ts';

export function inspectView(svc: ContainerService, c: Container): Record<string, unknown> {
  const r = c.rec;
  const p = svc.paths(c);
  return {
    Id: r.Id,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    // moby's SetRestarting keeps Running true during a restart policy's back-off.
    State: { ...r.State, Running: r.State.Running || r.State.Restarting },
    Image: r.Image,
    ResolvConfPath: etcFilePath(c, '/etc/resolv.conf', r.ResolvConfPath),
    HostnamePath: etcFilePath(c, '/etc/hostname', r.HostnamePath),
    HostsPath: etcFilePath(c, '/etc/hosts', r.HostsPath),
    LogPath: r.LogPath,
    Name: r.Name,
    RestartCount: r.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: c.execIds.size ? [...c.execIds] : null,
    // links as the link index holds them ("/child:/parent/alias"), not as the client gave them (moby)
    HostConfig: { ...hostConfigView(r.HostConfig), Links: svc.linksView(r.Id) },
    GraphDriver: {
      Name: 'overlay2',
      Data: { LowerDir: p.lower.join(':'), MergedDir: p.merged, UpperDir: p.upper, WorkDir: p.work },
    },
    Mounts: mountViews(c),
    // moby merges the image's Env only when the user gave none; an empty result is Go's nil slice.
    Config: r.Config.Env?.length ? r.Config : { ...r.Config, Env: null },
    NetworkSettings: networkSettings(c),
  };
}

/**
 * HostConfig as dockerd shows it: "unset" limits are nil pointers (the CLI sends none unless the
 * flag is given), where the record may hold the -1 and 0 that mean the same.
 */
function hostConfigView(hc: ContainerRecord['HostConfig']): Record<string, unknown> {
  const v: Record<string, unknown> = { ...hc };
  if (v.MemorySwappiness === -1) v.MemorySwappiness = null;
  if (typeof v.PidsLimit === 'number' && v.PidsLimit <= 0) v.PidsLimit = null;
  // Fields Go encodes with omitempty: gone when empty (an empty map included), as dockerd shows them.
  for (const k of ['Sysctls', 'Tmpfs', 'StorageOpt']) {
    const m = v[k];
    if (m === null || m === undefined || (typeof m === 'object' && !Object.keys(m).length)) delete v[k];
  }
  if (!v.Runtime) delete v.Runtime;
  return v;
}

/** What inspect shows of a mount point (moby's types.MountPoint: Name and Driver omitted when empty). */
export function mountView(m: MountPoint): Record<string, unknown> {
  return {
    Type: m.Type, ...(m.Name ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination,
    ...(m.Driver ? { Driver: m.Driver } : {}), Mode: m.Mode, RW: m.RW, Propagation: m.Propagation,
  };
}

function mountViews(c: Container, list = false): Record<string, unknown>[] {
  // Records made before --tmpfs left Mounts kept those there; moby never lists them.
  return (c.rec.Mounts ?? []).filter((m) => !(m.Type === 'tmpfs' && m.TmpfsOptions))
    // moby's list shows the Source it recorded, none for Config.Volumes' anonymous volumes (volumes.ts).
    .map((m) => (list && m.SourceUnrecorded ? mountView({ ...m, Source: '' }) : mountView(m)));
}

/**
 * Marks an endpoint view whose network moby 20.10 had "joined" (started on it, or connected to
 * it): before API 1.44 inspect names the short ID among its aliases (api/versioned-views.ts). A
 * symbol, so it never reaches the wire.
 */
export const JOINED = Symbol('joined');

/** An endpoint on the wire; moby joins the network at the first start, so until then its NetworkID is empty. */
function endpointView(ep: EndpointRecord, started: boolean): Record<string, unknown> {
  const { HostIf: _h, IfName: _i, DesiredMac: _m, ConnectedBeforeStart: connected, ...wire } = ep;
  const out: Record<string | symbol, unknown> = started ? { ...wire } : { ...wire, NetworkID: '' };
  if (started || connected) out[JOINED] = true;
  return out as Record<string, unknown>;
}

/**
 * An etc file's path as dockerd shows it: set at the first start (a created container shows ""),
 * and the source of the user's own mount there if there is one (moby TrySetNetworkMount: kubelet
 * mounts a pod's /etc/hosts this way), else the file Berth wrote.
 */
function etcFilePath(c: Container, dest: string, own: string): string {
  if (neverStarted(c)) return '';
  const m = (c.rec.Mounts ?? []).find((x) => x.Destination === dest && x.Type !== 'tmpfs');
  return m?.Source || own;
}

function neverStarted(c: Container): boolean {
  const t = c.rec.State.StartedAt;
  return !t || t.startsWith('0001-');
}

/**
 * The network namespace of a running host or none container, which Berth does not bind-mount
 * anywhere: the host's own, or the container process's (dockerd shows its sandbox's file under
 * its exec root; ALLOWED.json).
 */
function sandboxlessKey(c: Container): string {
  if (!c.rec.NetworkSettings?.SandboxID) return '';
  if ('host' in c.rec.NetworkSettings.Networks) return '/proc/1/ns/net';
  return c.rec.State.Pid ? `/proc/${c.rec.State.Pid}/ns/net` : '';
}

function networkSettings(c: Container): Record<string, unknown> {
  const n = c.rec.NetworkSettings ?? { SandboxKey: '', Networks: {}, Ports: {} };
  const bridge = n.Networks.bridge;
  return {
    Bridge: '', SandboxID: n.SandboxID ?? (n.SandboxKey ? createHash('sha256').update(n.SandboxKey).digest('hex') : ''),
    SandboxKey: n.SandboxKey || sandboxlessKey(c),
    Ports: n.Ports, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null, EndpointID: bridge?.EndpointID ?? '', Gateway: bridge?.Gateway ?? '', GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0, IPAddress: bridge?.IPAddress ?? '', IPPrefixLen: bridge?.IPPrefixLen ?? 0, IPv6Gateway: '',
    MacAddress: bridge?.MacAddress ?? '',
    Networks: Object.fromEntries(Object.entries(n.Networks).map(([k, ep]) => [k, endpointView(ep, !neverStarted(c))])),
  };
}

/**
 * The list's endpoints: moby's container view (daemon/list.go via container/view.go) copies the
 * addresses and IDs only; Links, Aliases and DriverOpts are nil there.
 */
function listNetworks(c: Container): Record<string, unknown> {
  const nets = networkSettings(c).Networks as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(nets).map(([k, ep]) => [k, { ...ep, Links: null, Aliases: null, DriverOpts: null }]));
}

/** `docker ps`'s PORTS: one row per binding, exposed-only ports without a public port. */
function portRows(c: Container): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const [key, binds] of Object.entries(c.rec.NetworkSettings?.Ports ?? {})) {
    const [port, proto] = key.split('/');
    if (!binds?.length) { rows.push({ PrivatePort: Number(port), Type: proto }); continue; }
    for (const b of binds) rows.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
  }
  return rows;
}

export function summaryView(c: Container, images: ImageService): Record<string, unknown> {
  const r = c.rec;
  let imageName = r.Config.Image;
  // Docker shows the reference the container was created with, or the ID when that tag moved.
  try {
    if (images.resolve(imageName).id !== r.Image) imageName = r.Image;
  } catch { imageName = r.Image; }
  return {
    Id: r.Id,
    Names: [r.Name],
    Image: imageName,
    ImageID: r.Image,
    // moby's list.go: an argument with a space is wrapped in single quotes
    Command: [r.Path, ...r.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' '),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: portRows(c),
    Labels: r.Config.Labels ?? {},
    State: r.State.Status,
    Status: statusString(r.State),
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode },
    NetworkSettings: { Networks: listNetworks(c) },
    Mounts: mountViews(c, true),
  };
}

// ---- by API version: shapes that depend on the version the client asked for ----------------

type View = Record<string, unknown>;

/** Endpoint settings: DNSNames came with API 1.44 (moby 25). */
function endpointsFor(networks: unknown, apiVersion: string): void {
  if (!networks || typeof networks !== 'object' || !versionLess(apiVersion, '1.44')) return;
  for (const ep of Object.values(networks as Record<string, View>)) if (ep && typeof ep === 'object') delete ep.DNSNames;
}

/** A `/containers/json` (and `/system/df`) row for `apiVersion`: SizeRw is omitempty in moby's struct. */
export function summaryFor(v: View, apiVersion: string): View {
  endpointsFor((v.NetworkSettings as View | undefined)?.Networks, apiVersion);
  if (v.SizeRw === 0) delete v.SizeRw;
  return v;
}

/**
 * A container inspect for `apiVersion`. Before 1.44 (moby 25) a container's short ID was one
 * of its aliases on every user-defined network; it moved to DNSNames.
 */
export function inspectFor(v: View, apiVersion: string): View {
  const networks = (v.NetworkSettings as View | undefined)?.Networks as Record<string, View> | undefined;
  if (networks && versionLess(apiVersion, '1.44') && typeof v.Id === 'string') {
    const short = v.Id.slice(0, 12);
    for (const [name, ep] of Object.entries(networks)) {
      // moby 20.10 adds it when the container joins (its first start, or a connect before it):
      // a network it was created on and has not started on shows none
      if (isPredefinedNetwork(name) || !ep || typeof ep !== 'object' || !(ep as Record<symbol, unknown>)[JOINED]) continue;
      const aliases = (ep.Aliases as string[] | null | undefined) ?? [];
      if (!aliases.includes(short)) ep.Aliases = [...aliases, short];
    }
  }
  endpointsFor(networks, apiVersion);
  // KernelMemory and KernelMemoryTCP left HostConfig with API 1.42 (moby 23); before, always there.
  const hc = v.HostConfig as View | undefined;
  if (hc && versionLess(apiVersion, '1.42')) {
    hc.KernelMemory ??= 0;
    hc.KernelMemoryTCP ??= 0;
  }
  return v;
}
