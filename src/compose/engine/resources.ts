// The project's networks and volumes: made before the containers that use them (with Compose's
// labels, so that down finds them again), checked when they already exist, and removed by down.
// An external one is never made nor removed: it must exist, as Compose requires.
import { ApiError } from '../../client/engine-client.ts';
import type * as Api from '../../types/engine-api.ts';
import type { ComposeContext } from './api.ts';
import { ComposeError, type Project } from '../model/types.ts';
import { canonicalJson } from './hash.ts';
import { createHash } from 'node:crypto';
import { CONFIG_HASH_NETWORK, NETWORK, PROJECT, VOLUME, networkLabels, projectFilter, volumeLabels } from './labels.ts';

const notFound = (err: unknown): boolean => err instanceof ApiError && err.status === 404;
const enc = encodeURIComponent;

/** The network keys the given services join (network_mode services join none). */
export function usedNetworks(project: Project, services: string[]): string[] {
  const keys = new Set<string>();
  for (const n of services) for (const k of Object.keys(project.services[n]?.networks ?? {})) keys.add(k);
  return [...keys].sort();
}

/** The named volume keys the given services mount. */
export function usedVolumes(project: Project, services: string[]): string[] {
  const keys = new Set<string>();
  for (const n of services) {
    for (const v of project.services[n]?.volumes ?? []) if (v.type === 'volume' && v.source && project.volumes[v.source]) keys.add(v.source);
  }
  return [...keys].sort();
}

function networkHash(n: Project['networks'][string]): string {
  const { name, driver, driver_opts, ipam, internal, attachable, enable_ipv6, labels } = n;
  return createHash('sha256').update(canonicalJson({ name, driver, driver_opts, ipam, internal, attachable, enable_ipv6, labels })).digest('hex');
}

export async function ensureNetworks(ctx: ComposeContext, project: Project, keys: string[]): Promise<void> {
  await Promise.all(keys.map(async (key) => {
    const n = project.networks[key] ?? { name: `${project.name}_${key}` };
    let existing: Api.NetworkInspect | undefined;
    try {
      existing = await ctx.client.request<Api.NetworkInspect>('GET', `/networks/${enc(n.name)}`);
      // inspect matches ID prefixes too: `db` could be network db9086999caf
      if (existing.Name !== n.name && existing.Id !== n.name) existing = undefined;
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    if (n.external) {
      if (!existing) throw new ComposeError(`network ${n.name} declared as external, but could not be found`);
      return;
    }
    if (existing) {
      const labels = existing.Labels ?? {};
      if (!(PROJECT in labels)) {
        ctx.warn(`a network with name ${n.name} exists but was not created by compose.\nSet \`external: true\` to use an existing network`);
      } else if (labels[PROJECT] !== project.name) {
        ctx.warn(`a network with name ${n.name} exists but was not created for project "${project.name}".\nSet \`external: true\` to use an existing network`);
      }
      if ((labels[NETWORK] ?? '') !== key) {
        throw new ComposeError(`network ${n.name} was found but has incorrect label ${NETWORK} set to "${labels[NETWORK] ?? ''}" (expected: "${key}")`);
      }
      const hash = labels[CONFIG_HASH_NETWORK];
      if (hash && hash !== networkHash(n)) {
        ctx.warn(`network ${n.name} exists with a different configuration: run \`compose down\` to recreate it`);
      }
      return;
    }
    const ev = { kind: 'Network', name: n.name };
    ctx.progress.event({ ...ev, status: 'Creating', done: false });
    const body: Api.NetworkCreateBody = {
      Name: n.name,
      Labels: { ...networkLabels(project, key, n.labels), [CONFIG_HASH_NETWORK]: networkHash(n) },
      ...(n.driver ? { Driver: n.driver } : {}),
      ...(n.driver_opts ? { Options: n.driver_opts } : {}),
      ...(n.internal ? { Internal: true } : {}),
      ...(n.attachable ? { Attachable: true } : {}),
      ...(n.enable_ipv6 !== undefined ? { EnableIPv6: n.enable_ipv6 } : {}),
    };
    if (n.ipam) {
      body.IPAM = {
        ...(n.ipam.driver ? { Driver: n.ipam.driver } : {}),
        ...(n.ipam.options ? { Options: n.ipam.options } : {}),
        Config: (n.ipam.config ?? []).map((c) => ({
          ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.ip_range ? { IPRange: c.ip_range } : {}),
          ...(c.gateway ? { Gateway: c.gateway } : {}), ...(c.aux_addresses ? { AuxiliaryAddresses: c.aux_addresses } : {}),
        })),
      };
    }
    try {
      await ctx.client.networkCreate(body);
    } catch (err) {
      ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
      throw new ComposeError(`failed to create network ${n.name}: ${(err as Error).message}`);
    }
    ctx.progress.event({ ...ev, status: 'Created', done: true });
  }));
}

