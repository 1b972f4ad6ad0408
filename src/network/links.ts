// Bridges, network namespaces and veth pairs, through iproute2 in batches: one `ip -batch` on
// the host side and one inside the namespace per change (every `ip` spawn costs milliseconds).
// A container's namespace is a named one (`ip netns`), so it outlives berthd restarts and can be
// joined by other containers (`--network container:`), and runc is told to join it.
import { access, readdir, writeFile } from 'node:fs/promises';
import { run } from '../sys/exec.ts';

export const NETNS_DIR = '/run/netns';

export interface BridgeSpec {
  name: string; gatewayCidr: string; mtu: number;
  /** The IPv6 gateway address of an IPv6 network (`2001:db8::1/64`), on the bridge beside the IPv4 one. */
  gateway6Cidr?: string;
}

export interface EndpointSpec {
  /** Host end of the veth pair (max 15 chars). */
  hostIf: string;
  /** Name inside the namespace: eth0, eth1, … */
  ifName: string;
  mac: string;
  addressCidr: string;
  bridge: string;
  mtu: number;
  /** Default route via this gateway (the first endpoint of a container with outbound access). */
  defaultGateway?: string;
  /** The endpoint's IPv6 address on an IPv6 network, and the default IPv6 route's gateway (first endpoint). */
  address6Cidr?: string;
  defaultGateway6?: string;
  /** Extra link-local addresses (EndpointSettings.IPAMConfig.LinkLocalIPs), as `169.254.8.8/16`. */
  linkLocalCidrs?: string[];
}

