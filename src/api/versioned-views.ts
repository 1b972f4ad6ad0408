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

/** A container inspect for `apiVersion`. */
export function inspectFor(v: View, apiVersion: string): View {
  endpointsFor((v.NetworkSettings as View | undefined)?.Networks, apiVersion);
  return v;
}
