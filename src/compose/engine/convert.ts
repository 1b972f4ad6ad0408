// A service of the model → the body of POST /containers/create, field by field as Compose v2's
// getCreateConfigs maps them. Pure: the caller supplies what needs the engine (the containers of
// the services this one refers to, the image's ID, the API version) and does the creating.
// Fields a single engine cannot honour go to warn(), never silently.
import type * as Api from '../../types/engine-api.ts';
import { ComposeError, type Project, type Service, type ServiceVolume } from '../model/types.ts';
import { durationNs, durationSeconds } from './duration.ts';
import { containerLabels, IMAGE } from './labels.ts';

/** A container of another service that this one refers to (network_mode, volumes_from, links). */
export interface PeerContainer { id: string; name: string }

export interface ConvertOptions {
  /** the container's name (`shop-web-1`) */
  name: string;
  number: number;
  oneoff: boolean;
  hash: string;
  /** the image's ID, for the com.docker.compose.image label */
  imageId?: string;
  /** API ≥ 1.44: every network in one create, else only the primary and connect the rest after */
  multiEndpoint: boolean;
  /** false for one-off containers unless `run --use-aliases` (Compose gives them no service alias) */
  aliases?: boolean;
  /** the running containers of the other services, by service name */
  peers: Record<string, PeerContainer[]>;
  /** --env-file paths, for the environment_file label */
  envFiles?: string[];
  warn(text: string): void;
}

export interface Converted {
  body: Api.ContainerCreateBody;
  /** networks to connect after create (only when !multiEndpoint), in order */
  connect: { network: string; endpoint: Api.EndpointSettings }[];
  /** secrets/configs whose content goes into the container after create (PUT /archive) */
  files: InjectedFile[];
}

export interface InjectedFile { path: string; data: Buffer; mode: number; uid: number; gid: number }

/** `<project>-<service>` unless the service names its image, as Compose v2's GetImageNameOrDefault. */
export function imageName(project: Project, s: Service): string {
  return s.image ?? `${project.name}-${s.name}`;
}

/** The network key a service joins first: highest priority, then by name (Compose's order). */
export function sortedNetworks(s: Service): string[] {
  const nets = s.networks ?? {};
  return Object.keys(nets).sort((a, b) => ((nets[b]?.priority ?? 0) - (nets[a]?.priority ?? 0)) || (a < b ? -1 : a > b ? 1 : 0));
}

export function networkName(project: Project, key: string): string {
  return project.networks[key]?.name ?? `${project.name}_${key}`;
}

export function volumeName(project: Project, key: string): string {
  return project.volumes[key]?.name ?? key;
}

/** The environment list: a null value is taken from the project environment, or dropped when that lacks it. */
export function envList(project: Project, s: Service): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(s.environment ?? {})) {
    const value = v ?? project.environment[k];
    if (value !== undefined) out.push(`${k}=${value}`);
  }
  return out;
}

function healthcheck(h: Service['healthcheck']): Api.HealthConfig | undefined {
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  const c: Api.HealthConfig = {};
  if (h.test) c.Test = h.test;
  if (h.interval) c.Interval = durationNs(h.interval);
  if (h.timeout) c.Timeout = durationNs(h.timeout);
  if (h.start_period) c.StartPeriod = durationNs(h.start_period);
  if (h.start_interval) c.StartInterval = durationNs(h.start_interval);
  if (h.retries !== undefined) c.Retries = h.retries;
  return c;
}

function restartPolicy(s: Service): Api.RestartPolicy | undefined {
  if (s.restart) {
    const [name, count] = s.restart.split(':');
    if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(name!)) throw new ComposeError(`invalid restart policy: unknown policy '${name}'`);
    return { Name: name as Api.RestartPolicy['Name'], ...(count ? { MaximumRetryCount: Number(count) } : {}) };
  }
  const rp = s.deploy?.restart_policy;
  if (!rp) return undefined;
  const names: Record<string, Api.RestartPolicy['Name']> = { none: 'no', any: 'always', 'on-failure': 'on-failure' };
  const name = names[rp.condition ?? 'any'];
  if (!name) throw new ComposeError(`invalid restart policy: unknown condition '${rp.condition}'`);
  return { Name: name, ...(rp.max_attempts !== undefined ? { MaximumRetryCount: rp.max_attempts } : {}) };
}