export async function ensureVolumes(ctx: ComposeContext, project: Project, keys: string[]): Promise<void> {
  await Promise.all(keys.map(async (key) => {
    const v = project.volumes[key]!;
    let existing: Api.Volume | undefined;
    try {
      existing = await ctx.client.volumeInspect(v.name);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    if (v.external) {
      if (!existing) throw new ComposeError(`external volume "${v.name}" not found`);
      return;
    }
    if (existing) {
      const labels = existing.Labels ?? {};
      if (!(PROJECT in labels)) {
        ctx.warn(`volume "${v.name}" already exists but was not created by Docker Compose. Use \`external: true\` to use an existing volume`);
      } else if (labels[PROJECT] !== project.name) {
        ctx.warn(`volume "${v.name}" already exists but was created for project "${labels[PROJECT]}" (expected "${project.name}"). Use \`external: true\` to use an existing volume`);
      }
      return;
    }
    const ev = { kind: 'Volume', name: `"${v.name}"` };
    ctx.progress.event({ ...ev, status: 'Creating', done: false });
    try {
      await ctx.client.volumeCreate({ Name: v.name, Labels: volumeLabels(project, key, v.labels), ...(v.driver ? { Driver: v.driver } : {}), ...(v.driver_opts ? { DriverOpts: v.driver_opts } : {}) });
    } catch (err) {
      ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
      throw new ComposeError(`failed to create volume ${v.name}: ${(err as Error).message}`);
    }
    ctx.progress.event({ ...ev, status: 'Created', done: true });
  }));
}

/** down: the project's networks (found by label, so that a down without the file works too), external ones kept. */
export async function removeNetworks(ctx: ComposeContext, project: Project): Promise<void> {
  const external = new Set(Object.values(project.networks).filter((n) => n.external).map((n) => n.name));
  const list = await ctx.client.networkList({ filters: projectFilter(project.name) } as Api.NetworkListQuery);
  await Promise.all(list.filter((n) => n.Name && !external.has(n.Name)).map(async (n) => {
    const ev = { kind: 'Network', name: n.Name! };
    ctx.progress.event({ ...ev, status: 'Removing', done: false });
    try {
      await ctx.client.request('DELETE', `/networks/${enc(n.Id ?? n.Name!)}`);
      ctx.progress.event({ ...ev, status: 'Removed', done: true });
    } catch (err) {
      if (notFound(err)) { ctx.progress.event({ ...ev, status: 'Removed', done: true }); return; }
      ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
      ctx.warn(`failed to remove network ${n.Name}: ${(err as Error).message}`);
    }
  }));
}

/** down -v: the project's named volumes (by label), external ones kept. */
export async function removeVolumes(ctx: ComposeContext, project: Project): Promise<void> {
  const external = new Set(Object.values(project.volumes).filter((v) => v.external).map((v) => v.name));
  const list = (await ctx.client.volumeList({ filters: projectFilter(project.name) } as Api.VolumeListQuery)).Volumes ?? [];
  await Promise.all(list.filter((v) => !external.has(v.Name) && v.Labels?.[VOLUME] !== undefined).map(async (v) => {
    const ev = { kind: 'Volume', name: v.Name };
    ctx.progress.event({ ...ev, status: 'Removing', done: false });
    try {
      await ctx.client.request('DELETE', `/volumes/${enc(v.Name)}`);
      ctx.progress.event({ ...ev, status: 'Removed', done: true });
    } catch (err) {
      if (notFound(err)) { ctx.progress.event({ ...ev, status: 'Removed', done: true }); return; }
      ctx.progress.event({ ...ev, status: 'Error', done: true, error: true, text: (err as Error).message });
      ctx.warn(`failed to remove volume ${v.Name}: ${(err as Error).message}`);
    }
  }));
}
