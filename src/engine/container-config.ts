// Decodes the body of `POST /containers/create` the way dockerd's Go decoder does: unknown
// fields are ignored, `null` is the zero value, and a field of the wrong type is a 400.
// Transitional (issue 17): the API decodes the body first (api/decode/containers.ts, the one
// validator, with the resource limits' type checks); ContainerService.create still decodes
// what it is given with this copy, which is harmless on a decoded body. This file goes when
// create takes the decoded type.
import { z } from 'zod';
import { InvalidParameter } from '../errors.ts';
import { hostConfigFields } from '../types/go-wire-types.ts';

/** strslice.StrSlice: a JSON string or an array of strings. */
const strSlice = z.union([z.string().transform((s) => [s]), z.array(z.string())]).nullish();
const strMap = z.record(z.string(), z.string()).nullish();
const int = z.number().int().nullish();

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
}).loose();

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

export type CreateBody = z.infer<typeof createBodySchema>;
export type HostConfigInput = z.infer<typeof hostConfigSchema>;

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

/** Parses with a schema and turns the first zod issue into a 400 naming the field, as Go's decoder does. */
export function decode<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(foldKeys(schema, value));
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || what;
  throw new InvalidParameter(`json: cannot unmarshal ${what} field ${field}: ${issue.message}`);
}

/**
 * Go's encoding/json matches object keys case-insensitively when no key matches exactly:
 * docker-py sends exec create's `detachKeys` in lower camel case, and dockerd takes it as
 * DetachKeys, and HostConfig's CPURealtimePeriod, which dockerd takes as CpuRealtimePeriod. The
 * keys an object schema lists are folded the same way here, in nested object schemas too.
 */
function foldKeys(schema: z.ZodType, value: unknown): unknown {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  if (!(s instanceof z.ZodObject) || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const shape = s.shape as Record<string, z.ZodType>;
  const names = Object.keys(shape);
  const out: Record<string, unknown> = {};
  let changed = false;
  for (const [k, v] of Object.entries(value)) {
    let name = k;
    if (!names.includes(k)) {
      const folded = names.find((n) => n.toLowerCase() === k.toLowerCase());
      if (folded && !(folded in value)) { name = folded; changed = true; }
    }
    const inner = shape[name] ? foldKeys(shape[name]!, v) : v;
    if (inner !== v) changed = true;
    out[name] = inner;
  }
  return changed ? out : value;
}
