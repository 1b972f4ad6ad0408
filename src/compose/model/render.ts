// What `compose config` prints: the Project as Compose v2 marshals compose-go's types. Structs
// print their fields in compose-go's declaration order, maps with sorted keys; empty values are
// left out (Go's omitempty) except the few pointer fields Compose prints empty (`volume: {}`);
// sizes print as byte counts in strings (UnitBytes), file modes as octal strings (FileMode),
// extra_hosts as sorted `host=ip` lines (HostsList). env_file is not printed: its variables are
// already in `environment` (Compose's `config` discards it the same way).
//
// Also the list forms of `config` (--services, --volumes, --networks, --images, --profiles).

import { stringify } from 'yaml';
import { allProfiles } from './profiles.ts';
import type { Project, Service } from './types.ts';

type Dict = Record<string, unknown>;

// compose-go's field order per type.
const SERVICE = [
  'profiles', 'annotations', 'attach', 'build', 'develop', 'blkio_config', 'cap_add', 'cap_drop', 'cgroup_parent', 'cgroup',
  'cpu_count', 'cpu_percent', 'cpu_period', 'cpu_quota', 'cpu_rt_period', 'cpu_rt_runtime', 'cpus', 'cpuset', 'cpu_shares',
  'command', 'configs', 'container_name', 'credential_spec', 'depends_on', 'deploy', 'device_cgroup_rules', 'devices', 'dns',
  'dns_opt', 'dns_search', 'domainname', 'entrypoint', 'environment', 'expose', 'external_links', 'extra_hosts',
  'group_add', 'hostname', 'healthcheck', 'image', 'init', 'ipc', 'isolation', 'labels', 'links', 'logging', 'mem_limit',
  'mem_reservation', 'memswap_limit', 'mem_swappiness', 'mac_address', 'network_mode', 'networks', 'oom_kill_disable',
  'oom_score_adj', 'pid', 'pids_limit', 'platform', 'ports', 'privileged', 'pull_policy', 'read_only', 'restart', 'runtime',
  'scale', 'secrets', 'security_opt', 'shm_size', 'stdin_open', 'stop_grace_period', 'stop_signal', 'storage_opt', 'sysctls',
  'tmpfs', 'tty', 'ulimits', 'user', 'userns_mode', 'uts', 'volumes', 'volumes_from', 'working_dir',
];
const BUILD = [
  'context', 'dockerfile', 'dockerfile_inline', 'args', 'ssh', 'labels', 'cache_from', 'cache_to', 'no_cache',
  'additional_contexts', 'pull', 'extra_hosts', 'isolation', 'network', 'target', 'secrets', 'shm_size', 'tags', 'ulimits',
  'platforms', 'privileged',
];
const ORDER: Record<string, string[]> = {
  develop: ['watch'],
  watch: ['path', 'action', 'target', 'exec', 'include', 'ignore', 'initial_sync'],
  exec: ['command', 'user', 'privileged', 'working_dir', 'environment'],
  blkio_config: ['weight', 'weight_device', 'device_read_bps', 'device_read_iops', 'device_write_bps', 'device_write_iops'],
  depends_on: ['condition', 'restart', 'required'],
  deploy: ['mode', 'replicas', 'labels', 'update_config', 'rollback_config', 'resources', 'restart_policy', 'placement', 'endpoint_mode'],
  update_config: ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order'],
  resources: ['limits', 'reservations'],
  limits: ['cpus', 'memory', 'pids', 'devices', 'generic_resources'],
  restart_policy: ['condition', 'delay', 'max_attempts', 'window'],
  healthcheck: ['test', 'timeout', 'interval', 'retries', 'start_period', 'start_interval', 'disable'],
  logging: ['driver', 'options'],
  service_network: ['aliases', 'driver_opts', 'gw_priority', 'interface_name', 'ipv4_address', 'ipv6_address', 'link_local_ips', 'mac_address', 'priority'],
  port: ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'],
  volume_mount: ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image'],
  bind: ['selinux', 'propagation', 'create_host_path', 'recursive'],
  volume_opts: ['labels', 'nocopy', 'subpath'],
  tmpfs_opts: ['size', 'mode'],
  file_ref: ['source', 'target', 'uid', 'gid', 'mode'],
  device: ['source', 'target', 'permissions'],
  network: ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'attachable', 'labels', 'enable_ipv4', 'enable_ipv6'],
  ipam: ['driver', 'config', 'options'],
  pool: ['subnet', 'gateway', 'ip_range', 'aux_addresses'],
  volume: ['name', 'driver', 'driver_opts', 'external', 'labels'],
  file_object: ['name', 'file', 'environment', 'content', 'external', 'labels', 'driver', 'driver_opts', 'template_driver'],
};

