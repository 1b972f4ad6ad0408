// Brings a validated raw Compose document to the typed Project, in Compose's normal form: the
// short syntaxes become their long forms (ports, volumes, depends_on, environment, env_file,
// extra_hosts, ulimits, command, healthcheck.test, build), sizes become bytes, durations Go's
// Duration strings, relative paths absolute (against the project directory, `~` the home), and
// the defaults Compose adds are added (the `default` network, resource names). `config` prints
// this model as it is; the engine converts only this model.
//
// Validation ran first, so shapes are known here; what is still checked is what the schema
// cannot say (a port spec's syntax, a size's unit).

import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ramInBytes } from '../../util/go-units.ts';
import { readEnvFile } from './env-file.ts';
import { normalizeDuration } from './go-duration.ts';
import { splitShellWords } from './shellwords.ts';
import {
  ComposeError,
  type Build, type Deploy, type DependsOn, type Device, type EnvFile, type Healthcheck, type MappingWithNull, type Network,
  type PortConfig, type Project, type RawProject, type SecretOrConfig, type Service, type ServiceFileRef,
  type ServiceNetwork, type ServiceVolume, type Ulimit, type Volume, type WatchRule,
} from './types.ts';

type Dict = Record<string, unknown>;

const asDict = (v: unknown): Dict => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Dict) : {});

/** The raw document → the Project, all services enabled (profiles come after). */
export function normalizeProject(raw: RawProject): Project {
  const dict = raw.dict;
  const ctx: Ctx = { raw, home: raw.environment.HOME ?? homedir() };
  const services: Record<string, Service> = {};
  for (const [name, s] of Object.entries(asDict(dict.services))) {
    if (name.startsWith('x-')) continue;
    services[name] = normalizeService(ctx, name, asDict(s));
  }
  const networks: Record<string, Network> = {};
  for (const [key, n] of Object.entries(asDict(dict.networks))) {
    if (!key.startsWith('x-')) networks[key] = normalizeNetwork(raw.name, key, asDict(n));
  }
  const usesDefault = Object.values(services).some((s) => s.networks !== undefined && 'default' in s.networks);
  if (usesDefault && networks.default === undefined) networks.default = { name: `${raw.name}_default` };
  const volumes: Record<string, Volume> = {};
  for (const [key, v] of Object.entries(asDict(dict.volumes))) {
    if (!key.startsWith('x-')) volumes[key] = normalizeVolume(raw.name, key, asDict(v));
  }
  return {
    name: raw.name,
    workingDir: raw.workingDir,
    configFiles: raw.configFiles,
    services,
    disabledServices: {},
    networks,
    volumes,
    secrets: fileObjects(ctx, asDict(dict.secrets)),
    configs: fileObjects(ctx, asDict(dict.configs)),
    extensions: extensionsOf(dict) ?? {},
    environment: raw.environment,
    profiles: [],
  };
}

interface Ctx {
  raw: RawProject;
  home: string;
}

// ---- scalars ---------------------------------------------------------------------------------

function str(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

function bool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).toLowerCase();
  if (['true', 'yes', 'y', 'on', '1'].includes(s)) return true;
  if (['false', 'no', 'n', 'off', '0'].includes(s)) return false;
  throw new ComposeError(`${field}: invalid boolean: ${str(v)}`);
}

function num(v: unknown, field: string): number {
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || String(v).trim() === '') throw new ComposeError(`${field}: invalid number: ${str(v)}`);
  return n;
}

function int(v: unknown, field: string): number {
  const n = num(v, field);
  if (!Number.isInteger(n)) throw new ComposeError(`${field}: invalid integer: ${str(v)}`);
  return n;
}

/** A size ("64m", "1g", 1024) in bytes, as go-units RAMInBytes reads it. */
export function bytes(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  if (/^-?\d+$/.test(s)) return Number(s);
  try {
    return ramInBytes(s);
  } catch {
    throw new ComposeError(`${field}: invalid size: '${s}'`);
  }
}

function fileMode(v: unknown): number {
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  // Go reads `0o440` (YAML 1.2) and `0440` (a string or YAML 1.1) alike.
  return Number.parseInt(s.replace(/^0o/i, ''), 8);
}

function listOfStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(str) : [str(v)];
}

/** `list_or_dict` → a map; `KEY` alone in a list, or a null value, is null. */
function mapping(v: unknown, sep = '='): MappingWithNull {
  const out: MappingWithNull = {};
  if (Array.isArray(v)) {
    for (const item of v.map(str)) {
      const i = item.indexOf(sep);
      if (i < 0) out[item] = null;
      else out[item.slice(0, i)] = item.slice(i + 1);
    }
  } else {
    for (const [k, val] of Object.entries(asDict(v))) out[k] = val === null || val === undefined ? null : str(val);
  }
  return out;
}

