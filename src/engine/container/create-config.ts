// Create-time merging (moby daemon/create.go and daemon/commit.go merge()): the client's Config
// over the image's (command, env, user, working dir, volumes, labels, health check, stop
// signal), and the HostConfig as recorded, the client's fields with dockerd's defaults for what
// it left out and the daemon's (default-ulimits, log driver). What create refuses here it
// refuses before anything is made: no command, a bad stop signal, a restart policy on an
// AutoRemove container.
import { hostname } from 'node:os';
import { InvalidParameter } from '../../errors.ts';
import { resolveLogConfig } from '../../runtime/log-rotation.ts';
import type { ContainerCreateBody, HostConfig } from '../../types/engine-api.ts';
import type { ContainerConfig, ContainerRecord } from './record.ts';
import { mergeHealthcheck, type HealthConfig } from './health-config.ts';
import { recordedHostConfig } from './host-config.ts';
import { mergeConfigEnv } from './process-env.ts';
import { isNoRestart, validateRestartPolicy } from './restart-policy.ts';
import { parseSignal } from './signals.ts';

/** The image's config (`config` of its OCI image config), as merge() reads it. */
type ImageConfig = Record<string, unknown>;

export type Ulimit = { Name: string; Soft: number; Hard: number };

function mergeUlimits(own: Ulimit[] | null | undefined, defaults: Ulimit[] | undefined): Ulimit[] | null {
  const out = [...(own ?? [])];
  for (const d of defaults ?? []) if (!out.some((u) => u.Name === d.Name)) out.push(d);
  // A list the client sent stays a list, [] included; none sent and no defaults stays null (as dockerd keeps it).
  return out.length || own ? out : null;
}

/** The entrypoint and command the container runs: the client's, else the image's; none is a 400. */
export function mergeCommand(input: ContainerCreateBody, ic: ImageConfig): { entrypoint: string[] | null; cmd: string[] | null; argv: string[] } {
  let entrypoint = input.Entrypoint ?? null;
  // The Docker CLI sends `--entrypoint ""` as [""]: that resets the image's entrypoint (moby).
  if (entrypoint?.length === 1 && entrypoint[0] === '') entrypoint = [];
  let cmd = input.Cmd ?? null;
  if (entrypoint === null || entrypoint.length === 0) {
    if (entrypoint === null) entrypoint = (ic.Entrypoint as string[] | null | undefined) ?? null;
    else entrypoint = null; // --entrypoint "" resets the image's
    if (cmd === null || cmd.length === 0) cmd = (ic.Cmd as string[] | null | undefined) ?? null;
  }
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameter('No command specified');
  return { entrypoint, cmd, argv };
}

