// `docker network ls` (GET /networks) filters, as moby 20.10's daemon/network/filter.go applies
// them: name and id are regular expressions, driver and scope exact, labels k or k=v; dangling
// (one value) keeps the networks no container is attached to, never the predefined ones, and
// dangling=false the predefined ones and those in use; each `type` value adds its networks.
import { InvalidParameter } from '../errors.ts';
import type { NetworkRecord, NetworkService } from './networks.ts';
import { type Filters, validateFilters, match, exactMatch, matchKVList } from './filter-args.ts';

const NETWORK_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'];
const PREDEFINED = ['bridge', 'host', 'none'];

export function filterNetworks(nets: NetworkService, f: Filters): NetworkRecord[] {
  validateFilters(f, NETWORK_FILTERS);
  let list = nets.list().filter((n) => exactMatch(f, 'driver', n.Driver) && match(f, 'name', n.Name) && match(f, 'id', n.Id)
    && matchKVList(f, 'label', n.Labels) && exactMatch(f, 'scope', n.Scope));
  const dangling = f.get('dangling');
  if (dangling?.length) {
    if (dangling.length > 1) throw new InvalidParameter('got more than one value for filter key "dangling"');
    let only: boolean;
    if (['1', 'true'].includes(dangling[0]!)) only = true;
    else if (['0', 'false'].includes(dangling[0]!)) only = false;
    else throw new InvalidParameter('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")');
    const used = (n: NetworkRecord): boolean => PREDEFINED.includes(n.Name) || nets.containersOf(n).length > 0;
    list = list.filter((n) => (only ? !used(n) : used(n)));
  }
  const types = f.get('type');
  if (types?.length) {
    const picked: NetworkRecord[] = [];
    for (const t of types) {
      if (t !== 'builtin' && t !== 'custom') throw new InvalidParameter(`invalid filter: 'type'='${t}'`);
      picked.push(...list.filter((n) => PREDEFINED.includes(n.Name) === (t === 'builtin')));
    }
    list = picked;
  }
  return list;
}
