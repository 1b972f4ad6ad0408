// The Go types dockerd 20.10 decodes request bodies into (moby api/types, runconfig), as data:
// Go's encoding/json names them in its errors (`json: cannot unmarshal string into Go struct field
// HostConfig.HostConfig.Memory of type int64`), and which JSON a field takes follows from them.
// util/go-json.ts walks a body against one of these; berthd's zod schemas then do the rest.
// Embedded structs are flattened here as Go's decoder flattens them (their fields are promoted).

/** A Go type as encoding/json sees it. `name` is reflect's Type.String() where the type is named. */
export type GoType =
  | { kind: 'string' | 'bool' | 'float' | 'any'; name?: string }
  | { kind: 'int'; bits: 8 | 16 | 32 | 64; unsigned?: boolean; name?: string }
  | { kind: 'slice'; elem: GoType; name?: string; len?: number }
  | { kind: 'map'; elem: GoType; name?: string }
  | { kind: 'struct'; name: string; fields: Record<string, GoType> }
  /** strslice.StrSlice: its UnmarshalJSON takes a string or a []string, else fails as a string would. */
  | { kind: 'strslice' };

const str: GoType = { kind: 'string' };
const named = (name: string): GoType => ({ kind: 'string', name });
const bool: GoType = { kind: 'bool' };
const int: GoType = { kind: 'int', bits: 64, name: 'int' };
const int64: GoType = { kind: 'int', bits: 64 };
const uint16: GoType = { kind: 'int', bits: 16, unsigned: true };
const uint64: GoType = { kind: 'int', bits: 64, unsigned: true };
const duration: GoType = { kind: 'int', bits: 64, name: 'time.Duration' };
const strs: GoType = { kind: 'slice', elem: str };
const strMap: GoType = { kind: 'map', elem: str };
const strslice: GoType = { kind: 'strslice' };
const emptyStruct: GoType = { kind: 'struct', name: 'struct {}', fields: {} };
const any: GoType = { kind: 'any' };

/** container.HealthConfig */
const healthConfig: GoType = {
  kind: 'struct', name: 'container.HealthConfig',
  fields: { Test: strs, Interval: duration, Timeout: duration, StartPeriod: duration, Retries: int },
};

/** container.Config: the fields ContainerConfigWrapper promotes from its embedded *Config. */
export const containerConfigFields: Record<string, GoType> = {
  Hostname: str, Domainname: str, User: str, AttachStdin: bool, AttachStdout: bool, AttachStderr: bool,
  ExposedPorts: { kind: 'map', elem: emptyStruct, name: 'nat.PortSet' },
  Tty: bool, OpenStdin: bool, StdinOnce: bool, Env: strs, Cmd: strslice, Healthcheck: healthConfig,
  ArgsEscaped: bool, Image: str, Volumes: { kind: 'map', elem: emptyStruct }, WorkingDir: str,
  Entrypoint: strslice, NetworkDisabled: bool, MacAddress: str, OnBuild: strs, Labels: strMap,
  StopSignal: str, StopTimeout: int, Shell: strslice,
};

const throttleDevice: GoType = { kind: 'struct', name: 'blkiodev.ThrottleDevice', fields: { Path: str, Rate: uint64 } };
const throttleDevices: GoType = { kind: 'slice', elem: throttleDevice, name: '[]*blkiodev.ThrottleDevice' };

