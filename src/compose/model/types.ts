// The typed model of a Compose project after loading: every file read, interpolated, merged
// (several -f, include, extends), checked against the Compose Specification and brought to its
// long forms (ports, volumes, depends_on, networks, environment, secrets/configs as objects).
// Everything downstream (config's output, the engine conversion, reconciliation, the CLI) works
// on this model only, never on the raw YAML. Field names are the spec's own (snake_case), so that
// `config` prints the model as it is, in the order Compose v2 prints it.
//
// Absent optional fields stay absent (undefined): `config` prints only what was set or defaulted,
// as Compose does. Durations stay strings in Go's form ("1m30s"), sizes stay as written unless the
// spec says a number (Compose prints `shm_size: "67108864"` as bytes: normalize does that).

/** `KEY: value`; a null value (`KEY` alone in the list form) means "take it from the environment if set, else unset". */
export type MappingWithNull = Record<string, string | null>;

export interface Project {
  /** normalized project name (lowercase, [a-z0-9_-], starts with a letter or digit) */
  name: string;
  /** the project directory: relative paths in the files are resolved against it */
  workingDir: string;
  /** absolute paths of the files, in load order (the `com.docker.compose.project.config_files` label) */
  configFiles: string[];
  /** enabled services only (profiles applied), by name */
  services: Record<string, Service>;
  /** services left out by profiles: `config --services` never lists them, `down` ignores them */
  disabledServices: Record<string, Service>;
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  secrets: Record<string, SecretOrConfig>;
  configs: Record<string, SecretOrConfig>;
  /** top-level `x-*` keys, printed by config as they are */
  extensions: Record<string, unknown>;
  /** the environment used for interpolation (process env over .env / --env-file) */
  environment: Record<string, string>;
  /** active profiles */
  profiles: string[];
}

export interface Service {
  name: string;
  profiles?: string[];
  annotations?: Record<string, string>;
  attach?: boolean;
  build?: Build;
  blkio_config?: BlkioConfig;
  cap_add?: string[];
  cap_drop?: string[];
  cgroup?: 'host' | 'private';
  cgroup_parent?: string;
  command?: string[] | null;
  configs?: ServiceFileRef[];
  container_name?: string;
  cpu_count?: number;
  cpu_percent?: number;
  cpu_period?: number;
  cpu_quota?: number;
  cpu_rt_period?: number;
  cpu_rt_runtime?: number;
  cpu_shares?: number;
  cpus?: number;
  cpuset?: string;
  depends_on?: Record<string, DependsOn>;
  deploy?: Deploy;
  develop?: Develop;
  device_cgroup_rules?: string[];
  devices?: Device[];
  dns?: string[];
  dns_opt?: string[];
  dns_search?: string[];
  domainname?: string;
  entrypoint?: string[] | null;
  /** after env_file and interpolation; null = pass through from the CLI's environment if set */
  environment?: MappingWithNull;
  env_file?: EnvFile[];
  expose?: string[];
  external_links?: string[];
  extra_hosts?: Record<string, string[]>;
  group_add?: string[];
  healthcheck?: Healthcheck;
  hostname?: string;
  image?: string;
  init?: boolean;
  ipc?: string;
  isolation?: string;
  labels?: Record<string, string>;
  links?: string[];
  logging?: { driver?: string; options?: Record<string, string> };
  mac_address?: string;
  mem_limit?: number;
  mem_reservation?: number;
  mem_swappiness?: number;
  memswap_limit?: number;
  network_mode?: string;
  /** absent when network_mode is set; otherwise at least `default` after normalization */
  networks?: Record<string, ServiceNetwork | null>;
  oom_kill_disable?: boolean;
  oom_score_adj?: number;
  pid?: string;
  pids_limit?: number;
  platform?: string;
  ports?: PortConfig[];
  privileged?: boolean;
  pull_policy?: 'always' | 'never' | 'missing' | 'build' | 'if_not_present' | 'daily' | 'weekly' | string;
  read_only?: boolean;
  restart?: 'no' | 'always' | 'on-failure' | 'unless-stopped' | string;
  runtime?: string;
  scale?: number;
  secrets?: ServiceFileRef[];
  security_opt?: string[];
  shm_size?: number;
  stdin_open?: boolean;
  stop_grace_period?: string;
  stop_signal?: string;
  storage_opt?: Record<string, string>;
  sysctls?: Record<string, string>;
  tmpfs?: string[];
  tty?: boolean;
  ulimits?: Record<string, Ulimit>;
  user?: string;
  userns_mode?: string;
  uts?: string;
  volumes?: ServiceVolume[];
  volumes_from?: string[];
  working_dir?: string;
  /** `x-*` keys of the service */
  extensions?: Record<string, unknown>;
}

