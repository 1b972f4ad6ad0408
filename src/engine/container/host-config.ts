// HostConfig as dockerd 20.10 records it at create, which is what inspect shows and what the
// start reads back.
//
// dockerd keeps the HostConfig the client sent, decoded into Go's struct: a list the client sent
// as [] stays [], one it left out (or sent as null) stays nil, shown as null. Berth does the same:
// `recordedHostConfig` lays the client's fields over Go's zero values (`zeroHostConfig`) and then
// applies what dockerd itself fills in at create:
//   - daemon_unix.go adaptContainerSettings: MemorySwap = 2 × Memory when only Memory is set;
//     OomKillDisable false when unset; MaskedPaths and ReadonlyPaths the default OCI lists when
//     unset and the container is not privileged (the start applies the recorded lists, so the
//     record says what is masked);
//   - create.go generateSecurityOpt: "label=disable" appended to SecurityOpt for --privileged,
//     --ipc=host or --pid=host unless the client set a label option itself;
//   - NetworkMode "" is recorded as "default" (runconfig SetDefaultNetModeIfBlank): the default
//     network is resolved when it is used (`effectiveNetworkMode`), so records keep "default";
//   - a request without any HostConfig gets no Runtime (the field is omitempty and only the
//     decoded HostConfig gets the default runtime's name).

/** moby 20.10 oci/defaults.go DefaultLinuxSpec().Linux.MaskedPaths (what `docker inspect` shows). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
];
/** moby 20.10 oci/defaults.go DefaultLinuxSpec().Linux.ReadonlyPaths. */
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Go's zero HostConfig as encoded by dockerd (nil slices and maps are null), Berth's fixed values filled. */
export function zeroHostConfig(): Record<string, unknown> {
  return {
    Binds: null, ContainerIDFile: '', LogConfig: { Type: 'json-file', Config: {} }, NetworkMode: 'default',
    PortBindings: null, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, VolumeDriver: '',
    VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null, CgroupnsMode: 'host', Dns: null,
    DnsOptions: null, DnsSearch: null, ExtraHosts: null, GroupAdd: null, IpcMode: 'private', Cgroup: '', Links: null,
    OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false, ReadonlyRootfs: false,
    SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 67108864, Runtime: 'runc', Isolation: '',
    CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: null,
    BlkioDeviceReadBps: null, BlkioDeviceWriteBps: null, BlkioDeviceReadIOps: null, BlkioDeviceWriteIOps: null,
    CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '',
    Devices: null, DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0,
    MemorySwappiness: null, OomKillDisable: false, PidsLimit: null, Ulimits: null, CpuCount: 0, CpuPercent: 0,
    IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
  };
}

/**
 * The HostConfig to record: `sent` is the client's HostConfig (undefined when the request had
 * none), `decided` the fields create worked out itself (namespace modes, restart policy, log
 * config, ...), which win.
 */
export function recordedHostConfig(sent: Record<string, unknown> | null | undefined, decided: Record<string, unknown>): Record<string, unknown> {
  const hc: Record<string, unknown> = { ...zeroHostConfig() };
  for (const [k, v] of Object.entries(sent ?? {})) if (v !== null && v !== undefined) hc[k] = v;
  Object.assign(hc, decided);
  if (!hc.NetworkMode) hc.NetworkMode = 'default';
  // Legacy links are not recorded as sent: dockerd rebuilds the list (none left is nil).
  if (Array.isArray(hc.Links) && !hc.Links.length) hc.Links = null;
  if (!sent) delete hc.Runtime;
  const memory = typeof hc.Memory === 'number' ? hc.Memory : 0;
  if (memory > 0 && !hc.MemorySwap) hc.MemorySwap = memory * 2;
  if (!hc.Privileged) {
    hc.MaskedPaths ??= [...DEFAULT_MASKED_PATHS];
    hc.ReadonlyPaths ??= [...DEFAULT_READONLY_PATHS];
  }
  const secOpt = (hc.SecurityOpt as string[] | null) ?? null;
  const labelGiven = (secOpt ?? []).some((o) => o.split('=')[0] === 'label');
  if (!labelGiven && (hc.Privileged || hc.IpcMode === 'host' || hc.PidMode === 'host')) hc.SecurityOpt = [...(secOpt ?? []), 'label=disable'];
  return hc;
}

/**
 * What a recorded NetworkMode means now: "default" (and "" of older requests) is the daemon's
 * default network, `bridge`, or `none` when the daemon runs with `--bridge none`.
 */
export function effectiveNetworkMode(mode: string | null | undefined, defaultMode: () => string): string {
  return !mode || mode === 'default' ? defaultMode() : mode;
}

/**
 * The masked and read-only paths a start applies: the recorded lists (a privileged container
 * has none). Records written before the lists were recorded hold [] for "the defaults" (those
 * starts never honoured an empty list), so they keep the defaults.
 */
export function systemPaths(hc: { Privileged?: boolean | null; MaskedPaths?: unknown; ReadonlyPaths?: unknown }, recordedLists: boolean): { maskedPaths?: string[]; readonlyPaths?: string[] } {
  if (hc.Privileged) return {};
  const list = (v: unknown, dflt: string[]): string[] => (Array.isArray(v) && (recordedLists || v.length) ? v as string[] : dflt);
  return { maskedPaths: list(hc.MaskedPaths, DEFAULT_MASKED_PATHS), readonlyPaths: list(hc.ReadonlyPaths, DEFAULT_READONLY_PATHS) };
}