/** Labels and other string maps: a key without a value is the empty string (compose-go's Labels). */
function labels(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(mapping(v))) out[k] = val ?? '';
  return out;
}

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(asDict(v))) out[k] = val === null ? '' : str(val);
  return out;
}

function extensionsOf(d: Dict): Record<string, unknown> | undefined {
  const ext = Object.entries(d).filter(([k]) => k.startsWith('x-'));
  return ext.length === 0 ? undefined : Object.fromEntries(ext);
}

// ---- paths -------------------------------------------------------------------------------------

function expandHome(ctx: Ctx, p: string): string {
  if (p === '~') return ctx.home;
  if (p.startsWith('~/')) return `${ctx.home}${p.slice(1)}`;
  return p;
}

function absPath(ctx: Ctx, p: string): string {
  const e = expandHome(ctx, p);
  return isAbsolute(e) ? e : resolve(ctx.raw.workingDir, e);
}

/** A build context may be a remote one (git URL, http tarball): those stay as written. */
function isRemoteContext(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith('git@') || p.startsWith('github.com/');
}

// ---- services ----------------------------------------------------------------------------------

function normalizeService(ctx: Ctx, name: string, s: Dict): Service {
  const at = (f: string) => `services.${name}.${f}`;
  const out: Service = { name };
  for (const [key, v] of Object.entries(s)) {
    if (v === undefined || key.startsWith('x-')) continue;
    switch (key) {
      // Plain strings.
      case 'cgroup': case 'cgroup_parent': case 'container_name': case 'cpuset': case 'domainname': case 'hostname':
      case 'image': case 'ipc': case 'isolation': case 'mac_address': case 'network_mode': case 'platform':
      case 'pull_policy': case 'restart': case 'runtime': case 'stop_signal': case 'user': case 'userns_mode':
      case 'uts': case 'working_dir':
        (out as unknown as Dict)[key] = str(v);
        break;
      case 'pid':
        if (v !== null) out.pid = str(v);
        break;
      // Lists of strings.
      case 'cap_add': case 'cap_drop': case 'device_cgroup_rules': case 'dns_opt': case 'external_links':
      case 'links': case 'profiles': case 'security_opt': case 'volumes_from': case 'dns': case 'dns_search':
      case 'tmpfs': case 'expose': case 'group_add':
        (out as unknown as Dict)[key] = listOfStrings(v);
        break;
      // Booleans.
      case 'attach': case 'init': case 'oom_kill_disable': case 'privileged': case 'read_only': case 'stdin_open':
      case 'tty':
        (out as unknown as Dict)[key] = bool(v, at(key));
        break;
      // Numbers.
      case 'cpu_count': case 'cpu_percent': case 'cpu_period': case 'cpu_quota': case 'cpu_rt_period':
      case 'cpu_rt_runtime': case 'cpu_shares': case 'oom_score_adj': case 'pids_limit': case 'scale':
      case 'mem_swappiness':
        (out as unknown as Dict)[key] = int(v, at(key));
        break;
      case 'cpus':
        out.cpus = num(v, at(key));
        break;
      // Sizes.
      case 'mem_limit': case 'mem_reservation': case 'memswap_limit': case 'shm_size':
        (out as unknown as Dict)[key] = bytes(v, at(key));
        break;
      case 'stop_grace_period':
        out.stop_grace_period = normalizeDuration(str(v), at(key));
        break;
      case 'annotations':
        out.annotations = labels(v);
        break;
      case 'labels':
        out.labels = labels(v);
        break;
      case 'sysctls':
        out.sysctls = labels(v);
        break;
      case 'storage_opt':
        out.storage_opt = stringMap(v);
        break;
      case 'command': case 'entrypoint':
        (out as unknown as Dict)[key] = v === null ? null : typeof v === 'string' ? splitShellWords(v) : listOfStrings(v);
        break;
      case 'build':
        out.build = normalizeBuild(ctx, name, v);
        break;
      case 'blkio_config':
        out.blkio_config = normalizeBlkio(asDict(v), at(key));
        break;
      case 'configs': case 'secrets':
        (out as unknown as Dict)[key] = fileRefs(v);
        break;
      case 'depends_on':
        out.depends_on = normalizeDependsOn(v);
        break;
      case 'deploy':
        if (v !== null) out.deploy = normalizeDeploy(asDict(v), at(key));
        break;
      case 'develop':
        if (v !== null) out.develop = normalizeDevelop(ctx, asDict(v));
        break;
      case 'devices':
        out.devices = (v as unknown[]).map(normalizeDevice);
        break;
      case 'environment':
        break; // merged with env_file below
      case 'env_file':
        out.env_file = normalizeEnvFiles(ctx, v);
        break;
      case 'extra_hosts':
        out.extra_hosts = extraHosts(v);
        break;
      case 'healthcheck':
        out.healthcheck = normalizeHealthcheck(asDict(v), at(key));
        break;
      case 'logging': {
        const l = asDict(v);
        out.logging = {};
        if (l.driver !== undefined) out.logging.driver = str(l.driver);
        if (l.options !== undefined && l.options !== null) out.logging.options = stringMap(l.options);
        break;
      }
      case 'networks':
        out.networks = serviceNetworks(v);
        break;
      case 'ports':
        out.ports = (v as unknown[]).flatMap((p, i) => normalizePort(p, `${at('ports')}.${i}`));
        break;
      case 'ulimits':
        out.ulimits = normalizeUlimits(v);
        break;
      case 'volumes':
        out.volumes = (v as unknown[]).map((vol) => normalizeServiceVolume(ctx, vol, at('volumes')));
        break;
      default:
        // Fields the model does not carry (extends is resolved by the loader; credential_spec,
        // provider, hooks, models, gpus, label_file, use_api_socket are not used by Berth).
        break;
    }
  }
  const environment = serviceEnvironment(ctx, out.env_file, s.environment);
  if (environment !== undefined) out.environment = environment;
  if (out.network_mode === undefined && out.networks === undefined) out.networks = { default: null };
  const ext = extensionsOf(s);
  if (ext) out.extensions = ext;
  return out;
}

