// Checks the merged, interpolated Compose document against the Compose Specification before
// anything reads it as a typed model. The rules are a table of shapes (below), written from the
// spec's text and schema: each field's accepted YAML types, the mappings' known keys (anything
// else is refused, except `x-*` extension keys), and the few enums. Errors read as Compose v2
// prints them (compose-go's schema errors): `validating <file>: services.web.ports.0 must be a
// number, string or mapping` — the file, the dotted path of the field, what was expected.
//
// Scalars are accepted in their string form where the spec allows it (`cpus: "0.5"`, `init:
// "true"`): the schema does so because interpolation yields strings.

import { ComposeError } from './types.ts';

/** One shape a value may take; `union` is "one of these". */
type Shape =
  | { k: 'string' }
  | { k: 'number' }
  | { k: 'integer' }
  | { k: 'boolean' }
  | { k: 'null' }
  | { k: 'any' }
  | { k: 'enum'; values: string[] }
  | { k: 'list'; of: Shape }
  | { k: 'map'; of: Shape }
  | { k: 'obj'; props: Record<string, Shape>; open?: boolean }
  | { k: 'union'; of: Shape[] };

const str: Shape = { k: 'string' };
const num: Shape = { k: 'number' };
const int: Shape = { k: 'integer' };
const bool: Shape = { k: 'boolean' };
const nul: Shape = { k: 'null' };
const any: Shape = { k: 'any' };
const or = (...of: Shape[]): Shape => ({ k: 'union', of });
const list = (of: Shape): Shape => ({ k: 'list', of });
const map = (of: Shape): Shape => ({ k: 'map', of });
const obj = (props: Record<string, Shape>, open = false): Shape => ({ k: 'obj', props, open });
const oneOfStrings = (...values: string[]): Shape => ({ k: 'enum', values });

// The spec writes `boolean | string` for flags and `integer | string` for counts: interpolated
// values arrive as strings.
const boolish = or(bool, str);
const intish = or(int, str);
const numish = or(num, str);
const listOfStrings = list(str);
const stringOrList = or(str, listOfStrings);
const listOrDict = or(map(or(str, num, bool, nul)), listOfStrings);
const extraHosts = or(map(or(str, listOfStrings)), listOfStrings);
const command = or(nul, str, listOfStrings);
const ulimits = map(or(intish, obj({ hard: intish, soft: intish })));
const fileRefs = list(or(str, obj({ source: str, target: str, uid: str, gid: str, mode: numish })));
const blkioLimit = obj({ path: str, rate: intish });
const hook = obj({ command, user: str, privileged: boolish, working_dir: str, environment: listOrDict });
const deviceRequests = list(obj({ capabilities: listOfStrings, count: intish, device_ids: listOfStrings, driver: str, options: listOrDict }));
const updateConfig = obj({
  parallelism: intish, delay: str, failure_action: str, monitor: str, max_failure_ratio: numish,
  order: oneOfStrings('start-first', 'stop-first'),
});

const build = or(str, obj({
  context: str, dockerfile: str, dockerfile_inline: str, entitlements: listOfStrings, args: listOrDict, ssh: listOrDict,
  labels: listOrDict, cache_from: listOfStrings, cache_to: listOfStrings, no_cache: boolish, no_cache_filter: stringOrList,
  additional_contexts: listOrDict, network: str, provenance: or(str, bool), sbom: or(str, bool), pull: boolish,
  target: str, shm_size: or(int, str), extra_hosts: extraHosts, isolation: str, privileged: boolish, secrets: fileRefs,
  tags: listOfStrings, ulimits, platforms: listOfStrings,
}));

const deploy = or(nul, obj({
  mode: str, endpoint_mode: str, replicas: intish, labels: listOrDict, rollback_config: updateConfig, update_config: updateConfig,
  resources: obj({
    limits: obj({ cpus: numish, memory: str, pids: intish }),
    reservations: obj({
      cpus: numish, memory: str, devices: deviceRequests,
      generic_resources: list(obj({ discrete_resource_spec: obj({ kind: str, value: numish }) })),
    }),
  }),
  restart_policy: obj({ condition: str, delay: str, max_attempts: intish, window: str }),
  placement: obj({ constraints: listOfStrings, preferences: list(obj({ spread: str })), max_replicas_per_node: intish }),
}));

const develop = or(nul, obj({
  watch: list(obj({
    ignore: stringOrList, include: stringOrList, path: str, target: str, exec: hook, initial_sync: boolish,
    action: oneOfStrings('rebuild', 'sync', 'restart', 'sync+restart', 'sync+exec'),
  })),
}));

