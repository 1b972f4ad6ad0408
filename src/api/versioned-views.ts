// Shapes of container views that depend on the API version the client asked for, applied at
// the API boundary (the engine builds one view, the newest).
import { versionLess } from './version.ts';

type View = Record<string, unknown>;

/** Endpoint settings: DNSNames came with API 1.44 (moby 25). */
function endpointsFor(networks: unknown, apiVersion: string): void {
  if (!networks || typeof networks !== 'object' || !versionLess(apiVersion, '1.44')) return;
  for (const ep of Object.values(networks as Record<string, View>)) if (ep && typeof ep === 'object') delete ep.DNSNames;
}

/** A `/containers/json` (and `/system/df`) row for `apiVersion`: SizeRw is omitempty in moby's struct. */
export function summaryFor(v: View, apiVersion: string): View {
  endpointsFor((v.NetworkSettings as View | undefined)?.Networks, apiVersion);
  if (v.SizeRw === 0) delete v.SizeRw;
  return v;
}

/**
 * A container inspect for `apiVersion`. Before 1.44 (moby 25) a container's short ID was one
 * of its aliases on every user-defined network; it moved to DNSNames.
 */
export function inspectFor(v: View, apiVersion: string): View {
  const networks = (v.NetworkSettings as View | undefined)?.Networks as Record<string, View> | undefined;
  if (networks && versionLess(apiVersion, '1.44') && typeof v.Id === 'string') {
    const short = v.Id.slice(0, 12);
    for (const [name, ep] of Object.entries(networks)) {
      // moby adds it when the container joins (its first start): a never-started one shows none
      if (['bridge', 'host', 'none'].includes(name) || !ep || typeof ep !== 'object' || !ep.NetworkID) continue;
      const aliases = (ep.Aliases as string[] | null | undefined) ?? [];
      if (!aliases.includes(short)) ep.Aliases = [...aliases, short];
    }
  }
  endpointsFor(networks, apiVersion);
  // KernelMemory and KernelMemoryTCP left HostConfig with API 1.42 (moby 23); before, always there.
  const hc = v.HostConfig as View | undefined;
  if (hc && versionLess(apiVersion, '1.42')) {
    hc.KernelMemory ??= 0;
    hc.KernelMemoryTCP ??= 0;
  }
  return v;
}