export interface Build {
  /** absolute path (or a URL) */
  context: string;
  /** relative to the context, default `Dockerfile` */
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: MappingWithNull;
  ssh?: string[];
  labels?: Record<string, string>;
  cache_from?: string[];
  cache_to?: string[];
  no_cache?: boolean;
  additional_contexts?: Record<string, string>;
  network?: string;
  pull?: boolean;
  target?: string;
  shm_size?: number;
  extra_hosts?: Record<string, string[]>;
  isolation?: string;
  privileged?: boolean;
  secrets?: ServiceFileRef[];
  tags?: string[];
  ulimits?: Record<string, Ulimit>;
  platforms?: string[];
}

export interface BlkioConfig {
  weight?: number;
  weight_device?: { path: string; weight: number }[];
  device_read_bps?: { path: string; rate: number }[];
  device_write_bps?: { path: string; rate: number }[];
  device_read_iops?: { path: string; rate: number }[];
  device_write_iops?: { path: string; rate: number }[];
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  /** restart this service when the dependency is restarted (by compose restart/up) */
  restart?: boolean;
  /** default true; false: a missing or disabled dependency is ignored */
  required: boolean;
}

export interface Deploy {
  mode?: 'replicated' | 'global' | string;
  replicas?: number;
  labels?: Record<string, string>;
  resources?: {
    limits?: Resources;
    reservations?: Resources & { devices?: unknown[] };
  };
  restart_policy?: { condition?: 'none' | 'on-failure' | 'any' | string; delay?: string; max_attempts?: number; window?: string };
  update_config?: Record<string, unknown>;
  rollback_config?: Record<string, unknown>;
  placement?: Record<string, unknown>;
  endpoint_mode?: string;
}

export interface Resources {
  cpus?: string;
  /** bytes */
  memory?: number;
  pids?: number;
}

export interface Develop {
  watch: WatchRule[];
}

export interface WatchRule {
  action: 'sync' | 'rebuild' | 'sync+restart' | 'restart' | 'sync+exec' | string;
  /** absolute path on the host */
  path: string;
  /** path in the container (sync actions) */
  target?: string;
  ignore?: string[];
  include?: string[];
  initial_sync?: boolean;
  exec?: { command: string[]; user?: string; privileged?: boolean; working_dir?: string; environment?: MappingWithNull };
}

export interface Device {
  source: string;
  target?: string;
  permissions?: string;
}

export interface EnvFile {
  /** absolute */
  path: string;
  required: boolean;
  format?: string;
}

export interface Healthcheck {
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  link_local_ips?: string[];
  mac_address?: string;
  driver_opts?: Record<string, string>;
  priority?: number;
  gw_priority?: number;
}

export interface PortConfig {
  name?: string;
  mode: 'ingress' | 'host' | string;
  host_ip?: string;
  /** container port */
  target: number;
  /** host port or range ("8080", "8080-8081"); absent: a random port */
  published?: string;
  protocol: 'tcp' | 'udp' | 'sctp' | string;
  app_protocol?: string;
}

export interface ServiceVolume {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  /** bind: absolute host path; volume: the volume's key in the project (or absent: anonymous) */
  source?: string;
  target: string;
  read_only?: boolean;
  consistency?: string;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z' };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
  image?: { subpath?: string };
}

export interface ServiceFileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Ulimit {
  single?: number;
  soft?: number;
  hard?: number;
}

export interface Network {
  /** the name on the engine: `name:`, else `<project>_<key>`; for external ones the key unless `name:` */
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  ipam?: { driver?: string; config?: { subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string> }[]; options?: Record<string, string> };
  external?: boolean;
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  labels?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

export interface Volume {
  /** the name on the engine: `name:`, else `<project>_<key>`; for external ones the key unless `name:` */
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  labels?: Record<string, string>;
  extensions?: Record<string, unknown>;
}

/** A top-level secret or config: exactly one of file, environment, content (configs) or external. */
export interface SecretOrConfig {
  name: string;
  /** absolute */
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  labels?: Record<string, string>;
  driver?: string;
  driver_opts?: Record<string, string>;
  template_driver?: string;
  extensions?: Record<string, unknown>;
}

/**
 * What the loader hands to validation: the merged document, still as YAML values (after
 * interpolation, include, extends and merging of several files), and where it came from.
 */
export interface RawProject {
  name: string;
  workingDir: string;
  configFiles: string[];
  environment: Record<string, string>;
  /** the merged top-level mapping */
  dict: Record<string, unknown>;
}

/** Options every command's loading takes (the global flags of `compose`). */
export interface LoadOptions {
  /** -f, in order; empty: look for compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml (and the override) */
  files: string[];
  /** -p */
  projectName?: string;
  /** --project-directory */
  projectDirectory?: string;
  /** --env-file, in order */
  envFiles: string[];
  /** --profile (and COMPOSE_PROFILES) */
  profiles: string[];
  /** the process environment (tests pass their own) */
  env: Record<string, string | undefined>;
  /** the working directory for lookups (tests pass their own) */
  cwd: string;
  /** `-` among files reads stdin: its text */
  stdin?: () => Promise<string>;
}

/** A spec violation or load failure, with Compose's wording; the CLI prints the message alone and exits 1 (15 for a missing file as Compose does is not needed: 1). */
export class ComposeError extends Error {}
