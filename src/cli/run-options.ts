// `berth run`/`create` flags → the create request (Config, HostConfig, NetworkingConfig), as the
// Docker CLI 28.2 maps them (docker/cli cli/command/container/opts.go parse() and create.go), so
// the daemon receives the same body from `berth` as from `docker` for the same command line.
import { isPredefinedNetwork } from '../network/predefined.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './command.ts';
import type { FlagSpec, Opts } from './flags.ts';
import { parseReference } from '../image/reference.ts';
import { resourceValues, runResourceFlag } from './resource-flags.ts';
import {
  absIfDotRelative, canonicalIP, convertPublishNotation, exposePorts, goFileError, isCDIName, parseDevice,
  parseDuration, parseGpus, parseInt64, parseKVFile, parseMount, parsePortSpecs, parseThrottleBps, parseThrottleIOps,
  parseUint, parseUlimit, parseVolumeSpec, parseWeightDevice, validateAttach, validateDNSSearch,
  validateDeviceCgroupRule, validateEnv, validateExtraHost, validateIPAddress, validateLabel, validateLink, validateSysctl,
  validMAC, csvRecord,
} from './run-options-parse.ts';
import { ramInBytes } from './size-parse.ts';

const CGROUPNS_DESC = `Cgroup namespace to use (host|private)
'host':    Run the container in the Docker host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)`;