/** Booleans Compose prints even when false (pointers, or fields without omitempty). */
const KEEP_FALSE = new Set(['attach', 'init', 'enable_ipv4', 'enable_ipv6', 'required', 'initial_sync']);
/** Numbers Compose prints even when 0 (pointers). */
const KEEP_ZERO = new Set(['scale', 'replicas', 'retries', 'max_attempts']);
/** Pointer-to-struct fields: printed as `{}` when empty. */
const KEEP_EMPTY = new Set(['volume', 'bind', 'tmpfs', 'image', 'logging', 'deploy', 'healthcheck', 'build', 'resources']);
/** UnitBytes fields: a byte count, printed as a string. */
const BYTES = new Set(['mem_limit', 'mem_reservation', 'memswap_limit', 'shm_size', 'memory', 'size', 'rate']);

function sortedMap(m: Dict, each: (v: unknown, k: string) => unknown = (v) => v): Dict {
  const out: Dict = {};
  for (const k of Object.keys(m).sort()) out[k] = each(m[k], k);
  return out;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

/** A struct in compose-go's order, empty fields left out; `conv` shapes each field's value. */
function struct(v: Dict, order: string[], conv: (k: string, x: unknown) => unknown = (k, x) => plain(k, x)): Dict {
  const out: Dict = {};
  for (const k of order) {
    if (!(k in v)) continue;
    const x = conv(k, v[k]);
    if (x === undefined) continue;
    if (x === false && !KEEP_FALSE.has(k)) continue;
    if (x === 0 && !KEEP_ZERO.has(k)) continue;
    if (isEmpty(x) && !(KEEP_EMPTY.has(k) && typeof x === 'object')) continue;
    out[k] = x;
  }
  for (const k of Object.keys(v).filter((k) => k.startsWith('x-')).sort()) out[k] = v[k];
  if (v.extensions !== undefined) Object.assign(out, sortedMap(v.extensions as Dict));
  return out;
}

/** A field's value by its name: sizes, modes, nested structs, maps sorted. */
function plain(k: string, x: unknown): unknown {
  if (x === undefined || x === null) return x;
  if (BYTES.has(k) && typeof x === 'number') return String(x);
  if (k === 'extra_hosts') {
    return Object.entries(x as Record<string, string[]>).flatMap(([h, ips]) => ips.map((ip) => `${h}=${ip}`)).sort();
  }
  if (k === 'ulimits') {
    return sortedMap(x as Dict, (u) => {
      const l = u as { single?: number; soft?: number; hard?: number };
      return l.single !== undefined ? l.single : { soft: l.soft, hard: l.hard };
    });
  }
  if (k === 'configs' || k === 'secrets') {
    // FileMode prints in octal; tmpfs's mode is a plain number.
    return (x as Dict[]).map((r) => struct(r, ORDER.file_ref!, (f, y) => (f === 'mode' && typeof y === 'number' ? `0${y.toString(8)}` : y)));
  }
  if (k === 'build') return struct(x as Dict, BUILD);
  if (k === 'develop') return struct(x as Dict, ORDER.develop!, (_, w) => (w as Dict[]).map((r) => struct(r, ORDER.watch!, (f, y) => (f === 'exec' ? struct(y as Dict, ORDER.exec!) : plain(f, y)))));
  if (k === 'depends_on') return sortedMap(x as Dict, (d) => struct(d as Dict, ORDER.depends_on!));
  if (k === 'deploy') {
    return struct(x as Dict, ORDER.deploy!, (f, y) => {
      if (f === 'update_config' || f === 'rollback_config') return struct(y as Dict, ORDER.update_config!);
      if (f === 'resources') {
        return struct(y as Dict, ORDER.resources!, (_, l) => struct(l as Dict, ORDER.limits!, (g, z) => (g === 'cpus' && typeof z === 'string' ? Number(z) : plain(g, z))));
      }
      if (f === 'restart_policy') return struct(y as Dict, ORDER.restart_policy!);
      return plain(f, y);
    });
  }
  if (k === 'devices' && Array.isArray(x)) return x.map((d) => (typeof d === 'object' && d !== null ? struct(d as Dict, ORDER.device!) : d));
  if (k === 'healthcheck') return struct(x as Dict, ORDER.healthcheck!);
  if (k === 'logging') return struct(x as Dict, ORDER.logging!);
  if (k === 'blkio_config') {
    // ThrottleDevice's rate is UnitBytes, for the iops lists too.
    return struct(x as Dict, ORDER.blkio_config!, (f, y) => (f === 'weight' ? y : (y as Dict[]).map((d) => struct(d, f === 'weight_device' ? ['path', 'weight'] : ['path', 'rate']))));
  }
  if (k === 'ports') return (x as Dict[]).map((p) => struct(p, ORDER.port!));
  if (k === 'ipam') {
    return struct(x as Dict, ORDER.ipam!, (f, y) => (f === 'config' ? (y as Dict[]).map((p) => struct(p, ORDER.pool!)) : plain(f, y)));
  }
  if (Array.isArray(x)) return x;
  if (typeof x === 'object') return sortedMap(x as Dict);
  return x;
}

function serviceOut(s: Service): Dict {
  return struct(s as unknown as Dict, SERVICE, (k, x) => {
    if (k === 'networks') {
      return sortedMap(x as Dict, (n) => (n === null ? null : struct(n as Dict, ORDER.service_network!)));
    }
    if (k === 'volumes') {
      return (x as Dict[]).map((v) => struct(v, ORDER.volume_mount!, (f, y) => {
        if (f === 'bind') return struct(y as Dict, ORDER.bind!);
        if (f === 'volume') return struct(y as Dict, ORDER.volume_opts!);
        if (f === 'tmpfs') return struct(y as Dict, ORDER.tmpfs_opts!);
        if (f === 'image') return struct(y as Dict, ['subpath']);
        return plain(f, y);
      }));
    }
    if (k === 'command' || k === 'entrypoint') return x === null ? undefined : x;
    return plain(k, x);
  });
}

/** The project as `config` prints it, as plain ordered objects. */
export function configDocument(project: Project): Dict {
  const doc: Dict = { name: project.name, services: sortedMap(project.services, (s) => serviceOut(s as Service)) };
  const top = (key: string, m: Record<string, unknown>, order: string[]) => {
    if (Object.keys(m).length > 0) doc[key] = sortedMap(m, (v) => struct(v as Dict, order));
  };
  top('networks', project.networks, ORDER.network!);
  top('volumes', project.volumes, ORDER.volume!);
  top('secrets', project.secrets, ORDER.file_object!);
  top('configs', project.configs, ORDER.file_object!);
  Object.assign(doc, sortedMap(project.extensions));
  return doc;
}

export interface RenderOptions {
  format: 'yaml' | 'json';
}

/** `compose config`'s output. */
export function renderConfig(project: Project, opts: RenderOptions): string {
  const doc = configDocument(project);
  if (opts.format === 'json') {
    // Compose marshals the project as a Go map there: top-level keys sorted.
    return `${JSON.stringify(sortedMap(doc), null, 2)}\n`;
  }
  return stringify(doc, { indent: 2, lineWidth: 0, minContentWidth: 0, nullStr: 'null', aliasDuplicateObjects: false });
}

/** `config --services`: the enabled services in dependency order (dependencies first). */
export function serviceNamesInDependencyOrder(project: Project): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || project.services[name] === undefined) return;
    seen.add(name);
    for (const dep of Object.keys(project.services[name]!.depends_on ?? {}).sort()) visit(dep);
    out.push(name);
  };
  for (const name of Object.keys(project.services).sort()) visit(name);
  return out;
}

/** The one-per-line forms of `config`. */
export function renderConfigList(project: Project, what: 'services' | 'volumes' | 'networks' | 'images' | 'profiles'): string {
  let lines: string[];
  switch (what) {
    case 'services': lines = serviceNamesInDependencyOrder(project); break;
    case 'volumes': lines = Object.keys(project.volumes).sort(); break;
    case 'networks': lines = Object.keys(project.networks).sort(); break;
    case 'profiles': lines = allProfiles(project); break;
    case 'images':
      lines = Object.keys(project.services).sort().map((n) => project.services[n]!.image ?? `${project.name}-${n}`);
      break;
  }
  return lines.map((l) => `${l}\n`).join('');
}
