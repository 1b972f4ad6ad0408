// Managed plugins (/plugins/*). Berth has none and cannot install any, so it answers as a
// dockerd without plugins does: an empty list, and `plugin "<name>" not found` (404, moby
// plugin/store.go ErrNotFound) for anything asked of one by name. Installing one (pull, create,
// upgrade) is refused as not implemented rather than as an unknown path.
import type { Router } from '../router.ts';
import { sendJson } from '../respond.ts';
import { NotFound, NotImplemented } from '../../errors.ts';

export function registerPluginRoutes(router: Router): void {
  router.add('GET', '/plugins', (ctx) => sendJson(ctx.res, 200, []));
  const noPlugin = (ctx: { params: Record<string, string> }): never => {
    throw new NotFound(`plugin ${JSON.stringify(ctx.params.name ?? '')} not found`);
  };
  router.add('GET', '/plugins/{name:.*}/json', noPlugin);
  for (const verb of ['enable', 'disable', 'push', 'set']) router.add('POST', `/plugins/{name:.*}/${verb}`, noPlugin);
  const noInstall = (): never => { throw new NotImplemented('Berth does not support managed plugins'); };
  router.add('GET', '/plugins/privileges', noInstall);
  router.add('POST', '/plugins/pull', noInstall);
  router.add('POST', '/plugins/create', noInstall);
  router.add('POST', '/plugins/{name:.*}/upgrade', noInstall);
  router.add('DELETE', '/plugins/{name:.*}', noPlugin);
}