/**
 * env_file's variables, then `environment:` over them; a key without a value takes the
 * project's environment when it has it (compose-go resolves them at load).
 */
function serviceEnvironment(ctx: Ctx, files: EnvFile[] | undefined, env: unknown): MappingWithNull | undefined {
  if (files === undefined && env === undefined) return undefined;
  const lookup = (k: string) => ctx.raw.environment[k];
  const out: MappingWithNull = {};
  for (const f of files ?? []) Object.assign(out, readEnvFile(f.path, f.required, lookup));
  for (const [k, v] of Object.entries(mapping(env))) {
    out[k] = v ?? lookup(k) ?? null;
  }
  return out;
}

function normalizeEnvFiles(ctx: Ctx, v: unknown): EnvFile[] {
  const items = Array.isArray(v) ? v : [v];
  return items.map((item) => {
    if (typeof item === 'string') return { path: absPath(ctx, item), required: true };
    const d = asDict(item);
    const f: EnvFile = { path: absPath(ctx, str(d.path)), required: d.required === undefined ? true : bool(d.required, 'env_file.required') };
    if (d.format !== undefined) f.format = str(d.format);
    return f;
  });
}

function normalizeBuild(ctx: Ctx, service: string, v: unknown): Build {
  const d: Dict = typeof v === 'string' ? { context: v } : asDict(v);
  const context = d.context === undefined ? '.' : str(d.context);
  const b: Build = { context: isRemoteContext(context) ? context : absPath(ctx, context) };
  const at = (f: string) => `services.${service}.build.${f}`;
  for (const [key, val] of Object.entries(d)) {
    switch (key) {
      case 'dockerfile': case 'dockerfile_inline': case 'network': case 'target': case 'isolation':
        (b as unknown as Dict)[key] = str(val);
        break;
      case 'args':
        b.args = mapping(val);
        break;
      case 'labels':
        b.labels = labels(val);
        break;
      case 'additional_contexts': {
        const m = labels(val);
        for (const [k, c] of Object.entries(m)) m[k] = isRemoteContext(c) || c.includes(':') ? c : absPath(ctx, c);
        b.additional_contexts = m;
        break;
      }
      case 'ssh':
        b.ssh = Array.isArray(val) ? val.map(str) : Object.entries(mapping(val)).map(([k, p]) => (p === null ? k : `${k}=${p}`));
        break;
      case 'cache_from': case 'cache_to': case 'tags': case 'platforms':
        (b as unknown as Dict)[key] = listOfStrings(val);
        break;
      case 'no_cache': case 'pull': case 'privileged':
        (b as unknown as Dict)[key] = bool(val, at(key));
        break;
      case 'shm_size':
        b.shm_size = bytes(val, at(key));
        break;
      case 'extra_hosts':
        b.extra_hosts = extraHosts(val);
        break;
      case 'secrets':
        b.secrets = fileRefs(val);
        break;
      case 'ulimits':
        b.ulimits = normalizeUlimits(val);
        break;
      default:
        break;
    }
  }
  // compose-go fills the default Dockerfile name so the output says which file is built.
  if (b.dockerfile === undefined && b.dockerfile_inline === undefined) b.dockerfile = 'Dockerfile';
  return b;
}

