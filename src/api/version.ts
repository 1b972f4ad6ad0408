// API version negotiation: `/v1.NN/...` prefixes, the supported range, and comparisons for
// handlers whose response shape changed between versions.
import { InvalidParameter } from '../errors.ts';

export const MAX_API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export const versionLess = (a: string, b: string): boolean => compareVersions(a, b) < 0;
export const versionGte = (a: string, b: string): boolean => compareVersions(a, b) >= 0;

/** Splits `/v1.41/containers/json` into its version and path; unversioned paths get the default. */
export function splitVersion(pathname: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)?$/.exec(pathname);
  if (!m) return { version: MAX_API_VERSION, path: pathname };
  const version = m[1]!;
  if (versionLess(MAX_API_VERSION, version)) {
    throw new InvalidParameter(`client version ${version} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  }
  if (versionLess(version, MIN_API_VERSION)) {
    throw new InvalidParameter(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, path: m[2] ?? '/' };
}
