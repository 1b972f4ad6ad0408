// Swarm mode's endpoints (swarm, nodes, services, tasks, secrets, configs). Berth has no swarm
// mode, so it answers every one of them as a dockerd that is not part of a swarm does (moby
// daemon/cluster: errNoSwarm and errNoManager, both errdefs.Unavailable → 503). Clients rely on
// those answers: docker-py's `leave_swarm(force=True)` treats 503 as "nothing to leave" (its
// network tests call it in every tearDown), and `docker info`/`docker node ls` print the message.
// The update endpoints check their `version` query first, as moby's routers do before asking
// the cluster, so a bad version is a 400 here too.
import type { Router, HttpContext } from '../router.ts';
import { InvalidParameter, Unavailable } from '../../errors.ts';

/** moby daemon/cluster/errors.go errNoManager */
const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** moby daemon/cluster/errors.go errNoSwarm */
const NOT_IN_A_SWARM = 'This node is not part of a swarm';

const notManager = (): never => { throw new Unavailable(NOT_A_MANAGER); };

/** Go's strconv.ParseUint(v, 10, 64) as moby's update routers use it on `?version=`. */
function checkVersion(ctx: HttpContext, kind: string, short: boolean): void {
  const v = ctx.query.get('version') ?? '';
  if (/^\d+$/.test(v) && BigInt(v) < 2n ** 64n) return;
  // secrets and configs say only this (moby api/server/router/swarm/cluster_routes.go)
  if (short) throw new InvalidParameter(`invalid ${kind} version`);
  const why = /^\d+$/.test(v) ? 'value out of range' : 'invalid syntax';
  throw new InvalidParameter(`invalid ${kind} version '${v}': strconv.ParseUint: parsing ${JSON.stringify(v)}: ${why}`);
}

export function registerSwarmRoutes(router: Router): void {
  router.add('GET', '/swarm', notManager);
  // Berth cannot become a swarm node: refused as unavailable, not as an unknown path
  const noSwarmMode = (): never => { throw new Unavailable('Berth does not support swarm mode'); };
  router.add('POST', '/swarm/init', noSwarmMode);
  router.add('POST', '/swarm/join', noSwarmMode);
  router.add('POST', '/swarm/leave', () => { throw new Unavailable(NOT_IN_A_SWARM); });
  router.add('POST', '/swarm/update', (ctx) => { checkVersion(ctx, 'swarm', false); notManager(); });
  router.add('GET', '/swarm/unlockkey', notManager);
  router.add('POST', '/swarm/unlock', notManager);

  for (const [plural, kind, short] of [['services', 'service', false], ['nodes', 'node', false], ['secrets', 'secret', true], ['configs', 'config', true]] as const) {
    router.add('GET', `/${plural}`, notManager);
    router.add('GET', `/${plural}/{id}`, notManager);
    router.add('DELETE', `/${plural}/{id}`, notManager);
    router.add('POST', `/${plural}/{id}/update`, (ctx) => { checkVersion(ctx, kind, short); notManager(); });
    if (plural !== 'nodes') router.add('POST', `/${plural}/create`, notManager);
  }
  router.add('GET', '/services/{id}/logs', notManager);
  router.add('GET', '/tasks', notManager);
  router.add('GET', '/tasks/{id}', notManager);
  router.add('GET', '/tasks/{id}/logs', notManager);
}
