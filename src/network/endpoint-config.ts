// What a container is created with on its networks (moby's verifyNetworkingConfig and
// updateContainerNetworkSettings): one endpoint per EndpointsConfig entry (several from API 1.44), on the network its network mode names or the
// one its EndpointsConfig entry names, with the client's settings kept as given. Nothing is
// allocated here; addresses come when the container starts (network-ipam.ts).
import { InvalidParameter, NotFound } from '../errors.ts';
import { emptyEndpoint, ipamConfigOf, checkEndpointAddresses, type EndpointInput, type EndpointRecord } from './endpoint.ts';
import type { NetworkRecord } from './network-record.ts';

/** How the engine's records answer for networks. */
export interface NetworkLookup {
  /** By full ID, name or unique ID prefix; NotFound otherwise. */
  get(ref: string): NetworkRecord;
  /** The bridge network a network mode names, undefined for host, none and container:. */
  modeNetwork(mode: string): NetworkRecord | undefined;
  /** What `default` means. */
  defaultMode(): 'bridge' | 'none';
}

/** The endpoints a new container starts with: its network mode's network, with the user's settings. */
export function initialEndpointsFor(nets: NetworkLookup, mode: string, endpointsConfig: Record<string, unknown> | null | undefined): Record<string, EndpointRecord> {
  const out: Record<string, EndpointRecord> = {};
  if (mode === 'default') mode = nets.defaultMode();
  if (mode === 'host' || mode === 'none') { out[mode] = emptyEndpoint(nets.get(mode).Id); return out; }
  // A network mode naming no network is accepted at create, as dockerd 20.10 accepts it: the
  // start fails with 404 'network X not found' and the container stays created.
  let n: NetworkRecord | undefined;
  let missing = false;
  try { n = nets.modeNetwork(mode); } catch (err) { if (!(err instanceof NotFound)) throw err; missing = true; }
  if (!n && !missing) return out;
  // Several entries (API >= 1.44; the decoder refuses them before): each is an endpoint of its own,
  // and the mode's network is one of them, with empty settings when no entry names it.
  const given = Object.entries(endpointsConfig ?? {});
  if (given.length > 1) {
    if (n) out[n.Name] = emptyEndpoint(n.Id);
    for (const [key, raw] of given) Object.assign(out, initialEndpointsFor(nets, mode, { [key]: raw }));
    return out;
  }
  if (!n) {
    const [key, raw] = given[0] ?? [];
    if (key !== undefined && raw) { checkEndpointAddresses(raw as EndpointInput); out[key] = endpointFrom(undefined, raw as EndpointInput); }
    return out;
  }
  const [key, raw] = given[0] ?? [n.Name, {}];
  if (raw === null || raw === undefined) throw new InvalidParameter(`no EndpointSettings for ${key}`);
  const ec = raw as EndpointInput;
  checkEndpointAddresses(ec);
  // moby's updateContainerNetworkSettings: the entry names the container's network, whatever the
  // mode says; one for the mode's network (by name, ID or `default`) is filed under its name, one
  // for another network stays under its key and is joined at start (a missing one fails there)
  let target: NetworkRecord | undefined = n;
  if (key !== n.Name && key !== n.Id && key !== mode && key !== 'default') {
    try { target = nets.get(key); } catch { target = undefined; }
    if (!target) { out[key] = endpointFrom(undefined, ec); return out; }
  }
  out[target.Name] = endpointFrom(target, ec);
  return out;
}

/** An endpoint as configured (nothing allocated yet): what the client gave is kept as given. */
export function endpointFrom(n: NetworkRecord | undefined, ec: EndpointInput): EndpointRecord {
  if (n?.Name === 'bridge' && (ec.IPAMConfig?.IPv4Address || ec.IPAMConfig?.IPv6Address)) throw new InvalidParameter('user specified IP address is supported on user defined networks only');
  if (n?.Name === 'bridge' && ec.Aliases?.length) throw new InvalidParameter('network-scoped alias is supported only for containers in user defined networks');
  const ep: EndpointRecord = { ...emptyEndpoint(n?.Id ?? ''), Links: ec.Links?.length ? [...ec.Links] : null, Aliases: ec.Aliases?.length ? ec.Aliases : null, IPAMConfig: ipamConfigOf(ec.IPAMConfig), DriverOpts: ec.DriverOpts ? { ...ec.DriverOpts } : null };
  if (ec.MacAddress) { ep.DesiredMac = ec.MacAddress; ep.MacAddress = ec.MacAddress; }
  return ep;
}
