// The config hash of a service: what `up` compares to decide whether a container is still what
// the compose file asks for. As Compose's ServiceHash, the fields that do not shape the
// container are left out (build, pull_policy, scale/deploy.replicas, depends_on, profiles,
// develop), so that scaling or a rebuild policy never recreates a container. The hash is over a
// canonical JSON (keys sorted, undefined dropped), so the same model gives the same hash in
// every run; it is not byte-identical to Go's struct-ordered JSON, hence Compose and Berth may
// each recreate the other's containers once.
import { createHash } from 'node:crypto';
import type { Service } from '../model/types.ts';

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function serviceHash(s: Service): string {
  const { build: _b, pull_policy: _p, scale: _s, depends_on: _d, profiles: _pr, develop: _dv, ...rest } = s;
  const o: Record<string, unknown> = { ...rest };
  if (s.deploy) {
    const { replicas: _r, ...deploy } = s.deploy;
    o.deploy = deploy;
  }
  return createHash('sha256').update(canonicalJson(o)).digest('hex');
}