/** container.Resources, embedded in HostConfig and UpdateConfig. */
const resourcesFields: Record<string, GoType> = {
  CpuShares: int64, Memory: int64, NanoCpus: int64, CgroupParent: str, BlkioWeight: uint16,
  BlkioWeightDevice: {
    kind: 'slice', name: '[]*blkiodev.WeightDevice',
    elem: { kind: 'struct', name: 'blkiodev.WeightDevice', fields: { Path: str, Weight: uint16 } },
  },
  BlkioDeviceReadBps: throttleDevices, BlkioDeviceWriteBps: throttleDevices,
  BlkioDeviceReadIOps: throttleDevices, BlkioDeviceWriteIOps: throttleDevices,
  CpuPeriod: int64, CpuQuota: int64, CpuRealtimePeriod: int64, CpuRealtimeRuntime: int64,
  CpusetCpus: str, CpusetMems: str,
  Devices: {
    kind: 'slice', name: '[]container.DeviceMapping',
    elem: { kind: 'struct', name: 'container.DeviceMapping', fields: { PathOnHost: str, PathInContainer: str, CgroupPermissions: str } },
  },
  DeviceCgroupRules: strs,
  DeviceRequests: {
    kind: 'slice', name: '[]container.DeviceRequest',
    elem: {
      kind: 'struct', name: 'container.DeviceRequest',
      fields: { Driver: str, Count: int, DeviceIDs: strs, Capabilities: { kind: 'slice', elem: strs, name: '[][]string' }, Options: strMap },
    },
  },
  KernelMemory: int64, KernelMemoryTCP: int64, MemoryReservation: int64, MemorySwap: int64,
  MemorySwappiness: int64, OomKillDisable: bool, PidsLimit: int64,
  Ulimits: {
    kind: 'slice', name: '[]*units.Ulimit',
    elem: { kind: 'struct', name: 'units.Ulimit', fields: { Name: str, Hard: int64, Soft: int64 } },
  },
  CpuCount: int64, CpuPercent: int64, IOMaximumIOps: uint64, IOMaximumBandwidth: uint64,
};

const restartPolicy: GoType = { kind: 'struct', name: 'container.RestartPolicy', fields: { Name: str, MaximumRetryCount: int } };

const mount: GoType = {
  kind: 'struct', name: 'mount.Mount',
  fields: {
    Type: named('mount.Type'), Source: str, Target: str, ReadOnly: bool, Consistency: named('mount.Consistency'),
    BindOptions: { kind: 'struct', name: 'mount.BindOptions', fields: { Propagation: named('mount.Propagation'), NonRecursive: bool } },
    VolumeOptions: {
      kind: 'struct', name: 'mount.VolumeOptions',
      fields: { NoCopy: bool, Labels: strMap, DriverConfig: { kind: 'struct', name: 'mount.Driver', fields: { Name: str, Options: strMap } } },
    },
    TmpfsOptions: { kind: 'struct', name: 'mount.TmpfsOptions', fields: { SizeBytes: int64, Mode: { kind: 'int', bits: 32, unsigned: true, name: 'fs.FileMode' } } },
  },
};

/** container.HostConfig with its embedded Resources. */
export const hostConfigFields: Record<string, GoType> = {
  Binds: strs, ContainerIDFile: str,
  LogConfig: { kind: 'struct', name: 'container.LogConfig', fields: { Type: str, Config: strMap } },
  NetworkMode: named('container.NetworkMode'),
  PortBindings: {
    kind: 'map', name: 'nat.PortMap',
    elem: { kind: 'slice', name: '[]nat.PortBinding', elem: { kind: 'struct', name: 'nat.PortBinding', fields: { HostIp: str, HostPort: str } } },
  },
  RestartPolicy: restartPolicy, AutoRemove: bool, VolumeDriver: str, VolumesFrom: strs,
  CapAdd: strslice, CapDrop: strslice, CgroupnsMode: named('container.CgroupnsMode'),
  Dns: strs, DnsOptions: strs, DnsSearch: strs, ExtraHosts: strs, GroupAdd: strs,
  IpcMode: named('container.IpcMode'), Cgroup: named('container.CgroupSpec'), Links: strs, OomScoreAdj: int,
  PidMode: named('container.PidMode'), Privileged: bool, PublishAllPorts: bool, ReadonlyRootfs: bool,
  SecurityOpt: strs, StorageOpt: strMap, Tmpfs: strMap, UTSMode: named('container.UTSMode'),
  UsernsMode: named('container.UsernsMode'), ShmSize: int64, Sysctls: strMap, Runtime: str,
  ConsoleSize: { kind: 'slice', elem: { kind: 'int', bits: 64, unsigned: true, name: 'uint' }, len: 2 },
  Isolation: named('container.Isolation'),
  ...resourcesFields,
  Mounts: { kind: 'slice', elem: mount }, MaskedPaths: strs, ReadonlyPaths: strs, Init: bool,
};

const hostConfig: GoType = { kind: 'struct', name: 'container.HostConfig', fields: hostConfigFields };

