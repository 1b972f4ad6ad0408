// The seam between the network records and what makes them real on the host. The engine
// (engine/networks.ts) keeps the records: names and IDs, IPAM (which address an endpoint gets),
// endpoints as configured, members, events, the embedded DNS's answers. A driver makes bridges,
// firewall rules, namespaces with their interfaces, and published ports. Its lifecycle, as the
// engine calls it:
//
//   init                      once at start-up, before any network
//   createNetwork             each bridge network: at start-up (idempotent: it may exist) and at `network create`
//   settle → join             a container starts: its addresses are allocated before join
//   addEndpoint               `network connect` of a running container (address allocated)
//   removeEndpoint            `network disconnect` of a running container
//   leave                     the container stops, or a join failed half-way (idempotent)
//   restore                   after a daemon restart, for each running container (addresses claimed)
//   sweep                     once after restore: what a crash left behind
//   removeNetwork             `network rm`
//   drain                     shutdown
//
// The driver writes what it made into the container's record as it makes it (ContainerNet:
// SandboxKey, Ports, ProxyPid; an endpoint's HostIf and IfName), so that after a failure or a
// crash `leave` and `sweep` find it. network/bridge/ is the production driver;
// test/fakes/network-driver.ts records the calls, so the engine is tested without root.
import type { NetContainer, EndpointRecord } from './endpoint.ts';
import type { Cidr } from './ipam.ts';

/** What a driver needs to know of a bridge network. */
export interface BridgeNetwork {
  id: string;
  name: string;
  /** The host's bridge interface. */
  bridge: string;
  /** The IPv4 subnet in use, e.g. 172.18.0.0/16. */
  subnet: string;
  /** The bridge's own address with the subnet's prefix, e.g. 172.18.0.1/16. */
  gatewayCidr: string;
  /** Its IPv6 gateway with prefix, when the network has IPv6. */
  gateway6Cidr?: string;
  /** No route out (`--internal`). */
  internal: boolean;
}

/** One endpoint of a container on a bridge network, its addresses allocated. */
export interface Attachment { network: BridgeNetwork; endpoint: EndpointRecord }

export interface NetworkDriver {
  /** Host state all networks need (firewall chains). */
  init(): Promise<void>;
  /** Makes the network's bridge, rules and forwarding, or finds them made. */
  createNetwork(n: BridgeNetwork): Promise<void>;
  removeNetwork(n: BridgeNetwork): Promise<void>;
  /** The host's IPv4 routes: subnets a network picked from the pool must not overlap. */
  hostRoutes(): Promise<Cidr[]>;
  /** Waits for the teardown under way of the container's previous namespace (a start right after a stop). */
  settle(c: NetContainer): Promise<void>;
  /**
   * Gives a starting container its namespace with one interface per attachment (the first
   * carries the default route) and publishes its ports on the first. `pid`: adopt that
   * process's namespace instead of making one. Sets c.net.SandboxKey.
   */
  join(c: NetContainer, attachments: Attachment[], pid?: number): Promise<void>;
  /** Undoes join (the namespace may go in the background); `attachments` are the container's bridge endpoints. */
  leave(c: NetContainer, attachments: Attachment[]): Promise<void>;
  /** One more interface (eth<index>) in a running container's namespace. */
  addEndpoint(c: NetContainer, a: Attachment, index: number): Promise<void>;
  /** Removes an interface; on the container's `first` network its published ports go with it. */
  removeEndpoint(c: NetContainer, a: Attachment, first: boolean): Promise<void>;
  /** A running container after a daemon restart: its host ports, proxy and rules again (`first`: where its ports are published). */
  restore(c: NetContainer, first: Attachment | undefined): Promise<void>;
  /**
   * Removes what a crash between a step and its record can leave: rules of containers not in
   * `liveIds` on the `bridges`, proxies and namespaces of `known` containers that do not run.
   */
  sweep(s: { liveIds: Set<string>; known: Set<string>; recordedProxies: Set<number>; usedNetns: Set<string>; bridges: Set<string> }): Promise<void>;
  /** Shutdown: waits for teardowns under way; namespaces made ahead of time are deleted. */
  drain(): Promise<void>;
}