/** `8080-8081` or `3000/udp`: the exposed port keys of one expose entry. */
function exposeKeys(e: string): string[] {
  const [range, proto = 'tcp'] = e.split('/');
  const [a, b = a] = range!.split('-').map(Number);
  const out: string[] = [];
  for (let p = a!; p <= b!; p++) out.push(`${p}/${proto}`);
  return out;
}

function ports(s: Service, config: Api.ContainerConfig, host: Api.HostConfig): void {
  const exposed: Record<string, Record<string, never>> = {};
  for (const e of s.expose ?? []) for (const k of exposeKeys(String(e))) exposed[k] = {};
  const bindings: Api.PortMap = {};
  for (const p of s.ports ?? []) {
    const key = `${p.target}/${p.protocol || 'tcp'}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  }
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  if (Object.keys(bindings).length) host.PortBindings = bindings;
}

function bindString(source: string, v: ServiceVolume): string {
  const opts = [v.read_only ? 'ro' : 'rw'];
  if (v.bind?.selinux) opts.push(v.bind.selinux);
  if (v.bind?.propagation) opts.push(v.bind.propagation);
  if (v.volume?.nocopy) opts.push('nocopy');
  return `${source}:${v.target}:${opts.join(',')}`;
}

/**
 * Volumes as Compose sends them: a plain bind or named volume goes in Binds (the bind API creates a
 * missing host directory, the mount API does not), one with an option only the mount API has
 * (create_host_path: false, propagation, nocopy, subpath) and anonymous volumes, tmpfs and
 * image mounts go in Mounts.
 */
function volumes(project: Project, s: Service, host: Api.HostConfig, warn: (t: string) => void): void {
  const binds: string[] = [];
  const mounts: Api.Mount[] = [];
  for (const v of s.volumes ?? []) {
    switch (v.type) {
      case 'bind': {
        const needsMount = v.bind?.create_host_path === false || !!v.bind?.propagation;
        if (!needsMount) { binds.push(bindString(v.source!, v)); break; }
        mounts.push({
          Type: 'bind', Source: v.source, Target: v.target, ReadOnly: v.read_only || undefined,
          BindOptions: { ...(v.bind?.propagation ? { Propagation: v.bind.propagation as 'private' } : {}), ...(v.bind?.create_host_path ? { CreateMountpoint: true } : {}) },
        });
        break;
      }
      case 'volume': {
        if (v.source && !v.volume?.nocopy && !v.volume?.subpath) { binds.push(bindString(volumeName(project, v.source), v)); break; }
        mounts.push({
          Type: 'volume', Target: v.target, ...(v.source ? { Source: volumeName(project, v.source) } : {}), ReadOnly: v.read_only || undefined,
          ...(v.volume ? { VolumeOptions: { ...(v.volume.nocopy ? { NoCopy: true } : {}), ...(v.volume.subpath ? { Subpath: v.volume.subpath } : {}) } } : {}),
        });
        break;
      }
      case 'tmpfs':
        mounts.push({ Type: 'tmpfs', Target: v.target, ReadOnly: v.read_only || undefined, ...(v.tmpfs ? { TmpfsOptions: { ...(v.tmpfs.size ? { SizeBytes: v.tmpfs.size } : {}), ...(v.tmpfs.mode !== undefined ? { Mode: v.tmpfs.mode } : {}) } } : {}) });
        break;
      case 'image':
        mounts.push({ Type: 'image' as Api.Mount['Type'], Source: v.source, Target: v.target, ReadOnly: v.read_only || undefined, ...(v.image?.subpath ? { ImageOptions: { Subpath: v.image.subpath } } : {}) });
        break;
      default:
        warn(`services.${s.name}.volumes: type "${v.type}" is not supported by a single engine: ${v.target} ignored`);
    }
  }
  if (binds.length) host.Binds = binds;
  if (mounts.length) host.Mounts = mounts;
}

/** Secrets and configs: a file becomes a read-only bind; environment or inline content is copied in after create. */
function fileRefs(project: Project, s: Service, host: Api.HostConfig, files: InjectedFile[], warn: (t: string) => void): void {
  const kinds = [
    { kind: 'secrets' as const, refs: s.secrets ?? [], defs: project.secrets, dir: '/run/secrets/' },
    { kind: 'configs' as const, refs: s.configs ?? [], defs: project.configs, dir: '/' },
  ];
  for (const { kind, refs, defs, dir } of kinds) {
    for (const ref of refs) {
      const def = defs[ref.source];
      if (!def) throw new ComposeError(`service "${s.name}" refers to undefined ${kind.slice(0, -1)} ${ref.source}: invalid compose project`);
      const target = ref.target ? (ref.target.startsWith('/') ? ref.target : `${dir}${ref.target}`) : `${dir}${ref.source}`;
      if (def.external) { warn(`services.${s.name}.${kind}.${ref.source}: external ${kind} are a Swarm feature: ignored`); continue; }
      if (def.file) {
        if (ref.uid || ref.gid || ref.mode !== undefined) warn(`services.${s.name}.${kind}.${ref.source}: uid, gid and mode are not supported for a file-based ${kind.slice(0, -1)}: ignored`);
        (host.Mounts ??= []).push({ Type: 'bind', Source: def.file, Target: target, ReadOnly: true });
        continue;
      }
      const value = def.environment !== undefined ? project.environment[def.environment] : def.content;
      if (value === undefined) throw new ComposeError(`environment variable "${def.environment}" required by ${kind.slice(0, -1)} "${ref.source}" is not set`);
      files.push({ path: target, data: Buffer.from(value), mode: ref.mode ?? 0o444, uid: Number(ref.uid ?? 0), gid: Number(ref.gid ?? 0) });
    }
  }
}

function endpoint(s: Service, key: string, aliases: boolean): Api.EndpointSettings {
  const n = s.networks?.[key] ?? {};
  const e: Api.EndpointSettings = {};
  const names = [...(aliases ? [s.name] : []), ...(n.aliases ?? [])];
  if (names.length) e.Aliases = names;
  if (n.ipv4_address || n.ipv6_address || n.link_local_ips?.length) {
    e.IPAMConfig = { ...(n.ipv4_address ? { IPv4Address: n.ipv4_address } : {}), ...(n.ipv6_address ? { IPv6Address: n.ipv6_address } : {}), ...(n.link_local_ips?.length ? { LinkLocalIPs: n.link_local_ips } : {}) };
  }
  const mac = n.mac_address ?? (sortedNetworks(s)[0] === key ? s.mac_address : undefined);
  if (mac) e.MacAddress = mac;
  if (n.driver_opts) e.DriverOpts = n.driver_opts;
  if (n.gw_priority) e.GwPriority = n.gw_priority;
  return e;
}

/** `service:x` → `container:<x's first container>`; other modes as written. */
function networkMode(s: Service, peers: Record<string, PeerContainer[]>): string | undefined {
  const m = s.network_mode;
  if (!m?.startsWith('service:')) return m;
  const svc = m.slice('service:'.length);
  const c = peers[svc]?.[0];
  if (!c) throw new ComposeError(`service "${s.name}" depends on service "${svc}" for its network, which has no container`);
  return `container:${c.id}`;
}

function unsupported(s: Service, warn: (t: string) => void): void {
  const w = (field: string, why = 'is not supported by a single engine: ignored'): void => warn(`services.${s.name}.${field} ${why}`);
  if (s.deploy?.placement) w('deploy.placement');
  if (s.deploy?.mode && s.deploy.mode !== 'replicated') w('deploy.mode', `"${s.deploy.mode}" is not supported by a single engine: running it as replicated`);
  if (s.deploy?.update_config) w('deploy.update_config');
  if (s.deploy?.rollback_config) w('deploy.rollback_config');
  if (s.deploy?.endpoint_mode) w('deploy.endpoint_mode');
  if (s.deploy?.resources?.reservations?.cpus) w('deploy.resources.reservations.cpus');
  if (s.deploy?.resources?.reservations?.devices?.length) w('deploy.resources.reservations.devices', 'is not supported by Berth (no device requests): ignored');
  if (s.isolation && s.isolation !== 'default') w('isolation', `"${s.isolation}" is a Windows feature: ignored`);
  if (s.cpu_count !== undefined) w('cpu_count', 'is a Windows feature: ignored');
  if (s.cpu_percent !== undefined) w('cpu_percent', 'is a Windows feature: ignored');
  if (s.external_links?.length) w('external_links', 'are not supported: ignored');
}

export function toCreateBody(project: Project, s: Service, o: ConvertOptions): Converted {
  unsupported(s, o.warn);
  const config: Api.ContainerConfig = {
    Image: imageName(project, s),
    AttachStdout: true,
    AttachStderr: true,
    Labels: { ...containerLabels(project, s, o.number, o.oneoff, o.hash, o.envFiles), ...(o.imageId ? { [IMAGE]: o.imageId } : {}) },
  };
  if (s.hostname) config.Hostname = s.hostname;
  if (s.domainname) config.Domainname = s.domainname;
  if (s.user) config.User = s.user;
  if (s.working_dir) config.WorkingDir = s.working_dir;
  if (s.command) config.Cmd = s.command;
  if (s.entrypoint) config.Entrypoint = s.entrypoint;
  const env = envList(project, s);
  if (env.length) config.Env = env;
  if (s.tty) config.Tty = true;
  if (s.stdin_open) config.OpenStdin = true;
  if (s.stop_signal) config.StopSignal = s.stop_signal;
  if (s.stop_grace_period) config.StopTimeout = durationSeconds(s.stop_grace_period);
  const hc = healthcheck(s.healthcheck);
  if (hc) config.Healthcheck = hc;
  if (s.network_mode === 'disabled') config.NetworkDisabled = true;

  const host: Api.HostConfig = {};
  ports(s, config, host);
  volumes(project, s, host, o.warn);
  for (const t of s.tmpfs ?? []) {
    const i = t.indexOf(':');
    (host.Tmpfs ??= {})[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }
  const rp = restartPolicy(s);
  if (rp) host.RestartPolicy = rp;

  // resources: the service-level fields, then deploy.resources, which Compose lets win
  if (s.cpus) host.NanoCpus = Math.round(s.cpus * 1e9);
  if (s.cpu_shares !== undefined) host.CpuShares = s.cpu_shares;
  if (s.cpu_period !== undefined) host.CpuPeriod = s.cpu_period;
  if (s.cpu_quota !== undefined) host.CpuQuota = s.cpu_quota;
  if (s.cpu_rt_period !== undefined) host.CpuRealtimePeriod = s.cpu_rt_period;
  if (s.cpu_rt_runtime !== undefined) host.CpuRealtimeRuntime = s.cpu_rt_runtime;
  if (s.cpuset) host.CpusetCpus = s.cpuset;
  if (s.mem_limit !== undefined) host.Memory = s.mem_limit;
  if (s.mem_reservation !== undefined) host.MemoryReservation = s.mem_reservation;
  if (s.memswap_limit !== undefined) host.MemorySwap = s.memswap_limit;
  if (s.mem_swappiness !== undefined) host.MemorySwappiness = s.mem_swappiness;
  if (s.oom_kill_disable) host.OomKillDisable = true;
  if (s.pids_limit !== undefined) host.PidsLimit = s.pids_limit;
  const limits = s.deploy?.resources?.limits;
  if (limits?.cpus) host.NanoCpus = Math.round(Number(limits.cpus) * 1e9);
  if (limits?.memory) host.Memory = limits.memory;
  if (limits?.pids) host.PidsLimit = limits.pids;
  const reserv = s.deploy?.resources?.reservations;
  if (reserv?.memory) host.MemoryReservation = reserv.memory;
  const b = s.blkio_config;
  if (b) {
    if (b.weight !== undefined) host.BlkioWeight = b.weight;
    if (b.weight_device) host.BlkioWeightDevice = b.weight_device.map((d) => ({ Path: d.path, Weight: d.weight }));
    const rates = (l?: { path: string; rate: number }[]) => l?.map((d) => ({ Path: d.path, Rate: d.rate }));
    if (b.device_read_bps) host.BlkioDeviceReadBps = rates(b.device_read_bps);
    if (b.device_write_bps) host.BlkioDeviceWriteBps = rates(b.device_write_bps);
    if (b.device_read_iops) host.BlkioDeviceReadIOps = rates(b.device_read_iops);
    if (b.device_write_iops) host.BlkioDeviceWriteIOps = rates(b.device_write_iops);
  }
  if (s.device_cgroup_rules?.length) host.DeviceCgroupRules = s.device_cgroup_rules;
  if (s.devices?.length) host.Devices = s.devices.map((d) => ({ PathOnHost: d.source, PathInContainer: d.target ?? d.source, CgroupPermissions: d.permissions ?? 'rwm' }));
  if (s.ulimits) host.Ulimits = Object.entries(s.ulimits).map(([Name, u]) => ({ Name, Soft: u.single ?? u.soft, Hard: u.single ?? u.hard }));

  if (s.init !== undefined) host.Init = s.init;
  if (s.read_only) host.ReadonlyRootfs = true;
  if (s.privileged) host.Privileged = true;
  if (s.cap_add?.length) host.CapAdd = s.cap_add;
  if (s.cap_drop?.length) host.CapDrop = s.cap_drop;
  if (s.security_opt?.length) host.SecurityOpt = s.security_opt;
  if (s.sysctls) host.Sysctls = s.sysctls;
  if (s.shm_size !== undefined) host.ShmSize = s.shm_size;
  if (s.storage_opt) host.StorageOpt = s.storage_opt;
  if (s.annotations) host.Annotations = s.annotations;
  if (s.logging?.driver || s.logging?.options) host.LogConfig = { Type: (s.logging.driver ?? '') as 'json-file', Config: s.logging.options ?? {} };
  if (s.extra_hosts) host.ExtraHosts = Object.entries(s.extra_hosts).flatMap(([h, ips]) => ips.map((ip) => `${h}:${ip}`));
  if (s.dns?.length) host.Dns = s.dns;
  if (s.dns_search?.length) host.DnsSearch = s.dns_search;
  if (s.dns_opt?.length) host.DnsOptions = s.dns_opt;
  if (s.pid) host.PidMode = s.pid;
  if (s.ipc) host.IpcMode = s.ipc;
  if (s.uts) host.UTSMode = s.uts;
  if (s.userns_mode) host.UsernsMode = s.userns_mode;
  if (s.cgroup) host.CgroupnsMode = s.cgroup;
  if (s.cgroup_parent) host.CgroupParent = s.cgroup_parent;
  if (s.group_add?.length) host.GroupAdd = s.group_add;
  if (s.oom_score_adj !== undefined) host.OomScoreAdj = s.oom_score_adj;
  if (s.runtime) host.Runtime = s.runtime;
  if (s.volumes_from?.length) {
    host.VolumesFrom = s.volumes_from.map((v) => {
      if (v.startsWith('container:')) return v.slice('container:'.length);
      const [svc, mode] = v.split(':');
      const c = o.peers[svc!]?.[0];
      if (!c) throw new ComposeError(`service "${s.name}" takes volumes from service "${svc}", which has no container`);
      return mode ? `${c.name}:${mode}` : c.name;
    });
  }
  if (s.links?.length) {
    host.Links = s.links.flatMap((l) => {
      const [svc, alias = svc] = l.split(':');
      return (o.peers[svc!] ?? []).map((c) => `${c.name}:${alias}`);
    });
  }
  const files: InjectedFile[] = [];
  fileRefs(project, s, host, files, o.warn);

  const connect: Converted['connect'] = [];
  const body: Api.ContainerCreateBody = { ...config, HostConfig: host };
  const mode = networkMode(s, o.peers);
  if (mode !== undefined) {
    host.NetworkMode = mode === 'disabled' ? 'none' : mode;
  } else {
    const keys = sortedNetworks(s);
    if (keys.length) {
      host.NetworkMode = networkName(project, keys[0]!);
      const endpoints: Record<string, Api.EndpointSettings> = {};
      for (const [i, k] of keys.entries()) {
        const e = endpoint(s, k, o.aliases ?? !o.oneoff);
        if (i === 0 || o.multiEndpoint) endpoints[networkName(project, k)] = e;
        else connect.push({ network: networkName(project, k), endpoint: e });
      }
      body.NetworkingConfig = { EndpointsConfig: endpoints };
    }
  }
  return { body, connect, files };
}
