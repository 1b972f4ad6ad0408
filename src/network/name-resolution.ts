// What the embedded DNS answers a container (moby's sandbox.ResolveName and ResolveIP): names
// and addresses of the containers on its user networks. The engine says which user networks a
// container is on and who else is on them.
import type { NetContainer } from './endpoint.ts';

/** One user network a container has an address on: its name and the containers with an endpoint on it. */
export interface UserNetwork { name: string; members(): NetContainer[] }

/**
 * What the embedded DNS of container `c` answers for `name` (lowercase, no trailing dot), as
 * moby's sandbox.ResolveName: the name on the container's user networks in order, then for
 * `a.b.c` the name `a.b` on network `c` and `a` on network `b.c`. On a network a name is a
 * container name, a short ID or a network alias (DNSNames), case-insensitive; all containers
 * that hold it answer. Undefined: not ours (forwarded).
 */
export function resolveName(c: NetContainer, nets: UserNetwork[], name: string): string[] | undefined {
  const tries: [string, string | undefined][] = [[name, undefined]];
  for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) tries.push([name.slice(0, i), name.slice(i + 1)]);
  for (const [want, netName] of tries) {
    for (const n of nets) {
      const net = n.name;
      if (netName !== undefined && net.toLowerCase() !== netName) continue;
      // the endpoint's links first (libnetwork's alias pass): "name:alias" makes `alias` stand
      // for container `name` on this network, for this container alone
      const target = (c.net.Networks[net]?.Links ?? []).map((l) => l.split(':')).find((p) => (p[1] ?? p[0])!.toLowerCase() === want)?.[0];
      for (const asked of target ? [target.toLowerCase(), want] : [want]) {
        const out: string[] = [];
        for (const other of n.members()) {
          const ep = other.net.Networks[net];
          if (ep?.IPAddress && (ep.DNSNames ?? []).some((d) => d.toLowerCase() === asked)) out.push(ep.IPAddress);
        }
        if (out.length) return out;
      }
    }
  }
  return undefined;
}

/** The PTR answer for `ip` asked by container `c`: `<name>.<network>` of the container holding it on one of its user networks. */
export function resolveIp(nets: UserNetwork[], ip: string): string | undefined {
  for (const n of nets) {
    for (const other of n.members()) {
      if (other.net.Networks[n.name]?.IPAddress === ip) return `${other.name}.${n.name}`;
    }
  }
  return undefined;
}
