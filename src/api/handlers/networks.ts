// HTTP handlers for /networks/*: list, inspect, create, remove, prune, connect, disconnect.
import type { Router } from '../router.ts';
import { sendJson, sendEmpty } from '../respond.ts';
import { parseFilters } from '../filters.ts';
import type { Engine } from '../../engine/engine.ts';
import { pruneNetworks } from '../../engine/prune.ts';
import { filterNetworks } from '../../engine/filters.ts';
import { versionLess } from '../version.ts';
import { readNetworkCreate, readNetworkConnect, readNetworkDisconnect } from '../decode/networks.ts';
import { networkView } from '../views/networks.ts';

export function registerNetworkRoutes(router: Router, engine: Engine): void {
  const nets = engine.networks;
  const svc = engine.containers;

  router.add('GET', '/networks', (ctx) => {
    const list = filterNetworks(nets, parseFilters(ctx.query.get('filters')));
    // before API 1.28 the list was detailed: each network with its containers (moby's NetworkListConfig.Detailed)
    const detailed = versionLess(ctx.apiVersion, '1.28');
    sendJson(ctx.res, 200, list.map((n) => networkView(n, detailed ? nets.containersOf(n) : undefined, ctx.apiVersion)));
  });

  router.add('GET', '/networks/{id}', (ctx) => {
    const n = nets.get(ctx.params.id!);
    sendJson(ctx.res, 200, networkView(n, nets.containersOf(n), ctx.apiVersion));
  });

  router.add('POST', '/networks/create', async (ctx) => {
    const n = await nets.create(await readNetworkCreate(ctx.req));
    sendJson(ctx.res, 201, { Id: n.Id, Warning: '' });
  });

  router.add('DELETE', '/networks/{id}', async (ctx) => {
    const n = nets.get(ctx.params.id!);
    await nets.remove(n.Id);
    sendEmpty(ctx.res, 204);
  });

  router.add('POST', '/networks/prune', async (ctx) => {
    sendJson(ctx.res, 200, await pruneNetworks(svc, nets, parseFilters(ctx.query.get('filters'))));
  });

  router.add('POST', '/networks/{id}/connect', async (ctx) => {
    const body = await readNetworkConnect(ctx.req);
    await svc.connectNetwork(body.Container, ctx.params.id!, body.EndpointConfig ?? {});
    sendEmpty(ctx.res, 200);
  });

  router.add('POST', '/networks/{id}/disconnect', async (ctx) => {
    const body = await readNetworkDisconnect(ctx.req);
    await svc.disconnectNetwork(body.Container, ctx.params.id!);
    sendEmpty(ctx.res, 200);
  });
}
