// berthd's configuration: dockerd-style flags and daemon.json with the same keys. A key given
// both ways is an error, as in dockerd; so is an unknown key or a missing explicit file.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { parseFlags, flagUsages, FlagError, type FlagSpec } from '../util/pflag.ts';
import type { FileConfig } from './config-file.ts';
import { logLevels } from './log-levels.ts';
import { checkRegistrySettings } from '../engine/images.ts';
import { parseHost, isLoopback } from './hosts.ts';
import { ramInBytes } from '../util/go-units.ts';
import { checkDefaultIpcMode } from '../engine/container/namespace-modes.ts';
import { ROOTFUL_DEFAULTS, RootlessPathError, daemonDefaults, isRootless, type UserContext } from '../util/rootless-paths.ts';

export interface DaemonConfig {
  /** Rootless mode (util/rootless-paths.ts): a non-root berthd, or --rootless; it picks the defaults of the paths below. */
  rootless: boolean;
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  runtime: string;
  logLevel: string;
  debug: boolean;
  configFile: string;
  bridge: string;
  bip: string;
  mtu: number;
  addressPool: string;
  userlandProxy: boolean;
  /** `ip-forward-no-drop` / `--ip-forward-no-drop`: leave the FORWARD policy alone when enabling forwarding (dockerd 27's flag). */
  ipForwardNoDrop: boolean;
  usernsRemap: string;
  insecureRegistries: string[];
  registryMirrors: string[];
  tls: TlsSettings;
  /** true (default): containers keep running across a daemon stop; false: SIGTERM/SIGINT stop them first. */
  liveRestore: boolean;
  /** default-ulimits / --default-ulimit, in HostConfig.Ulimits form. */
  defaultUlimits: Ulimit[];
  logDriver: string;
  logOpts: Record<string, string>;
  /** `init` / `--init`: every container without its own HostConfig.Init runs docker-init as PID 1. */
  init: boolean;
  /** `init-path` / `--init-path`: the init binary; empty: docker-init on PATH. */
  initPath: string;
  /** `default-ipc-mode` / `--default-ipc-mode`: private (dockerd's default) or shareable. */
  defaultIpcMode: string;
  /**
   * `storage-driver` / `--storage-driver`: overlay2 (the kernel's overlayfs) or fuse-overlayfs;
   * undefined when not given (rootless picks fuse-overlayfs on kernels before 5.11: daemon/main.ts).
   */
  storageDriver: StorageDriver | undefined;
}

export const STORAGE_DRIVERS = ['overlay2', 'fuse-overlayfs'] as const;
export type StorageDriver = typeof STORAGE_DRIVERS[number];

/**
 * TLS for tcp:// and fd:// hosts, with dockerd's meaning: `tlsverify` implies `tls` and requires
 * client certificates signed by `tlscacert`; `tls` alone encrypts but lets any client in.
 */
export interface TlsSettings {
  enabled: boolean;
  verify: boolean;
  caCert: string;
  cert: string;
  key: string;
}

export interface Ulimit { Name: string; Soft: number; Hard: number }

const DEFAULT_CONFIG_FILE = ROOTFUL_DEFAULTS.configFile;
/** Where --tlscacert/--tlscert/--tlskey point by default (dockerd: ~/.docker; berthd runs as root, so /etc/berth; rootless: $XDG_CONFIG_HOME/berth). */
export const DEFAULT_TLS_DIR = ROOTFUL_DEFAULTS.configDir;
/** Log drivers Berth writes (json-file is the default, as in dockerd; k8s-file is podman's CRI format). */
export const LOG_DRIVERS = ['json-file', 'k8s-file', 'local', 'none'] as const;
const LOG_OPTS = ['max-size', 'max-file', 'compress'] as const;
/** go-units' ulimit names. */
const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];



export class ConfigError extends Error {}

/**
 * A bad command line (unknown flag, missing value, a value of the wrong type, arguments), or
 * --help: main.ts prints `message` (for help, the usage on stdout) and exits with `exitCode`.
 * The texts are pflag's, followed by `See 'berthd --help'.`, as dockerd prints them.
 */
