// The networks every daemon has from the start and that no one creates or removes: `bridge`
// (the daemon's default bridge, absent with `--bridge none`), `host` and `none`. dockerd and the
// Docker CLI treat these names alike wherever they tell a predefined network from a user-defined
// one (links, aliases and fixed addresses only on user networks, prune and remove refusals), so
// the test is written once here.

/** The names of the predefined networks. */
export const PREDEFINED_NETWORKS: readonly string[] = ['bridge', 'host', 'none'];

/** Whether `name` names a predefined network (not a user-defined one). */
export function isPredefinedNetwork(name: string): boolean {
  return PREDEFINED_NETWORKS.includes(name);
}