function normalizeBlkio(d: Dict, field: string) {
  const rates = (v: unknown) => (v as Dict[]).map((r) => ({ path: str(r.path), rate: bytes(r.rate, field) }));
  const out: NonNullable<Service['blkio_config']> = {};
  if (d.weight !== undefined) out.weight = int(d.weight, `${field}.weight`);
  if (d.weight_device !== undefined) {
    out.weight_device = (d.weight_device as Dict[]).map((w) => ({ path: str(w.path), weight: int(w.weight, field) }));
  }
  if (d.device_read_bps !== undefined) out.device_read_bps = rates(d.device_read_bps);
  if (d.device_read_iops !== undefined) out.device_read_iops = rates(d.device_read_iops);
  if (d.device_write_bps !== undefined) out.device_write_bps = rates(d.device_write_bps);
  if (d.device_write_iops !== undefined) out.device_write_iops = rates(d.device_write_iops);
  return out;
}

function fileRefs(v: unknown): ServiceFileRef[] {
  return (v as unknown[]).map((item) => {
    if (typeof item === 'string') return { source: item };
    const d = asDict(item);
    const r: ServiceFileRef = { source: str(d.source) };
    if (d.target !== undefined) r.target = str(d.target);
    if (d.uid !== undefined) r.uid = str(d.uid);
    if (d.gid !== undefined) r.gid = str(d.gid);
    if (d.mode !== undefined) r.mode = fileMode(d.mode);
    return r;
  });
}

function normalizeDependsOn(v: unknown): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {};
  if (Array.isArray(v)) {
    for (const name of v.map(str)) out[name] = { condition: 'service_started', required: true };
    return out;
  }
  for (const [name, dep] of Object.entries(asDict(v))) {
    const d = asDict(dep);
    const entry: DependsOn = {
      condition: (d.condition === undefined ? 'service_started' : str(d.condition)) as DependsOn['condition'],
      required: d.required === undefined ? true : bool(d.required, `depends_on.${name}.required`),
    };
    if (d.restart !== undefined) entry.restart = bool(d.restart, `depends_on.${name}.restart`);
    out[name] = entry;
  }
  return out;
}

function normalizeDeploy(d: Dict, field: string): Deploy {
  const out: Deploy = {};
  if (d.mode !== undefined) out.mode = str(d.mode);
  if (d.replicas !== undefined) out.replicas = int(d.replicas, `${field}.replicas`);
  if (d.labels !== undefined) out.labels = labels(d.labels);
  if (d.update_config !== undefined) out.update_config = updateConfig(asDict(d.update_config), field);
  if (d.rollback_config !== undefined) out.rollback_config = updateConfig(asDict(d.rollback_config), field);
  if (d.resources !== undefined) {
    const r = asDict(d.resources);
    const res = (x: Dict) => {
      const o: Dict = {};
      if (x.cpus !== undefined) o.cpus = str(x.cpus);
      if (x.memory !== undefined) o.memory = bytes(x.memory, `${field}.resources.memory`);
      if (x.pids !== undefined) o.pids = int(x.pids, `${field}.resources.pids`);
      if (x.devices !== undefined) o.devices = x.devices;
      if (x.generic_resources !== undefined) o.generic_resources = x.generic_resources;
      return o;
    };
    out.resources = {};
    if (r.limits !== undefined) out.resources.limits = res(asDict(r.limits));
    if (r.reservations !== undefined) out.resources.reservations = res(asDict(r.reservations));
  }
  if (d.restart_policy !== undefined) {
    const p = asDict(d.restart_policy);
    const rp: NonNullable<Deploy['restart_policy']> = {};
    if (p.condition !== undefined) rp.condition = str(p.condition);
    if (p.delay !== undefined) rp.delay = normalizeDuration(str(p.delay), `${field}.restart_policy.delay`);
    if (p.max_attempts !== undefined) rp.max_attempts = int(p.max_attempts, `${field}.restart_policy.max_attempts`);
    if (p.window !== undefined) rp.window = normalizeDuration(str(p.window), `${field}.restart_policy.window`);
    out.restart_policy = rp;
  }
  if (d.placement !== undefined) out.placement = asDict(d.placement);
  if (d.endpoint_mode !== undefined) out.endpoint_mode = str(d.endpoint_mode);
  return out;
}