const healthcheck = obj({
  disable: boolish, interval: str, retries: numish, test: or(str, listOfStrings), timeout: str, start_period: str, start_interval: str,
});

const service = obj({
  develop, deploy, annotations: listOrDict, attach: boolish, build,
  blkio_config: obj({
    device_read_bps: list(blkioLimit), device_read_iops: list(blkioLimit), device_write_bps: list(blkioLimit),
    device_write_iops: list(blkioLimit), weight: intish, weight_device: list(obj({ path: str, weight: intish })),
  }),
  cap_add: listOfStrings, cap_drop: listOfStrings, cgroup: oneOfStrings('host', 'private'), cgroup_parent: str, command,
  configs: fileRefs, container_name: str, cpu_count: intish, cpu_percent: intish, cpu_shares: numish, cpu_quota: numish,
  cpu_period: numish, cpu_rt_period: numish, cpu_rt_runtime: numish, cpus: numish, cpuset: str,
  credential_spec: obj({ config: str, file: str, registry: str }),
  depends_on: or(listOfStrings, map(obj({
    restart: boolish, required: bool,
    condition: oneOfStrings('service_started', 'service_healthy', 'service_completed_successfully'),
  }))),
  device_cgroup_rules: listOfStrings, devices: list(or(str, obj({ source: str, target: str, permissions: str }))),
  dns: stringOrList, dns_opt: listOfStrings, dns_search: stringOrList, domainname: str, entrypoint: command,
  env_file: or(str, list(or(str, obj({ path: str, format: str, required: boolish })))), label_file: stringOrList,
  environment: listOrDict, expose: list(or(str, num)), extends: or(str, obj({ service: str, file: str })),
  provider: obj({ type: str, options: map(or(str, num, bool, list(or(str, num, bool)))) }),
  external_links: listOfStrings, extra_hosts: extraHosts, gpus: or(oneOfStrings('all'), deviceRequests),
  group_add: list(or(str, num)), healthcheck, hostname: str, image: str, init: boolish, ipc: str, isolation: str,
  labels: listOrDict, links: listOfStrings, logging: obj({ driver: str, options: map(or(str, num, nul)) }),
  mac_address: str, mem_limit: numish, mem_reservation: or(str, int), mem_swappiness: intish, memswap_limit: numish,
  network_mode: str, models: or(listOfStrings, map(obj({ endpoint_var: str, model_var: str }))),
  networks: or(listOfStrings, map(or(obj({
    aliases: listOfStrings, interface_name: str, ipv4_address: str, ipv6_address: str, link_local_ips: listOfStrings,
    mac_address: str, driver_opts: map(or(str, num)), priority: num, gw_priority: num,
  }), nul))),
  oom_kill_disable: boolish, oom_score_adj: intish, pid: or(str, nul), pids_limit: numish, platform: str,
  ports: list(or(num, str, obj({
    name: str, mode: str, host_ip: str, target: intish, published: or(str, int), protocol: str, app_protocol: str,
  }))),
  post_start: list(hook), pre_stop: list(hook), privileged: boolish, profiles: listOfStrings, pull_policy: str,
  pull_refresh_after: str, read_only: boolish, restart: str, runtime: str, scale: intish, security_opt: listOfStrings,
  shm_size: numish, secrets: fileRefs, sysctls: listOrDict, stdin_open: boolish, stop_grace_period: str, stop_signal: str,
  storage_opt: map(any), tmpfs: stringOrList, tty: boolish, ulimits, use_api_socket: bool, user: str, uts: str,
  userns_mode: str,
  volumes: list(or(str, obj({
    type: oneOfStrings('bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'), source: str, target: str,
    read_only: boolish, consistency: str,
    bind: obj({
      propagation: str, create_host_path: boolish, recursive: oneOfStrings('enabled', 'disabled', 'writable', 'readonly'),
      selinux: oneOfStrings('z', 'Z'),
    }),
    volume: obj({ labels: listOrDict, nocopy: boolish, subpath: str }),
    tmpfs: obj({ size: or(int, str), mode: numish }),
    image: obj({ subpath: str }),
  }))),
  volumes_from: listOfStrings, working_dir: str,
});

const externalFlag = or(bool, str, obj({ name: str }));

const network = or(nul, obj({
  name: str, driver: str, driver_opts: map(or(str, num)),
  ipam: obj({
    driver: str,
    config: list(obj({ subnet: str, ip_range: str, gateway: str, aux_addresses: map(str) })),
    options: map(str),
  }),
  external: externalFlag, internal: boolish, enable_ipv4: boolish, enable_ipv6: boolish, attachable: boolish,
  labels: listOrDict,
}));

