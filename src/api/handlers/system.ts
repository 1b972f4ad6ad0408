// /_ping, /version and /info: what every client asks first.
import { goArch } from '../../util/platform.ts';
import { readFileSync } from 'node:fs';
import { release, arch, cpus, totalmem } from 'node:os';
import type { Router } from '../router.ts';
import { sendJson } from '../respond.ts';
import { run } from '../../sys/exec.ts';
import { MAX_API_VERSION, MIN_API_VERSION, versionLess } from '../version.ts';
import { BERTH_VERSION } from '../server-headers.ts';

export interface SystemSource {
  info(): Promise<{
    containers: number; running: number; paused: number; stopped: number; images: number; dataRoot: string;
    execRoot?: string; runtime: string; cgroupVersion: '1' | '2'; id: string; name: string; debug: boolean;
    registry?: { insecureRegistries: string[]; mirrors: string[] };
    securityOptions?: string[];
    eventListeners?: number;
    addressPools?: { Base: string; Size: number }[];
    /** The init containers run with --init (docker info's InitBinary) and what its `--version` says. */
    init?: { binary: string; version?: { name: string; version: string; commit: string } };
    /** What needs an operator's eye (the image store's quarantine): docker info's Warnings. */
    warnings?: string[];
    /** overlay2 (default) or fuse-overlayfs. */
    storageDriver?: string;
    /** Containers get no cgroups (rootless on cgroup v1): no limit is supported, the cgroup driver is none. */
    noCgroups?: boolean;
  }>;
}