function updateConfig(d: Dict, field: string): Record<string, unknown> {
  const o: Dict = {};
  for (const k of ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order']) {
    const v = d[k];
    if (v === undefined) continue;
    if (k === 'parallelism') o[k] = int(v, `${field}.${k}`);
    else if (k === 'delay' || k === 'monitor') o[k] = normalizeDuration(str(v), `${field}.${k}`);
    else if (k === 'max_failure_ratio') o[k] = num(v, `${field}.${k}`);
    else o[k] = str(v);
  }
  return o;
}

function normalizeDevelop(ctx: Ctx, d: Dict) {
  const watch: WatchRule[] = ((d.watch ?? []) as Dict[]).map((w) => {
    const r: WatchRule = { action: str(w.action), path: absPath(ctx, str(w.path)) };
    if (w.target !== undefined) r.target = str(w.target);
    if (w.ignore !== undefined) r.ignore = listOfStrings(w.ignore);
    if (w.include !== undefined) r.include = listOfStrings(w.include);
    if (w.initial_sync !== undefined) r.initial_sync = bool(w.initial_sync, 'develop.watch.initial_sync');
    if (w.exec !== undefined) {
      const e = asDict(w.exec);
      const cmd = e.command;
      r.exec = { command: typeof cmd === 'string' ? splitShellWords(cmd) : listOfStrings(cmd) };
      if (e.user !== undefined) r.exec.user = str(e.user);
      if (e.privileged !== undefined) r.exec.privileged = bool(e.privileged, 'develop.watch.exec.privileged');
      if (e.working_dir !== undefined) r.exec.working_dir = str(e.working_dir);
      if (e.environment !== undefined) r.exec.environment = mapping(e.environment);
    }
    return r;
  });
  return { watch };
}

/** `/dev/sda:/dev/xvda:rwm` → {source, target, permissions} (compose-go's DeviceMapping). */
function normalizeDevice(v: unknown): Device {
  if (typeof v !== 'string') {
    const d = asDict(v);
    const dev: Device = { source: str(d.source) };
    dev.target = d.target === undefined ? dev.source : str(d.target);
    dev.permissions = d.permissions === undefined ? 'rwm' : str(d.permissions);
    return dev;
  }
  const parts = v.split(':');
  const source = parts[0]!;
  if (parts.length === 1) return { source, target: source, permissions: 'rwm' };
  if (parts.length === 2) {
    // `/dev/x:rw` names permissions, `/dev/x:/dev/y` a target.
    if (/^[rwm]+$/.test(parts[1]!)) return { source, target: source, permissions: parts[1]! };
    return { source, target: parts[1]!, permissions: 'rwm' };
  }
  return { source, target: parts[1]!, permissions: parts.slice(2).join(':') };
}

/** `host:ip`, `host=ip` or a map → host → addresses (compose-go's HostsList). */
function extraHosts(v: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (Array.isArray(v)) {
    for (const item of v.map(str)) {
      const eq = item.indexOf('=');
      const i = eq >= 0 ? eq : item.indexOf(':');
      if (i < 0) throw new ComposeError(`invalid additional host, missing IP: ${item}`);
      const host = item.slice(0, i);
      let ip = item.slice(i + 1);
      if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
      (out[host] ??= []).push(ip);
    }
    return out;
  }
  for (const [host, ips] of Object.entries(asDict(v))) out[host] = listOfStrings(ips);
  return out;
}

function normalizeHealthcheck(d: Dict, field: string): Healthcheck {
  const h: Healthcheck = {};
  if (d.test !== undefined) h.test = typeof d.test === 'string' ? ['CMD-SHELL', d.test] : listOfStrings(d.test);
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
    if (d[k] !== undefined) h[k] = normalizeDuration(str(d[k]), `${field}.${k}`);
  }
  if (d.retries !== undefined) h.retries = int(d.retries, `${field}.retries`);
  if (d.disable !== undefined) h.disable = bool(d.disable, `${field}.disable`);
  return h;
}

