// A fake NetworkDriver (src/network/network-driver.ts) for unit tests of the engine's network
// records: no root, no bridges, no namespaces. Each call is recorded as `op` plus what it was
// about (a bridge name, a container ID, the interfaces' networks), and it writes into the
// container's record what the bridge driver would (SandboxKey at join, HostIf/IfName per
// endpoint, SandboxKey and Ports cleared at leave), so what the engine does with those shows.
//
// Failure injection: `failOn(op)` makes the next call of that operation throw (after it is
// recorded, before it changes anything).
import type { NetContainer } from '../../src/network/endpoint.ts';
import type { Cidr } from '../../src/network/ipam.ts';
import type { Attachment, BridgeNetwork, NetworkDriver } from '../../src/network/network-driver.ts';

export type DriverOp = 'init' | 'createNetwork' | 'removeNetwork' | 'hostRoutes' | 'settle' | 'join' | 'leave' | 'addEndpoint' | 'removeEndpoint' | 'restore' | 'sweep' | 'drain';

export interface DriverCall { op: DriverOp; subject?: string; networks?: string[]; detail?: unknown }

export class FakeNetworkDriver implements NetworkDriver {
  readonly calls: DriverCall[] = [];
  /** Bridges made and not removed. */
  readonly bridges = new Map<string, BridgeNetwork>();
  /** Host routes hostRoutes() reports. */
  routes: Cidr[] = [];
  private readonly failures = new Map<DriverOp, Error>();

  failOn(op: DriverOp, err = new Error(`injected ${op} failure`)): void {
    this.failures.set(op, err);
  }

  /** The calls of one operation. */
  of(op: DriverOp): DriverCall[] {
    return this.calls.filter((c) => c.op === op);
  }

  private record(call: DriverCall): void {
    this.calls.push(call);
    const err = this.failures.get(call.op);
    if (err) { this.failures.delete(call.op); throw err; }
  }

  async init(): Promise<void> { this.record({ op: 'init' }); }

  async createNetwork(n: BridgeNetwork): Promise<void> {
    this.record({ op: 'createNetwork', subject: n.bridge, detail: n });
    this.bridges.set(n.bridge, n);
  }

  async removeNetwork(n: BridgeNetwork): Promise<void> {
    this.record({ op: 'removeNetwork', subject: n.bridge });
    this.bridges.delete(n.bridge);
  }

  async hostRoutes(): Promise<Cidr[]> {
    this.record({ op: 'hostRoutes' });
    return this.routes;
  }

  async settle(c: NetContainer): Promise<void> { this.record({ op: 'settle', subject: c.id }); }

  async join(c: NetContainer, attachments: Attachment[], pid?: number): Promise<void> {
    this.record({ op: 'join', subject: c.id, networks: attachments.map((a) => a.network.name), detail: { pid } });
    attachments.forEach((a, i) => { a.endpoint.HostIf = `vfake${i}`; a.endpoint.IfName = `eth${i}`; });
    c.net.SandboxKey = `/run/netns/fake-${c.id.slice(0, 12)}`;
    c.net.Ports = Object.fromEntries(c.exposedPorts.map((p) => [p, null]));
  }

  async leave(c: NetContainer, attachments: Attachment[]): Promise<void> {
    this.record({ op: 'leave', subject: c.id, networks: attachments.map((a) => a.network.name) });
    c.net.SandboxKey = '';
    c.net.Ports = {};
    delete c.net.ProxyPid;
  }

  async addEndpoint(c: NetContainer, a: Attachment, index: number): Promise<void> {
    this.record({ op: 'addEndpoint', subject: c.id, networks: [a.network.name], detail: { index } });
    a.endpoint.HostIf = `vfake${index}`;
    a.endpoint.IfName = `eth${index}`;
  }

  async removeEndpoint(c: NetContainer, a: Attachment, first: boolean): Promise<void> {
    this.record({ op: 'removeEndpoint', subject: c.id, networks: [a.network.name], detail: { first } });
  }

  async restore(c: NetContainer, first: Attachment | undefined): Promise<void> {
    this.record({ op: 'restore', subject: c.id, networks: first ? [first.network.name] : [] });
  }

  async sweep(s: Parameters<NetworkDriver['sweep']>[0]): Promise<void> {
    this.record({ op: 'sweep', detail: s });
  }

  async drain(): Promise<void> { this.record({ op: 'drain' }); }
}
