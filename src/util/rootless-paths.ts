// Where berthd keeps its socket, state and configuration, rootful or rootless, with
// dockerd-rootless as the model. A rootful berthd owns the host's system directories; a rootless
// one (started by an ordinary user, or with --rootless) may write only the user's own, so its
// defaults follow the XDG Base Directory spec:
//   socket      $XDG_RUNTIME_DIR/berth/berth.sock   (the per-login tmpfs systemd --user makes, mode 0700)
//   exec root   $XDG_RUNTIME_DIR/berth               (runtime state: gone at logout or reboot, as /run is)
//   data root   $XDG_DATA_HOME/berth                 (default ~/.local/share/berth)
//   daemon.json $XDG_CONFIG_HOME/berth/daemon.json  (default ~/.config/berth/daemon.json; TLS files beside it)
// The functions are pure (the environment, uid and home directory are parameters) so both modes
// are unit-tested from one process; the daemon's config and the CLI's default host share them.
import { join, isAbsolute } from 'node:path';

/** The defaults of a berthd running as root, unchanged since before rootless mode. */
export const ROOTFUL_DEFAULTS = {
  host: 'unix:///run/berth/berth.sock',
  dataRoot: '/var/lib/berth',
  execRoot: '/run/berth',
  configFile: '/etc/berth/daemon.json',
  /** daemon.json's directory, also where --tlscacert/--tlscert/--tlskey point by default. */
  configDir: '/etc/berth',
} as const;

/** A rootless default that cannot be made from this environment; the message is the whole story. */
export class RootlessPathError extends Error {}

/** Who asks and in what environment: process.env, process.geteuid() and os.homedir() in production. */
export interface UserContext {
  env: NodeJS.ProcessEnv;
  uid: number;
  home: string;
}

/**
 * Rootless unless the flag says otherwise: `--rootless` forces it (even as root, as dockerd
 * --rootless does), `--rootless=false` refuses it, and without the flag any non-root user is
 * rootless, because a non-root berthd cannot write /var/lib or /run anyway.
 */
export function isRootless(flag: boolean | undefined, uid: number): boolean {
  return flag ?? uid !== 0;
}

/**
 * An XDG base directory: the variable when it holds an absolute path (the spec says a relative
 * one is invalid and must be ignored), else the fallback under the home directory.
 */
function xdgDir(env: NodeJS.ProcessEnv, name: string, home: string, fallback: string): string {
  const v = env[name];
  if (v && isAbsolute(v)) return v;
  if (!home || !isAbsolute(home)) {
    throw new RootlessPathError(`neither ${name} nor HOME is set to an absolute path: rootless berthd keeps its files under ${name} (default $HOME/${fallback})`);
  }
  return join(home, fallback);
}

/**
 * $XDG_RUNTIME_DIR, which has no fallback: only systemd (pam_systemd) or the user can make a
 * private tmpfs directory that lives as long as the login, and /tmp is shared with everyone.
 */
export function runtimeDir(env: NodeJS.ProcessEnv): string {
  const v = env.XDG_RUNTIME_DIR;
  if (!v) {
    throw new RootlessPathError('XDG_RUNTIME_DIR is not set: rootless berthd needs it (systemd --user sets it; or export XDG_RUNTIME_DIR=/run/user/$(id -u))');
  }
  if (!isAbsolute(v)) throw new RootlessPathError(`XDG_RUNTIME_DIR=${v} is not an absolute path: rootless berthd needs it to be (for example /run/user/$(id -u))`);
  return v;
}

/**
 * berthd's defaults in one mode. Each is a function, called only when the flag and daemon.json
 * leave that setting out, so an environment without XDG_RUNTIME_DIR is an error only when a
 * default would need it (`--rootless -H unix:///x --exec-root /y` needs none).
 */
export interface DaemonDefaults {
  rootless: boolean;
  host(): string;
  dataRoot(): string;
  execRoot(): string;
  configFile(): string;
  configDir(): string;
}

export function daemonDefaults(rootless: boolean, u: UserContext): DaemonDefaults {
  if (!rootless) {
    return {
      rootless,
      host: () => ROOTFUL_DEFAULTS.host,
      dataRoot: () => ROOTFUL_DEFAULTS.dataRoot,
      execRoot: () => ROOTFUL_DEFAULTS.execRoot,
      configFile: () => ROOTFUL_DEFAULTS.configFile,
      configDir: () => ROOTFUL_DEFAULTS.configDir,
    };
  }
  return {
    rootless,
    host: () => `unix://${rootlessSocket(u.env)}`,
    dataRoot: () => join(xdgDir(u.env, 'XDG_DATA_HOME', u.home, '.local/share'), 'berth'),
    execRoot: () => join(runtimeDir(u.env), 'berth'),
    configFile: () => join(xdgDir(u.env, 'XDG_CONFIG_HOME', u.home, '.config'), 'berth', 'daemon.json'),
    configDir: () => join(xdgDir(u.env, 'XDG_CONFIG_HOME', u.home, '.config'), 'berth'),
  };
}

/** The rootless daemon's socket path (no scheme): $XDG_RUNTIME_DIR/berth/berth.sock. */
export function rootlessSocket(env: NodeJS.ProcessEnv): string {
  return join(runtimeDir(env), 'berth', 'berth.sock');
}

/**
 * The CLI's default daemon when nothing names one (no -H, BERTH_HOST, DOCKER_HOST or context):
 * a non-root user whose rootless berthd's socket exists talks to it, the way Docker's rootless
 * setup points the CLI at the user's own daemon; everyone else gets the system socket. The
 * socket check is a parameter so the choice is tested without a daemon.
 */
export function defaultClientHost(env: NodeJS.ProcessEnv, uid: number, isSocket: (path: string) => boolean): string {
  if (uid === 0 || !env.XDG_RUNTIME_DIR || !isAbsolute(env.XDG_RUNTIME_DIR)) return ROOTFUL_DEFAULTS.host;
  const sock = rootlessSocket(env);
  return isSocket(sock) ? `unix://${sock}` : ROOTFUL_DEFAULTS.host;
}