async function ipBatch(lines: string[], netns?: string): Promise<void> {
  if (!lines.length) return;
  await run('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: lines.join('\n') + '\n' });
}

export async function linkExists(name: string): Promise<boolean> {
  return access(`/sys/class/net/${name}`).then(() => true, () => false);
}

/** Creates the bridge when missing and (re)sets its address, MTU and state. */
export async function ensureBridge(b: BridgeSpec): Promise<void> {
  const lines = [];
  if (!(await linkExists(b.name))) lines.push(`link add ${b.name} type bridge`);
  lines.push(`addr replace ${b.gatewayCidr} dev ${b.name}`, `link set ${b.name} mtu ${b.mtu} up`);
  await ipBatch(lines);
  if (b.gateway6Cidr) {
    // a new bridge may start with IPv6 off (the host's default); its address goes when it is deleted.
    // nodad: the gateway answers at once, as the containers' addresses do.
    await writeFile(`/proc/sys/net/ipv6/conf/${b.name}/disable_ipv6`, '0').catch(() => {});
    await ipBatch([`addr replace ${b.gateway6Cidr} dev ${b.name} nodad`]);
  }
}

export async function deleteLink(name: string): Promise<void> {
  if (await linkExists(name)) await run('ip', ['link', 'del', name], { okCodes: [0, 1, 2] });
}

export async function netnsExists(name: string): Promise<boolean> {
  return access(`${NETNS_DIR}/${name}`).then(() => true, () => false);
}

function hostSide(e: EndpointSpec, netns: string): string[] {
  return [
    `link add ${e.hostIf} mtu ${e.mtu} type veth peer name ${e.ifName} address ${e.mac} mtu ${e.mtu} netns ${netns}`,
    `link set ${e.hostIf} master ${e.bridge} up`,
  ];
}

function insideSide(e: EndpointSpec): string[] {
  const lines = [`addr add ${e.addressCidr} dev ${e.ifName}`];
  // IPv6 without duplicate address detection (as libnetwork adds it): usable the moment the container starts
  if (e.address6Cidr) lines.push(`addr add ${e.address6Cidr} dev ${e.ifName} nodad`);
  for (const ll of e.linkLocalCidrs ?? []) lines.push(`addr add ${ll} dev ${e.ifName}${ll.includes(':') ? ' nodad' : ''}`);
  lines.push(`link set ${e.ifName} up`);
  if (e.defaultGateway) lines.push(`route replace default via ${e.defaultGateway} dev ${e.ifName}`);
  if (e.defaultGateway6 && e.address6Cidr) lines.push(`route replace default via ${e.defaultGateway6} dev ${e.ifName}`);
  return lines;
}

/** A new namespace with lo up and the given endpoints plugged into their bridges. */
export async function createSandbox(netns: string, endpoints: EndpointSpec[]): Promise<void> {
  await ipBatch([`netns add ${netns}`, ...endpoints.flatMap((e) => hostSide(e, netns))]);
  try {
    await ipBatch(['link set lo up', ...endpoints.flatMap(insideSide)], netns);
  } catch (err) {
    await deleteSandbox(netns, endpoints.map((e) => e.hostIf)).catch(() => {});
    throw err;
  }
}

/**
 * A namespace made ahead of time: lo up, one veth pair whose host end is already on `bridge`
 * and up, the inside end `eth0` down and without an address (see configurePrepared).
 */
export async function prepareSandbox(netns: string, hostIf: string, bridge: string, mtu: number): Promise<void> {
  await ipBatch([
    `netns add ${netns}`,
    `link add ${hostIf} mtu ${mtu} type veth peer name eth0 mtu ${mtu} netns ${netns}`,
    `link set ${hostIf} master ${bridge} up`,
  ]);
}

/** Gives a prepared namespace its container's address, MAC and route: one `ip` spawn. */
export async function configurePrepared(netns: string, e: EndpointSpec): Promise<void> {
  await ipBatch(['link set lo up', `link set ${e.ifName} address ${e.mac}`, ...insideSide(e)], netns);
}

/** Namespaces whose names start with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  return (await readdir(NETNS_DIR).catch(() => [] as string[])).filter((n) => n.startsWith(prefix));
}

/** Names the network namespace of process `pid` and plugs the endpoints into it. */
export async function adoptSandbox(netns: string, pid: number, endpoints: EndpointSpec[]): Promise<void> {
  await ipBatch([`netns attach ${netns} ${pid}`, ...endpoints.flatMap((e) => hostSide(e, netns))]);
  try {
    await ipBatch(['link set lo up', ...endpoints.flatMap(insideSide)], netns);
  } catch (err) {
    await deleteSandbox(netns, endpoints.map((e) => e.hostIf)).catch(() => {});
    throw err;
  }
}

/** Plugs one more endpoint into an existing namespace (`docker network connect`). */
export async function addEndpoint(netns: string, e: EndpointSpec): Promise<void> {
  await ipBatch(hostSide(e, netns));
  try {
    await ipBatch(insideSide(e), netns);
  } catch (err) {
    await deleteLink(e.hostIf).catch(() => {});
    throw err;
  }
}

export async function removeEndpoint(hostIf: string): Promise<void> {
  await deleteLink(hostIf);
}

/**
 * Deletes the namespace. Its veth pairs go with it, destroyed by the kernel in the background
 * some tens of milliseconds later: deleting them here would cost that time on every container
 * exit (and `run --rm`). Host ends are deleted here only when there is no namespace any more.
 */
export async function deleteSandbox(netns: string, hostIfs: string[]): Promise<void> {
  if (await netnsExists(netns)) {
    await ipBatch([`netns del ${netns}`]);
    return;
  }
  // No namespace: its host ends may be the kernel's to destroy already (a previous run's, going
  // in the background), so one that vanishes between the check and the delete is no failure.
  // As a batch, that race failed a quick restart: compose's `run` starts a one-off twice.
  for (const h of hostIfs) await deleteLink(h);
}

/** Waits (bounded) for host veth ends of a deleted namespace to be gone, deleting what stays. */
export async function awaitLinksGone(hostIfs: string[], timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const h of hostIfs) {
    while (await linkExists(h)) {
      if (Date.now() > deadline) { await deleteLink(h); break; }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
