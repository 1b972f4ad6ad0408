// The bodies of `POST /containers/create` and `/containers/{id}/update`, decoded the way
// dockerd's Go decoder does: unknown fields are ignored, `null` is the zero value, and a field of
// the wrong type is a 400. readGoJson has walked the body against Go's types already; these
// schemas give the engine its typed input and refuse what JavaScript cannot hold as Go does
// (resource limits beyond 2^53), with Go's texts.
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { hostConfigFields, containerConfigWrapper, updateConfig } from '../../types/go-wire-types.ts';
import { readGoJson } from '../respond.ts';
import { versionLess } from '../version.ts';
import { InvalidParameter } from '../../errors.ts';
import type { ContainerCreateBody, ContainerUpdateBody } from '../../types/engine-api.ts';
import { decode, strSlice, strMap, int } from './zod.ts';

/** Refuses what dockerd refuses (daemon/daemon_unix.go verifyPlatformContainerResources). */
const INT_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'PidsLimit', 'BlkioWeight', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'KernelMemory', 'ShmSize'] as const;
const STRING_FIELDS = ['CpusetCpus', 'CpusetMems'] as const;
const DEVICE_RATE_FIELDS = ['BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'] as const;

/**
 * The JSON types of the resource limits (Go's decoder would refuse a wrong one): a string
 * CpuShares must not reach runc. The text is Go's, for HostConfig and UpdateConfig alike (as
 * resources.ts words it). Returns the first refusal, or undefined.
 */
export function resourceTypeError(r: Record<string, unknown>): string | undefined {
  const bad = (f: string, want: string, v: unknown): string =>
    `json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field HostConfig.${f} of type ${want}`;
  for (const f of INT_FIELDS) {
    const v = r[f];
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isSafeInteger(v))) return bad(f, 'int64', v);
  }
  for (const f of STRING_FIELDS) {
    const v = r[f];
    if (v !== undefined && v !== null && typeof v !== 'string') return bad(f, 'string', v);
  }
  if (r.OomKillDisable !== undefined && r.OomKillDisable !== null && typeof r.OomKillDisable !== 'boolean') return bad('OomKillDisable', 'bool', r.OomKillDisable);
  for (const f of DEVICE_RATE_FIELDS) {
    const v = r[f];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.some((d) => !d || typeof d !== 'object' || typeof (d as { Path?: unknown }).Path !== 'string' || !Number.isSafeInteger((d as { Rate?: unknown }).Rate))) return bad(f, '[]*blkiodev.ThrottleDevice', v);
  }
  const u = r.Ulimits;
  if (u !== undefined && u !== null && (!Array.isArray(u) || u.some((x) => !x || typeof x !== 'object' || typeof (x as { Name?: unknown }).Name !== 'string' || !Number.isSafeInteger((x as { Soft?: unknown }).Soft) || !Number.isSafeInteger((x as { Hard?: unknown }).Hard)))) {
    return bad('Ulimits', '[]*units.Ulimit', u);
  }
  return undefined;
}

/** The resource limits' type check as a zod refinement; decode() answers its issue with the Go text alone. */
function checkResourceTypes(v: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const goText = resourceTypeError(v);
  if (goText) ctx.addIssue({ code: 'custom', message: goText, params: { goText } });
}

const restartPolicy = z.object({
  Name: z.string().nullish(),
  MaximumRetryCount: int,
}).loose().nullish();

export const hostConfigSchema = z.object({
  Binds: z.array(z.string()).nullish(),
  Mounts: z.array(z.record(z.string(), z.unknown())).nullish(),
  Tmpfs: strMap,
  VolumesFrom: z.array(z.string()).nullish(),
  NetworkMode: z.string().nullish(),
  PortBindings: z.record(z.string(), z.unknown()).nullish(),
  RestartPolicy: restartPolicy,
  AutoRemove: z.boolean().nullish(),
  CapAdd: z.array(z.string()).nullish(),
  CapDrop: z.array(z.string()).nullish(),
  Dns: z.array(z.string()).nullish(),
  DnsOptions: z.array(z.string()).nullish(),
  DnsSearch: z.array(z.string()).nullish(),
  ExtraHosts: z.array(z.string()).nullish(),
  IpcMode: z.string().nullish(),
  PidMode: z.string().nullish(),
  UTSMode: z.string().nullish(),
  Privileged: z.boolean().nullish(),
  ReadonlyRootfs: z.boolean().nullish(),
  ShmSize: int,
  Sysctls: strMap,
  OomScoreAdj: int,
  // listed so that docker-py's CPURealtimePeriod/CPURealtimeRuntime fold onto them (foldKeys)
  CpuRealtimePeriod: int,
  CpuRealtimeRuntime: int,
  ConsoleSize: z.array(z.number().int()).nullish(),
  Init: z.boolean().nullish(),
  LogConfig: z.object({ Type: z.string().nullish(), Config: strMap }).loose().nullish(),
}).loose().superRefine(checkResourceTypes);