const volume = or(nul, obj({ name: str, driver: str, driver_opts: map(or(str, num)), external: externalFlag, labels: listOrDict }));

const secret = obj({
  name: str, environment: str, file: str, external: externalFlag, labels: listOrDict, driver: str,
  driver_opts: map(or(str, num)), template_driver: str,
});
const config = obj({
  name: str, content: str, environment: str, file: str, external: externalFlag, labels: listOrDict, template_driver: str,
});

const root = obj({
  version: str, name: str,
  include: list(or(str, obj({ path: stringOrList, env_file: stringOrList, project_directory: str }))),
  services: or(nul, map(service)),
  models: map(obj({ name: str, model: str, context_size: int, runtime_flags: listOfStrings })),
  networks: or(nul, map(network)),
  volumes: or(nul, map(volume)),
  secrets: or(nul, map(secret)),
  configs: or(nul, map(config)),
});

/** What `version:` earns: Compose accepts it and says it is ignored. */
export const VERSION_OBSOLETE_WARNING =
  'the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion';

/**
 * Checks the whole document; throws the first violation as a ComposeError (Compose stops at the
 * first too). `file` names the document in the message. Returns the warnings to print.
 */
export function validateDict(dict: Record<string, unknown>, file: string): string[] {
  const problem = check(root, dict, []);
  if (problem !== undefined) throw new ComposeError(`validating ${file}: ${problem}`);
  return 'version' in dict ? [VERSION_OBSOLETE_WARNING] : [];
}

function where(path: string[]): string {
  return path.length === 0 ? '(root)' : path.join('.');
}

/** What a value's YAML type is called in messages, for matching against a shape. */
function accepts(shape: Shape, v: unknown): boolean {
  switch (shape.k) {
    case 'any': return true;
    case 'string': return typeof v === 'string';
    case 'number': return typeof v === 'number';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null || v === undefined;
    case 'enum': return typeof v === 'string';
    case 'list': return Array.isArray(v);
    case 'map':
    case 'obj': return isMapping(v);
    case 'union': return shape.of.some((s) => accepts(s, v));
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The expected types as compose-go words them: "string", "mapping", "list", "string or number". */
function describe(shape: Shape): string[] {
  switch (shape.k) {
    case 'any': return [];
    case 'enum':
    case 'string': return ['string'];
    case 'number': return ['number'];
    case 'integer': return ['integer'];
    case 'boolean': return ['boolean'];
    case 'null': return ['null'];
    case 'list': return ['list'];
    case 'map':
    case 'obj': return ['mapping'];
    case 'union': return [...new Set(shape.of.flatMap(describe))];
  }
}

function mustBe(shape: Shape): string {
  const words = describe(shape).filter((w) => w !== 'null' || describe(shape).length === 1);
  if (words.length <= 1) return `must be a ${words[0] ?? 'value'}`;
  return `must be a ${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** Returns the first violation under `v`, or undefined. */
function check(shape: Shape, v: unknown, path: string[]): string | undefined {
  if (!accepts(shape, v)) return `${where(path)} ${mustBe(shape)}`;
  switch (shape.k) {
    case 'enum':
      if (!shape.values.includes(v as string)) {
        return `${where(path)} must be one of the following: ${shape.values.map((s) => `"${s}"`).join(', ')}`;
      }
      return undefined;
    case 'list': {
      const items = v as unknown[];
      for (let i = 0; i < items.length; i++) {
        const p = check(shape.of, items[i], [...path, String(i)]);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    case 'map': {
      for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
        if (key.startsWith('x-')) continue;
        const p = check(shape.of, value, [...path, key]);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    case 'obj': {
      const entries = Object.entries(v as Record<string, unknown>);
      for (const [key] of entries) {
        if (!(key in shape.props) && !key.startsWith('x-') && !shape.open) {
          return `${where(path)} Additional property ${key} is not allowed`;
        }
      }
      for (const [key, value] of entries) {
        const sub = shape.props[key];
        if (sub === undefined) continue;
        const p = check(sub, value, [...path, key]);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    case 'union': {
      // The first alternative of the value's own type decides (a string is checked as a
      // string, a mapping as the mapping alternative), so the message names the real fault.
      const alt = shape.of.find((s) => accepts(s, v));
      return alt === undefined ? `${where(path)} ${mustBe(shape)}` : check(alt, v, path);
    }
    default:
      return undefined;
  }
}
