// `docker update`: new limits (and restart policy) checked as dockerd checks them, recorded, and
// applied at once to a running container through the runtime. Fields left out or zero keep
// their value, as in Docker.
import { refuseLimitsWithoutCgroups } from './rootless-limits.ts';
import { Conflict, InvalidParameter } from '../../errors.ts';
import type { ContainerUpdateBody } from '../../types/engine-api.ts';
import type { ResourceFields } from './record.ts';
import { validateResources } from './resources.ts';
import { isNoRestart, validateRestartPolicy } from './restart-policy.ts';
import type { ContainerContext } from './context.ts';
import { ociResources, blockDevice } from './oci-spec.ts';
import type { Container } from './store.ts';

/** The HostConfig fields an update may change besides the restart policy. */
const UPDATABLE: (keyof ResourceFields)[] = ['Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'OomKillDisable', 'NanoCpus',
  'CpuShares', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight', 'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'];

/** Applies an update; the caller holds the container's lock. */
export async function updateLocked(ctx: ContainerContext, c: Container, body: ContainerUpdateBody): Promise<void> {
  const keys = UPDATABLE;
  const hc = c.rec.HostConfig as Record<string, unknown>;
  const next: Record<string, unknown> = { ...hc };
  for (const k of keys) {
    const v = body[k];
    if (v === undefined || v === null || v === 0 || v === '' || (Array.isArray(v) && !v.length)) continue;
    next[k] = v;
  }
  const rp = body.RestartPolicy;
  const policy = rp?.Name ? { Name: rp.Name, MaximumRetryCount: rp.MaximumRetryCount ?? 0 } : undefined;
  // moby checks the policy itself first (verifyContainerSettings, unwrapped), then the
  // container's limits and AutoRemove inside UpdateContainer, whose errors it wraps with the ID.
  if (policy) validateRestartPolicy(policy);
  // moby verifies the update's own limits first (verifyPlatformContainerResources; an update
  // may give --memory-swap alone), then compares them with the container's.
  const given = Object.fromEntries(keys.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]));
  if (!given.Memory) delete given.MemorySwap;
  validateResources(given as ResourceFields);
  refuseLimitsWithoutCgroups(ctx.rootless, given as ResourceFields);
  // A memory limit above the recorded swap total (create made it 2 × Memory; 0 without -m)
  // needs a new total in the same update (moby container.UpdateContainer, a 409).
  const memory = typeof body.Memory === 'number' ? body.Memory : 0;
  if (memory && !body.MemorySwap && memory > (typeof hc.MemorySwap === 'number' ? hc.MemorySwap : 0)) {
    throw new Conflict(`Cannot update container ${c.rec.Id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`);
  }
  if (policy) {
    if (c.rec.HostConfig.AutoRemove && !isNoRestart(policy)) {
      throw new InvalidParameter(`Cannot update container ${c.rec.Id}: Restart policy cannot be updated because AutoRemove is enabled for the container`);
    }
    next.RestartPolicy = policy;
  }
  validateResources(next as ResourceFields);
  if (c.rec.State.Running) {
    const res = ociResources(next as ResourceFields, blockDevice);
    await ctx.runtime.update(c.rec.Id, res).catch((err: Error) => {
      throw new InvalidParameter(`Cannot update container ${c.rec.Id}: ${err.message}`);
    });
  }
  Object.assign(hc, next);
  await ctx.store.persist(c);
}
