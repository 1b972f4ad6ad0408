// What `docker network ls/inspect` show of a network, per API version.
import { isPredefinedNetwork, type NetContainer, type NetworkRecord } from '../../engine/networks.ts';
import { versionLess } from '../version.ts';

/**
 * A network on the wire; `members` are the containers attached to it, or undefined where the
 * view lists none (the list from API 1.28 on).
 */
export function networkView(n: NetworkRecord, members: NetContainer[] | undefined, apiVersion: string): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const c of members ?? []) {
    const ep = c.net.Networks[n.Name];
    if (!ep) continue;
    containers[c.id] = {
      Name: c.name, EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '',
      IPv6Address: ep.GlobalIPv6Address ? `${ep.GlobalIPv6Address}/${ep.GlobalIPv6PrefixLen}` : '',
    };
  }
  const { GatewayImplicit: implicit, ...wire } = n;
  const out: Record<string, unknown> = { ...wire, Containers: containers };
  // a gateway the user did not give for the IPv4 subnet is not part of the IPAM config dockerd
  // shows (Go omits the empty field); the IPv6 entry is kept as given anyway
  if (implicit) out.IPAM = { ...n.IPAM, Config: n.IPAM.Config.map((c, i) => { if (i > 0) return c; const { Gateway: _g, ...rest } = c; return rest; }) };
  // EnableIPv4 came with API 1.47 (moby 28); the built-in networks have no IPAM options map
  if (versionLess(apiVersion, '1.47')) delete out.EnableIPv4;
  if (isPredefinedNetwork(n.Name) && !Object.keys(n.IPAM.Options ?? {}).length) out.IPAM = { ...n.IPAM, Options: null };
  return out;
}
