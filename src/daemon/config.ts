// berthd's configuration: dockerd-style flags and daemon.json with the same keys. A key given
// both ways is an error, as in dockerd; so is an unknown key or a missing explicit file.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { checkRegistrySettings } from '../engine/images.ts';

export interface DaemonConfig {
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
  usernsRemap: string;
  insecureRegistries: string[];
  registryMirrors: string[];
}

const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json';
const logLevels = ['debug', 'info', 'warn', 'error', 'fatal'] as const;

const fileSchema = z.object({
  hosts: z.array(z.string()).optional(),
  'data-root': z.string().optional(),
  'exec-root': z.string().optional(),
  pidfile: z.string().optional(),
  runtime: z.string().optional(),
  'default-runtime': z.string().optional(),
  'log-level': z.enum(logLevels).optional(),
  debug: z.boolean().optional(),
  bridge: z.string().optional(),
  bip: z.string().optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  'default-address-pool': z.string().optional(),
  'userland-proxy': z.boolean().optional(),
  'userns-remap': z.string().optional(),
  'insecure-registries': z.array(z.string()).optional(),
  'registry-mirrors': z.array(z.string()).optional(),
}).strict();

export class ConfigError extends Error {}

export async function parseDaemonConfig(argv: string[]): Promise<DaemonConfig> {
  const cmd = new Command('berthd')
    .description('Berth daemon: serves the Docker Engine API and runs containers with conmon and runc')
    .addOption(new Option('-H, --host <addr>', 'daemon socket to listen on (repeatable): unix:///path or tcp://addr:port')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .option('--data-root <dir>', 'root of persistent state (default /var/lib/berth)')
    .option('--exec-root <dir>', 'root of runtime state (default /run/berth)')
    .option('-p, --pidfile <file>', 'path of the daemon pid file (default <exec-root>/berthd.pid)')
    .option('--runtime <path>', 'OCI runtime binary, by path or name (default runc)')
    .addOption(new Option('-l, --log-level <level>', 'log level').choices(logLevels))
    .option('-D, --debug', 'enable debug mode')
    .option('-b, --bridge <name>', 'host bridge of the default network, or none (default berth0)')
    .option('--bip <cidr>', 'gateway address and prefix of the default bridge (default 10.87.0.1/16)')
    .option('--mtu <n>', 'MTU of container interfaces (default 1500)', (v) => Number(v))
    .option('--default-address-pool <cidr>', 'range user networks get /24 subnets from (default 10.86.0.0/16)')
    .option('--userns-remap <user>', 'map container root to a subordinate id range: default, or user[:group] from /etc/subuid and /etc/subgid')
    .option('--userland-proxy [bool]', "serve the host's own connections to published 127.0.0.x ports through the port proxy instead of kernel NAT (default false)", (v) => v !== 'false')
    .option('--insecure-registry <host>', 'registry (host[:port] or CIDR) reached over plain HTTP or unverified TLS (repeatable)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--registry-mirror <url>', 'pull-through mirror tried first for Docker Hub images (repeatable)', (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--config-file <file>', 'daemon configuration file', DEFAULT_CONFIG_FILE)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<{ host?: string[]; dataRoot?: string; execRoot?: string; pidfile?: string; runtime?: string; logLevel?: string; debug?: boolean; configFile: string; bridge?: string; bip?: string; mtu?: number; defaultAddressPool?: string; userlandProxy?: boolean; usernsRemap?: string; insecureRegistry?: string[]; registryMirror?: string[] }>();

  let file: z.infer<typeof fileSchema> = {};
  const explicit = cmd.getOptionValueSource('configFile') === 'cli';
  let text: string | undefined;
  try {
    text = await readFile(o.configFile, 'utf8');
  } catch (err) {
    if (explicit) throw new ConfigError(`unable to read config file ${o.configFile}: ${(err as Error).message}`);
  }
  if (text !== undefined) {
    let json: unknown;
    try { json = JSON.parse(text); } catch (err) { throw new ConfigError(`invalid JSON in ${o.configFile}: ${(err as Error).message}`); }
    const r = fileSchema.safeParse(json);
    if (!r.success) throw new ConfigError(`invalid configuration in ${o.configFile}: ${r.error.issues.map((i) => `${i.path.join('.') || i.message}: ${i.message}`).join('; ')}`);
    file = r.data;
  }
  const both: string[] = [];
  const pick = <T>(flag: T | undefined, key: keyof typeof file, fileVal: T | undefined): T | undefined => {
    if (flag !== undefined && fileVal !== undefined) both.push(`${key}: (from flag: ${String(flag)}, from file: ${String(fileVal)})`);
    return flag ?? fileVal;
  };
  const hosts = pick(o.host, 'hosts', file.hosts);
  const dataRoot = pick(o.dataRoot, 'data-root', file['data-root']);
  const execRoot = pick(o.execRoot, 'exec-root', file['exec-root']) ?? '/run/berth';
  const pidfile = pick(o.pidfile, 'pidfile', file.pidfile);
  const runtime = pick(o.runtime, 'runtime', file.runtime ?? file['default-runtime']);
  const logLevel = pick(o.logLevel, 'log-level', file['log-level']);
  const debug = pick(o.debug, 'debug', file.debug) ?? false;
  const bridge = pick(o.bridge, 'bridge', file.bridge) ?? 'berth0';
  const bip = pick(o.bip, 'bip', file.bip) ?? '10.87.0.1/16';
  const mtu = pick(o.mtu, 'mtu', file.mtu) ?? 1500;
  const userlandProxy = pick(o.userlandProxy, 'userland-proxy', file['userland-proxy']) ?? false;
  const usernsRemap = pick(o.usernsRemap, 'userns-remap', file['userns-remap']) ?? '';
  const insecureRegistries = pick(o.insecureRegistry, 'insecure-registries', file['insecure-registries']) ?? [];
  const registryMirrors = pick(o.registryMirror, 'registry-mirrors', file['registry-mirrors']) ?? [];
  const addressPool = pick(o.defaultAddressPool, 'default-address-pool', file['default-address-pool']) ?? '10.86.0.0/16';
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
  return {
    hosts: hosts?.length ? hosts : ['unix:///run/berth/berth.sock'],
    dataRoot: dataRoot ?? '/var/lib/berth',
    execRoot,
    pidfile: pidfile ?? `${execRoot}/berthd.pid`,
    runtime: runtime ?? 'runc',
    logLevel: debug ? 'debug' : logLevel ?? 'info',
    debug,
    configFile: o.configFile,
    bridge, bip, mtu, addressPool, userlandProxy, usernsRemap, insecureRegistries, registryMirrors,
  };
}