function serviceNetworks(v: unknown): Record<string, ServiceNetwork | null> {
  const out: Record<string, ServiceNetwork | null> = {};
  if (Array.isArray(v)) {
    for (const n of v.map(str)) out[n] = null;
    return out;
  }
  for (const [key, n] of Object.entries(asDict(v))) {
    if (n === null || n === undefined) {
      out[key] = null;
      continue;
    }
    const d = asDict(n);
    const sn: ServiceNetwork = {};
    if (d.aliases !== undefined) sn.aliases = listOfStrings(d.aliases);
    if (d.ipv4_address !== undefined) sn.ipv4_address = str(d.ipv4_address);
    if (d.ipv6_address !== undefined) sn.ipv6_address = str(d.ipv6_address);
    if (d.link_local_ips !== undefined) sn.link_local_ips = listOfStrings(d.link_local_ips);
    if (d.mac_address !== undefined) sn.mac_address = str(d.mac_address);
    if (d.driver_opts !== undefined) sn.driver_opts = stringMap(d.driver_opts);
    if (d.priority !== undefined) sn.priority = num(d.priority, `networks.${key}.priority`);
    if (d.gw_priority !== undefined) sn.gw_priority = num(d.gw_priority, `networks.${key}.gw_priority`);
    out[key] = sn;
  }
  return out;
}

function normalizeUlimits(v: unknown): Record<string, Ulimit> {
  const out: Record<string, Ulimit> = {};
  for (const [name, u] of Object.entries(asDict(v))) {
    if (typeof u === 'number' || typeof u === 'string') out[name] = { single: int(u, `ulimits.${name}`) };
    else {
      const d = asDict(u);
      out[name] = { soft: int(d.soft, `ulimits.${name}.soft`), hard: int(d.hard, `ulimits.${name}.hard`) };
    }
  }
  return out;
}

// ---- ports -------------------------------------------------------------------------------------

/**
 * One entry of `ports:` → one PortConfig per container port. The short syntax is
 * `[[ip:][host[-host]]:]container[-container][/protocol]` (go-connections' ParsePortSpec): a
 * container range maps one to one onto a host range of the same length; a host range with a
 * single container port stays one entry that publishes the range.
 */
export function normalizePort(v: unknown, field: string): PortConfig[] {
  if (typeof v === 'number') return [{ mode: 'ingress', target: v, protocol: 'tcp' }];
  if (typeof v !== 'string') {
    const d = asDict(v);
    const p: PortConfig = { mode: d.mode === undefined ? 'ingress' : str(d.mode), target: int(d.target, `${field}.target`), protocol: d.protocol === undefined ? 'tcp' : str(d.protocol) };
    if (d.name !== undefined) p.name = str(d.name);
    if (d.host_ip !== undefined) p.host_ip = str(d.host_ip);
    if (d.published !== undefined) p.published = str(d.published);
    if (d.app_protocol !== undefined) p.app_protocol = str(d.app_protocol);
    return [orderPort(p)];
  }
  const bad = (why: string) => new ComposeError(`${field}: invalid port "${v}": ${why}`);
  let spec = v.trim();
  let protocol = 'tcp';
  const slash = spec.lastIndexOf('/');
  if (slash >= 0) {
    protocol = spec.slice(slash + 1);
    spec = spec.slice(0, slash);
    if (protocol === '') throw bad('no protocol');
  }
  let ip: string | undefined;
  let hostPart = '';
  let containerPart: string;
  if (spec.startsWith('[')) {
    // An IPv6 address in brackets.
    const end = spec.indexOf(']');
    if (end < 0 || spec[end + 1] !== ':') throw bad('invalid IPv6 address');
    ip = spec.slice(1, end);
    const rest = spec.slice(end + 2).split(':');
    if (rest.length !== 2) throw bad('invalid format');
    [hostPart, containerPart] = rest as [string, string];
  } else {
    const parts = spec.split(':');
    if (parts.length === 1) containerPart = parts[0]!;
    else if (parts.length === 2) [hostPart, containerPart] = parts as [string, string];
    else if (parts.length === 3) [ip, hostPart, containerPart] = parts as [string, string, string];
    else {
      // An unbracketed IPv6 address: the last two fields are the ports.
      containerPart = parts.pop()!;
      hostPart = parts.pop()!;
      ip = parts.join(':');
    }
  }
  const range = (s: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw bad(`invalid ${what} port`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > 65535 || hi > 65535 || hi < lo) throw bad(`invalid ${what} port`);
    return [lo, hi];
  };
  const [cLo, cHi] = range(containerPart, 'container');
  const host = hostPart === '' ? undefined : range(hostPart, 'host');
  const base = (target: number, published: string | undefined): PortConfig => {
    const p: PortConfig = { mode: 'ingress', target, protocol };
    if (ip !== undefined && ip !== '') p.host_ip = ip;
    if (published !== undefined) p.published = published;
    return orderPort(p);
  };
  if (host === undefined) {
    const out: PortConfig[] = [];
    for (let port = cLo; port <= cHi; port++) out.push(base(port, undefined));
    return out;
  }
  const [hLo, hHi] = host;
  if (cLo === cHi) return [base(cLo, hLo === hHi ? String(hLo) : `${hLo}-${hHi}`)];
  if (hHi - hLo !== cHi - cLo) throw bad('port ranges don\'t match');
  const out: PortConfig[] = [];
  for (let i = 0; i <= cHi - cLo; i++) out.push(base(cLo + i, String(hLo + i)));
  return out;
}

