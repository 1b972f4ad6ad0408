// Shapes of container views that depend on the API version the client asked for, applied at
// the API boundary (the engine builds one view, the newest).
import { versionLess } from './version.ts';
import { JOINED } from '../engine/container-views.ts';

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
      // moby 20.10 adds it when the container joins (its first start, or a connect before it):
      // a network it was created on and has not started on shows none
      if (['bridge', 'host', 'none'].includes(name) || !ep || typeof ep !== 'object' || !(ep as Record<symbol, unknown>)[JOINED]) continue;
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

/**
 * A create body as moby 27's router reads it for `apiVersion` (postContainersCreate): before 1.42
 * a bind's CreateMountpoint is ignored (it came with 1.42) and ConsoleSize is not respected.
 */
export function createBodyFor(body: unknown, apiVersion: string): unknown {
  if (!versionLess(apiVersion, '1.42') || !body || typeof body !== 'object') return body;
  const hc = (body as View).HostConfig as View | null | undefined;
  if (!hc || typeof hc !== 'object') return body;
  if (Array.isArray(hc.Mounts)) {
    for (const m of hc.Mounts as View[]) {
      const bo = m && typeof m === 'object' ? (m.BindOptions as View | null | undefined) : undefined;
      if (bo && typeof bo === 'object') delete bo.CreateMountpoint;
    }
  }
  if (hc.ConsoleSize !== undefined) hc.ConsoleSize = [0, 0];
  return body;
}
