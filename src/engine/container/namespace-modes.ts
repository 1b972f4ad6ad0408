// The namespace modes of a container (HostConfig NetworkMode, PidMode, IpcMode, UTSMode) and its
// init, from create to start, as dockerd does them.
//
// Lifecycle:
//   create  `checkNamespaceModes` validates the modes (moby 27's Valid(): a bad mode is a 400 at
//           create, not a failed start), refuses the combinations runconfig refuses (a hostname
//           with --uts=host or --network=container:, --dns/--add-host/-p/--expose/--link with
//           --network=container:), checks that an --ipc/--pid donor exists (moby's
//           generateSecurityOpt looks both up), fills IpcMode's default ("private", or daemon.json
//           default-ipc-mode), and rewrites `container:<name>` to `container:<ID>` (moby
//           adaptSharedNamespaceContainer), so a rename of the donor keeps the link.
//   start   `joinNamespaces` turns the modes into namespace paths of the running donors
//           (/proc/<pid>/ns/{pid,ipc}) and the /dev/shm the container gets: its own tmpfs, none
//           (--ipc=none), the host's (--ipc=host) or the donor's (--ipc=container:X, where the
//           donor must be shareable or host, as in dockerd). A shareable container's /dev/shm is
//           a tmpfs on the host, <container dir>/shm (`prepareShm`), bound in: a bind from inside
//           another mount namespace is refused by the kernel, so that is the only way to share
//           it; it is unmounted when the container stops (`releaseShm`). Errors carry dockerd 20.10's texts;
//           those of a missing or stopped donor are 500s, as in moby (start.go: "any error that
//           occurs while creating the spec ... must be considered a System error").
//   init    `initArgs` puts /sbin/docker-init (tini, bound read-only from the host) in front of the
//           command when the container has a PID namespace of its own and asks for an init
//           (HostConfig.Init, or the daemon's `init` default); in the host's or another
//           container's PID namespace there already is a PID 1, so none is added (moby oci_linux.go).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Conflict, InvalidParameter, NotFound, System } from '../../errors.ts';
import type { MountPort } from '../host.ts';
import type { ContainerRecord } from './record.ts';

/** Where the init binary appears inside containers (moby daemon/oci_linux.go inContainerInitPath). */
export const IN_CONTAINER_INIT = '/sbin/docker-init';

/** Finds a container by ID, unique ID prefix or name; throws NotFound ("No such container: X"). */
export type ContainerLookup = (ref: string) => { rec: ContainerRecord; dir: string };

type Modes = { NetworkMode?: string | null; PidMode?: string | null; IpcMode?: string | null; UTSMode?: string | null };

/** The part of a create request the checks read; Hostname is the user's, before any default. */
export interface CreateInput {
  Hostname?: string | null;
  MacAddress?: string | null;
  ExposedPorts?: Record<string, unknown> | null;
  HostConfig: Modes & {
    Links?: string[] | null;
    Dns?: string[] | null;
    ExtraHosts?: string[] | null;
    PortBindings?: Record<string, unknown> | null;
    PublishAllPorts?: boolean | null;
    Privileged?: boolean | null;
    SecurityOpt?: string[] | null;
  };
}

const isContainerMode = (m: string | null | undefined): m is string => !!m && m.startsWith('container:');
const donorOf = (m: string): string => m.slice('container:'.length);

/** The IPC modes a daemon may default to (moby config verifyDefaultIpcMode). */
export function checkDefaultIpcMode(mode: string): void {
  if (!['private', 'shareable'].includes(mode)) {
    throw new InvalidParameter(mode === 'host' || mode === 'none' || mode.startsWith('container:')
      ? `IPC mode "${mode}" is not supported as default value; only "shareable" and "private" are supported`
      : `default IPC mode setting (${mode}) is invalid; only "shareable" and "private" are supported`);
  }
}

/**
 * Create-time validation and normalisation of the namespace modes; returns the modes to record.
 * Throws InvalidParameter with moby's texts.
 */
