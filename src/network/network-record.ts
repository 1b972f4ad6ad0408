// A network as persisted in <data-root>/network/<id>.json and shown by inspect, and how
// `network create` makes one from a request: every check (names, bridge name, IPAM entries, in
// moby's words) before anything is made. The records themselves are kept by the engine
// (engine/networks.ts).
import { Conflict, Forbidden, InvalidParameter, NotFound } from '../errors.ts';
import { newId } from '../util/ids.ts';
import { isPredefinedNetwork } from './predefined.ts';
import { AddressPool, parseCidr, formatCidr, overlaps, ipToInt, defaultGateway, type Cidr } from './ipam.ts';
import { AddressPool6, parseCidr6, overlaps6, isCidr6, ip6ToBig, type Cidr6 } from './ipam6.ts';

/** One IPAM entry; keys in dockerd's order (Subnet, IPRange, Gateway, AuxiliaryAddresses). The first is IPv4; an IPv6 one follows. */
export interface IpamConfig { Subnet: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }

/** An IPAM entry as a client asks for it (every field optional). */
export interface IpamRequest { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> | null }

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  /** Options as given: null when the request had none (dockerd's nil map). */
  IPAM: { Driver: 'default'; Options: Record<string, string> | null; Config: IpamConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** Berth's own (not on the wire): the user gave a subnet without a gateway; dockerd then shows none. */
  GatewayImplicit?: boolean;
}

/** A `network create` request (the decoded body). */
export interface NetworkCreateRequest {
  Name: string; Driver?: string; Internal?: boolean; Attachable?: boolean; CheckDuplicate?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: IpamRequest[] | null } | null;
  Options?: Record<string, string> | null; Labels?: Record<string, string> | null; EnableIPv6?: boolean | null;
}

/** A new record with dockerd's defaults. */
export function baseRecord(name: string, driver: NetworkRecord['Driver']): NetworkRecord {
  return {
    Name: name, Id: newId(), Created: new Date().toISOString(), Scope: 'local', Driver: driver, EnableIPv4: true,
    EnableIPv6: false, IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: false, Attachable: false,
    Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
  };
}

/**
 * The record `network create` makes of request `o`, every check done (against the `others`
 * networks) before anything is made; `freeSubnet` picks a subnet when the request names none.
 */
