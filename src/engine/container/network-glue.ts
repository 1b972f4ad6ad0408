// The container's side of networking: what the network service sees of a container (netOf),
// plugging a starting container into its networks and writing its /etc/hosts and resolv.conf
// (attachNetwork), tearing it down (releaseNetwork), `docker network connect/disconnect`, the
// create-time check of the network mode, and legacy links (`--link` on the default bridge, see
// legacy-links.ts): their resolution at create, the parent's hosts entries and env, and what
// inspect and ps show of them. NetworkService does the networking; this adapts a container to it.
import { readFile, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { InvalidParameter, NotFound, System } from '../../errors.ts';
import type { ContainerRecord } from './record.ts';
import { writeEtcFiles, containerResolverConfig, rewriteResolvConf } from './etc-files.ts';
import { effectiveNetworkMode } from './host-config.ts';
import { linkEnv, linkHostEntry, parseLink, updateHostsAddress } from './legacy-links.ts';
import type { NetContainer, PortBinding } from '../networks.ts';
import type { ContainerContext } from './context.ts';
import type { Container } from './store.ts';

export type Undo = Array<() => Promise<unknown>>;

// ---- legacy links -------------------------------------------------------------------------------

/**
 * The children HostConfig.Links names (moby registerLinks), checked before anything is made: a
 * missing one is a bad request; one sharing another's network (`container:`) stands for that
 * one; one on the host's network cannot be linked. None on a user network, where links are the
 * endpoints' DNS aliases instead.
 */
export function resolveLinks(ctx: ContainerContext, mode: string, links: readonly string[] | null | undefined): Array<{ child: string; alias: string }> {
  const m = effectiveNetworkMode(mode, () => ctx.networks.defaultMode());
  if (!links?.length || !(['bridge', 'host', 'none'].includes(m) || m.startsWith('container:'))) return [];
  const lookup = (ref: string, what: string): Container => {
    try {
      return ctx.store.get(ref);
    } catch (err) {
      // moby: a missing child is an invalid parameter, not a 404 (the CLI would pull an image)
      if (err instanceof NotFound) throw new InvalidParameter(`${what} ${ref}: ${err.message}`);
      throw err;
    }
  };
  return links.map((l) => {
    const { name, alias } = parseLink(l);
    let child = lookup(name, 'could not get container for');
    for (let hops = 0; child.rec.HostConfig.NetworkMode.startsWith('container:') && hops < 16; hops++) {
      child = lookup(child.rec.HostConfig.NetworkMode.slice('container:'.length), 'Could not get container for');
    }
    if (child.rec.HostConfig.NetworkMode === 'host') throw new InvalidParameter("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
    return { child: child.rec.Id, alias };
  });
}

export function registerLinks(ctx: ContainerContext, rec: ContainerRecord, linked: Array<{ child: string; alias: string }>): void {
  for (const l of linked) ctx.links.link(rec.Id, rec.Name, l.child, l.alias);
}

/** What inspect shows as HostConfig.Links: "/child:/parent/alias" per link, null without any. */
export function linksView(ctx: ContainerContext, id: string): string[] | null {
  const out = ctx.links.children(id).flatMap(([name, child]) => {
    const childName = ctx.store.byFullId(child)?.rec.Name ?? ctx.links.goneName(child);
    return childName ? [`${childName}:${name}`] : [];
  });
  return out.length ? out : null;
}

/** Every name of a container as ps lists them: its own and the link names standing for it, sorted. */
export function allNames(ctx: ContainerContext, c: Container): string[] {
  return [c.rec.Name, ...ctx.links.namesOf(c.rec.Id)].sort();
}

/**
 * `docker rm --link parent/alias` (moby rmLink): the link name goes, both containers stay. Its
 * errors are dockerd's plain ones (500), as the CLI shows them.
 */
export function removeLink(ctx: ContainerContext, ref: string): void {
  ctx.store.get(ref);
  const name = ref.startsWith('/') ? ref : `/${ref}`;
  const parent = posix.dirname(name);
  if (parent === '/') throw new System('Conflict, cannot remove the default link name of the container');
  const parentId = ctx.store.nameOwner(parent.slice(1)) ?? ctx.links.resolve(parent);
  if (!parentId) throw new System(`Cannot get parent ${parent} for link name ${name}`);
  ctx.links.unlink(name);
}

/**
 * The parent's /etc/hosts entries for its children, when it is on the default bridge (moby
 * buildSandboxOptions): a child not on the default bridge fails the start; a stopped one has
 * no address and no entry (the start then fails on its env, linkedEnv).
 */
function linkHosts(ctx: ContainerContext, c: Container): string[] {
  if (!c.rec.NetworkSettings?.Networks.bridge?.IPAddress) return [];
  return ctx.links.children(c.rec.Id).flatMap(([name, id]) => {
    const child = ctx.store.byFullId(id);
    if (!child) return [];
    const ep = child.rec.NetworkSettings?.Networks.bridge;
    if (!ep) throw new System(`Cannot link to ${child.rec.Name}, as it does not belong to the default network`);
    return ep.IPAddress ? [linkHostEntry(name, child.rec.Name, child.rec.Config.Hostname, ep.IPAddress)] : [];
  });
}

/**
 * A child (re)started on the default bridge: its running parents' /etc/hosts lines for it take
 * its new address (libnetwork's parent updates). A parent whose file cannot be written keeps
 * the old line; the child's start goes on.
 */
async function updateParentHosts(ctx: ContainerContext, c: Container): Promise<void> {
  const ip = c.rec.NetworkSettings?.Networks.bridge?.IPAddress;
  if (!ip) return;
  for (const [name, parentId] of ctx.links.parents(c.rec.Id)) {
    const parent = ctx.store.byFullId(parentId);
    if (!parent?.rec.State.Running || !parent.rec.HostsPath) continue;
    // in place (same inode): the file is bind-mounted into the parent
    await readFile(parent.rec.HostsPath, 'utf8')
      .then((hosts) => writeFile(parent.rec.HostsPath, updateHostsAddress(hosts, posix.basename(name), ip)))
      .catch((err) => ctx.log.warn({ id: parentId, err: String(err) }, 'parent /etc/hosts not updated'));
  }
}

/** The link variables of the parent's process env (moby setupLinkedContainers). */
export function linkedEnv(ctx: ContainerContext, c: Container): string[] {
  if (!c.rec.NetworkSettings?.Networks.bridge) return [];
  return ctx.links.children(c.rec.Id).flatMap(([name, id]) => {
    const child = ctx.store.byFullId(id);
    if (!child || !(child.rec.State.Running || child.rec.State.Restarting)) throw new System(`Cannot link to a non running container: ${child?.rec.Name ?? ctx.links.goneName(id)} AS ${name}`);
    const ep = child.rec.NetworkSettings?.Networks.bridge;
    if (!ep) throw new System(`container ${id} not attached to default bridge network`);
    return linkEnv(name, ep.IPAddress, child.rec.Config.Env, Object.keys((child.rec.Config.ExposedPorts as object | null | undefined) ?? {}));
  });
}

// ---- the container's networks ---------------------------------------------------------------

/** What the network service sees of a container (its record's network state, live). */
export function netOf(ctx: ContainerContext, c: Container): NetContainer {
  const r = c.rec;
  r.NetworkSettings ??= { SandboxKey: '', Networks: {}, Ports: {} };
  return {
    id: r.Id, name: r.Name.replace(/^\//, ''), hostname: r.Config.Hostname,
    networkMode: effectiveNetworkMode(r.HostConfig.NetworkMode, () => ctx.networks.defaultMode()),
    portBindings: (r.HostConfig.PortBindings ?? {}) as Record<string, PortBinding[] | null>,
    publishAll: r.HostConfig.PublishAllPorts === true, exposedPorts: Object.keys((r.Config.ExposedPorts as object | undefined) ?? {}),
    net: r.NetworkSettings, macAddress: (r.Config as { MacAddress?: string | null }).MacAddress || undefined,
  };
}

/**
 * Plugs a starting container into its networks (into the namespace of `pid` when given) and
 * writes its /etc/hosts and resolv.conf with its address; returns the namespace path.
 */
export async function attachNetwork(ctx: ContainerContext, c: Container, undo: Undo, pid?: number, ready?: Promise<unknown>[]): Promise<string | undefined> {
  const net = netOf(ctx, c);
  const path = await ctx.networks.attach(net, pid);
  // Undone also for host and none (no namespace path of their own): the endpoint and sandbox IDs
  // of a start that failed are cleared as an exit clears them.
  undo.push(() => ctx.networks.detach(net));
  if (!path) return undefined;
  const cfg = c.rec.Config;
  const hc = c.rec.HostConfig;
  await writeEtcFiles(c.dir, {
    hostname: cfg.Hostname, domainname: cfg.Domainname, networkMode: hc.NetworkMode,
    extraHosts: [...(hc.ExtraHosts ?? []), ...linkHosts(ctx, c)], dns: hc.Dns, dnsSearch: hc.DnsSearch, dnsOptions: hc.DnsOptions,
    address: Object.values(net.net.Networks)[0]?.IPAddress, embeddedDns: ctx.networks.resolverFor(hc.NetworkMode),
    hostGateway: ctx.networks.hostGateway(),
  });
  await updateParentHosts(ctx, c);
  // The embedded DNS (its NAT rules cost a spawn) comes up while the start goes on; the
  // process runs only once it answers (the start awaits `ready`). It never rejects.
  const dns = containerResolverConfig({ dns: hc.Dns, search: hc.DnsSearch, options: hc.DnsOptions })
    .then((cfg) => ctx.networks.startResolver(net, cfg));
  if (ready) ready.push(dns); else await dns;
  return path;
}

/**
 * Tears down a container's network (idempotent). Recorded only when asked: after an exit the
 * stale addresses on disk are harmless (a stopped container's are never claimed again, and the
 * next start or reconcile rewrites them), and an fsync less is a faster `run --rm`.
 */
export async function releaseNetwork(ctx: ContainerContext, c: Container, record = false): Promise<void> {
  const n = c.rec.NetworkSettings;
  if (!n || (!n.SandboxKey && !n.ProxyPid && !Object.values(n.Networks).some((e) => e.IPAddress || e.HostIf || e.EndpointID))) return;
  await ctx.networks.detach(netOf(ctx, c)).catch((err) => ctx.log.warn({ id: c.rec.Id, err: String(err) }, 'network teardown failed'));
  if (record) await ctx.store.persist(c).catch(() => {});
}

/**
 * A missing network or container is a bad request at create, not a 404: the Docker CLI takes
 * any 404 from create to mean a missing image and would try to pull it.
 */
export function checkNetworkMode(ctx: ContainerContext, mode: string): void {
  try {
    // A missing `container:X` or user-defined network fails the start (404), as in dockerd 20.10:
    // create accepts it. Only the built-in modes must exist at create.
    if (mode === 'host' || mode === 'none' || mode === 'bridge') ctx.networks.get(mode);
  } catch (err) {
    if (err instanceof NotFound) throw new InvalidParameter(err.message);
    throw err;
  }
}

/** `docker network connect` under the container's lock: now when running, at the next start otherwise. */
export async function connectNetwork(ctx: ContainerContext, c: Container, network: string, cfg: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null }): Promise<void> {
  await ctx.networks.connect(netOf(ctx, c), network, cfg, c.rec.State.Running);
  // A running container without an embedded DNS (default bridge) gets one now, and its
  // resolv.conf names it (moby startResolver + rebuildDNS on joining a user network).
  const hc = c.rec.HostConfig;
  if (c.rec.State.Running && c.rec.ResolvConfPath && !ctx.networks.resolverRunning(c.rec.Id) && ctx.networks.resolverFor(network)) {
    await rewriteResolvConf(c.rec.ResolvConfPath, { dns: hc.Dns, search: hc.DnsSearch, options: hc.DnsOptions, embeddedDns: ctx.networks.resolverFor(network) });
    await ctx.networks.startResolver(netOf(ctx, c), await containerResolverConfig({ dns: hc.Dns, search: hc.DnsSearch, options: hc.DnsOptions }));
  }
  await ctx.store.persist(c);
}

/** `docker network disconnect` under the container's lock. */
export async function disconnectNetwork(ctx: ContainerContext, c: Container, network: string): Promise<void> {
  await ctx.networks.disconnect(netOf(ctx, c), network, c.rec.State.Running);
  await ctx.store.persist(c);
}
