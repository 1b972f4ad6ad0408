// A container's endpoints as the network layer sees them: what a client configures for one
// (EndpointInput), what is persisted with the container and shown by inspect (EndpointRecord,
// ContainerNet), and the checks and conversions of those that need no network record. The
// engine keeps the records (engine/networks.ts); the driver (network-driver.ts) fills in what it
// made on the host (SandboxKey, Ports, ProxyPid, HostIf, IfName).
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { InvalidParameter } from '../errors.ts';

/** EndpointSettings.IPAMConfig as given (Go omits its empty fields). */
export interface EndpointIpamConfig { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] }

/** What a client may configure for an endpoint (create's EndpointsConfig entry, connect's EndpointConfig). */
export interface EndpointInput {
  Aliases?: string[] | null; IPAMConfig?: EndpointIpamConfig | null; DriverOpts?: Record<string, string> | null; MacAddress?: string | null;
  /** "name:alias": on a user network, `alias` resolves to container `name` for this container only. */
  Links?: string[] | null;
}

/** One network a container is on, as persisted in its record and shown by inspect. */
export interface EndpointRecord {
  IPAMConfig: EndpointIpamConfig | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
  /** Berth's own: the host end of the veth and the name inside. */
  HostIf?: string;
  IfName?: string;
  /** Berth's own: the MAC address the client asked for this endpoint (kept across restarts; MacAddress is the one in use). */
  DesiredMac?: string;
  /**
   * Berth's own: connected before the container's first start. moby 20.10's updateNetworkConfig
   * named the short ID among the aliases then, as at a start (inspect below API 1.44 shows it).
   */
  ConnectedBeforeStart?: boolean;
}

export interface PortBinding { HostIp: string; HostPort: string }

/** The container state the network service owns (persisted with the container). */
export interface ContainerNet {
  SandboxKey: string;
  /**
   * A running host or none container's sandbox ID: moby makes a libnetwork sandbox for those too
   * (inspect shows its ID), while Berth needs no namespace of its own for them (runc uses the
   * host's, or makes an empty one). Bridge containers' IDs derive from SandboxKey.
   */
  SandboxID?: string;
  Networks: Record<string, EndpointRecord>;
  Ports: Record<string, PortBinding[] | null>;
  ProxyPid?: number;
}

/** What the network service needs to know of a container. */
export interface NetContainer {
  id: string;
  name: string;
  hostname: string;
  networkMode: string;
  portBindings: Record<string, PortBinding[] | null>;
  publishAll: boolean;
  exposedPorts: string[];
  net: ContainerNet;
  /** Config.MacAddress: the MAC of the container's first endpoint (moby applies it to the first network only). */
  macAddress?: string;
}

export function emptyEndpoint(networkId = ''): EndpointRecord {
  return {
    IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, NetworkID: networkId, EndpointID: '',
    Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  };
}

/** Drops what a start gave an endpoint (addresses, IDs, interfaces); what was configured stays. */
export function clearAddress(ep: EndpointRecord): void {
  ep.IPAddress = '';
  ep.IPPrefixLen = 0;
  ep.Gateway = '';
  ep.GlobalIPv6Address = '';
  ep.GlobalIPv6PrefixLen = 0;
  ep.IPv6Gateway = '';
  // what the client asked for stays shown until the next start (moby keeps the endpoint config)
  ep.MacAddress = ep.DesiredMac ?? '';
  ep.EndpointID = '';
  delete ep.HostIf;
  delete ep.IfName;
}

/** EndpointSettings.IPAMConfig as Go keeps it: null stays null, empty fields are dropped. */
export function ipamConfigOf(c: EndpointIpamConfig | null | undefined): EndpointIpamConfig | null {
  if (!c) return null;
  return {
    ...(c.IPv4Address ? { IPv4Address: c.IPv4Address } : {}), ...(c.IPv6Address ? { IPv6Address: c.IPv6Address } : {}),
    ...(c.LinkLocalIPs?.length ? { LinkLocalIPs: [...c.LinkLocalIPs] } : {}),
  };
}

/** The addresses a client gives for an endpoint, checked with moby's words before anything is made. */
export function checkEndpointAddresses(ec: EndpointInput): void {
  const ipam = ec.IPAMConfig;
  if (ipam?.IPv4Address && !isIPv4(ipam.IPv4Address)) throw new InvalidParameter(`invalid IPv4 address: ${ipam.IPv4Address}`);
  if (ipam?.IPv6Address && !isIPv6(ipam.IPv6Address)) throw new InvalidParameter(`invalid IPv6 address: ${ipam.IPv6Address}`);
  for (const a of ipam?.LinkLocalIPs ?? []) if (!isIP(a)) throw new InvalidParameter(`invalid link-local IP address: ${a}`);
  if (ec.MacAddress && !/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(ec.MacAddress)) throw new InvalidParameter(`invalid MAC address: ${ec.MacAddress}`);
}
