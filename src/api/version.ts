// API version negotiation: `/v1.NN/...` prefixes, the supported range, and comparisons for
// handlers whose response shape changed between versions. The range is dockerd's: moby 20.10-24
// serve every version from 1.12 (skopeo's docker-daemon transport speaks 1.22) to their newest;
// where an older version's answer differs, the handler (or versioned-views.ts) gives that shape.
import { InvalidParameter } from '../errors.ts';

export const MAX_API_VERSION = '1.47';
export const MIN_API_VERSION = '1.12';

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

/** The `/v1.NN` of a request path as sent (even out of range), for shaping its error answer. */
export function requestedVersion(url: string): string | undefined {
  return /^\/v(\d+\.\d+)(?:[/?]|$)/.exec(url)?.[1];
}

/**
 * Errors are JSON (`{"message": …}`) from API 1.24 on; older clients get the message as plain
 * text, as moby's httputils.MakeErrorHandler writes it (apiVersionSupportsJSONErrors).
 */
export function jsonErrors(version: string | undefined): boolean {
  return version === undefined || versionLess('1.23', version);
}
