// HTTP handlers for /networks/*: list, inspect, create, remove, prune, connect, disconnect.
import type { Router } from '../router.ts';
import { sendJson, sendEmpty, readGoJson } from '../respond.ts';
import { networkCreateRequest, networkConnect, networkDisconnect } from '../../types/go-wire-types.ts';
import { object, optBool, optString, optStringMap } from '../check.ts';
import { parseFilters, rejectUnknownFilters } from '../filters.ts';
import { InvalidParameter } from '../../errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { EndpointInput, NetworkRecord } from '../../engine/networks.ts';
import { matchLabel } from '../../engine/container-views.ts';
import { parseFilterTime } from '../../engine/prune.ts';
import { filterNetworks } from '../../engine/network-filters.ts';
import { versionLess } from '../version.ts';

export function registerNetworkRoutes(router: Router, engine: Engine): void {
  const nets = engine.networks;
  const svc = engine.containers;

  const view = (n: NetworkRecord, withContainers: boolean, apiVersion: string): Record<string, unknown> => {
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const c of nets.containersOf(n)) {
        const ep = c.net.Networks[n.Name];
        if (!ep) continue;
        containers[c.id] = {
          Name: c.name, EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '',
          IPv6Address: ep.GlobalIPv6Address ? `${ep.GlobalIPv6Address}/${ep.GlobalIPv6PrefixLen}` : '',
        };
      }
    }
    const { GatewayImplicit: implicit, ...wire } = n;
    const out: Record<string, unknown> = { ...wire, Containers: containers };
    // a gateway the user did not give for the IPv4 subnet is not part of the IPAM config dockerd
    // shows (Go omits the empty field); the IPv6 entry is kept as given anyway
    if (implicit) out.IPAM = { ...n.IPAM, Config: n.IPAM.Config.map((c, i) => { if (i > 0) return c; const { Gateway: _g, ...rest } = c; return rest; }) };
    // EnableIPv4 came with API 1.47 (moby 28); the built-in networks have no IPAM options map
    if (versionLess(apiVersion, '1.47')) delete out.EnableIPv4;
    if (['bridge', 'host', 'none'].includes(n.Name) && !Object.keys(n.IPAM.Options ?? {}).length) out.IPAM = { ...n.IPAM, Options: null };
    return out;
  };

  /** Configured for a network: containers that name it, running or not (prune leaves those). */
  const configured = (n: NetworkRecord): boolean => svc.all().some((c) => !!c.rec.NetworkSettings?.Networks[n.Name]);

  router.add('GET', '/networks', (ctx) => {
    const list = filterNetworks(nets, parseFilters(ctx.query.get('filters')));
    // before API 1.28 the list was detailed: each network with its containers (moby's NetworkListConfig.Detailed)
    sendJson(ctx.res, 200, list.map((n) => view(n, versionLess(ctx.apiVersion, '1.28'), ctx.apiVersion)));
  });

  router.add('GET', '/networks/{id}', (ctx) => {
    sendJson(ctx.res, 200, view(nets.get(ctx.params.id!), true, ctx.apiVersion));
  });

  router.add('POST', '/networks/create', async (ctx) => {
    const raw = object(await readGoJson(ctx.req, networkCreateRequest, 'got-eof') ?? {}, 'network config');
    for (const k of ['Name', 'Driver', 'Scope']) optString(raw, k);
    for (const k of ['Internal', 'Attachable', 'Ingress', 'EnableIPv6', 'CheckDuplicate']) optBool(raw, k);
    optStringMap(raw, 'Labels');
    optStringMap(raw, 'Options');
    if (raw.IPAM !== undefined && raw.IPAM !== null) {
      const ipam = object(raw.IPAM, 'IPAM');
      optString(ipam, 'Driver', 'IPAM.Driver');
      optStringMap(ipam, 'Options', 'IPAM.Options');
      if (ipam.Config !== undefined && ipam.Config !== null) {
        if (!Array.isArray(ipam.Config)) throw new InvalidParameter('invalid IPAM.Config: expected a list');
        for (const c of ipam.Config) {
          const cfg = object(c, 'IPAM.Config entry');
          for (const k of ['Subnet', 'IPRange', 'Gateway']) optString(cfg, k, `IPAM.Config.${k}`);
          optStringMap(cfg, 'AuxiliaryAddresses', 'IPAM.Config.AuxiliaryAddresses');
        }
      }
    }
    const body = raw as unknown as Parameters<typeof nets.create>[0];
    const n = await nets.create(body);
    sendJson(ctx.res, 201, { Id: n.Id, Warning: '' });
  });

  router.add('DELETE', '/networks/{id}', async (ctx) => {
    const n = nets.get(ctx.params.id!);
    await nets.remove(n.Id);
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/networks/prune', async (ctx) => {
    const f = parseFilters(ctx.query.get('filters'));
    rejectUnknownFilters(f, ['until', 'label', 'label!']);
    const until = f.get('until')?.[0];
    const cutoff = until ? parseFilterTime(until) : undefined;
    const deleted = await nets.prune(configured, (n) =>
      (cutoff === undefined || Date.parse(n.Created) < cutoff)
      && (f.get('label') ?? []).every((l) => matchLabel(n.Labels, l))
      && (f.get('label!') ?? []).every((l) => !matchLabel(n.Labels, l)));
    sendJson(ctx.res, 200, { NetworksDeleted: deleted.length ? deleted : null });
  });

  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = await readGoJson(ctx.req, networkConnect, 'got-eof') as { Container?: string; EndpointConfig?: EndpointInput | null };
    if (!body?.Container) throw new InvalidParameter('container is required');
    optString(body as Record<string, unknown>, 'Container');
    await svc.connectNetwork(body.Container, ctx.params.id!, body.EndpointConfig ?? {});
    sendEmpty(ctx.res, 200);
  });

  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = await readGoJson(ctx.req, networkDisconnect, 'got-eof') as { Container?: string; Force?: boolean };
    if (!body?.Container) throw new InvalidParameter('container is required');
    optString(body as Record<string, unknown>, 'Container');
    await svc.disconnectNetwork(body.Container, ctx.params.id!);
    sendEmpty(ctx.res, 200);
  });
}