export async function newNetworkRecord(o: NetworkCreateRequest, others: NetworkRecord[], freeSubnet: () => Promise<Cidr>): Promise<NetworkRecord> {
  // dockerd 20.10 takes any name with a non-blank character (libnetwork's IsValidName: spaces,
  // slashes, colons, unicode); only the predefined names (and `default`, a network mode) are refused
  if (!o.Name?.trim()) throw new InvalidParameter(`invalid name: ${o.Name ?? ''}`);
  if (isPredefinedNetwork(o.Name) || o.Name === 'default') throw new Forbidden(`operation is not permitted on predefined ${o.Name} network `);
  if (others.some((n) => n.Name === o.Name)) throw new Conflict(`network with name ${o.Name} already exists`);
  const driver = o.Driver || 'bridge';
  if (driver !== 'bridge') throw new NotFound(`plugin "${driver}" not found`);
  // IPAM entries by family: one IPv4 subnet (given or from the pool) and at most one IPv6 one
  const cfgs = (o.IPAM?.Config ?? []).filter((x) => !isCidr6(x.Subnet ?? ''));
  const cfgs6 = (o.IPAM?.Config ?? []).filter((x) => isCidr6(x.Subnet ?? ''));
  if (cfgs.length > 1) throw new InvalidParameter('berthd supports one IPv4 subnet per network');
  if (cfgs6.length > 1) throw new InvalidParameter('berthd supports one IPv6 subnet per network');
  if (o.EnableIPv6 && !cfgs6.length) throw new NotFound('could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
  const cfg6 = cfgs6[0] ? ipv6Config(cfgs6[0] as IpamConfig, others) : undefined;
  const n = baseRecord(o.Name, 'bridge');
  n.Internal = o.Internal ?? false;
  n.Attachable = o.Attachable ?? false;
  n.Labels = o.Labels ?? {};
  n.Options = { ...(o.Options ?? {}) };
  const bridge = n.Options['com.docker.network.bridge.name'];
  if (bridge !== undefined) {
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw new InvalidParameter(`invalid bridge name "${bridge}": at most 15 letters, digits, '.', '_' or '-'`);
    if (others.some((x) => x.Driver === 'bridge' && bridgeName(x) === bridge)) throw new Conflict(`bridge name ${bridge} is already in use by another network`);
  }
  const c = cfgs[0];
  const subnet = requestedSubnet(c) ?? await freeSubnet();
  const cfg = ipv4Config(c, subnet, others);
  n.IPAM.Config = cfg6 ? [cfg, cfg6] : [cfg];
  n.IPAM.Options = o.IPAM?.Options ?? null;
  n.EnableIPv6 = o.EnableIPv6 ?? false;
  if (c?.Subnet && !c.Gateway) n.GatewayImplicit = true;
  return n;
}

/** The host bridge of a bridge network: the one its options name, or br-<short ID>. */
export function bridgeName(n: NetworkRecord): string {
  return n.Options['com.docker.network.bridge.name'] || `br-${n.Id.slice(0, 12)}`;
}

/** A network's IPv4 IPAM entries (the first is the one in use). */
export function v4Configs(n: NetworkRecord): IpamConfig[] {
  return n.IPAM.Config.filter((c) => !isCidr6(c.Subnet));
}

/** A network's IPv6 IPAM entry, if it has one. */
export function v6Config(n: NetworkRecord): IpamConfig | undefined {
  return n.IPAM.Config.find((c) => isCidr6(c.Subnet));
}

/** The subnet an IPv4 entry asks for, or undefined when the pool is to pick one. */
function requestedSubnet(c: IpamRequest | undefined): Cidr | undefined {
  try { return c?.Subnet ? parseCidr(c.Subnet) : undefined; } catch (e) {
    // dockerd's words (libnetwork's ipam); the status stays a 400 where dockerd 20.10 gave a 500
    throw new InvalidParameter(`Invalid subnet ${c!.Subnet} : ${(e as Error).message}`);
  }
}

/** Checks an IPv4 IPAM entry on `subnet` (no overlap with another network's, gateway, range, auxiliary addresses) and returns it as dockerd shows it. */
function ipv4Config(c: IpamRequest | undefined, subnet: Cidr, others: NetworkRecord[]): IpamConfig {
  for (const x of others) {
    for (const xc of v4Configs(x)) {
      if (overlaps(parseCidr(xc.Subnet), subnet)) throw new Forbidden('Pool overlaps with other one on this address space');
    }
  }
  const gateway = c?.Gateway || defaultGateway(subnet, c?.IPRange);
  const cfg: IpamConfig = { Subnet: formatCidr(subnet), ...(c?.IPRange ? { IPRange: c.IPRange } : {}), Gateway: gateway, ...auxOf(c as IpamConfig | undefined) };
  new AddressPool({ subnet: cfg.Subnet, gateway: cfg.Gateway, ipRange: cfg.IPRange }); // validates
  checkAuxiliary(cfg);
  return cfg;
}

/** Checks an IPv6 IPAM entry (syntax, gateway, range, no overlap with another network's) and returns it as dockerd shows it: as given. */
function ipv6Config(c: IpamConfig, others: NetworkRecord[]): IpamConfig {
  let subnet: Cidr6;
  try { subnet = parseCidr6(c.Subnet); } catch (e) {
    throw new InvalidParameter(`Invalid subnet ${c.Subnet} : ${(e as Error).message}`);
  }
  for (const x of others) {
    const xc = v6Config(x);
    if (xc && overlaps6(parseCidr6(xc.Subnet), subnet)) throw new Forbidden('Pool overlaps with other one on this address space');
  }
  const out: IpamConfig = { Subnet: c.Subnet, ...(c.IPRange ? { IPRange: c.IPRange } : {}), ...(c.Gateway ? { Gateway: c.Gateway } : {}), ...auxOf(c) };
  new AddressPool6({ subnet: out.Subnet, gateway: out.Gateway, ipRange: out.IPRange }); // validates
  checkAuxiliary(out);
  return out;
}

function auxOf(c: IpamConfig | undefined): Pick<IpamConfig, 'AuxiliaryAddresses'> {
  return c?.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length ? { AuxiliaryAddresses: { ...c.AuxiliaryAddresses } } : {};
}

/** Auxiliary addresses must lie in their entry's subnet (libnetwork's words). */
function checkAuxiliary(c: IpamConfig): void {
  const v6 = isCidr6(c.Subnet);
  for (const [k, a] of Object.entries(c.AuxiliaryAddresses ?? {})) {
    let inside: boolean;
    try {
      if (v6) { const s = parseCidr6(c.Subnet); const ip = ip6ToBig(a); inside = ip >= s.base && ip < s.base + s.size; } else { const s = parseCidr(c.Subnet); const ip = ipToInt(a); inside = ip >= s.base && ip < s.base + s.size; }
    } catch { inside = false; }
    if (!inside) throw new Forbidden(`auxiliary address: (${k}:${a}) must belong to the master pool: ${c.Subnet}`);
  }
}