/** Every flag of `docker run` (28.2), in its help order; `create` has all but RUN_ONLY_FLAGS. */
export const RUN_FLAGS: FlagSpec[] = [
  { name: 'add-host', type: 'list', desc: 'Add a custom host-to-IP mapping (host:ip)' },
  { name: 'annotation', type: 'list', value: 'map', desc: 'Add an annotation to the container (passed through to the OCI runtime) (default map[])' },
  { name: 'attach', short: 'a', type: 'list', desc: 'Attach to STDIN, STDOUT or STDERR' },
  runResourceFlag('blkio-weight'),
  { name: 'blkio-weight-device', type: 'list', desc: 'Block IO weight (relative device weight) (default [])' },
  { name: 'cap-add', type: 'list', desc: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', desc: 'Drop Linux capabilities' },
  { name: 'cgroup-parent', type: 'string', desc: 'Optional parent cgroup for the container' },
  { name: 'cgroupns', type: 'string', desc: CGROUPNS_DESC },
  { name: 'cidfile', type: 'string', desc: 'Write the container ID to the file' },
  { name: 'cpu-count', type: 'int', desc: 'CPU count (Windows only)' },
  { name: 'cpu-percent', type: 'int', desc: 'CPU percent (Windows only)' },
  runResourceFlag('cpu-period'),
  runResourceFlag('cpu-quota'),
  runResourceFlag('cpu-rt-period'),
  runResourceFlag('cpu-rt-runtime'),
  runResourceFlag('cpu-shares'),
  runResourceFlag('cpus'),
  runResourceFlag('cpuset-cpus'),
  runResourceFlag('cpuset-mems'),
  { name: 'detach', short: 'd', type: 'bool', desc: 'Run container in background and print container ID' },
  { name: 'detach-keys', type: 'string', desc: 'Override the key sequence for detaching a container' },
  { name: 'device', type: 'list', desc: 'Add a host device to the container' },
  { name: 'device-cgroup-rule', type: 'list', desc: 'Add a rule to the cgroup allowed devices list' },
  { name: 'device-read-bps', type: 'list', desc: 'Limit read rate (bytes per second) from a device (default [])' },
  { name: 'device-read-iops', type: 'list', desc: 'Limit read rate (IO per second) from a device (default [])' },
  { name: 'device-write-bps', type: 'list', desc: 'Limit write rate (bytes per second) to a device (default [])' },
  { name: 'device-write-iops', type: 'list', desc: 'Limit write rate (IO per second) to a device (default [])' },
  { name: 'disable-content-trust', type: 'bool', desc: 'Skip image verification', default: true },
  { name: 'dns', type: 'list', desc: 'Set custom DNS servers' },
  { name: 'dns-opt', type: 'list', desc: 'Set DNS options', hidden: true, aliasOf: 'dns-option' },
  { name: 'dns-option', type: 'list', desc: 'Set DNS options' },
  { name: 'dns-search', type: 'list', desc: 'Set custom DNS search domains' },
  { name: 'domainname', type: 'string', desc: 'Container NIS domain name' },
  { name: 'entrypoint', type: 'string', desc: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'env', short: 'e', type: 'list', desc: 'Set environment variables' },
  { name: 'env-file', type: 'list', desc: 'Read in a file of environment variables' },
  { name: 'expose', type: 'list', desc: 'Expose a port or a range of ports' },
  { name: 'gpus', type: 'list', value: 'gpu-request', desc: "GPU devices to add to the container ('all' to pass all GPUs)" },
  { name: 'group-add', type: 'list', desc: 'Add additional groups to join' },
  { name: 'health-cmd', type: 'string', desc: 'Command to run to check health' },
  { name: 'health-interval', type: 'string', value: 'duration', desc: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { name: 'health-retries', type: 'int', desc: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-start-interval', type: 'string', value: 'duration', desc: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  { name: 'health-start-period', type: 'string', value: 'duration', desc: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { name: 'health-timeout', type: 'string', value: 'duration', desc: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { name: 'help', type: 'bool', desc: 'Print usage' },
  { name: 'hostname', short: 'h', type: 'string', desc: 'Container host name' },
  { name: 'init', type: 'bool', desc: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'interactive', short: 'i', type: 'bool', desc: 'Keep STDIN open even if not attached' },
  { name: 'io-maxbandwidth', type: 'string', value: 'bytes', desc: 'Maximum IO bandwidth limit for the system drive (Windows only)' },
  { name: 'io-maxiops', type: 'string', value: 'uint', desc: 'Maximum IOps limit for the system drive (Windows only)' },
  { name: 'ip', type: 'string', desc: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', type: 'string', desc: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'ipc', type: 'string', desc: 'IPC mode to use' },
  { name: 'isolation', type: 'string', desc: 'Container isolation technology' },
  runResourceFlag('kernel-memory'),
  { name: 'label', short: 'l', type: 'list', desc: 'Set meta data on a container' },
  { name: 'label-file', type: 'list', desc: 'Read in a line delimited file of labels' },
  { name: 'link', type: 'list', desc: 'Add link to another container' },
  { name: 'link-local-ip', type: 'list', desc: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'log-driver', type: 'string', desc: 'Logging driver for the container' },
  { name: 'log-opt', type: 'list', desc: 'Log driver options' },
  { name: 'mac-address', type: 'string', desc: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  runResourceFlag('memory'),
  runResourceFlag('memory-reservation'),
  runResourceFlag('memory-swap'),
  { name: 'memory-swappiness', type: 'int', desc: 'Tune container memory swappiness (0 to 100)', default: -1 },
  { name: 'mount', type: 'list', value: 'mount', desc: 'Attach a filesystem mount to the container' },
  { name: 'name', type: 'string', desc: 'Assign a name to the container' },
  { name: 'net', type: 'list', value: 'network', desc: 'Connect a container to a network', hidden: true, aliasOf: 'network' },
  { name: 'net-alias', type: 'list', desc: 'Add network-scoped alias for the container', hidden: true, aliasOf: 'network-alias' },
  { name: 'network', type: 'list', value: 'network', desc: 'Connect a container to a network' },
  { name: 'network-alias', type: 'list', desc: 'Add network-scoped alias for the container' },
  { name: 'no-healthcheck', type: 'bool', desc: 'Disable any container-specified HEALTHCHECK' },
  { name: 'oom-kill-disable', type: 'bool', desc: 'Disable OOM Killer' },
  { name: 'oom-score-adj', type: 'int', desc: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'pid', type: 'string', desc: 'PID namespace to use' },
  runResourceFlag('pids-limit'),
  { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
  { name: 'privileged', type: 'bool', desc: 'Give extended privileges to this container' },
  { name: 'publish', short: 'p', type: 'list', desc: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', type: 'bool', desc: 'Publish all exposed ports to random ports' },
  { name: 'pull', type: 'string', desc: 'Pull image before running ("always", "missing", "never")', default: 'missing' },
  { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress the pull output' },
  { name: 'read-only', type: 'bool', desc: "Mount the container's root filesystem as read only" },
  { name: 'restart', type: 'string', desc: 'Restart policy to apply when a container exits', default: 'no' },
  { name: 'rm', type: 'bool', desc: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { name: 'runtime', type: 'string', desc: 'Runtime to use for this container' },
  { name: 'security-opt', type: 'list', desc: 'Security Options' },
  { name: 'shm-size', type: 'string', value: 'bytes', desc: 'Size of /dev/shm' },
  { name: 'sig-proxy', type: 'bool', desc: 'Proxy received signals to the process', default: true },
  { name: 'stop-signal', type: 'string', desc: 'Signal to stop the container' },
  { name: 'stop-timeout', type: 'int', desc: 'Timeout (in seconds) to stop a container' },
  { name: 'storage-opt', type: 'list', desc: 'Storage driver options for the container' },
  { name: 'sysctl', type: 'list', value: 'map', desc: 'Sysctl options (default map[])' },
  { name: 'tmpfs', type: 'list', desc: 'Mount a tmpfs directory' },
  { name: 'tty', short: 't', type: 'bool', desc: 'Allocate a pseudo-TTY' },
  { name: 'ulimit', type: 'list', value: 'ulimit', desc: 'Ulimit options (default [])' },
  { name: 'use-api-socket', type: 'bool', desc: 'Bind mount Docker API socket and required auth' },
  { name: 'user', short: 'u', type: 'string', desc: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'userns', type: 'string', desc: 'User namespace to use' },
  { name: 'uts', type: 'string', desc: 'UTS namespace to use' },
  { name: 'volume', short: 'v', type: 'list', desc: 'Bind mount a volume' },
  { name: 'volume-driver', type: 'string', desc: 'Optional volume driver for the container' },
  { name: 'volumes-from', type: 'list', desc: 'Mount volumes from the specified container(s)' },
  { name: 'workdir', short: 'w', type: 'string', desc: 'Working directory inside the container' },
];

/** The flags `docker run` has and `docker create` does not. */
export const RUN_ONLY_FLAGS: ReadonlySet<string> = new Set(['detach', 'detach-keys', 'sig-proxy']);

/** `docker create`'s flags: run's without the run-only ones, and create's own --pull text (sic). */
export const CREATE_FLAGS: FlagSpec[] = RUN_FLAGS.filter((f) => !RUN_ONLY_FLAGS.has(f.name))
  .map((f) => (f.name === 'pull' ? { ...f, desc: 'Pull image before creating ("always", "|missing", "never")' } : f));

export interface CreateRequest {
  /** ?name= */
  name?: string;
  /** ?platform= */
  platform?: string;
  /** --pull: "missing" (default), "always", "never" */
  pull: string;
  /** the JSON body of POST /containers/create */
  body: Record<string, unknown> & { Image: string; HostConfig: Record<string, unknown> };
}

/** Where the request is made from: for messages, proxies and --use-api-socket. */
export interface CreateEnv {
  /** `berth run`, `berth container create`, … (default `berth run`) */
  invokedAs?: string;
  /** the config dir: its config.json `proxies` add proxy variables as docker's do */
  configDir?: string;
  /** the daemon address (`unix:///…`), for --use-api-socket */
  host?: string;
  /** the local environment for `-e KEY`, env files and DOCKER_DEFAULT_PLATFORM (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** the daemon's OSType (/_ping header), default linux: Windows-only flags are refused elsewhere */
  serverOS?: string;
  /** [height, width] of the terminal when stdout is one (HostConfig.ConsoleSize) */
  consoleSize?: [number, number];
}

const USAGE_ARGS = '[OPTIONS] IMAGE [COMMAND] [ARG...]';

/**
 * args: IMAGE [COMMAND] [ARG...]. Throws CliError with docker's text and status: 125 for a bad flag
 * value or option conflict, and for a bad image reference 1 (create) or 125 (run).
 */
export function createRequest(o: Opts, args: string[], where: CreateEnv = {}): CreateRequest {
  const invokedAs = where.invokedAs ?? 'berth run';
  const prog = invokedAs.split(' ')[0]!;
  const cmd = invokedAs.split(' ').at(-1) === 'create' ? 'create' : 'run';
  const env = where.env ?? process.env;
  const withHelp = (msg: string): CliError => new CliError(`${prog}: ${msg}\n\nRun '${prog} ${cmd} --help' for more information`, 125);
  const flagError = (name: string, value: string, msg: string): CliError => {
    const spec = RUN_FLAGS.find((f) => f.name === name);
    const shown = spec?.short ? `-${spec.short}, --${name}` : `--${name}`;
    return new CliError(`invalid argument ${JSON.stringify(value)} for ${JSON.stringify(shown)} flag: ${msg}\n\nUsage:  ${invokedAs} ${USAGE_ARGS}\n\nRun '${invokedAs} --help' for more information`, 125);
  };
  /** each value of a flag through docker's Set-time validator */
  const each = <T>(name: string, fn: (v: string) => T): T[] => o.list(name).map((v) => {
    try { return fn(v); } catch (e) { throw flagError(name, v, (e as Error).message); }
  });
  const one = <T>(name: string, fn: (v: string) => T, dflt: T): T => {
    const v = o.changed(name) ? o.str(name) : undefined;
    if (v === undefined) return dflt;
    try { return fn(v); } catch (e) { throw flagError(name, v, (e as Error).message); }
  };
  const int = (name: string): number => o.int(name) ?? 0;

  // flag values, validated when pflag would have set them
  const attach = each('attach', validateAttach);
  const deviceCgroupRules = each('device-cgroup-rule', validateDeviceCgroupRule);
  const gpus = each('gpus', parseGpus);
  const envs = each('env', (v) => validateEnv(v, env));
  const labels = each('label', validateLabel);
  const sysctls = each('sysctl', validateSysctl);
  const ulimits = each('ulimit', parseUlimit);
  const extraHosts = each('add-host', validateExtraHost);
  const dns = each('dns', validateIPAddress);
  const dnsSearch = each('dns-search', validateDNSSearch);
  const links = each('link', validateLink);
  const mounts = each('mount', parseMount);
  const networks = each('network', parseNetworkOpt);
  const healthInterval = one('health-interval', parseDuration, 0);
  const healthTimeout = one('health-timeout', parseDuration, 0);
  const healthStartPeriod = one('health-start-period', parseDuration, 0);
  const healthStartInterval = one('health-start-interval', parseDuration, 0);
  const blkioWeightDevice = each('blkio-weight-device', parseWeightDevice);
  const readBps = each('device-read-bps', parseThrottleBps);
  const readIOps = each('device-read-iops', parseThrottleIOps);
  const writeBps = each('device-write-bps', parseThrottleBps);
  const writeIOps = each('device-write-iops', parseThrottleIOps);
  const ioMaxBandwidth = one('io-maxbandwidth', ramInBytes, 0);
  const ioMaxIOps = one('io-maxiops', (v) => Number(parseUint(v, 64, 'ParseUint', false)), 0);
  // KernelMemory is dropped by the client at API >= 1.42
  const { KernelMemory: _kernelMemory, ...resources } = resourceValues(o, (f, v, why) => flagError(f.name, v, why));
  const shmSize = one('shm-size', ramInBytes, 0);
  void ioMaxBandwidth; void ioMaxIOps;

  // flags annotated for another daemon OS are refused before the command runs
  const serverOS = where.serverOS ?? 'linux';
  for (const f of ['cpu-count', 'cpu-percent', 'io-maxbandwidth', 'io-maxiops']) {
    if (o.changed(f) && serverOS !== 'windows') {
      throw new CliError(`"--${f}" is only supported on a Docker daemon running on windows, but the Docker daemon is running on ${serverOS}`, 1);
    }
  }

  const pull = o.str('pull') ?? 'missing';
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw withHelp(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }

  // parse(): the cross-flag rules and conversions, in docker's order
  const parseErr = (fn: () => void): void => {
    try { fn(); } catch (e) { throw e instanceof CliError ? e : withHelp((e as Error).message); }
  };
  const macAddress = o.str('mac-address') ?? '';
  let body!: CreateRequest['body'];
  parseErr(() => {
    if (macAddress && !validMAC(macAddress)) throw new Error(`${macAddress} is not a valid mac address`);
    let attachStdin = attach.includes('stdin');
    let attachStdout = attach.includes('stdout');
    let attachStderr = attach.includes('stderr');
    if (o.bool('interactive')) attachStdin = true;
    if (!attach.length) attachStdout = attachStderr = true;

    const swappiness = o.int('memory-swappiness') ?? -1;
    if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);

    // -v: a spec with a source is a bind (or named volume), the rest anonymous volumes
    const volumes: Record<string, object> = {};
    const binds: string[] = [];
    for (const spec of new Set(o.list('volume'))) {
      const parsed = parseVolumeSpec(spec);
      if (!parsed.source) {
        volumes[spec] = {};
        continue;
      }
      let toBind = spec;
      const colon = spec.indexOf(':');
      if (parsed.type === 'bind' && colon >= 0) toBind = `${absIfDotRelative(spec.slice(0, colon))}${spec.slice(colon)}`;
      binds.push(toBind);
    }

    const tmpfs: Record<string, string> = {};
    for (const t of o.list('tmpfs')) {
      const i = t.indexOf(':');
      tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
    }

    const entrypointFlag = o.str('entrypoint') ?? '';
    const entrypoint = entrypointFlag ? [entrypointFlag] : o.changed('entrypoint') ? [''] : null;

    const { exposed, bindings } = parsePortSpecs(o.list('publish').map(convertPublishNotation));
    for (const e of o.list('expose')) for (const p of exposePorts(e)) exposed.set(p, true);

    const devices: object[] = [];
    const cdiDevices: string[] = [];
    for (const d of o.list('device')) {
      if (isCDIName(d)) cdiDevices.push(d);
      else devices.push(parseDevice(d));
    }

    const envVars = readEnv(o.list('env-file'), proxyEnv(envs, where), env);
    const labelVars = [...o.list('label-file').flatMap((f) => parseKVFile(f)), ...labels];

    const pid = o.str('pid') ?? '';
    if (!(pid === '' || pid === 'host' || /^container:./.test(pid))) throw new Error('--pid: invalid PID mode');
    const uts = o.str('uts') ?? '';
    if (!(uts === '' || uts === 'host')) throw new Error('--uts: invalid UTS mode');
    const userns = o.str('userns') ?? '';
    if (!(userns === '' || userns === 'host')) throw new Error('--userns: invalid USER mode');
    const cgroupns = o.str('cgroupns') ?? '';
    if (!['', 'private', 'host'].includes(cgroupns)) throw new Error('--cgroupns: invalid CGROUP mode');

    const restart = parseRestartPolicy(o.str('restart') ?? 'no');

    const logDriver = o.str('log-driver') ?? '';
    const logOpts = o.list('log-opt');
    if (logDriver === 'none' && logOpts.length) throw new Error(`invalid logging opts for driver ${logDriver}`);

    let securityOpt: string[] | null = parseSecurityOpts(o.list('security-opt'));
    let maskedPaths: string[] | null = null, readonlyPaths: string[] | null = null;
    if (securityOpt.includes('systempaths=unconfined')) {
      maskedPaths = [];
      readonlyPaths = [];
    }
    securityOpt = o.list('security-opt').length ? securityOpt.filter((s) => s !== 'systempaths=unconfined') : null;

    const storageOpt: Record<string, string> = {};
    for (const s of o.list('storage-opt')) {
      const i = s.indexOf('=');
      if (i < 0) throw new Error('invalid storage option');
      storageOpt[s.slice(0, i)] = s.slice(i + 1);
    }

    const healthcheck = parseHealthcheck(o, healthInterval, healthTimeout, healthStartPeriod, healthStartInterval);

    const deviceRequests: object[] | null = gpus.length || cdiDevices.length ? [...gpus] : null;
    if (cdiDevices.length) deviceRequests!.push({ Driver: 'cdi', Count: 0, DeviceIDs: cdiDevices, Capabilities: null, Options: null });

    const networkMode = networks[0]?.Target ?? 'default';
    const hostConfig: Record<string, unknown> = {
      Binds: binds.length ? binds : null,
      ContainerIDFile: o.str('cidfile') ?? '',
      LogConfig: { Type: logDriver, Config: kvMap(logOpts) },
      NetworkMode: networkMode,
      PortBindings: Object.fromEntries(bindings),
      RestartPolicy: restart,
      AutoRemove: o.bool('rm'),
      VolumeDriver: o.str('volume-driver') ?? '',
      VolumesFrom: nullIfEmpty(o.list('volumes-from')),
      ConsoleSize: where.consoleSize ?? (process.stdout.isTTY ? [process.stdout.rows, process.stdout.columns] : [0, 0]),
      Annotations: nonEmptyMap(kvMap(o.list('annotation'))),
      CapAdd: normalizeCaps(o.list('cap-add')),
      CapDrop: normalizeCaps(o.list('cap-drop')),
      CgroupnsMode: cgroupns,
      Dns: dns,
      DnsOptions: o.list('dns-option'),
      DnsSearch: dnsSearch,
      ExtraHosts: nullIfEmpty(extraHosts),
      GroupAdd: nullIfEmpty(o.list('group-add')),
      IpcMode: o.str('ipc') ?? '',
      Cgroup: '',
      Links: nullIfEmpty(links),
      OomScoreAdj: int('oom-score-adj'),
      PidMode: pid,
      Privileged: o.bool('privileged'),
      PublishAllPorts: o.bool('publish-all'),
      ReadonlyRootfs: o.bool('read-only'),
      SecurityOpt: securityOpt,
      StorageOpt: nonEmptyMap(storageOpt),
      Tmpfs: nonEmptyMap(tmpfs),
      UTSMode: uts,
      UsernsMode: userns,
      ShmSize: shmSize,
      Sysctls: nonEmptyMap(kvMap(sysctls)),
      Runtime: o.str('runtime') || undefined,
      Isolation: o.str('isolation') ?? '',
      // the resource flags' fields (resource-flags.ts), as update sends them too
      ...resources,
      CgroupParent: o.str('cgroup-parent') ?? '',
      BlkioWeightDevice: blkioWeightDevice,
      BlkioDeviceReadBps: readBps,
      BlkioDeviceWriteBps: writeBps,
      BlkioDeviceReadIOps: readIOps,
      BlkioDeviceWriteIOps: writeIOps,
      Devices: devices,
      DeviceCgroupRules: nullIfEmpty(deviceCgroupRules),
      DeviceRequests: deviceRequests,
      MemorySwappiness: swappiness,
      OomKillDisable: o.bool('oom-kill-disable'),
      Ulimits: [...new Map(ulimits.map((u) => [u.Name, u])).values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)),
      CpuCount: int('cpu-count'),
      CpuPercent: int('cpu-percent'),
      IOMaximumIOps: ioMaxIOps,
      IOMaximumBandwidth: ioMaxBandwidth,
      Mounts: mounts.length ? mounts : undefined,
      MaskedPaths: maskedPaths,
      ReadonlyPaths: readonlyPaths,
      Init: o.changed('init') ? o.bool('init') : undefined,
    };
    if (o.bool('rm') && !(restart.Name === 'no' || restart.Name === '')) {
      throw new Error('conflicting options: cannot specify both --restart and --rm');
    }

    const openStdin = o.bool('interactive');
    const config: Record<string, unknown> = {
      Hostname: o.str('hostname') ?? '',
      Domainname: o.str('domainname') ?? '',
      User: o.str('user') ?? '',
      AttachStdin: attachStdin,
      AttachStdout: attachStdout,
      AttachStderr: attachStderr,
      ExposedPorts: exposed.size ? Object.fromEntries([...exposed.keys()].map((p) => [p, {}])) : undefined,
      Tty: o.bool('tty'),
      OpenStdin: openStdin,
      StdinOnce: openStdin && attachStdin,
      Env: envVars.length ? envVars : null,
      Cmd: args.length > 1 ? args.slice(1) : null,
      Healthcheck: healthcheck,
      Image: args[0] ?? '',
      Volumes: volumes,
      WorkingDir: o.str('workdir') ?? '',
      Entrypoint: entrypoint,
      // MacAddress: the client drops the container-wide field at API >= 1.44 (it is per endpoint)
      OnBuild: null,
      Labels: kvMap(labelVars),
      StopSignal: o.str('stop-signal') || undefined,
      StopTimeout: o.changed('stop-timeout') ? int('stop-timeout') : undefined,
    };
    const endpoints = parseNetworkOpts(o, networks, links, macAddress);
    body = { ...config, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints } } as unknown as CreateRequest['body'];
  });

  // run's client side: -d detaches every stream
  if (o.bool('detach')) {
    if (attach.length) throw new CliError('conflicting options: cannot specify both --attach and --detach', 1);
    body.AttachStdin = body.AttachStdout = body.AttachStderr = body.StdinOnce = false;
  }

  // createContainer(): the image reference, --use-api-socket and the platform
  const createErr = (msg: string): CliError => (cmd === 'create' ? new CliError(msg, 1) : withHelp(msg));
  try {
    parseReference(body.Image);
  } catch (e) {
    throw createErr((e as Error).message);
  }
  if (o.bool('use-api-socket')) {
    const host = where.host ?? '';
    if (!host.startsWith('unix://')) throw createErr(`flag --use-api-socket can only be used with unix sockets: docker endpoint ${host} incompatible`);
    const hc = body.HostConfig;
    hc.Mounts = [...((hc.Mounts as object[] | undefined) ?? []), { Type: 'bind', Source: host.slice('unix://'.length), Target: '/var/run/docker.sock', BindOptions: {} }];
  }
  const platformFlag = o.changed('platform') ? o.str('platform')! : env.DOCKER_DEFAULT_PLATFORM ?? '';
  let platform: string | undefined;
  if (platformFlag) {
    try { platform = formatPlatform(platformFlag); } catch (e) { throw createErr(`error parsing specified platform: ${(e as Error).message}`); }
  }
  dropUndefined(body);
  dropUndefined(body.HostConfig);
  // docker pulls on a missing image only for "missing": an empty --pull never pulls
  return { name: o.str('name') || undefined, platform, pull: pull || 'never', body };
}

// ---- pieces of parse() ----

interface NetworkAttachment {
  Target: string; Aliases: string[]; DriverOpts?: Record<string, string>; Links: string[];
  IPv4Address: string; IPv6Address: string; LinkLocalIPs: string[]; MacAddress: string; GwPriority: number;
}

/** opts.NetworkOpt.Set: `--network name` or `--network name=n,alias=a,ip=…,driver-opt=k=v,gw-priority=1` */
function parseNetworkOpt(value: string): NetworkAttachment {
  const n: NetworkAttachment = { Target: '', Aliases: [], Links: [], IPv4Address: '', IPv6Address: '', LinkLocalIPs: [], MacAddress: '', GwPriority: 0 };
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) {
    n.Target = value;
    return n;
  }
  for (const field of csvRecord(value)) {
    const lower = field.toLowerCase();
    const eq = lower.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, eq).trim();
    const val = lower.slice(eq + 1).trim();
    switch (key) {
      case 'name': n.Target = val; break;
      case 'alias': n.Aliases.push(val); break;
      case 'ip': n.IPv4Address = val; break;
      case 'ip6': n.IPv6Address = val; break;
      case 'mac-address': n.MacAddress = val; break;
      case 'link-local-ip': n.LinkLocalIPs.push(val); break;
      case 'driver-opt': {
        const i = val.indexOf('=');
        if (i <= 0) throw new Error('invalid key value pair format in driver options');
        (n.DriverOpts ??= {})[val.slice(0, i).trim()] = val.slice(i + 1).trim();
        break;
      }
      case 'gw-priority':
        if (!/^[+-]?\d+$/.test(val)) throw new Error(`invalid gw-priority (${val}): invalid syntax`);
        n.GwPriority = Number(val);
        break;
      default: throw new Error(`invalid field key ${key}`);
    }
  }
  if (!n.Target) throw new Error('network name/id is not specified');
  return n;
}

// The Docker CLI's NetworkMode.IsUserDefined: `default` (the daemon's default network) counts as predefined too.
const isUserDefined = (mode: string): boolean => mode !== 'default' && !isPredefinedNetwork(mode) && !mode.startsWith('container:');

/** parseNetworkOpts: the endpoint settings for each --network, the classic flags on the first */
function parseNetworkOpts(o: Opts, networks: NetworkAttachment[], links: string[], mac: string): Record<string, object> {
  // pflag shares one list between a flag and its hidden alias (argv order); Opts keeps them apart
  const aliases = o.list('network-alias');
  const ip = o.str('ip') ?? '', ip6 = o.str('ip6') ?? '';
  const linkLocal = o.list('link-local-ip');
  const apply = (n: NetworkAttachment): void => {
    if (n.Aliases.length && aliases.length) throw new Error('conflicting options: cannot specify both --network-alias and per-network alias');
    if (n.Links.length && links.length) throw new Error('conflicting options: cannot specify both --link and per-network links');
    if (n.IPv4Address && ip) throw new Error('conflicting options: cannot specify both --ip and per-network IPv4 address');
    if (n.IPv6Address && ip6) throw new Error('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
    if (n.MacAddress && mac) throw new Error('conflicting options: cannot specify both --mac-address and per-network MAC address');
    if (n.LinkLocalIPs.length && linkLocal.length) throw new Error('conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
    if (aliases.length) n.Aliases = [...aliases];
    if (isUserDefined(n.Target) && links.length) n.Links = [...links];
    if (ip) n.IPv4Address = ip;
    if (ip6) n.IPv6Address = ip6;
    if (mac) n.MacAddress = mac;
    if (linkLocal.length) n.LinkLocalIPs = [...linkLocal];
  };
  const endpoint = (n: NetworkAttachment): { ep: Record<string, unknown>; empty: boolean } => {
    if (!n.Target.trim()) throw new Error('no name set for network');
    if (!isUserDefined(n.Target)) {
      if (n.Aliases.length) throw new Error('network-scoped aliases are only supported for user-defined networks');
      if (n.Links.length) throw new Error('links are only supported for user-defined networks');
    }
    if (n.MacAddress && !validMAC(n.MacAddress)) throw new Error(`${n.MacAddress} is not a valid mac address`);
    const ipam = n.IPv4Address || n.IPv6Address || n.LinkLocalIPs.length
      ? dropUndefined({ IPv4Address: n.IPv4Address || undefined, IPv6Address: n.IPv6Address || undefined, LinkLocalIPs: n.LinkLocalIPs.length ? n.LinkLocalIPs : undefined })
      : null;
    const ep = {
      IPAMConfig: ipam, Links: nullIfEmpty(n.Links), Aliases: nullIfEmpty(n.Aliases), MacAddress: n.MacAddress,
      DriverOpts: n.DriverOpts && Object.keys(n.DriverOpts).length ? n.DriverOpts : null, GwPriority: n.GwPriority,
      NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
    };
    const empty = !ipam && !n.Links.length && !n.Aliases.length && !n.MacAddress && !ep.DriverOpts && !n.GwPriority;
    return { ep, empty };
  };
  const out: Record<string, object> = {};
  if (!networks.length) {
    const n: NetworkAttachment = { Target: 'default', Aliases: [], Links: [], IPv4Address: '', IPv6Address: '', LinkLocalIPs: [], MacAddress: '', GwPriority: 0 };
    apply(n);
    out.default = endpoint(n).ep;
  }
  let user = false, nonUser = false;
  networks.forEach((n, i) => {
    if (isUserDefined(n.Target)) user = true;
    else nonUser = true;
    if (i === 0) apply(n);
    const { ep, empty } = endpoint(n);
    if (n.Target in out) throw new Error(`network ${JSON.stringify(n.Target)} is specified multiple times`);
    if (i === 0 && networks.length === 1 && empty) return;
    out[n.Target] = ep;
  });
  if (user && nonUser) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return out;
}

/** opts.ParseRestartPolicy (the daemon validates the name) */
function parseRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (!policy) return { Name: '', MaximumRetryCount: 0 };
  const i = policy.indexOf(':');
  const k = i < 0 ? policy : policy.slice(0, i);
  const v = i < 0 ? '' : policy.slice(i + 1);
  if (i >= 0 && !k) throw new Error('invalid restart policy format: no policy provided before colon');
  let count = 0;
  if (v) {
    try { count = parseInt64(v, 'Atoi'); } catch { throw new Error('invalid restart policy format: maximum retry count must be an integer'); }
  }
  return { Name: k, MaximumRetryCount: count };
}

/** parseSecurityOpts: a `seccomp=<file>` profile is sent as its (compacted) content */
function parseSecurityOpts(opts: string[]): string[] {
  return opts.map((opt) => {
    let i = opt.indexOf('=');
    let k = i < 0 ? opt : opt.slice(0, i);
    if (i < 0 && k !== 'no-new-privileges') {
      i = opt.indexOf(':');
      k = i < 0 ? opt : opt.slice(0, i);
    }
    const v = i < 0 ? '' : opt.slice(i + 1);
    if ((i < 0 || !v) && k !== 'no-new-privileges') throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (k !== 'seccomp' || v === 'builtin' || v === 'unconfined') return opt;
    let text: string;
    try { text = readFileSync(v, 'utf8'); } catch (e) { throw new Error(`opening seccomp profile (${v}) failed: ${goFileError('open', v, e)}`); }
    try { return `seccomp=${JSON.stringify(JSON.parse(text))}`; } catch (e) {
      throw new Error(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
    }
  });
}

function parseHealthcheck(o: Opts, interval: number, timeout: number, startPeriod: number, startInterval: number): object | undefined {
  const cmd = o.str('health-cmd') ?? '';
  const retries = o.int('health-retries') ?? 0;
  const have = !!cmd || !!interval || !!timeout || !!startPeriod || !!retries || !!startInterval;
  if (o.bool('no-healthcheck')) {
    if (have) throw new Error('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!have) return undefined;
  if (interval < 0) throw new Error('--health-interval cannot be negative');
  if (timeout < 0) throw new Error('--health-timeout cannot be negative');
  if (retries < 0) throw new Error('--health-retries cannot be negative');
  if (startPeriod < 0) throw new Error('--health-start-period cannot be negative');
  if (startInterval < 0) throw new Error('--health-start-interval cannot be negative');
  return dropUndefined({
    Test: cmd ? ['CMD-SHELL', cmd] : undefined, Interval: interval || undefined, Timeout: timeout || undefined,
    StartPeriod: startPeriod || undefined, StartInterval: startInterval || undefined, Retries: retries || undefined,
  });
}

/** -e values as the proxy-config step leaves them: one per name (last wins), plus config.json proxies */
function proxyEnv(envs: string[], where: CreateEnv): string[] {
  const m = new Map<string, string | undefined>();
  for (const e of envs) {
    const i = e.indexOf('=');
    if (i < 0) m.set(e, undefined);
    else m.set(e.slice(0, i), e.slice(i + 1));
  }
  for (const [k, v] of Object.entries(configProxies(where))) {
    if (!v) continue;
    if (!m.has(k)) m.set(k, v);
    if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), v);
  }
  return [...m].map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
}

/** config.json `proxies` for this daemon (or "default") as variable names → values */
function configProxies(where: CreateEnv): Record<string, string | undefined> {
  if (!where.configDir) return {};
  let cfg: { proxies?: Record<string, Record<string, string>> };
  try { cfg = JSON.parse(readFileSync(join(where.configDir, 'config.json'), 'utf8')); } catch { return {}; }
  const p = cfg.proxies?.[where.host ?? ''] ?? cfg.proxies?.default;
  if (!p) return {};
  return { HTTP_PROXY: p.httpProxy, HTTPS_PROXY: p.httpsProxy, NO_PROXY: p.noProxy, FTP_PROXY: p.ftpProxy, ALL_PROXY: p.allProxy };
}

/** env files (KEY alone takes the local value), then the -e values */
function readEnv(files: string[], envs: string[], env: NodeJS.ProcessEnv): string[] {
  return [...files.flatMap((f) => parseKVFile(f, (k) => env[k])), ...envs];
}

/** platforms.Parse + the client's os/arch/variant formatting */
function formatPlatform(s: string): string {
  const parts = s.toLowerCase().split('/');
  if (parts.some((p) => !/^[a-z0-9_.-]+$/.test(p)) || parts.length > 3) {
    throw new Error(`"${s}": unknown operating system or architecture: invalid argument`);
  }
  const archAlias: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };
  const os = ['linux', 'windows', 'darwin', 'freebsd', 'netbsd', 'openbsd', 'solaris', 'illumos', 'aix', 'android', 'ios', 'js', 'plan9', 'dragonfly', 'wasip1'];
  let [a, b, c]: (string | undefined)[] = parts;
  if (parts.length === 1) {
    if (os.includes(a!)) return `${a}/amd64`;
    return `linux/${archAlias[a!] ?? a}`;
  }
  if (!os.includes(a!)) throw new Error(`"${s}": unknown operating system or architecture: invalid argument`);
  b = archAlias[b!] ?? b;
  if (b === 'arm64' && c === 'v8') c = undefined;
  if (b === 'arm' && !c) c = 'v7';
  return [a, b, c].filter(Boolean).join('/');
}

/** the client's normalizeCapabilities: upper case, CAP_ prefix, unique, sorted; null when none */
function normalizeCaps(caps: string[]): string[] | null {
  const out = [...new Set(caps.map((c) => {
    const u = c.toUpperCase();
    return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
  }))].sort();
  return out.length ? out : null;
}

function kvMap(values: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    m[i < 0 ? v : v.slice(0, i)] = i < 0 ? '' : v.slice(i + 1);
  }
  return m;
}

const nullIfEmpty = <T>(a: T[]): T[] | null => (a.length ? a : null);
const nonEmptyMap = (m: Record<string, string>): Record<string, string> | undefined => (Object.keys(m).length ? m : undefined);

/** omitempty: removes the keys left undefined */
function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

void canonicalIP;