export const configSchema = z.object({
  Hostname: z.string().nullish(),
  Domainname: z.string().nullish(),
  User: z.string().nullish(),
  AttachStdin: z.boolean().nullish(),
  AttachStdout: z.boolean().nullish(),
  AttachStderr: z.boolean().nullish(),
  ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
  Tty: z.boolean().nullish(),
  OpenStdin: z.boolean().nullish(),
  StdinOnce: z.boolean().nullish(),
  Env: z.array(z.string()).nullish(),
  Cmd: strSlice,
  Healthcheck: z.unknown().nullish(),
  ArgsEscaped: z.boolean().nullish(),
  Image: z.string().nullish(),
  Volumes: z.record(z.string(), z.unknown()).nullish(),
  WorkingDir: z.string().nullish(),
  Entrypoint: strSlice,
  NetworkDisabled: z.boolean().nullish(),
  OnBuild: z.array(z.string()).nullish(),
  Labels: strMap,
  StopSignal: z.string().nullish(),
  StopTimeout: int,
  Shell: strSlice,
}).loose();

export const createBodySchema = configSchema.extend({
  HostConfig: hostConfigSchema.nullish(),
  NetworkingConfig: z.object({ EndpointsConfig: z.record(z.string(), z.unknown()).nullish() }).loose().nullish(),
});

/** container.UpdateConfig: the resource limits and the restart policy. */
export const updateBodySchema = z.object({ RestartPolicy: restartPolicy }).loose().superRefine(checkResourceTypes);

const HOST_CONFIG_KEYS = new Map(Object.keys(hostConfigFields).map((k) => [k.toLowerCase(), k]));

/**
 * moby's ContainerConfigWrapper embeds a (deprecated) *HostConfig beside its own `HostConfig`
 * field, so a body without a HostConfig may carry HostConfig's fields at the top level, and
 * dockerd uses them (runconfig getHostConfig): docker-py sends `{"Runtime": "runc",
 * "HostConfig": null}` for `create_container(runtime=...)`. Such fields are moved into
 * HostConfig here; when the body has a HostConfig, the top-level ones are ignored, as there.
 */
export function liftEmbeddedHostConfig(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const b = body as Record<string, unknown>;
  const hasOwn = Object.keys(b).some((k) => k.toLowerCase() === 'hostconfig' && b[k] !== null);
  if (hasOwn) return body;
  const out: Record<string, unknown> = {};
  const hc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) {
    const name = HOST_CONFIG_KEYS.get(k.toLowerCase());
    if (name) hc[name] = v;
    else if (k.toLowerCase() !== 'hostconfig') out[k] = v;
  }
  if (!Object.keys(hc).length) return body;
  out.HostConfig = hc;
  return out;
}

/**
 * A create body as moby 27's router reads it for `apiVersion` (postContainersCreate): before 1.42
 * a bind's CreateMountpoint is ignored (it came with 1.42) and ConsoleSize is not respected.
 */
export function createBodyFor(body: unknown, apiVersion: string): unknown {
  if (!versionLess(apiVersion, '1.42') || !body || typeof body !== 'object') return body;
  const hc = (body as Record<string, unknown>).HostConfig as Record<string, unknown> | null | undefined;
  if (!hc || typeof hc !== 'object') return body;
  if (Array.isArray(hc.Mounts)) {
    for (const m of hc.Mounts as Record<string, unknown>[]) {
      const bo = m && typeof m === 'object' ? (m.BindOptions as Record<string, unknown> | null | undefined) : undefined;
      if (bo && typeof bo === 'object') delete bo.CreateMountpoint;
    }
  }
  if (hc.ConsoleSize !== undefined) hc.ConsoleSize = [0, 0];
  return body;
}

/**
 * `POST /containers/create`'s body, decoded: an empty body is the decoder's bare EOF, `null` an
 * empty config; then the API version's reading (createBodyFor), the embedded HostConfig's
 * fields lifted, and the schema.
 */
export async function readContainerCreate(req: IncomingMessage, apiVersion: string): Promise<ContainerCreateBody> {
  const body = await readGoJson(req, containerConfigWrapper, 'EOF');
  return decodeContainerCreate(body ?? {}, apiVersion);
}

// The decoders' output is the generated wire type, the engine's one input model: the schemas
// check (and normalise: a string Cmd becomes a list) the fields the engine reads, and
// readGoJson has walked every other field against Go's types already. One difference is Go's
// leniency, kept on purpose: a `null` the spec does not mark nullable (NetworkMode: null) stays
// null here, where Go would leave the zero value; the engine reads such fields with `??`/`||`.
export function decodeContainerCreate(body: unknown, apiVersion: string): ContainerCreateBody {
  const decoded = decode(createBodySchema, liftEmbeddedHostConfig(createBodyFor(body, apiVersion)), 'ContainerConfigWrapper') as ContainerCreateBody;
  // A container is created on several networks at once from API 1.44 (moby 25: Compose v2 sends
  // all of a service's networks in one create); before, one endpoint only, as moby's router says.
  const endpoints = Object.keys(decoded.NetworkingConfig?.EndpointsConfig ?? {});
  if (endpoints.length > 1 && versionLess(apiVersion, '1.44')) throw new InvalidParameter(`Container cannot be connected to network endpoints: ${endpoints.join(', ')}`);
  return decoded;
}

/**
 * `POST /containers/{id}/update`'s body. Its keys are not folded by case: the engine reads the
 * limits by their exact names (a `memory` key is ignored there, as it always was).
 */
export async function readContainerUpdate(req: IncomingMessage): Promise<ContainerUpdateBody> {
  const body = await readGoJson(req, updateConfig, 'EOF');
  return decodeContainerUpdate(body ?? {});
}

export function decodeContainerUpdate(body: unknown): ContainerUpdateBody {
  return decode(updateBodySchema, body, 'UpdateConfig', { foldCase: false }) as ContainerUpdateBody;
}