export function checkNamespaceModes(input: CreateInput, get: ContainerLookup, defaultIpcMode = 'private'): Required<{ [K in keyof Modes]: string }> {
  const hc = input.HostConfig;
  const net = hc.NetworkMode ?? '';
  const pid = hc.PidMode ?? '';
  const ipc = hc.IpcMode ?? '';
  const uts = hc.UTSMode ?? '';
  // moby 23+ (IPC) and 25+ (PID, UTS) check the modes at create; 20.10 failed the start instead.
  if (!['', 'none', 'private', 'host', 'shareable'].includes(ipc) && !isContainerMode(ipc)) throw new InvalidParameter(`invalid IPC mode: ${ipc}`);
  if (!(pid === '' || pid === 'host' || (isContainerMode(pid) && donorOf(pid) !== ''))) throw new InvalidParameter(`invalid PID mode: ${pid}`);
  if (uts !== '' && uts !== 'host') throw new InvalidParameter(`invalid UTS mode: ${uts}`);

  // runconfig validateNetContainerMode and validateNetMode, in their order.
  if (net.startsWith('container') && net.split(':')[0] === 'container' && !(net.split(':')[1] ?? '')) {
    throw new InvalidParameter('Invalid network mode: invalid container format container:<name|id>');
  }
  if (isContainerMode(net)) {
    if (input.Hostname) throw new InvalidParameter('conflicting options: hostname and the network mode');
    if (hc.Links?.length) throw new InvalidParameter("conflicting options: container type network can't be used with links. This would result in undefined behavior");
    if (hc.Dns?.length) throw new InvalidParameter('conflicting options: dns and the network mode');
    if (hc.ExtraHosts?.length) throw new InvalidParameter('conflicting options: custom host-to-IP mapping and the network mode');
  }
  if ((isContainerMode(net) || net === 'host') && input.MacAddress) throw new InvalidParameter('conflicting options: mac-address and the network mode');
  if (isContainerMode(net)) {
    if (Object.keys(hc.PortBindings ?? {}).length || hc.PublishAllPorts) throw new InvalidParameter('conflicting options: port publishing and the container type network mode');
    if (Object.keys(input.ExposedPorts ?? {}).length) throw new InvalidParameter('conflicting options: port exposing and the container type network mode');
  }
  if (uts === 'host' && input.Hostname) throw new InvalidParameter('conflicting options: hostname and the UTS mode');
  if (net === 'host' && hc.Links?.length) throw new InvalidParameter("conflicting options: host type networking can't be used with links. This would result in undefined behavior");

  // moby generateSecurityOpt: both donors are looked up unless labels are off anyway.
  const labelsOff = ipc === 'host' || pid === 'host' || hc.Privileged || (hc.SecurityOpt ?? []).some((o) => o.split('=')[0] === 'label');
  if (!labelsOff) {
    for (const m of [ipc, pid]) {
      if (!isContainerMode(m) || donorOf(m) === '') continue;
      try { get(donorOf(m)); } catch (err) {
        if (err instanceof NotFound) throw new InvalidParameter(err.message);
        throw err;
      }
    }
  }
  const byId = (m: string): string => {
    if (!isContainerMode(m)) return m;
    try { return `container:${get(donorOf(m)).rec.Id}`; } catch { return m; }
  };
  return { NetworkMode: byId(net), PidMode: byId(pid), IpcMode: byId(ipc || defaultIpcMode), UTSMode: uts };
}

/** What a starting container's spec needs from its PID and IPC modes. */
export interface JoinedNamespaces {
  /** Namespace paths to join instead of new ones. */
  pidPath?: string;
  ipcPath?: string;
  /** /dev/shm: undefined = the container's own tmpfs; null = none; a path = bind that. */
  shm?: string | null;
}

function restartingError(id: string): Conflict {
  return new Conflict(`Container ${id} is restarting, wait until the container is running`);
}

/**
 * The running donor of `--ipc container:X`; dockerd 20.10's texts (getIpcContainer). A donor
 * that is itself a joiner passes its own donor's /dev/shm on (dockerd copies ShmPath).
 */
