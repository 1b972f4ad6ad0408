// Rootless mode (issue 20): what a berthd inside RootlessKit's namespaces may and may not do, read
// once at start-up by daemon/ and passed down to the runtime, the image store and the network,
// so no module guesses from the process's state on its own and the rootful paths stay unchanged.
//
// berthd is "root" there, but only of the user's user namespace: the kernel lets it make mounts
// (overlayfs since 5.11), network namespaces, bridges, veths and iptables rules inside, and refuses
// what needs the host's root: device nodes, cgroups it was not delegated, ports below the host's
// ip_unprivileged_port_start, and ids outside the user's /etc/subuid range.
import { readFile, access, constants } from 'node:fs/promises';
import { join } from 'node:path';

export interface RootlessMode {
  /**
   * Whether containers get cgroups. Rootless, runc may write only a cgroup v2 subtree delegated to
   * the user (systemd's Delegate=yes); on cgroup v1 (this project's machines) there is none, so
   * runc's rootless cgroup manager is given no path and limits are refused (cgroupsWhy says
   * why). Berth does not yet place containers in a delegated v2 tree either: that needs berthd
   * moved out of its own cgroup first (v2's no-internal-processes rule, RootlessKit's
   * --evacuate-cgroup2), untestable here, so v2 hosts get the same refusal, naming what they have.
   */
  cgroups: boolean;
  /** Why containers have no cgroups when cgroups is false: the reason a client's refusal gives. */
  cgroupsWhy: string;
  /** RootlessKit's API socket, through which its port driver publishes ports on the host. */
  portDriverSocket?: string;
  /** The user namespace maps one id only (no /etc/subuid range): layers' owners are all root. */
  singleId: boolean;
}

/** The initial user namespace maps every id to itself: "0 0 4294967295". */
export function inInitialUserNamespace(uidMap: string): boolean {
  const rows = uidMap.trim().split('\n').map((l) => l.trim().split(/\s+/));
  return rows.length === 1 && rows[0]![0] === '0' && rows[0]![1] === '0' && rows[0]![2] === '4294967295';
}

/** How many ids the namespace maps in all (1: the single-id fallback, no subordinate range). */
export function mappedIds(uidMap: string): number {
  return uidMap.trim().split('\n').reduce((n, l) => n + (Number(l.trim().split(/\s+/)[2]) || 0), 0);
}

/** The controllers a v2 cgroup delegates to its children, from its cgroup.subtree_control. */
const NEEDED_CONTROLLERS = ['memory', 'cpu', 'pids'];

/**
 * The rootless mode of this process, or an Error saying why berthd cannot run rootless here.
 * `env` is the daemon's environment (ROOTLESSKIT_STATE_DIR, set by bin/berthd-rootless).
 */
export async function detectRootless(env: NodeJS.ProcessEnv): Promise<RootlessMode> {
  const uidMap = await readFile('/proc/self/uid_map', 'utf8');
  if (inInitialUserNamespace(uidMap)) {
    throw new Error('rootless berthd runs inside RootlessKit\'s user namespace: start it with bin/berthd-rootless (or bin/berthd as the user), not with --rootless in the host\'s namespace');
  }
  const state = env.ROOTLESSKIT_STATE_DIR;
  const cgroups = false;
  let cgroupsWhy = 'this host has cgroup v1, where an ordinary user gets no cgroups (rootless cgroups need cgroup v2 with systemd delegation, Delegate=yes)';
  if (await exists('/sys/fs/cgroup/cgroup.controllers')) {
    const own = (await readFile('/proc/self/cgroup', 'utf8')).split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
    const dir = join('/sys/fs/cgroup', own);
    const delegated = (await readFile(join(dir, 'cgroup.controllers'), 'utf8').catch(() => '')).split(/\s+/);
    const writable = await access(dir, constants.W_OK).then(() => true, () => false);
    const usable = writable && NEEDED_CONTROLLERS.every((c) => delegated.includes(c));
    cgroupsWhy = usable
      ? `rootless berthd does not use the delegated cgroup v2 tree ${dir} yet`
      : `the cgroup v2 controllers ${NEEDED_CONTROLLERS.join(', ')} are not delegated to the user (systemd Delegate=yes): ${dir} has ${delegated.filter(Boolean).join(', ') || 'none'}${writable ? '' : ' and is not writable'}`;
  }
  return {
    cgroups, cgroupsWhy,
    ...(state ? { portDriverSocket: join(state, 'api.sock') } : {}),
    singleId: mappedIds(uidMap) <= 1,
  };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

/**
 * runc's global flags: `--rootless=true` makes it use its rootless cgroup manager and skip what
 * needs real root. One argv element each, so conmon can pass them on as `--runtime-arg`s.
 */
export function runcRootlessArgs(mode: RootlessMode | undefined): string[] {
  return mode ? ['--rootless=true'] : [];
}

/** Whether a kernel (its `uname -r`) mounts overlayfs inside a user namespace: 5.11 and later. */
export function kernelMountsOverlayInUserns(release: string): boolean {
  const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
  return major > 5 || (major === 5 && minor >= 11);
}