/** dockerd's RegistryConfig block: loopback CIDRs plus the configured insecure ones, hosts as index configs. */
function registryConfig(r: { insecureRegistries: string[]; mirrors: string[] } | undefined): Record<string, unknown> {
  const insecure = r?.insecureRegistries ?? [];
  const cidrs = insecure.filter((x) => /\/\d+$/.test(x));
  const mirrors = (r?.mirrors ?? []).map((m) => (m.endsWith('/') ? m : `${m}/`));
  const index: Record<string, unknown> = { 'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true } };
  for (const h of insecure.filter((x) => !cidrs.includes(x))) index[h] = { Name: h, Mirrors: [], Secure: false, Official: false };
  return {
    // dockerd 20.10 fills these from its (empty) options: [] and never null
    AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [],
    InsecureRegistryCIDRs: ['::1/128', '127.0.0.0/8', ...cidrs], IndexConfigs: index, Mirrors: mirrors,
  };
}


function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

let runcVersion: Promise<string> | undefined;
function runtimeVersion(path: string): Promise<string> {
  runcVersion ??= run(path, ['--version']).then((r) => /version\s+(\S+)/.exec(r.stdout)?.[1] ?? 'unknown', () => 'unknown');
  return runcVersion;
}

/**
 * docker info's RuncCommit: moby's parseRuntimeVersion reads the `commit:` line of
 * `<runtime> --version` (runc 1.1: `commit: 1.1.5+ds1-1+deb12u1`); N/A when it cannot be run
 * or says neither a version nor a commit. Expected is the same, as runc ships on its own.
 */
let runcCommit: Promise<string> | undefined;
function runtimeCommit(path: string): Promise<string> {
  runcCommit ??= run(path, ['--version']).then((r) => {
    let version = '';
    let commit = '';
    for (const line of r.stdout.trim().split('\n')) {
      if (line.includes('version')) version = line.split('version').pop()!.trim();
      else if (line.startsWith('commit:')) commit = line.slice('commit:'.length).trim();
    }
    return version || commit ? commit : 'N/A';
  }, () => 'N/A');
  return runcCommit;
}

export function registerSystemRoutes(router: Router, sys: SystemSource): void {
  const ping = (ctx: { res: import('node:http').ServerResponse; req: import('node:http').IncomingMessage }): void => {
    ctx.res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Builder-Version': '1',
      Swarm: 'inactive',
      'Content-Length': ctx.req.method === 'HEAD' ? 0 : 2,
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.add('GET', '/_ping', ping);
  router.add('HEAD', '/_ping', ping);

  router.add('GET', '/version', async (ctx) => {
    const info = await sys.info();
    const rv = await runtimeVersion(info.runtime);
    const init = info.init?.version;
    const details = {
      ApiVersion: MAX_API_VERSION, Arch: goArch(), BuildTime: '', Experimental: 'false', GitCommit: '',
      GoVersion: `node ${process.versions.node}`, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux',
    };
    sendJson(ctx.res, 200, {
      Platform: { Name: 'Berth Engine' },
      Components: [
        { Name: 'Engine', Version: BERTH_VERSION, Details: details },
        { Name: 'runc', Version: rv, Details: { GitCommit: '' } },
        // dockerd lists its init (docker-init, tini) with the version `--version` gives.
        ...(init ? [{ Name: init.name, Version: init.version, Details: { GitCommit: init.commit } }] : []),
      ],
      Version: BERTH_VERSION, ApiVersion: MAX_API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: '',
      GoVersion: `node ${process.versions.node}`, Os: 'linux', Arch: goArch(), KernelVersion: release(),
      // Experimental is omitempty in moby's types.Version: absent unless true
      BuildTime: '',
    });
  });

  router.add('GET', '/info', async (ctx) => {
    const i = await sys.info();
    const init = i.init?.version;
    // moby info_unix.go: N/A when the init cannot be asked; Expected = ID (types.Commit has no omitempty).
    const initCommit = init ? { ID: init.commit, Expected: init.commit } : { ID: 'N/A', Expected: 'N/A' };
    const runc = await runtimeCommit(i.runtime);
    const view: Record<string, unknown> = {
      ID: i.id, Containers: i.containers, ContainersRunning: i.running, ContainersPaused: i.paused,
      ContainersStopped: i.stopped, Images: i.images, Driver: i.storageDriver ?? 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true, SwapLimit: true, KernelMemory: false, KernelMemoryTCP: false, CpuCfsPeriod: true, CpuCfsQuota: true,
      CPUShares: true, CPUSet: true, PidsLimit: true, IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false,
      Debug: i.debug, NFd: 0, OomKillDisable: i.cgroupVersion === '1', NGoroutines: 0, SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs', CgroupVersion: i.cgroupVersion, NEventsListener: i.eventListeners ?? 0,
      KernelVersion: release(), OperatingSystem: osName(), OSVersion: '', OSType: 'linux', Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(i.registry),
      NCPU: cpus().length, MemTotal: totalmem(), GenericResources: null, DockerRootDir: i.dataRoot,
      HttpProxy: '', HttpsProxy: '', NoProxy: '', Name: i.name, Labels: [], ExperimentalBuild: false,
      // Only runc: berthd has no containerd, so no io.containerd.* shims to name (ALLOWED.json)
      ServerVersion: BERTH_VERSION, Runtimes: { runc: { path: i.runtime } }, DefaultRuntime: 'runc',
      // omitempty in moby; berthd always has its pool (dockerd shows it when one is configured)
      ...(i.addressPools?.length ? { DefaultAddressPools: i.addressPools } : {}),
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true, Isolation: '', InitBinary: i.init?.binary ?? '', ContainerdCommit: { ID: 'N/A', Expected: 'N/A' },
      RuncCommit: { ID: runc, Expected: runc },
      InitCommit: initCommit, SecurityOptions: i.securityOptions ?? [],
      // dockerd's Warnings is a nil slice (null) until a check appends one
      Warnings: i.warnings?.length ? i.warnings : null,
    };
    if (i.noCgroups) {
      // What dockerd rootless on cgroup v1 says: no cgroup driver, and no limit of any kind.
      Object.assign(view, {
        CgroupDriver: 'none', MemoryLimit: false, SwapLimit: false, CpuCfsPeriod: false, CpuCfsQuota: false,
        CPUShares: false, CPUSet: false, PidsLimit: false, OomKillDisable: false,
      });
    }
    if (versionLess(ctx.apiVersion, '1.25')) {
      // moby's getInfo before 1.25: an ExecutionDriver, and security options by name only (`name=seccomp,profile=default` → `seccomp`)
      view.ExecutionDriver = '<not supported>';
      view.SecurityOptions = (i.securityOptions ?? []).map((o) => /(?:^|,)name=([^,]*)/.exec(o)?.[1] ?? o);
    }
    sendJson(ctx.res, 200, view);
  });
}