/** Config as recorded: the client's over the image's, with Docker's defaults. */
export function mergeConfig(input: ContainerCreateBody & { Image: string }, ic: ImageConfig, o: { id: string; networkMode: string; entrypoint: string[] | null; cmd: string[] | null }): ContainerConfig {
  const { id, networkMode, entrypoint, cmd } = o;
  // moby's merge: a name without a value stays in Config.Env (it unsets at start, see daemonEnvironment)
  const env = mergeConfigEnv(ic.Env as string[] | undefined, input.Env);
  const config: ContainerConfig = {
    ...input,
    // With the host's network Docker shows the host's name; otherwise the short ID.
    Hostname: input.Hostname || (networkMode === 'host' ? hostname() : id.slice(0, 12)),
    Domainname: input.Domainname ?? '',
    User: input.User || (ic.User as string | undefined) || '',
    AttachStdin: input.AttachStdin ?? false,
    AttachStdout: input.AttachStdout ?? false,
    AttachStderr: input.AttachStderr ?? false,
    Tty: input.Tty ?? false,
    OpenStdin: input.OpenStdin ?? false,
    StdinOnce: input.StdinOnce ?? false,
    Env: env,
    Cmd: cmd,
    Image: input.Image,
    // The image's VOLUMEs and the user's (`-v /path`) together (moby merge()); none is null there.
    Volumes: Object.keys({ ...(ic.Volumes as object | null | undefined), ...input.Volumes }).length ? { ...((ic.Volumes as object | null | undefined) ?? {}), ...(input.Volumes ?? {}) } : null,
    WorkingDir: input.WorkingDir || (ic.WorkingDir as string | undefined) || '',
    Entrypoint: entrypoint,
    OnBuild: input.OnBuild ?? null,
    Healthcheck: mergeHealthcheck(input.Healthcheck as HealthConfig | null | undefined, ic.Healthcheck as HealthConfig | null | undefined),
    Labels: { ...((ic.Labels as Record<string, string> | null | undefined) ?? {}), ...(input.Labels ?? {}) },
    // Published ports are exposed ports too (moby: daemon/create.go).
    ExposedPorts: exposedWith((input.ExposedPorts ?? ic.ExposedPorts) as Record<string, object> | undefined, input.HostConfig?.PortBindings),
    StopSignal: undefined,
    StopTimeout: undefined,
  };
  const stopSignal = input.StopSignal || (ic.StopSignal as string | undefined);
  if (stopSignal) { parseSignal(stopSignal); config.StopSignal = stopSignal; }
  if (input.StopTimeout !== null && input.StopTimeout !== undefined) config.StopTimeout = input.StopTimeout;
  delete config.HostConfig;
  delete config.NetworkingConfig;
  return config;
}

/** HostConfig as recorded: the namespace modes create decided, and the defaults. */
export function createHostConfig(
  given: HostConfig | null | undefined,
  modes: { NetworkMode: string; PidMode: string; IpcMode: string; UTSMode: string },
  daemon: { defaultUlimits: Ulimit[] | undefined; log: { driver?: string; opts?: Record<string, string> } },
): ContainerRecord['HostConfig'] {
  const hc = given ?? {};
  const networkMode = modes.NetworkMode;
  const nsModes = modes;
  // Kept as the client sent it, with dockerd's defaults for what it left out (host-config.ts).
  const hostConfig = recordedHostConfig(given as Record<string, unknown> | null | undefined, {
    NetworkMode: networkMode,
    PidMode: nsModes.PidMode, IpcMode: nsModes.IpcMode, UTSMode: nsModes.UTSMode,
    // moby adaptContainerSettings: 0 means the default /dev/shm size; Berth makes no cgroup
    // namespaces, which is what dockerd's "host" (its default on cgroup v1) means.
    ShmSize: hc.ShmSize || 64 * 1024 * 1024, CgroupnsMode: (hc as { CgroupnsMode?: string | null }).CgroupnsMode || 'host',
    RestartPolicy: { Name: hc.RestartPolicy?.Name ?? '', MaximumRetryCount: hc.RestartPolicy?.MaximumRetryCount ?? 0 },
    AutoRemove: hc.AutoRemove ?? false,
    // daemon.json default-ulimits fill the kinds the container does not set (moby mergeUlimits).
    Ulimits: mergeUlimits((hc as { Ulimits?: Ulimit[] | null }).Ulimits, daemon.defaultUlimits),
    LogConfig: resolveLogConfig(hc.LogConfig, daemon.log),
  }) as unknown as ContainerRecord['HostConfig'];
  if (!isNoRestart(hostConfig.RestartPolicy) && hostConfig.AutoRemove) {
    throw new InvalidParameter(`can't create 'AutoRemove' container with restart policy`);
  }
  validateRestartPolicy(hostConfig.RestartPolicy);
  return hostConfig;
}

function exposedWith(exposed: Record<string, object> | undefined, bindings: Record<string, unknown> | null | undefined): Record<string, object> | undefined {
  const keys = Object.keys(bindings ?? {});
  if (!keys.length) return exposed;
  const out = { ...(exposed ?? {}) };
  for (const k of keys) out[k.includes('/') ? k : `${k}/tcp`] = {};
  return out;
}