/** Field order of compose-go's ServicePortConfig, so both output formats print it the same. */
function orderPort(p: PortConfig): PortConfig {
  const o: Dict = {};
  for (const k of ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol'] as const) {
    if (p[k] !== undefined) o[k] = p[k];
  }
  return o as unknown as PortConfig;
}

// ---- volumes -----------------------------------------------------------------------------------

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const CONSISTENCIES = new Set(['cached', 'delegated', 'consistent']);

/** A bind's source is a path: it starts with `.`, `/` or `~` (compose-go's isFilePath). */
function isFilePath(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[a-zA-Z]:[\\/]/.test(s);
}

/** `source:target[:options]` or the long form → ServiceVolume (compose-go's ParseVolume). */
export function normalizeServiceVolume(ctx: Ctx | { raw: { workingDir: string }; home: string }, v: unknown, field: string): ServiceVolume {
  const c = ctx as Ctx;
  if (typeof v !== 'string') {
    const d = asDict(v);
    const vol: ServiceVolume = { type: str(d.type ?? 'volume') as ServiceVolume['type'], target: str(d.target) };
    if (d.source !== undefined) vol.source = str(d.source);
    if (d.read_only !== undefined) vol.read_only = bool(d.read_only, `${field}.read_only`);
    if (d.consistency !== undefined) vol.consistency = str(d.consistency);
    if (d.bind !== undefined) {
      const b = asDict(d.bind);
      vol.bind = {};
      if (b.propagation !== undefined) vol.bind.propagation = str(b.propagation);
      if (b.create_host_path !== undefined) vol.bind.create_host_path = bool(b.create_host_path, `${field}.bind.create_host_path`);
      if (b.selinux !== undefined) vol.bind.selinux = str(b.selinux) as 'z' | 'Z';
    }
    if (d.volume !== undefined) {
      const b = asDict(d.volume);
      vol.volume = {};
      if (b.nocopy !== undefined) vol.volume.nocopy = bool(b.nocopy, `${field}.volume.nocopy`);
      if (b.subpath !== undefined) vol.volume.subpath = str(b.subpath);
    }
    if (d.tmpfs !== undefined) {
      const t = asDict(d.tmpfs);
      vol.tmpfs = {};
      if (t.size !== undefined) vol.tmpfs.size = bytes(t.size, `${field}.tmpfs.size`);
      if (t.mode !== undefined) vol.tmpfs.mode = fileMode(t.mode);
    }
    if (d.image !== undefined) vol.image = { ...(asDict(d.image).subpath !== undefined ? { subpath: str(asDict(d.image).subpath) } : {}) };
    if (vol.type === 'bind' && vol.source !== undefined) vol.source = absPath(c, vol.source);
    return orderVolume(vol);
  }
  const parts = v.split(':');
  // A Windows drive letter ("C:\x") is part of the path, not a separator.
  const fields: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i]!.length === 1 && /[a-zA-Z]/.test(parts[i]!) && i + 1 < parts.length && /^[\\/]/.test(parts[i + 1]!)) {
      fields.push(`${parts[i]}:${parts[++i]}`);
    } else fields.push(parts[i]!);
  }
  if (fields.some((f) => f === '')) throw new ComposeError(`invalid spec: ${v}: empty section between colons`);
  if (fields.length > 3) throw new ComposeError(`invalid spec: ${v}: too many colons`);
  if (fields.length === 1) return { type: 'volume', target: fields[0]!, volume: {} };
  const [source, target, options] = fields as [string, string, string | undefined];
  const vol: ServiceVolume = isFilePath(source)
    ? { type: 'bind', source: absPath(c, source), target, bind: { create_host_path: true } }
    : { type: 'volume', source, target, volume: {} };
  for (const opt of (options ?? '').split(',').filter((o) => o !== '')) {
    if (opt === 'ro') vol.read_only = true;
    else if (opt === 'rw') delete vol.read_only;
    else if (opt === 'nocopy') vol.volume = { nocopy: true };
    else if (opt === 'z' || opt === 'Z') { if (vol.bind) vol.bind.selinux = opt; }
    else if (PROPAGATIONS.has(opt)) { if (vol.bind) vol.bind.propagation = opt; }
    else if (CONSISTENCIES.has(opt)) vol.consistency = opt;
  }
  return orderVolume(vol);
}