function ipcDonor(ref: string, get: ContainerLookup, depth = 0): { pid: number; shm: string } {
  const msg = `can't join IPC of container ${ref}`;
  let d: { rec: ContainerRecord; dir: string };
  try { d = get(ref); } catch (err) { throw new System(`${msg}: ${(err as Error).message}`, { cause: err }); }
  const st = d.rec.State;
  if (!st.Running) throw new System(`${msg}: container ${d.rec.Id} is not running`);
  if (st.Restarting) throw new System(`${msg}: ${restartingError(d.rec.Id).message}`);
  const mode = d.rec.HostConfig.IpcMode;
  if (mode === 'host') return { pid: st.Pid, shm: '/dev/shm' };
  // A container created before IpcMode was recorded ("") was shareable (moby's old default).
  if (mode === 'shareable' || mode === '') return { pid: st.Pid, shm: shmPath(d.dir) };
  if (isContainerMode(mode) && depth < 8) return { pid: st.Pid, shm: ipcDonor(donorOf(mode), get, depth + 1).shm };
  throw new System(`${msg}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
}

/** Where a shareable container's /dev/shm lives on the host (moby: <container>/mounts/shm). */
export function shmPath(dir: string): string {
  return join(dir, 'shm');
}

/** A shareable container's /dev/shm, mounted before its start (moby setupIpcDirs); idempotent. */
export async function prepareShm(mounts: MountPort, rec: ContainerRecord, dir: string): Promise<string | undefined> {
  const mode = rec.HostConfig.IpcMode;
  if (mode !== 'shareable' && mode !== '') return undefined;
  const target = shmPath(dir);
  await mkdir(target, { recursive: true, mode: 0o700 });
  if (!(await mounts.isMounted(target))) {
    await mounts.mountTmpfs(target, 'shm', ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${rec.HostConfig.ShmSize || 64 * 1024 * 1024}`]);
  }
  return target;
}

/** Unmounts a stopped container's shared /dev/shm (moby UnmountIpcMount); nothing there is fine. */
export async function releaseShm(mounts: MountPort, dir: string): Promise<void> {
  await mounts.unmount(shmPath(dir));
}

/** Start-time: the donors' namespaces for PidMode and IpcMode (dockerd's order: IPC, then PID). */
export function joinNamespaces(rec: ContainerRecord, get: ContainerLookup): JoinedNamespaces {
  const out: JoinedNamespaces = {};
  const ipc = rec.HostConfig.IpcMode;
  if (isContainerMode(ipc)) {
    const d = ipcDonor(donorOf(ipc), get);
    out.ipcPath = `/proc/${d.pid}/ns/ipc`;
    out.shm = d.shm;
  } else if (ipc === 'host') {
    out.shm = '/dev/shm';
  } else if (ipc === 'none') {
    out.shm = null;
  }
  const pid = rec.HostConfig.PidMode;
  if (isContainerMode(pid)) {
    const ref = donorOf(pid);
    let d: { rec: ContainerRecord };
    try { d = get(ref); } catch (err) { throw new System(`cannot join PID of a non running container: ${ref}: ${(err as Error).message}`, { cause: err }); }
    if (!d.rec.State.Running) throw new System(`container ${d.rec.Id} is not running`);
    if (d.rec.State.Restarting) throw new System(restartingError(d.rec.Id).message);
    out.pidPath = `/proc/${d.rec.State.Pid}/ns/pid`;
  }
  return out;
}

/**
 * `--network container:X` at start (moby getNetworkedContainer, initializeNetworking): the
 * joiner takes the donor's hostname, domain name and /etc/hosts, hostname and resolv.conf (it is
 * on the donor's network, so those describe it), recorded as dockerd records them; returns the
 * donor's network namespace path.
 */
export function joinNetwork(rec: ContainerRecord, get: ContainerLookup): string {
  const ref = donorOf(rec.HostConfig.NetworkMode);
  const d = get(ref);
  if (d.rec.Id === rec.Id) throw new System('cannot join own network');
  if (!d.rec.State.Running) throw new Conflict(`cannot join network of a non running container: ${ref}`);
  if (d.rec.State.Restarting) throw restartingError(ref);
  rec.HostnamePath = d.rec.HostnamePath;
  rec.HostsPath = d.rec.HostsPath;
  rec.ResolvConfPath = d.rec.ResolvConfPath;
  rec.Config.Hostname = d.rec.Config.Hostname;
  rec.Config.Domainname = d.rec.Config.Domainname;
  // The donor's named namespace when it has one: it outlives a PID reused after a crash.
  return d.rec.NetworkSettings?.SandboxKey || `/proc/${d.rec.State.Pid}/ns/net`;
}

/**
 * The command line with the init in front, or undefined when no init runs: only a container
 * with a PID namespace of its own gets one, when it asks (HostConfig.Init) or, with Init unset,
 * when the daemon's `init` default is on.
 */
export function wantsInit(rec: ContainerRecord, daemonInit: boolean): boolean {
  const pid = rec.HostConfig.PidMode;
  if (pid === 'host' || isContainerMode(pid)) return false;
  const init = (rec.HostConfig as { Init?: boolean | null }).Init;
  return init === true || ((init === null || init === undefined) && daemonInit);
}