const endpointSettings: GoType = {
  kind: 'struct', name: 'network.EndpointSettings',
  fields: {
    IPAMConfig: { kind: 'struct', name: 'network.EndpointIPAMConfig', fields: { IPv4Address: str, IPv6Address: str, LinkLocalIPs: strs } },
    Links: strs, Aliases: strs, NetworkID: str, EndpointID: str, Gateway: str, IPAddress: str, IPPrefixLen: int,
    IPv6Gateway: str, GlobalIPv6Address: str, GlobalIPv6PrefixLen: int, MacAddress: str, DriverOpts: strMap,
  },
};

/**
 * runconfig.ContainerConfigWrapper, the body of POST /containers/create and /commit: Config and
 * (deprecated) HostConfig embedded, so their fields are top-level too; the wrapper's own
 * HostConfig, Cpuset and NetworkingConfig dominate.
 */
export const containerConfigWrapper: GoType = {
  kind: 'struct', name: 'runconfig.ContainerConfigWrapper',
  fields: {
    ...hostConfigFields,
    ...containerConfigFields,
    HostConfig: hostConfig,
    Cpuset: str,
    NetworkingConfig: {
      kind: 'struct', name: 'network.NetworkingConfig',
      fields: { EndpointsConfig: { kind: 'map', elem: endpointSettings, name: 'map[string]*network.EndpointSettings' } },
    },
  },
};

/** container.UpdateConfig: POST /containers/{id}/update. */
export const updateConfig: GoType = {
  kind: 'struct', name: 'container.UpdateConfig', fields: { ...resourcesFields, RestartPolicy: restartPolicy },
};

/** types.ExecConfig (API 1.41): POST /containers/{id}/exec. Its Cmd is a plain []string. */
export const execConfig: GoType = {
  kind: 'struct', name: 'types.ExecConfig',
  fields: {
    User: str, Privileged: bool, Tty: bool, AttachStdin: bool, AttachStderr: bool, AttachStdout: bool,
    Detach: bool, DetachKeys: str, Env: strs, WorkingDir: str, Cmd: strs,
  },
};

/** types.ExecStartCheck (API 1.41): POST /exec/{id}/start. */
export const execStartCheck: GoType = { kind: 'struct', name: 'types.ExecStartCheck', fields: { Detach: bool, Tty: bool } };

/** filters.Args's wire form, and the legacy map of lists filters.FromJSON falls back to. */
export const filterArgs: GoType = { kind: 'map', elem: { kind: 'map', elem: bool } };
export const legacyFilterArgs: GoType = { kind: 'map', elem: strs };

/** Anything: for bodies only checked for JSON syntax. */
export const anyValue: GoType = any;

/** types.NetworkCreateRequest (NetworkCreate embedded): POST /networks/create. */
export const networkCreateRequest: GoType = {
  kind: 'struct', name: 'types.NetworkCreateRequest',
  fields: {
    Name: str, CheckDuplicate: bool, Driver: str, Scope: str, EnableIPv6: bool,
    IPAM: {
      kind: 'struct', name: 'network.IPAM',
      fields: {
        Driver: str, Options: strMap,
        Config: {
          kind: 'slice', name: '[]network.IPAMConfig',
          elem: { kind: 'struct', name: 'network.IPAMConfig', fields: { Subnet: str, IPRange: str, Gateway: str, AuxiliaryAddresses: strMap } },
        },
      },
    },
    Internal: bool, Attachable: bool, Ingress: bool, ConfigOnly: bool,
    ConfigFrom: { kind: 'struct', name: 'network.ConfigReference', fields: { Network: str } },
    Options: strMap, Labels: strMap,
  },
};

/** types.NetworkConnect / NetworkDisconnect: POST /networks/{id}/connect and /disconnect. */
export const networkConnect: GoType = { kind: 'struct', name: 'types.NetworkConnect', fields: { Container: str, EndpointConfig: endpointSettings } };
export const networkDisconnect: GoType = { kind: 'struct', name: 'types.NetworkDisconnect', fields: { Container: str, Force: bool } };

/** volume.VolumeCreateBody: POST /volumes/create. */
export const volumeCreateBody: GoType = {
  kind: 'struct', name: 'volume.VolumeCreateBody', fields: { Driver: str, DriverOpts: strMap, Labels: strMap, Name: str },
};