function orderVolume(v: ServiceVolume): ServiceVolume {
  const o: Dict = {};
  for (const k of ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image'] as const) {
    if (v[k] !== undefined) o[k] = v[k];
  }
  if (v.bind) {
    const b: Dict = {};
    for (const k of ['selinux', 'propagation', 'create_host_path'] as const) if (v.bind[k] !== undefined) b[k] = v.bind[k];
    o.bind = b;
  }
  return o as unknown as ServiceVolume;
}

// ---- top-level objects -------------------------------------------------------------------------

/** `external: true`, `external: {name: x}` (the old form, whose name wins) or absent. */
function external(d: Dict): { external: boolean; name?: string } {
  const e = d.external;
  if (e === undefined || e === null) return { external: false };
  if (typeof e === 'object') {
    const n = asDict(e).name;
    return n === undefined ? { external: true } : { external: true, name: str(n) };
  }
  return { external: bool(e, 'external') };
}

/** The engine's name of a project resource: `name:`, else the key for external ones, else `<project>_<key>`. */
function resourceName(project: string, key: string, d: Dict): { name: string; external: boolean } {
  const ext = external(d);
  const name = d.name !== undefined ? str(d.name) : ext.name ?? (ext.external ? key : `${project}_${key}`);
  return { name, external: ext.external };
}

function normalizeNetwork(project: string, key: string, d: Dict): Network {
  const { name, external: ext } = resourceName(project, key, d);
  const n: Network = { name };
  if (d.driver !== undefined) n.driver = str(d.driver);
  if (d.driver_opts !== undefined) n.driver_opts = stringMap(d.driver_opts);
  if (d.ipam !== undefined) {
    const i = asDict(d.ipam);
    const ipam: NonNullable<Network['ipam']> = {};
    if (i.driver !== undefined) ipam.driver = str(i.driver);
    if (i.config !== undefined) {
      ipam.config = (i.config as Dict[]).map((c) => {
        const pool: NonNullable<NonNullable<Network['ipam']>['config']>[number] = {};
        if (c.subnet !== undefined) pool.subnet = str(c.subnet);
        if (c.gateway !== undefined) pool.gateway = str(c.gateway);
        if (c.ip_range !== undefined) pool.ip_range = str(c.ip_range);
        if (c.aux_addresses !== undefined) pool.aux_addresses = stringMap(c.aux_addresses);
        return pool;
      });
    }
    if (i.options !== undefined) ipam.options = stringMap(i.options);
    n.ipam = ipam;
  }
  if (ext) n.external = true;
  if (d.internal !== undefined && bool(d.internal, `networks.${key}.internal`)) n.internal = true;
  if (d.attachable !== undefined && bool(d.attachable, `networks.${key}.attachable`)) n.attachable = true;
  if (d.enable_ipv6 !== undefined) n.enable_ipv6 = bool(d.enable_ipv6, `networks.${key}.enable_ipv6`);
  if (d.labels !== undefined) n.labels = labels(d.labels);
  const ext2 = extensionsOf(d);
  if (ext2) n.extensions = ext2;
  return n;
}

function normalizeVolume(project: string, key: string, d: Dict): Volume {
  const { name, external: ext } = resourceName(project, key, d);
  const v: Volume = { name };
  if (d.driver !== undefined) v.driver = str(d.driver);
  if (d.driver_opts !== undefined) v.driver_opts = stringMap(d.driver_opts);
  if (ext) v.external = true;
  if (d.labels !== undefined) v.labels = labels(d.labels);
  const e = extensionsOf(d);
  if (e) v.extensions = e;
  return v;
}

function fileObjects(ctx: Ctx, d: Dict): Record<string, SecretOrConfig> {
  const out: Record<string, SecretOrConfig> = {};
  for (const [key, raw] of Object.entries(d)) {
    if (key.startsWith('x-')) continue;
    const s = asDict(raw);
    const { name, external: ext } = resourceName(ctx.raw.name, key, s);
    const o: SecretOrConfig = { name };
    if (s.file !== undefined) o.file = absPath(ctx, str(s.file));
    if (s.environment !== undefined) o.environment = str(s.environment);
    if (s.content !== undefined) o.content = str(s.content);
    if (ext) o.external = true;
    if (s.labels !== undefined) o.labels = labels(s.labels);
    if (s.driver !== undefined) o.driver = str(s.driver);
    if (s.driver_opts !== undefined) o.driver_opts = stringMap(s.driver_opts);
    if (s.template_driver !== undefined) o.template_driver = str(s.template_driver);
    const e = extensionsOf(s);
    if (e) o.extensions = e;
    out[key] = o;
  }
  return out;
}