export class UsageError extends Error {
  readonly exitCode: number;
  readonly help: boolean;
  constructor(message: string, o: { exitCode?: number; help?: boolean } = {}) {
    super(message);
    this.exitCode = o.exitCode ?? 1;
    this.help = o.help ?? false;
  }
}

/** Go's strconv.ParseBool, which dockerd's boolean flags use (`--tls=false`, `--live-restore=0`). */
export function parseBool(v: string, flag = ''): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new ConfigError(`invalid argument "${v}" for "${flag}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/**
 * berthd's flags, dockerd's names. Booleans take a value only after '=' (`--tls=false`), as in
 * pflag; list flags repeat (`-H a -H b`). Defaults named in the text are applied after the merge
 * with daemon.json (a flag left out must not count as given).
 */
const DAEMON_FLAGS: readonly FlagSpec[] = [
  { name: 'host', short: 'H', type: 'list', value: 'list', desc: 'Daemon socket to listen on (repeatable): unix:///path, tcp://addr:port or fd:// (systemd socket activation)' },
  { name: 'data-root', type: 'string', desc: 'Root of persistent state (default /var/lib/berth; rootless: $XDG_DATA_HOME/berth)' },
  { name: 'exec-root', type: 'string', desc: 'Root of runtime state (default /run/berth; rootless: $XDG_RUNTIME_DIR/berth)' },
  { name: 'pidfile', short: 'p', type: 'string', desc: 'Path of the daemon pid file (default <exec-root>/berthd.pid)' },
  { name: 'runtime', type: 'string', desc: 'OCI runtime binary, by path or name (default runc)' },
  { name: 'log-level', short: 'l', type: 'string', desc: `Log level: ${logLevels.join(', ')} (default info)` },
  { name: 'debug', short: 'D', type: 'bool', desc: 'Enable debug mode' },
  { name: 'bridge', short: 'b', type: 'string', desc: 'Host bridge of the default network, or none (default berth0)' },
  { name: 'bip', type: 'string', desc: 'Gateway address and prefix of the default bridge (default 10.87.0.1/16)' },
  { name: 'mtu', type: 'int', desc: 'MTU of container interfaces (default 1500)' },
  { name: 'default-address-pool', type: 'string', desc: 'Range user networks get /24 subnets from: CIDR or base=CIDR,size=24 (default 10.86.0.0/16)' },
  { name: 'userns-remap', type: 'string', desc: 'Map container root to a subordinate id range: default, or user[:group] from /etc/subuid and /etc/subgid' },
  { name: 'userland-proxy', type: 'bool', desc: "Serve the host's own connections to published 127.0.0.x ports through the port proxy instead of kernel NAT" },
  { name: 'ip-forward-no-drop', type: 'bool', desc: 'Do not set the filter-FORWARD policy to DROP when enabling IP forwarding' },
  { name: 'insecure-registry', type: 'list', value: 'list', desc: 'Registry (host[:port] or CIDR) reached over plain HTTP or unverified TLS (repeatable)' },
  { name: 'registry-mirror', type: 'list', value: 'list', desc: 'Pull-through mirror tried first for Docker Hub images (repeatable)' },
  { name: 'tls', type: 'bool', desc: 'Use TLS on tcp:// and fd:// hosts; implied by --tlsverify' },
  { name: 'tlsverify', type: 'bool', desc: 'Use TLS and require client certificates signed by --tlscacert' },
  { name: 'tlscacert', type: 'string', desc: `Trust client certificates signed by this CA only (default ${DEFAULT_TLS_DIR}/ca.pem)` },
  { name: 'tlscert', type: 'string', desc: `Server TLS certificate (default ${DEFAULT_TLS_DIR}/cert.pem)` },
  { name: 'tlskey', type: 'string', desc: `Server TLS key (default ${DEFAULT_TLS_DIR}/key.pem)` },
  { name: 'live-restore', type: 'bool', desc: 'Keep containers running while berthd is down (default true)' },
  { name: 'default-ulimit', type: 'list', value: 'ulimit', desc: 'Default ulimit of containers, name=soft[:hard] (repeatable)' },
  { name: 'log-driver', type: 'string', desc: `Default log driver of containers: ${LOG_DRIVERS.join(', ')} (default json-file)` },
  { name: 'log-opt', type: 'list', value: 'list', desc: 'Default log driver option: max-size, max-file, compress (repeatable)' },
  { name: 'init', type: 'bool', desc: 'Run an init (docker-init) inside containers to forward signals and reap processes' },
  { name: 'init-path', type: 'string', desc: 'Path to the docker-init binary' },
  { name: 'default-ipc-mode', type: 'string', desc: 'Default IPC mode of containers: private or shareable (default private)' },
  { name: 'storage-driver', short: 's', type: 'string', desc: `Storage driver: ${STORAGE_DRIVERS.join(' or ')} (default overlay2; rootless on a kernel before 5.11: fuse-overlayfs)` },
  { name: 'config-file', type: 'string', desc: 'Daemon configuration file (rootless: $XDG_CONFIG_HOME/berth/daemon.json)', default: DEFAULT_CONFIG_FILE },
  { name: 'rootless', type: 'bool', desc: "Run as an ordinary user's daemon: socket, exec root and data under $XDG_RUNTIME_DIR and $XDG_DATA_HOME (default true when not run as root)" },
  { name: 'help', short: 'h', type: 'bool', desc: 'Print usage' },
];

/** `berthd --help`: dockerd's layout (usage, one line of what it is, the flags as pflag prints them). */
export function daemonUsage(): string {
  return 'Usage:\tberthd [OPTIONS]\n\n' +
    'Berth daemon: serves the Docker Engine API and runs containers with conmon and runc\n\n' +
    `Options:\n${flagUsages(DAEMON_FLAGS)}\n`;
}

/** The command line as typed flag values (undefined: not given), or a UsageError with pflag's text. */
function parseDaemonFlags(argv: string[]) {
  let r;
  try {
    r = parseFlags(argv, DAEMON_FLAGS);
  } catch (err) {
    if (err instanceof FlagError) throw new UsageError(`${err.message}\nSee 'berthd --help'.`);
    throw err;
  }
  if (r.help) throw new UsageError(daemonUsage(), { exitCode: 0, help: true });
  if (r.args.length) throw new UsageError(`"berthd" accepts no arguments.\nSee 'berthd --help'.`);
  const o = r.opts;
  const str = (n: string): string | undefined => (o.changed(n) ? o.str(n) : undefined);
  const bool = (n: string): boolean | undefined => (o.changed(n) ? o.bool(n) : undefined);
  const list = (n: string): string[] | undefined => (o.changed(n) ? o.list(n) : undefined);
  const logLevel = str('log-level');
  if (logLevel !== undefined && !(logLevels as readonly string[]).includes(logLevel)) {
    throw new UsageError(`invalid argument "${logLevel}" for "-l, --log-level" flag: not a log level (${logLevels.join(', ')})\nSee 'berthd --help'.`);
  }
  return {
    host: list('host'), dataRoot: str('data-root'), execRoot: str('exec-root'), pidfile: str('pidfile'), runtime: str('runtime'),
    logLevel, debug: bool('debug'), configFile: str('config-file'), rootless: bool('rootless'),
    bridge: str('bridge'), bip: str('bip'), mtu: o.changed('mtu') ? o.int('mtu') : undefined, defaultAddressPool: str('default-address-pool'),
    userlandProxy: bool('userland-proxy'), ipForwardNoDrop: bool('ip-forward-no-drop'), usernsRemap: str('userns-remap'),
    insecureRegistry: list('insecure-registry'), registryMirror: list('registry-mirror'),
    tls: bool('tls'), tlsverify: bool('tlsverify'), tlscacert: str('tlscacert'), tlscert: str('tlscert'), tlskey: str('tlskey'),
    liveRestore: bool('live-restore'), defaultUlimit: list('default-ulimit'), logDriver: str('log-driver'), logOpt: list('log-opt'),
    init: bool('init'), initPath: str('init-path'), defaultIpcMode: str('default-ipc-mode'), storageDriver: str('storage-driver'),
  };
}

/** `--default-address-pool`: Berth's bare CIDR, or dockerd's `base=CIDR,size=N`. */
function parsePoolFlag(v: string): { base: string; size: number } {
  if (!v.includes('=')) return { base: v, size: 24 };
  const out: { base?: string; size?: number } = {};
  for (const kv of v.split(',')) {
    const [k, val = ''] = kv.split('=', 2);
    if (k === 'base') out.base = val;
    else if (k === 'size') out.size = Number(val);
    else throw new ConfigError(`invalid default-address-pool ${v}: unexpected key ${k} (expected base=CIDR,size=24)`);
  }
  if (!out.base) throw new ConfigError(`invalid default-address-pool ${v}: base is required`);
  return { base: out.base, size: out.size ?? 24 };
}

/** Berth hands out /24s from one range: dockerd's pool list maps onto that when it says the same. */
function checkPools(pools: { base: string; size: number }[]): string {
  if (pools.length !== 1) throw new ConfigError(`invalid default-address-pools: Berth takes exactly one pool, ${pools.length} given`);
  const { base, size } = pools[0]!;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(base);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) throw new ConfigError(`invalid default-address-pools: invalid base ${base}: expected an IPv4 CIDR such as 10.10.0.0/16`);
  if (size !== 24) throw new ConfigError(`invalid default-address-pools: size ${size} is not supported: Berth gives user networks /24 subnets (use "size": 24)`);
  if (Number(m[5]) > 24) throw new ConfigError(`invalid default-address-pools: base ${base} is smaller than a /24 subnet`);
  return base;
}

/** `--default-ulimit nofile=1024:2048` (go-units' ParseUlimit). */
function parseUlimitFlag(v: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v);
  if (!m) throw new ConfigError(`invalid ulimit argument: ${v}`);
  const soft = Number(m[2]);
  return checkUlimit({ Name: m[1]!, Soft: soft, Hard: m[3] !== undefined ? Number(m[3]) : soft });
}

function checkUlimit(u: Ulimit): Ulimit {
  if (!ULIMIT_NAMES.includes(u.Name)) throw new ConfigError(`invalid ulimit type: ${u.Name}`);
  for (const v of [u.Soft, u.Hard]) {
    if (!Number.isSafeInteger(v) || v < -1) throw new ConfigError(`invalid ulimit ${u.Name}: ${v} is not a limit (a non-negative integer, or -1 for unlimited)`);
  }
  if (u.Hard !== -1 && (u.Soft === -1 || u.Soft > u.Hard)) throw new ConfigError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  return u;
}

/** daemon.json's `default-ulimits`: `{"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}`; Go reads the field names case-insensitively. */
function fileUlimits(m: Record<string, Record<string, unknown>>): Ulimit[] {
  return Object.entries(m).map(([key, raw]) => {
    const f: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      const lk = k.toLowerCase();
      if (!['name', 'soft', 'hard'].includes(lk)) throw new ConfigError(`invalid default-ulimits: ${key}: unknown field ${k} (expected Name, Soft, Hard)`);
      f[lk] = v;
    }
    const name = f.name ?? key;
    if (typeof name !== 'string') throw new ConfigError(`invalid default-ulimits: ${key}: Name must be a string`);
    if (name !== key) throw new ConfigError(`invalid default-ulimits: key ${key} holds the ulimit ${name}`);
    for (const k of ['soft', 'hard']) {
      if (typeof f[k] !== 'number') throw new ConfigError(`invalid default-ulimits: ${key}: ${k === 'soft' ? 'Soft' : 'Hard'} must be a number`);
    }
    return checkUlimit({ Name: name, Soft: f.soft as number, Hard: f.hard as number });
  });
}

/** Size strings as docker's json-file reads max-size (go-units RAMInBytes: 1k = 1024). */
export function parseLogSize(v: string): number {
  try {
    return ramInBytes(v);
  } catch {
    throw new ConfigError(`invalid size: '${v}'`);
  }
}

/** log-driver and log-opts, refused with dockerd's words when the driver or an option is unknown or malformed. */
function checkLogConfig(driver: string, opts: Record<string, unknown>): Record<string, string> {
  if (!(LOG_DRIVERS as readonly string[]).includes(driver)) {
    throw new ConfigError(`failed to set log opts: logger: no log driver named '${driver}' is registered (Berth has ${LOG_DRIVERS.join(', ')})`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (typeof v !== 'string') throw new ConfigError(`invalid log-opts: ${k}: the value must be a string, as in dockerd (write "${k}": "${String(v)}")`);
    if (driver === 'none' || !(LOG_OPTS as readonly string[]).includes(k)) throw new ConfigError(`unknown log opt '${k}' for ${driver} log driver`);
    if (k === 'max-size') {
      if (parseLogSize(v) < 1) throw new ConfigError(`invalid log-opts: max-size must be at least 1 byte: ${v}`);
    } else if (k === 'max-file') {
      if (!/^-?\d+$/.test(v)) throw new ConfigError(`strconv.Atoi: parsing "${v}": invalid syntax`);
      if (Number(v) < 1) throw new ConfigError('max-file cannot be less than 1');
    } else if (k === 'compress') {
      try { parseBool(v); } catch { throw new ConfigError(`error reading compress log option: strconv.ParseBool: parsing "${v}": invalid syntax`); }
    }
    out[k] = v;
  }
  return out;
}

/**
 * Binding TCP without client certificates gives root to anyone who can connect. Like dockerd
 * 27+, berthd refuses it on a non-loopback address unless the intent is stated with
 * `--tls=false` or `--tlsverify=false` (or `--tls` alone: encrypted, unauthenticated).
 * Loopback is allowed; listen.ts logs dockerd's warnings for every unauthenticated TCP host.
 */
function checkTcpSecurity(hosts: string[], tls: TlsSettings, explicit: boolean): void {
  if (tls.verify || explicit) return;
  for (const h of hosts) {
    const a = parseHost(h);
    if (a.kind === 'tcp' && !isLoopback(a.host)) {
      throw new ConfigError(`refusing to listen on ${h} without --tlsverify: anyone who can reach this port gets root access on this machine. ` +
        'Use --tlsverify with --tlscacert, --tlscert and --tlskey, or state the intent explicitly with --tls=false (or --tlsverify=false)');
    }
  }
}

async function parseFile(path: string, text: string): Promise<FileConfig> {
  let json: unknown;
  try { json = JSON.parse(text); } catch (err) { throw new ConfigError(`invalid JSON in ${path}: ${(err as Error).message}`); }
  // zod is loaded only when there is a file to check (it is a big part of start-up memory).
  const { fileSchema } = await import('./config-file.ts');
  const r = fileSchema.safeParse(json);
  if (!r.success) throw new ConfigError(`invalid configuration in ${path}: ${r.error.issues.map((i) => `${i.path.join('.') || i.message}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The user berthd runs as, for the defaults' choice between rootful and rootless paths. */
function currentUser(): UserContext {
  let home = '';
  // os.homedir() throws when neither HOME nor a passwd entry names one; rootful needs none.
  try { home = homedir(); } catch { /* rootless defaults then name HOME in their error */ }
  return { env: process.env, uid: process.geteuid?.() ?? 0, home };
}

/**
 * Flags and daemon.json merged into one validated configuration. Called at start-up and again
 * on SIGHUP with the same argv (flags still win; a key both ways is still an error), so a
 * reload sees exactly what a restart would.
 */
export async function parseDaemonConfig(argv: string[], user: UserContext = currentUser()): Promise<DaemonConfig> {
  const o = parseDaemonFlags(argv);
  const rootless = isRootless(o.rootless, user.uid);
  const defaults = daemonDefaults(rootless, user);
  // A rootless default that needs a missing XDG variable is a configuration error, with its own text.
  const orDefault = (v: string | undefined, d: () => string): string => {
    if (v !== undefined) return v;
    try { return d(); } catch (err) {
      if (err instanceof RootlessPathError) throw new ConfigError(err.message);
      throw err;
    }
  };

  let file: FileConfig = {};
  const explicit = o.configFile !== undefined;
  const configFile = orDefault(o.configFile, defaults.configFile);
  let text: string | undefined;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (err) {
    if (explicit) throw new ConfigError(`unable to read config file ${configFile}: ${(err as Error).message}`);
  }
  if (text !== undefined) file = await parseFile(configFile, text);
  const both: string[] = [];
  const pick = <T>(flag: T | undefined, key: keyof FileConfig, fileVal: T | undefined): T | undefined => {
    if (flag !== undefined && fileVal !== undefined) both.push(`${key}: (from flag: ${String(flag)}, from file: ${String(fileVal)})`);
    return flag ?? fileVal;
  };
  const hosts = (pick(o.host, 'hosts', file.hosts) ?? []).map((h) => (h.includes('://') ? h : `tcp://${h}`));
  const dataRoot = pick(o.dataRoot, 'data-root', file['data-root']);
  const execRoot = orDefault(pick(o.execRoot, 'exec-root', file['exec-root']), defaults.execRoot);
  const pidfile = pick(o.pidfile, 'pidfile', file.pidfile);
  const runtime = pick(o.runtime, 'runtime', file.runtime ?? file['default-runtime']);
  const logLevel = pick(o.logLevel, 'log-level', file['log-level']);
  const debug = pick(o.debug, 'debug', file.debug) ?? false;
  const bridge = pick(o.bridge, 'bridge', file.bridge) ?? 'berth0';
  const bip = pick(o.bip, 'bip', file.bip) ?? '10.87.0.1/16';
  const mtu = pick(o.mtu, 'mtu', file.mtu) ?? 1500;
  const userlandProxy = pick(o.userlandProxy, 'userland-proxy', file['userland-proxy']) ?? false;
  const ipForwardNoDrop = pick(o.ipForwardNoDrop, 'ip-forward-no-drop', file['ip-forward-no-drop']) ?? false;
  const usernsRemap = pick(o.usernsRemap, 'userns-remap', file['userns-remap']) ?? '';
  const insecureRegistries = pick(o.insecureRegistry, 'insecure-registries', file['insecure-registries']) ?? [];
  const registryMirrors = pick(o.registryMirror, 'registry-mirrors', file['registry-mirrors']) ?? [];
  if (file['default-address-pool'] !== undefined && file['default-address-pools'] !== undefined) {
    throw new ConfigError('default-address-pool and default-address-pools are both set in the configuration file: use one');
  }
  const flagPool = o.defaultAddressPool !== undefined ? [parsePoolFlag(o.defaultAddressPool)] : undefined;
  const filePools = file['default-address-pools'] ?? (file['default-address-pool'] !== undefined ? [{ base: file['default-address-pool'], size: 24 }] : undefined);
  const pools = pick(flagPool, file['default-address-pools'] ? 'default-address-pools' : 'default-address-pool', filePools);
  const addressPool = pools ? checkPools(pools) : '10.86.0.0/16';
  const tlsFlag = pick(o.tls, 'tls', file.tls);
  const verifyFlag = pick(o.tlsverify, 'tlsverify', file.tlsverify);
  // dockerd: --tlsverify given at all (even =false) turns TLS on, and so does tlsverify: true in the file.
  const tls: TlsSettings = {
    enabled: tlsFlag === true || verifyFlag === true || o.tlsverify !== undefined,
    verify: verifyFlag === true,
    caCert: orDefault(pick(o.tlscacert, 'tlscacert', file.tlscacert), () => `${defaults.configDir()}/ca.pem`),
    cert: orDefault(pick(o.tlscert, 'tlscert', file.tlscert), () => `${defaults.configDir()}/cert.pem`),
    key: orDefault(pick(o.tlskey, 'tlskey', file.tlskey), () => `${defaults.configDir()}/key.pem`),
  };
  const liveRestore = pick(o.liveRestore, 'live-restore', file['live-restore']) ?? true;
  const flagUlimits = o.defaultUlimit?.map(parseUlimitFlag);
  const defaultUlimits = pick(flagUlimits, 'default-ulimits', file['default-ulimits'] ? fileUlimits(file['default-ulimits']) : undefined) ?? [];
  const logDriver = pick(o.logDriver, 'log-driver', file['log-driver']) ?? 'json-file';
  const flagLogOpts = o.logOpt ? Object.fromEntries(o.logOpt.map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new ConfigError(`invalid log-opt ${kv}: expected key=value`);
    return [kv.slice(0, i), kv.slice(i + 1)];
  })) : undefined;
  const logOpts = checkLogConfig(logDriver, pick(flagLogOpts, 'log-opts', file['log-opts']) ?? {});
  const init = pick(o.init, 'init', file.init) ?? false;
  const initPath = pick(o.initPath, 'init-path', file['init-path']) ?? '';
  const defaultIpcMode = pick(o.defaultIpcMode, 'default-ipc-mode', file['default-ipc-mode']) ?? 'private';
  const storageDriver = pick(o.storageDriver, 'storage-driver', file['storage-driver']);
  // dockerd's text for a driver it does not have (graphdriver.New).
  if (storageDriver !== undefined && !(STORAGE_DRIVERS as readonly string[]).includes(storageDriver)) {
    throw new ConfigError(`error initializing graphdriver: driver not supported: ${storageDriver} (Berth has ${STORAGE_DRIVERS.join(' and ')})`);
  }
  try {
    checkDefaultIpcMode(defaultIpcMode);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (!/^(none|[a-zA-Z0-9_.-]{1,15})$/.test(bridge)) throw new ConfigError(`invalid bridge name ${bridge}: at most 15 letters, digits, '.', '_' or '-'`);
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(bip)) throw new ConfigError(`invalid bip ${bip}: expected an address with a prefix such as 10.87.0.1/16`);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new ConfigError(`invalid mtu ${mtu}`);
  try {
    checkRegistrySettings({ insecureRegistries, mirrors: registryMirrors });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (both.length) {
    throw new ConfigError(`the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`);
  }
  const finalHosts = hosts.length ? hosts : [orDefault(undefined, defaults.host)];
  for (const h of finalHosts) {
    try { parseHost(h); } catch (err) { throw new ConfigError((err as Error).message); }
  }
  checkTcpSecurity(finalHosts, tls, tlsFlag !== undefined || verifyFlag === false);
  return {
    rootless,
    hosts: finalHosts,
    dataRoot: orDefault(dataRoot, defaults.dataRoot),
    execRoot,
    pidfile: pidfile ?? `${execRoot}/berthd.pid`,
    runtime: runtime ?? 'runc',
    logLevel: debug ? 'debug' : logLevel ?? 'info',
    debug,
    configFile,
    bridge, bip, mtu, addressPool, userlandProxy, ipForwardNoDrop, usernsRemap, insecureRegistries, registryMirrors,
    tls, liveRestore, defaultUlimits, logDriver, logOpts, init, initPath, defaultIpcMode,
    storageDriver: storageDriver as StorageDriver | undefined,
  };
}

/** daemon.json's name for each configuration field, for reload and error messages. */
const KEY_OF: Record<keyof DaemonConfig, string> = {
  rootless: 'rootless', hosts: 'hosts', dataRoot: 'data-root', execRoot: 'exec-root', pidfile: 'pidfile', runtime: 'runtime', logLevel: 'log-level',
  debug: 'debug', configFile: 'config-file', bridge: 'bridge', bip: 'bip', mtu: 'mtu', addressPool: 'default-address-pools',
  userlandProxy: 'userland-proxy', ipForwardNoDrop: 'ip-forward-no-drop', usernsRemap: 'userns-remap', insecureRegistries: 'insecure-registries',
  registryMirrors: 'registry-mirrors', tls: 'tls', liveRestore: 'live-restore', defaultUlimits: 'default-ulimits',
  logDriver: 'log-driver', logOpts: 'log-opts', init: 'init', initPath: 'init-path', defaultIpcMode: 'default-ipc-mode',
  storageDriver: 'storage-driver',
};

/** What SIGHUP applies at once; everything else is read at start-up only. */
const RELOADABLE: ReadonlySet<keyof DaemonConfig> = new Set(['logLevel', 'debug', 'insecureRegistries', 'registryMirrors', 'liveRestore']);

/**
 * The difference between the running configuration and a re-read one, split into what a
 * reload applies and what waits for a restart (named by daemon.json key).
 */
export function configChanges(a: DaemonConfig, b: DaemonConfig): { reload: string[]; restart: string[] } {
  const reload: string[] = [];
  const restart: string[] = [];
  for (const k of Object.keys(KEY_OF) as (keyof DaemonConfig)[]) {
    if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue;
    (RELOADABLE.has(k) ? reload : restart).push(KEY_OF[k]);
  }
  return { reload, restart };
}
